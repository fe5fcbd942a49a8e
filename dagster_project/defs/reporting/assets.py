"""Reporting: one asset per table or figure of ``paper.specs``, generated, rendering it from
the warehouse into reports/ (tables as Markdown, HTML and LaTeX; figures as PNG, PDF, SVG)."""

from pathlib import Path

import pandas as pd
from dagster import AssetExecutionContext, AssetKey, MaterializeResult, MetadataValue, asset

from analysis.tables import PaperTable, TableProvenance, write_table
from dagster_project.defs.common.reports import table_provenance
from dagster_project.defs.common.resources import VintageSelection, WorkingWarehouse
from nqp_core import settings
from paper.spec import Markdown, TableSpec
from paper.specs import SPECS


def read_sources(conn, spec: TableSpec, vintage_id: str) -> list[pd.DataFrame]:
    """The vintage's rows of every source of ``spec``, in the order its layout takes them."""
    frames = []
    for source in spec.sources:
        table_id = spec.source_table_id(source)
        if table_id is None:
            frames.append(conn.execute(f"select * from {source.table} where vintage_id = ?", [vintage_id]).df())
        else:
            frames.append(conn.execute(f"select * from {source.table} where table_id = ? and vintage_id = ?",
                                       [table_id, vintage_id]).df())
    return frames


def build_table(conn, spec: TableSpec, provenance: TableProvenance, vintage_id: str) -> PaperTable:
    return spec.build(read_sources(conn, spec, vintage_id), provenance)


def _files_metadata(paths: list[Path], metadata: dict[str, object]) -> dict[str, object]:
    shown = {"files": MetadataValue.json([str(p) for p in paths])}
    for name, value in metadata.items():
        shown[name] = (MetadataValue.md(value) if isinstance(value, Markdown)
                       else MetadataValue.path(str(value)) if isinstance(value, Path) else value)
    return shown


def report_asset(spec: TableSpec):
    """The asset ``["reports", table_id]`` rendering ``spec`` from its sources."""
    deps = spec.report_deps or (spec.results_key,)

    @asset(key=list(spec.report_key), deps=[AssetKey(list(key)) for key in deps], group_name="reporting",
           kinds={"python"}, description=spec.description)
    def report(context: AssetExecutionContext, warehouse: WorkingWarehouse, vintage: VintageSelection):
        with vintage.session(warehouse) as (conn, provenance):
            frames = read_sources(conn, spec, provenance.vintage_id)
        header = table_provenance(provenance)
        if spec.is_figure:
            paths, metadata = spec.render(*frames, header, settings.reports_dir())
            return MaterializeResult(metadata=_files_metadata(paths, metadata))
        paths = write_table(spec.build(frames, header), settings.reports_dir())
        markdown = next(p for p in paths if p.suffix == ".md")
        return MaterializeResult(metadata={
            "files": MetadataValue.json([str(p) for p in paths]),
            "preview": MetadataValue.md(markdown.read_text(encoding="utf-8")),
        })

    return report


def report_assets(specs=SPECS) -> list:
    """One report asset per spec that prints a table or draws a figure."""
    return [report_asset(spec) for spec in specs.values() if spec.layout is not None or spec.is_figure]


REPORT_ASSETS = report_assets()
