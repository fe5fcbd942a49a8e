"""The analysis panel exported after every publication (exports/analysis_panel.{parquet,csv,dta}).

Downstream of the publish asset and read from the published warehouse, so the files on disk
are always those of the published vintage: a run that fails its audit exports nothing.
"""

from dagster import AssetExecutionContext, AssetKey, Failure, MaterializeResult, MetadataValue, asset

from dagster_project.defs.common.resources import WorkingWarehouse
from nqp_core import settings
from dagster_project.defs.exports.files import FORMATS, export_relation

ANALYSIS_PANEL = "marts.analysis_panel"
# Keys, not imports: the publish domain's asset and the dbt view of the panel.
PUBLISHED_WAREHOUSE = AssetKey(["publish", "warehouse"])


@asset(key=["exports", "analysis_panel"], deps=[PUBLISHED_WAREHOUSE], group_name="publish", kinds={"duckdb", "stata"})
def analysis_panel_export(context: AssetExecutionContext, warehouse: WorkingWarehouse):
    """marts.analysis_panel of the published warehouse as Parquet, CSV and Stata .dta (with labels)."""
    out_dir = settings.exports_dir()
    with warehouse.read_published() as conn:
        if conn is None:
            raise Failure(f"nothing is published at {settings.warehouse_path()}: there is no panel to export")
        paths = [export_relation(conn, ANALYSIS_PANEL, fmt, out_dir / f"analysis_panel.{fmt}") for fmt in FORMATS]
        rows, vintage_id, is_synthetic = conn.execute(
            f"select count(*), any_value(vintage_id), any_value(is_synthetic) from {ANALYSIS_PANEL}").fetchone()
    context.log.info(f"exported {rows} firm-years of vintage {vintage_id} to {out_dir}")
    return MaterializeResult(metadata={
        "files": MetadataValue.json([str(path) for path in paths]),
        "rows": rows,
        "vintage": vintage_id,
        "synthetic": bool(is_synthetic),
    })
