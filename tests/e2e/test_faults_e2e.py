"""Faults of each stage, end to end through the real Dagster job: rejected, alerted, nothing published.

The base is a private copy of the session's published ``pipeline_run`` (vintage 2024-06).
For each fault of ``tests.faults.corpus.END_TO_END`` (loader refusals, one fault per raw
suite check, and the late-stage faults a dbt data test or the marts suite catches), a copy
of the base vintage is mutated, delivered as vintage 2024-09 and built by the same job and
definitions as ``nqp run`` (in this process, one run per fault). Each must: fail at the
check the corpus names, leave an alert in ops.alerts naming the rule, record the vintage as
rejected, leave the published warehouse byte-identical and the landing folder untouched.
Every other fault of the corpus is caught by its rule at function level
(tests/unit/test_fault_detection.py); a crash inside a step (kill -9, an exception) is
tested end to end by tests/e2e/test_publish_pipeline.py and tests/e2e/test_publish.py.
"""

from __future__ import annotations

import shutil

import duckdb
import pytest
from dagster import DagsterInstance

from nqp_core.ops_store import OpsStore
from nqp_core.working_copy import file_sha256
from dagster_project.definitions import vintage_job
from dagster_project.defs.publish.runs import execute_vintage_run
from tests.faults.corpus import END_TO_END, INGEST, copy_vintage

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

FAULT_VINTAGE = "2024-09"  # after the base 2024-06, which the row-count and revision rules compare with


@pytest.fixture(scope="module")
def fault_home(pipeline_run, copy_published, in_nqp_environment, tmp_path_factory):
    home = copy_published(pipeline_run, tmp_path_factory.mktemp("faults_e2e"))
    with in_nqp_environment(home), DagsterInstance.ephemeral() as instance:
        yield home, instance


def _alert_rows(run_id: str) -> list[tuple[str, str, str]]:
    with OpsStore().reader() as conn:
        return conn.execute("select rule, asset, message from ops.alerts where run_id = ?", [run_id]).fetchall()


@pytest.mark.parametrize("mutation", END_TO_END, ids=lambda m: m.name)
def test_fault_is_rejected_with_an_alert_and_nothing_is_published(fault_home, mutation, digest):
    home, instance = fault_home
    landing = home.data_dir / "landing"
    delivered = landing / FAULT_VINTAGE
    shutil.rmtree(delivered, ignore_errors=True)  # the previous mutation's delivery
    mutation.apply(copy_vintage(home.vintage_dir, delivered))
    published = file_sha256(home.warehouse)
    landing_before = digest(landing)

    outcome = execute_vintage_run(FAULT_VINTAGE, instance, vintage_job())

    assert not outcome.success and outcome.status == "rejected", outcome
    if mutation.detected_by == INGEST:
        assert "raw_vintages" in outcome.failed_steps, outcome.failed_steps
    else:
        assert mutation.detected_by in outcome.failed_checks, outcome.failed_checks
    alerts = _alert_rows(outcome.run_id)
    assert any(mutation.rule_hint in f"{rule} {message}" for rule, _, message in alerts), alerts
    if mutation.column:
        assert any(mutation.column in message for _, _, message in alerts), alerts
    assert file_sha256(home.warehouse) == published, "a rejected vintage must not touch the published warehouse"
    assert digest(landing) == landing_before, "raw vintages are never modified"
    with duckdb.connect(str(home.warehouse), read_only=True) as conn:
        assert conn.execute("select list(vintage_id order by 1) from raw.vintages").fetchone()[0] == ["2024-06"]
