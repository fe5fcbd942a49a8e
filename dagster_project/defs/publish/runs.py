"""One run per vintage: which vintages wait, the run config that builds one, running it.

The sensor, ``nqp run`` and the tests use the same three pieces, so a vintage is built
the same way whoever starts it. Everything but :func:`execute_vintage_run` is light
(no pipeline import): the sensor evaluates it every 30 seconds inside the daemon.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

from nqp_core import settings
from nqp_core.loader import complete_vintages, vintage_fingerprint
from nqp_core.ops_store import OpsStore
from nqp_core.warehouse import table_exists
from nqp_core.working_copy import working_copy_path
from nqp_core.contract import RAW_TABLES

JOB_NAME = "materialize_all"

# Reviewed warnings, per vintage: {vintage id: [rule, ...]} in <data_dir>/acknowledged_warnings.yaml.
# Every run of that vintage (nqp run, the sensor) hands them to each quality check, which
# still raises the warning but marks it acknowledged (docs/data_quality.md).
ACKNOWLEDGEMENTS_FILE = "acknowledged_warnings.yaml"
QUALITY_CHECK_OPS = (
    *(f"raw__{table.name}_gx_raw_{table.name}" for table in RAW_TABLES),
    "marts__fct_firm_years_gx_fct_firm_years",
)


@dataclass(frozen=True)
class WaitingVintage:
    vintage_id: str
    folder: Path
    fingerprint: str

    @property
    def run_key(self) -> str:
        # A corrected re-delivery of a rejected vintage (same id, new files) is a new run.
        return f"{self.vintage_id}:{self.fingerprint}"


def acknowledged_warnings(vintage_id: str) -> list[str]:
    """Rules whose warnings were acknowledged for ``vintage_id`` in the acknowledgements file."""
    path = settings.data_dir() / ACKNOWLEDGEMENTS_FILE
    if not path.exists():
        return []
    import yaml

    entries = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    if not isinstance(entries, dict) or not all(isinstance(v, list) for v in entries.values()):
        raise ValueError(f"{path}: expected a mapping of vintage id to a list of rules, e.g. {{'2025-06': "
                         f"['applicant_map_non_subsidiary']}}")
    return [str(rule) for rule in entries.get(vintage_id, [])]


def run_config_for(vintage_id: str) -> dict:
    """Run config that builds ``vintage_id`` in its own working copy, with its acknowledged warnings."""
    config: dict = {
        "resources": {
            "vintage": {"config": {"vintage_id": vintage_id}},
            "warehouse": {"config": {"database": str(working_copy_path(vintage_id))}},
        }
    }
    acknowledged = acknowledged_warnings(vintage_id)
    if acknowledged:
        config["ops"] = {op: {"config": {"acknowledged_warnings": {vintage_id: acknowledged}}}
                         for op in QUALITY_CHECK_OPS}
    return config


def waiting_vintages(ops: OpsStore, landing: Path | None = None) -> list[WaitingVintage]:
    """Complete vintages in the landing folder that still need a run, oldest id first.

    Waiting means: not published, and not rejected with these very files (a rejected
    vintage waits again once its files change). A vintage whose run was interrupted
    (status ``loaded`` only) still waits.
    """
    history = ops.status_history()
    published = {row.vintage_id for row in history if row.status == "published"}
    rejected = {(row.vintage_id, row.fingerprint) for row in history if row.status == "rejected"}
    waiting = []
    for folder in complete_vintages(landing or settings.landing_dir()):
        if folder.name in published:
            continue
        fingerprint = vintage_fingerprint(folder)
        if (folder.name, fingerprint) not in rejected:
            waiting.append(WaitingVintage(folder.name, folder, fingerprint))
    return waiting


def registry_markdown(ops: OpsStore) -> str:
    """The current status of every vintage as a Markdown table (UI metadata)."""
    latest = ops.latest_statuses()
    if not latest:
        return "no vintage recorded yet"
    lines = ["| Vintage | Status | Since (UTC) | Run | Detail |", "|---|---|---|---|---|"]
    for vintage_id in sorted(latest):
        row = latest[vintage_id]
        detail = (row.detail or "").replace("|", "\\|").replace("\n", " ")[:160]
        lines.append(f"| {vintage_id} | **{row.status}** | {row.recorded_at:%Y-%m-%d %H:%M:%S} | "
                     f"{(row.run_id or '-')[:8]} | {detail} |")
    return "\n".join(lines)


@dataclass(frozen=True)
class RunOutcome:
    vintage_id: str
    run_id: str
    success: bool
    status: str | None  # the vintage's status in ops.vintage_status after the run
    failed_steps: tuple[str, ...]
    failed_checks: tuple[str, ...]  # names of the asset checks that did not pass
    errors: tuple[str, ...]
    alerts: tuple[str, ...]  # "rule (asset): message" of each alert the run raised
    seconds: float


def _alert_rows(ops: OpsStore, run_id: str) -> list[tuple[str, str, str]]:
    """(rule, asset, message) of the alerts a run raised (ops.alerts is created by the first alert)."""
    with ops.reader() as conn:
        if conn is None or not table_exists(conn, "ops.alerts"):
            return []
        return conn.execute(
            "select rule, asset, message from ops.alerts where run_id = ? order by raised_at", [run_id]
        ).fetchall()


def run_alerts(ops: OpsStore, run_id: str) -> tuple[str, ...]:
    return tuple(f"{rule} ({asset}): {message}" for rule, asset, message in _alert_rows(ops, run_id))


def alerted_assets(ops: OpsStore, run_id: str) -> set[str]:
    return {asset for _, asset, _ in _alert_rows(ops, run_id)}


def execute_vintage_run(vintage_id: str, instance, job) -> RunOutcome:
    """Build, audit and (if every blocking check passes) publish ``vintage_id`` in this process
    with ``job``, the code location's resolved job (``dagster_project.definitions.vintage_job()``:
    this domain does not import the code location that imports it)."""
    from dagster_project.defs.publish.run_origin import execute_in_process_with_origin

    started = time.perf_counter()
    # Not job.execute_in_process: its runs carry no code-location origin, so the UI's
    # timeline would not show them (run_origin.py).
    result = execute_in_process_with_origin(
        job, instance=instance, run_config=run_config_for(vintage_id), tags={"nqp/vintage": vintage_id},
    )
    failures = [event for event in result.all_events if event.is_step_failure]
    ops = OpsStore()
    status = ops.latest_statuses().get(vintage_id)
    return RunOutcome(
        vintage_id=vintage_id,
        run_id=result.run_id,
        success=result.success,
        status=status.status if status else None,
        failed_steps=tuple(event.step_key for event in failures),
        failed_checks=tuple(
            event.event_specific_data.check_name
            for event in result.all_events
            if event.event_type_value == "ASSET_CHECK_EVALUATION" and not event.event_specific_data.passed
        ),
        errors=tuple(
            event.step_failure_data.error.to_string()
            for event in failures
            if event.step_failure_data is not None and event.step_failure_data.error is not None
        ),
        alerts=run_alerts(ops, result.run_id),
        seconds=time.perf_counter() - started,
    )
