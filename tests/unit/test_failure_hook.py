"""The job's failure hook: a step failing after this run published the vintage never brands it rejected."""

from __future__ import annotations

import pytest
from dagster import DagsterInstance, Definitions, asset, define_asset_job, in_process_executor

from nqp_core.ops_store import OpsStore
from dagster_project.defs.publish.assets import reject_vintage_on_failure
from dagster_project.defs.publish.runs import run_alerts
from nqp_core.alerts import WEBHOOK_ENV
from dagster_project.defs.common.resources import OpsResource, VintageSelection, WorkingWarehouse


@pytest.fixture
def ops(tmp_path, monkeypatch):
    monkeypatch.setenv("NQP_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("NQP_REPORTS_DIR", str(tmp_path / "reports"))
    monkeypatch.delenv(WEBHOOK_ENV, raising=False)
    return OpsStore()


def _run_failing_export(tmp_path, *, publish_in_run: bool) -> str:
    """A job whose publish step (optionally) records ``published`` for its run, then whose export fails."""

    @asset(key=["publish", "warehouse"], required_resource_keys={"ops"})
    def published(context):
        if publish_in_run:
            context.resources.ops.record_status("2024-09", "published", fingerprint="f", run_id=context.run.run_id)

    @asset(key=["exports", "analysis_panel"], deps=[published])
    def export():
        raise OSError("disk full")

    job = define_asset_job("build", hooks={reject_vintage_on_failure})
    defs = Definitions(assets=[published, export], jobs=[job], executor=in_process_executor, resources={
        "ops": OpsResource(), "vintage": VintageSelection(vintage_id="2024-09"),
        "warehouse": WorkingWarehouse(database=str(tmp_path / "work.duckdb"))})
    with DagsterInstance.ephemeral() as instance:
        result = defs.resolve_job_def("build").execute_in_process(instance=instance, raise_on_error=False)
    assert not result.success
    return result.run_id


def _statuses(ops: OpsStore) -> list[tuple[str, str]]:
    return [(row.status, row.run_id) for row in ops.status_history() if row.vintage_id == "2024-09"]


def _alerts(ops: OpsStore, run_id: str) -> list[tuple[str, str]]:
    with ops.reader() as conn:
        return conn.execute("select rule, severity from ops.alerts where run_id = ?", [run_id]).fetchall()


def test_a_step_failing_after_this_run_published_raises_a_warning_not_a_rejection(ops, tmp_path):
    run_id = _run_failing_export(tmp_path, publish_in_run=True)
    assert _statuses(ops) == [("published", run_id)]
    assert _alerts(ops, run_id) == [("post_publication_step_failed", "warning")]
    assert "disk full" in run_alerts(ops, run_id)[0]


def test_a_failure_in_a_run_that_did_not_publish_still_rejects(ops, tmp_path):
    """Published by an earlier run: this run's failure is its own and rejects the vintage."""
    ops.record_status("2024-09", "published", fingerprint="f", run_id="earlier-run")
    run_id = _run_failing_export(tmp_path, publish_in_run=False)
    assert _statuses(ops) == [("published", "earlier-run"), ("rejected", run_id)]
    assert _alerts(ops, run_id) == [("step_failed", "error")]
