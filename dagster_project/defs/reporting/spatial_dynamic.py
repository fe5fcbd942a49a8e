"""Reporting of the spatial and dynamic evidence: Tables 11-14 and Figure 2 into reports/."""

from dagster import AssetExecutionContext, AssetKey, MaterializeResult, MetadataValue, asset

from dagster_project.defs.common.resources import VintageSelection, WorkingWarehouse
from analysis.tables import write_table
from nqp_core import settings
from dagster_project.defs.reporting import spatial_layouts
from dagster_project.defs.reporting.assets import coefficient_report, table_provenance, written_report
from dagster_project.defs.reporting.paper_tables import build_table, rows_for_vintage

FIGURE02_FILE = "figures/figure02.png"


@asset(key=["reports", "table11"], deps=[AssetKey(["results", "table11_moran"])], group_name="reporting",
       kinds={"python"})
def table11_report(context: AssetExecutionContext, warehouse: WorkingWarehouse, vintage: VintageSelection):
    """Table 11 rendered from results.moran."""
    with vintage.session(warehouse) as (conn, provenance):
        table = build_table("table11", conn, provenance.vintage_id, table_provenance(provenance))
    return written_report(write_table(table, settings.reports_dir()))


@asset(key=["reports", "figure02"], deps=[AssetKey(["results", "table11_moran"])], group_name="reporting",
       kinds={"python"})
def figure02_report(context: AssetExecutionContext, warehouse: WorkingWarehouse, vintage: VintageSelection):
    """Figure 2: Moran scatter plots of the first and last year (PNG) from results.moran_scatter."""
    with vintage.session(warehouse) as (conn, provenance):
        scatter = rows_for_vintage(conn, "results.moran_scatter", "figure02", provenance.vintage_id)
        moran = conn.execute(
            "select fiscal_year, moran_i from results.moran where table_id = 'table11' and matrix_name = 'adjacency' "
            "and vintage_id = ?", [provenance.vintage_id]
        ).df()
    moran_i = dict(zip(moran["fiscal_year"].astype(int), moran["moran_i"]))
    path = spatial_layouts.figure02(scatter, moran_i, table_provenance(provenance),
                                    settings.reports_dir() / FIGURE02_FILE)
    quadrants = scatter.groupby(["fiscal_year", "quadrant"]).size().unstack(fill_value=0)
    return MaterializeResult(metadata={
        "files": MetadataValue.json([str(path.with_suffix(suffix)) for suffix in spatial_layouts.FIGURE_FORMATS]),
        "path": MetadataValue.path(str(path)),
        "quadrant_counts": MetadataValue.md(quadrants.to_markdown()),
    })


@asset(key=["reports", "table12"], deps=[AssetKey(["results", "table12_model_selection"])], group_name="reporting",
       kinds={"python"})
def table12_report(context: AssetExecutionContext, warehouse: WorkingWarehouse, vintage: VintageSelection):
    """Table 12 rendered from results.specification_tests."""
    with vintage.session(warehouse) as (conn, provenance):
        table = build_table("table12", conn, provenance.vintage_id, table_provenance(provenance))
    return written_report(write_table(table, settings.reports_dir()))


table13_report = coefficient_report("table13", "table13_sdm_gmm")


@asset(key=["reports", "table14"], deps=[AssetKey(["results", "table14_effects"])], group_name="reporting",
       kinds={"python"})
def table14_report(context: AssetExecutionContext, warehouse: WorkingWarehouse, vintage: VintageSelection):
    """Table 14 rendered from results.spatial_effects and results.model_stats."""
    with vintage.session(warehouse) as (conn, provenance):
        table = build_table("table14", conn, provenance.vintage_id, table_provenance(provenance))
    return written_report(write_table(table, settings.reports_dir()))


SPATIAL_DYNAMIC_REPORTS = [table11_report, figure02_report, table12_report, table13_report, table14_report]
