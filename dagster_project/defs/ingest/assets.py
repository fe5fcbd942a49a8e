"""Ingest: the run's vintage from data/landing/ into the append-only ``raw`` schema of the working copy.

Each run builds ONE vintage (write-audit-publish, docs/publishing.md): ingest first
replaces the run's working database by a fresh copy of the published warehouse, then
loads only that vintage into it, so a bad vintage waiting in the landing folder never
blocks another one. A vintage that breaks the raw contract is refused with an alert
(ops.alerts, reports/alerts/, the run log, the webhook) and a ``rejected`` status.
"""

from pathlib import Path

from dagster import AssetExecutionContext, AssetSpec, Failure, MaterializeResult, MetadataValue, multi_asset

from dagster_project.defs.common.resources import OpsResource, VintageSelection, WorkingWarehouse
from nqp_core import settings
from nqp_core.loader import (
    FOLDER_RULES,
    VintageContractError,
    check_landing_folder,
    complete_vintages,
    load_vintage,
    vintage_fingerprint,
)
from nqp_core.ops_store import OpsStore
from nqp_core.recovery import recover_interrupted_publication
from nqp_core.alerts import Alert, raise_alerts
from nqp_core.contract import RAW_TABLES, READY_MARKER

RAW_SPECS = [
    AssetSpec(
        key=["raw", table.name],
        group_name="ingest",
        description=f"{table.grain}; source: {table.source}. Append-only, one set of rows per vintage_id.",
        kinds={"duckdb"},
    )
    for table in RAW_TABLES
]


def _vintage_folder(landing: Path, requested: str) -> Path:
    """The landing folder of the requested vintage, else the newest complete one."""
    folders = complete_vintages(landing)
    if requested:
        folder = landing / requested
        if folder.is_dir():
            # Raises the rule a user can act on: vintage_id, symlinked_vintage, incomplete_vintage.
            check_landing_folder(folder)
            if not (folder / READY_MARKER).exists():
                raise VintageContractError(
                    f"{folder}: no {READY_MARKER} marker (rule: incomplete_vintage); a vintage is complete only "
                    f"once {READY_MARKER} is written, last, after every file",
                    rule="incomplete_vintage", file=f"{folder.name}/{READY_MARKER}",
                )
        if folder not in folders:
            raise Failure(
                f"vintage {requested!r} is not a complete vintage under {landing} (a folder holding {READY_MARKER}); "
                f"complete vintages: {', '.join(p.name for p in folders) or 'none'}"
            )
        return folder
    if not folders:
        raise Failure(
            f"no complete vintage under {landing}: generate one with `nqp synth` or copy exports there "
            f"and write the {READY_MARKER} marker (see docs/raw_data.md)"
        )
    return folders[-1]


@multi_asset(specs=RAW_SPECS, name="raw_vintages", can_subset=False)
def raw_vintages(
    context: AssetExecutionContext, warehouse: WorkingWarehouse, vintage: VintageSelection, ops: OpsResource
):
    """Start the working copy from the published warehouse and load the run's vintage into it."""
    landing = settings.landing_dir()
    for line in recover_interrupted_publication(ops).lines():
        context.log.warning(f"recovery after an interrupted run: {line}")
    requested = vintage.requested_id()
    try:
        folder = _vintage_folder(landing, requested)
    except VintageContractError as exc:
        # No fingerprint: the refusal is about the folder, not its files, so once the folder
        # is fixed (_READY written, a copy in place of a link) the same files are built.
        _refuse(context, ops, requested, None, exc)
    base = warehouse.restart()
    context.log.info(
        f"working copy {warehouse.database} started from "
        + (f"the published warehouse (sha256 {base[:12]})" if base else "nothing (no publication yet)")
    )
    with warehouse.get_connection() as conn:
        try:
            report = load_vintage(conn, folder)
        except VintageContractError as exc:
            _refuse(context, ops, folder.name,
                    None if exc.rule in FOLDER_RULES else vintage_fingerprint(folder), exc)
        rows = {
            table.name: dict(
                conn.execute(f"select vintage_id, count(*) from raw.{table.name} group by 1 order by 1").fetchall()
            )
            for table in RAW_TABLES
        }
    ops.record_status(report.vintage_id, "loaded", fingerprint=report.fingerprint, run_id=context.run.run_id,
                      detail=f"{report.status}: {report.row_counts}")
    context.log.info(f"vintage {report.vintage_id}: {report.status} {report.row_counts}")
    for table in RAW_TABLES:
        yield MaterializeResult(
            asset_key=["raw", table.name],
            metadata={
                "vintage_id": report.vintage_id,
                "rows_loaded": report.row_counts[table.name],
                "rows_by_vintage": MetadataValue.json(rows[table.name]),
            },
        )


def _refuse(context: AssetExecutionContext, ops: OpsStore, vintage_id: str, fingerprint: str | None,
            error: VintageContractError):
    alert = Alert(
        vintage_id=vintage_id, asset="ingest", rule=error.rule, severity="error",
        failing_count=error.failing_count, message=str(error), examples=error.examples,
        file=error.file, column=error.column,
    )
    paths = raise_alerts([alert], ops=ops, log=context.log, run_id=context.run.run_id)
    ops.record_status(vintage_id, "rejected", fingerprint=fingerprint, run_id=context.run.run_id,
                      detail=f"ingest_contract/{error.rule}: {error}")
    raise Failure(
        f"vintage {vintage_id} breaks the raw data contract: {error}",
        metadata={"rule": error.rule, "alert": MetadataValue.path(str(paths[0])) if paths else "none"},
    ) from error
