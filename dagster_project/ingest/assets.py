"""Ingest: every complete vintage under data/landing/ into the append-only ``raw`` schema."""

from dagster import AssetExecutionContext, AssetSpec, Failure, MaterializeResult, MetadataValue, multi_asset
from dagster_duckdb import DuckDBResource

from dagster_project import settings
from dagster_project.ingest.loader import VintageContractError, complete_vintages, load_vintage
from dagster_project.raw_contract import RAW_TABLES, READY_MARKER

RAW_SPECS = [
    AssetSpec(
        key=["raw", table.name],
        group_name="ingest",
        description=f"{table.grain}; source: {table.source}. Append-only, one set of rows per vintage_id.",
        kinds={"duckdb"},
    )
    for table in RAW_TABLES
]


@multi_asset(specs=RAW_SPECS, name="raw_vintages", can_subset=False)
def raw_vintages(context: AssetExecutionContext, warehouse: DuckDBResource):
    """Load each complete vintage folder (one holding a _READY marker) not yet in the warehouse."""
    landing = settings.landing_dir()
    folders = complete_vintages(landing)
    incomplete = sorted(p.name for p in landing.glob("*") if p.is_dir() and p not in folders)
    if incomplete:
        context.log.warning(f"ignoring folders without {READY_MARKER}: {', '.join(incomplete)}")
    if not folders:
        raise Failure(
            f"no complete vintage under {landing}: generate one with `nqp synth` or copy exports there "
            f"and write the {READY_MARKER} marker (see docs/raw_data.md)"
        )
    statuses = {}
    with warehouse.get_connection() as conn:
        for folder in folders:
            try:
                report = load_vintage(conn, folder)
            except VintageContractError as exc:
                raise Failure(f"vintage {folder.name} breaks the raw data contract: {exc}") from exc
            statuses[report.vintage_id] = report.status
            context.log.info(f"vintage {report.vintage_id}: {report.status} {report.row_counts}")
        rows = {
            table.name: dict(
                conn.execute(
                    f"select vintage_id, count(*) from raw.{table.name} group by 1 order by 1"
                ).fetchall()
            )
            for table in RAW_TABLES
        }
    for table in RAW_TABLES:
        yield MaterializeResult(
            asset_key=["raw", table.name],
            metadata={
                "rows_by_vintage": MetadataValue.json(rows[table.name]),
                "vintage_status": MetadataValue.json(statuses),
            },
        )
