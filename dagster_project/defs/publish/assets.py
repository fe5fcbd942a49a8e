"""Audit and publish: the cross-vintage diff, the atomic publication, and what a failed run records.

Both assets depend on the terminal assets of the code location, hence transitively on
EVERY other asset (the list is passed in by ``definitions.py``), so a failed blocking check anywhere (raw suites, dbt tests, the GX
suite on the marts) or any failed step skips them: nothing is published. The failure
hook attached to the job records the vintage as ``rejected`` and makes sure the failure
raised an alert (dbt tests do not raise their own; the Python checks and ingest do).
"""

from collections.abc import Sequence

import duckdb
from dagster import (
    AssetExecutionContext,
    AssetKey,
    DagsterEventType,
    HookContext,
    MaterializeResult,
    MetadataValue,
    asset,
    failure_hook,
)

from dagster_project.defs.common.resources import OpsResource, VintageSelection, WorkingWarehouse
from nqp_core import settings
from nqp_core.ops_store import OpsStore
from dagster_project.defs.publish.diff import compute_vintage_diff, render_markdown, report_path
from nqp_core.working_copy import PublishConflict
from dagster_project.defs.publish.runs import alerted_assets, registry_markdown
from nqp_core.alerts import Alert, raise_alerts
from dagster_project.defs.common.dbt_failures import describe as describe_rows
from dagster_project.defs.common.dbt_failures import failing_rows
from dagster_project.defs.common.reports import table_provenance

VINTAGE_DIFF = AssetKey(["publish", "vintage_diff"])
PUBLISHED_WAREHOUSE = AssetKey(["publish", "warehouse"])
def build_publish_assets(upstream: Sequence[AssetKey]):
    """The diff and publish assets, downstream of every key in ``upstream``."""

    @asset(key=VINTAGE_DIFF, deps=list(upstream), group_name="publish", kinds={"duckdb", "python"})
    def vintage_diff(context: AssetExecutionContext, warehouse: WorkingWarehouse, vintage: VintageSelection,
                     ops: OpsResource):
        """The new vintage against the last published one: firm-years, revisions, patents, coefficient drift."""
        with vintage.session(warehouse) as (conn, provenance):
            diff = compute_vintage_diff(conn, provenance.vintage_id)
        ops.replace_vintage_diff(diff.new_vintage_id, diff.rows)
        stamp = table_provenance(provenance)
        path = report_path(settings.reports_dir(), diff)
        path.parent.mkdir(parents=True, exist_ok=True)
        text = render_markdown(diff, [*stamp.markdown_banner(), stamp.line()])
        path.write_text(text, encoding="utf-8")
        return MaterializeResult(metadata={
            "vintage_id": diff.new_vintage_id,
            "base_vintage_id": diff.base_vintage_id or "none",
            "firm_years_added": diff.value("firm_years", "added") or 0,
            "firm_years_revised": diff.value("firm_years", "revised") or 0,
            "patents_added": diff.value("patents", "added") or 0,
            "report": MetadataValue.path(str(path)),
            "preview": MetadataValue.md(text),
        })

    @asset(key=PUBLISHED_WAREHOUSE, deps=[*upstream, VINTAGE_DIFF], group_name="publish", kinds={"duckdb"})
    def published_warehouse(context: AssetExecutionContext, warehouse: WorkingWarehouse, vintage: VintageSelection,
                            ops: OpsResource):
        """Every blocking check passed: replace data/warehouse.duckdb by the working copy, atomically."""
        with warehouse.get_connection() as conn:
            vintage_id = vintage.resolve(conn)
            fingerprint = conn.execute(
                "select fingerprint from raw.vintages where vintage_id = ?", [vintage_id]).fetchone()[0]
        ops.record_status(vintage_id, "validated", fingerprint=fingerprint, run_id=context.run.run_id,
                          detail="every blocking check passed")
        publication = warehouse.publish(vintage_id)
        ops.record_status(vintage_id, "published", fingerprint=fingerprint, run_id=context.run.run_id,
                          detail=f"{publication.published} (kept as {publication.archive.name})")
        context.log.info(f"published vintage {vintage_id}: {publication.published} sha256 {publication.sha256[:12]}")
        return MaterializeResult(metadata={
            "vintage_id": vintage_id,
            "published": MetadataValue.path(str(publication.published)),
            "archive": MetadataValue.path(str(publication.archive)),
            "previous": MetadataValue.path(str(publication.previous)) if publication.previous else "none",
            "sha256": publication.sha256,
            "bytes": publication.bytes,
            "archives_removed": len(publication.removed_archives),
            "vintages": MetadataValue.md(registry_markdown(ops)),
        })

    return [vintage_diff, published_warehouse]


def _run_vintage(context: HookContext) -> str | None:
    """The vintage of the failed run: requested in config or env, else the newest in the working copy."""
    requested = context.resources.vintage.requested_id()
    if requested:
        return requested
    try:
        with context.resources.warehouse.read_working() as conn:
            return None if conn is None else context.resources.vintage.resolve(conn)
    except (duckdb.Error, LookupError):
        return None


def _failed_check_alerts(context: HookContext, vintage_id: str, alerted_assets: set[str]) -> list[Alert]:
    """Alerts for failed checks that raised none themselves (dbt tests)."""
    alerts = []
    for record in context.instance.all_logs(context.run_id, of_type=DagsterEventType.ASSET_CHECK_EVALUATION):
        evaluation = record.dagster_event.event_specific_data
        asset = "/".join(evaluation.asset_key.path)
        if evaluation.passed or asset in alerted_assets:
            continue
        metadata = {key: getattr(value, "value", value) for key, value in evaluation.metadata.items()}
        failing = int(metadata.get("dagster_dbt/failed_row_count") or 1)
        with context.resources.warehouse.read_working() as conn:
            rerun = failing_rows(evaluation.check_name, conn)
        rows = rerun[1] if rerun else []
        alerts.append(Alert(
            vintage_id=vintage_id, asset=asset, rule=evaluation.check_name, severity="error",
            failing_count=failing, examples=tuple(rows),
            message=f"check {evaluation.check_name} on {asset} failed for vintage {vintage_id}: "
                    f"{failing} failing row(s) (step {context.step_key}"
                    + (f"); first: {describe_rows(rows)}" if rows else "; see the run's check metadata)"),
        ))
    return alerts


@failure_hook(required_resource_keys={"ops", "vintage", "warehouse"})
def reject_vintage_on_failure(context: HookContext):
    """A step failed, so the vintage is not published: record ``rejected`` and make sure an alert exists.

    Not when this run already published the vintage (a later step such as the export failed):
    then only a warning alert is raised and the vintage stays ``published``.
    """
    ops: OpsStore = context.resources.ops
    vintage_id = _run_vintage(context)
    if vintage_id is None:
        context.log.error(f"step {context.step_key} failed before any vintage was chosen; nothing recorded")
        return
    error = context.op_exception
    if isinstance(error, PublishConflict):
        # Another run published first: nothing is wrong with this vintage. It is not
        # branded rejected (that would bar its fingerprint for good); it waits for a rerun.
        _warn(context, vintage_id, "publish_conflict",
              f"vintage {vintage_id} was validated but not published (retryable): {error}")
        return
    latest = ops.latest_statuses().get(vintage_id)
    if latest is not None and (latest.run_id, latest.status) == (context.run_id, "published"):
        # A step after publication (the exports) failed: the vintage passed every blocking
        # check and is being served, so it must not be branded rejected (that would also bar
        # its fingerprint); the failure is reported as a warning instead.
        _warn(context, vintage_id, "post_publication_step_failed",
              f"vintage {vintage_id} is published, but the later step {context.step_key} failed: "
              f"{type(error).__name__}: {str(error)[:500]}")
        return
    already_alerted = alerted_assets(ops, context.run_id)
    alerts = _failed_check_alerts(context, vintage_id, already_alerted)
    if not alerts and not already_alerted:
        alerts = [Alert(
            vintage_id=vintage_id, asset=context.step_key, rule="step_failed", severity="error", failing_count=1,
            message=f"step {context.step_key} failed for vintage {vintage_id}: "
                    f"{type(error).__name__}: {str(error)[:500]}",
        )]
    raise_alerts(alerts, ops=ops, log=context.log, run_id=context.run_id)
    if latest is None or (latest.run_id, latest.status) != (context.run_id, "rejected"):
        ops.record_status(vintage_id, "rejected", fingerprint=latest.fingerprint if latest else None,
                          run_id=context.run_id,
                          detail=f"step {context.step_key} failed: {type(context.op_exception).__name__}")


def _warn(context: HookContext, vintage_id: str, rule: str, message: str) -> None:
    """A warning alert for a failure that leaves the vintage's status as it is."""
    raise_alerts([Alert(vintage_id=vintage_id, asset=context.step_key, rule=rule, severity="warning",
                        failing_count=1, message=message)],
                 ops=context.resources.ops, log=context.log, run_id=context.run_id)
