"""Reporting: render each table from the warehouse into reports/ (Markdown, HTML, LaTeX)."""

from datetime import datetime, timezone

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
        descriptives = conn.execute(
            "select * from results.descriptives where table_id = 'table03' and vintage_id = ?", [provenance.vintage_id]
        ).df()
    return written_report(write_table(layouts.table03(descriptives, table_provenance(provenance)), settings.reports_dir()))


@asset(key=["reports", "table04"], deps=[AssetKey(["results", "table04_benchmark"])], group_name="reporting",
       kinds={"python"})
def table04_report(context: AssetExecutionContext, warehouse: DuckDBResource, vintage: VintageSelection):
    """Table 4 rendered from results.coefficients and results.model_stats."""
    with vintage.session(warehouse) as (conn, provenance):
        scope = ["table04", provenance.vintage_id]
        coefficients = conn.execute(
            "select * from results.coefficients where table_id = ? and vintage_id = ?", scope
        ).df()
        model_stats = conn.execute("select * from results.model_stats where table_id = ? and vintage_id = ?", scope).df()
    table = layouts.table04(coefficients, model_stats, table_provenance(provenance))
    return written_report(write_table(table, settings.reports_dir()))
