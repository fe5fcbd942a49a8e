"""Reporting: render each table from the warehouse into reports/ (Markdown, HTML, LaTeX)."""


from dagster import AssetExecutionContext, AssetKey, MaterializeResult, MetadataValue, asset

from dagster_project.defs.common.reports import table_provenance
from dagster_project.defs.common.resources import VintageSelection, WorkingWarehouse
from analysis.tables import write_table
from nqp_core import settings
from dagster_project.defs.reporting.paper_tables import build_table


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
def table03_report(context: AssetExecutionContext, warehouse: WorkingWarehouse, vintage: VintageSelection):
    """Table 3 rendered from results.descriptives."""
    with vintage.session(warehouse) as (conn, provenance):
        table = build_table("table03", conn, provenance.vintage_id, table_provenance(provenance))
    return written_report(write_table(table, settings.reports_dir()))


@asset(key=["reports", "table01"], deps=[AssetKey(["analysis", "entropy_weights"])], group_name="reporting",
       kinds={"python"})
def table01_report(context: AssetExecutionContext, warehouse: WorkingWarehouse, vintage: VintageSelection):
    """Table 1: the indicator system, definitions, our entropy weights and the paper's."""
    with vintage.session(warehouse) as (conn, provenance):
        table = build_table("table01", conn, provenance.vintage_id, table_provenance(provenance))
    return written_report(write_table(table, settings.reports_dir()))


def coefficient_report(table_id: str, results_key: str):
    """A report asset rendering one coefficient table (``paper_tables.PAPER_TABLES[table_id]``)."""

    @asset(key=["reports", table_id], deps=[AssetKey(["results", results_key])], group_name="reporting",
           kinds={"python"},
           description=f"{table_id.capitalize()} rendered from results.coefficients and results.model_stats.")
    def report(context: AssetExecutionContext, warehouse: WorkingWarehouse, vintage: VintageSelection):
        with vintage.session(warehouse) as (conn, provenance):
            table = build_table(table_id, conn, provenance.vintage_id, table_provenance(provenance))
        return written_report(write_table(table, settings.reports_dir()))

    return report


table04_report = coefficient_report("table04", "table04_benchmark")
