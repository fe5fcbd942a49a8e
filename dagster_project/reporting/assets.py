"""Reporting: render each table from the warehouse into reports/ (Markdown, HTML, LaTeX)."""

from datetime import datetime, timezone

import pandas as pd
from dagster import AssetExecutionContext, AssetKey, MaterializeResult, MetadataValue, asset
from dagster_duckdb import DuckDBResource

from analysis.tables import TableProvenance, write_table
from dagster_project import settings
from dagster_project.provenance import Provenance
from dagster_project.reporting import layouts
from dagster_project.vintage import VintageSelection


def table_provenance(provenance: Provenance) -> TableProvenance:
    return TableProvenance(
        vintage_id=provenance.vintage_id,
        is_synthetic=provenance.is_synthetic,
        code_version=provenance.code_version,
        generated_at=datetime.now(timezone.utc).isoformat(timespec="seconds"),
    )


def written_report(paths) -> MaterializeResult:
    markdown = next(p for p in paths if p.suffix == ".md")
    return MaterializeResult(
        metadata={
            "files": MetadataValue.json([str(p) for p in paths]),
            "preview": MetadataValue.md(markdown.read_text(encoding="utf-8")),
        }
    )


@asset(key=["reports", "table03"], deps=[AssetKey(["results", "table03_descriptives"])], group_name="reporting",
       kinds={"python"})
def table03_report(context: AssetExecutionContext, warehouse: DuckDBResource, vintage: VintageSelection):
    """Table 3 rendered from results.descriptives."""
    with vintage.session(warehouse) as (conn, provenance):
        descriptives = rows_for_vintage(conn, "results.descriptives", "table03", provenance.vintage_id)
    return written_report(write_table(layouts.table03(descriptives, table_provenance(provenance)), settings.reports_dir()))


def rows_for_vintage(conn, table: str, table_id: str, vintage_id: str) -> pd.DataFrame:
    """The rows of one paper table (``table_id``) of this vintage from a results table."""
    return conn.execute(f"select * from {table} where table_id = ? and vintage_id = ?", [table_id, vintage_id]).df()


def coefficient_report(table_id: str, results_key: str, layout):
    """A report asset rendering ``layout(coefficients, model_stats, provenance)`` of one table."""

    @asset(key=["reports", table_id], deps=[AssetKey(["results", results_key])], group_name="reporting",
           kinds={"python"},
           description=f"{table_id.capitalize()} rendered from results.coefficients and results.model_stats.")
    def report(context: AssetExecutionContext, warehouse: DuckDBResource, vintage: VintageSelection):
        with vintage.session(warehouse) as (conn, provenance):
            coefficients = rows_for_vintage(conn, "results.coefficients", table_id, provenance.vintage_id)
            model_stats = rows_for_vintage(conn, "results.model_stats", table_id, provenance.vintage_id)
        table = layout(coefficients, model_stats, table_provenance(provenance))
        return written_report(write_table(table, settings.reports_dir()))

    return report


table04_report = coefficient_report("table04", "table04_benchmark", layouts.table04)
