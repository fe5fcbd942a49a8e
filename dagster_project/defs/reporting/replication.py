"""The take-away reports: every table in one Word file, and the cell-by-cell replication report."""

import json

from dagster import AssetExecutionContext, AssetKey, MaterializeResult, MetadataValue, asset

from analysis.published import published_tables
from analysis.tables import write_docx
from dagster_project.defs.common.reports import table_provenance
from dagster_project.defs.common.resources import VintageSelection, WorkingWarehouse
from dagster_project.defs.reporting.assets import build_table
from nqp_core import settings
from paper.specs import figures, paper_tables

TABLE_REPORTS = [AssetKey(list(spec.report_key)) for spec in paper_tables()]
FIGURES = tuple(spec.table_id for spec in figures())
FIGURE_REPORTS = [AssetKey(list(spec.report_key)) for spec in figures()]
TABLES_DOCX = "tables.docx"
REPLICATION_FILE = "replication"


def frame_tables(source_frames) -> dict[str, str]:
    """results.* table (or analysis.*) read for each frame the comparison uses."""
    return {name: f"results.{name}" for name in source_frames} | {"entropy_weights": "analysis.entropy_weights"}


@asset(key=["reports", "tables_docx"], deps=TABLE_REPORTS, group_name="reporting", kinds={"python"})
def tables_docx(context: AssetExecutionContext, warehouse: WorkingWarehouse, vintage: VintageSelection):
    """Every paper table (1, 3-14) in paper order in one Word document, reports/tables.docx."""
    with vintage.session(warehouse) as (conn, provenance):
        header = table_provenance(provenance)
        tables = [build_table(conn, spec, header, provenance.vintage_id) for spec in paper_tables()]
    path = write_docx(tables, settings.reports_dir() / TABLES_DOCX)
    return MaterializeResult(metadata={
        "path": MetadataValue.path(str(path)),
        "tables": MetadataValue.json([table.title for table in tables]),
        "vintage": provenance.vintage_id,
        "synthetic": provenance.is_synthetic,
        "code_version": provenance.code_version,
    })


@asset(key=["reports", "replication"], deps=[*TABLE_REPORTS, *FIGURE_REPORTS], group_name="reporting",
       kinds={"python"})
def replication_report(context: AssetExecutionContext, warehouse: WorkingWarehouse, vintage: VintageSelection):
    """Every published cell beside ours (and the planted value on a synthetic vintage), with
    per-table agreement; reports/replication.html (self-contained) and replication.md."""
    # Imported here: the comparison needs SciPy, which loading the definitions should not pay for.
    from analysis.replication import SOURCE_FRAMES, compare, render_html, render_markdown, summary_lines

    with vintage.session(warehouse) as (conn, provenance):
        frames = {name: conn.execute(f"select * from {table} where vintage_id = ?", [provenance.vintage_id]).df()
                  for name, table in frame_tables(SOURCE_FRAMES).items()}
        truth_json = conn.execute("select truth_json from raw.vintages where vintage_id = ?",
                                  [provenance.vintage_id]).fetchone()[0]
    estimands = None
    if provenance.is_synthetic and truth_json:
        estimands = json.loads(truth_json).get("derived", {}).get("estimands")
    replication = compare(published_tables(), frames, table_provenance(provenance), estimands)
    reports = settings.reports_dir()
    figures = [reports / "figures" / f"{figure}.png" for figure in FIGURES]
    figures = [path for path in figures if path.exists()]
    html_path = reports / f"{REPLICATION_FILE}.html"
    md_path = reports / f"{REPLICATION_FILE}.md"
    html_path.write_text(render_html(replication, figures), encoding="utf-8")
    md_path.write_text(render_markdown(replication, [p.relative_to(reports) for p in figures]), encoding="utf-8")
    overall = replication.overall
    lines = summary_lines(replication)
    context.log.info("Replication summary:\n" + "\n".join(lines))
    return MaterializeResult(metadata={
        "summary": MetadataValue.md("\n".join(f"- {line}" for line in lines)),
        "cells": overall.cells,
        "compared": overall.compared,
        "sign_agreement": f"{overall.sign_agree}/{overall.sign_total}",
        "star_agreement": f"{overall.star_agree}/{overall.star_total}",
        "median_magnitude_ratio": MetadataValue.float(round(overall.median_ratio, 4))
        if overall.median_ratio is not None else MetadataValue.null(),
        "paper_inconsistencies": overall.inconsistent,
        "unmappable": overall.unmappable,
        "planted_within_z_limit": f"{overall.truth_within}/{overall.truth_total}" if replication.has_truth else "n/a",
        "path": MetadataValue.path(str(html_path)),
        "vintage": provenance.vintage_id,
        "synthetic": provenance.is_synthetic,
        "code_version": provenance.code_version,
    })


TAKEAWAY_REPORTS = [tables_docx, replication_report]
