"""The Dagster UI serves the whole asset graph and launches a materialization.

The session's `dagster dev` (webserver and daemon, as the README's `make ui` does; fixture
``webserver`` in tests/conftest.py) on 127.0.0.1 against the e2e warehouse: reads the
asset graph through its GraphQL API (what the UI itself calls) and launches a run of two assets the way the UI's Materialize button does;
the daemon dequeues it and the run must succeed.
"""

from __future__ import annotations

import time

import pytest

from nqp_core.contract import RAW_TABLES
from tests.dagster_ui import RUN_STATUS, graphql

pytestmark = pytest.mark.e2e

RUN_TIMEOUT_S = 300

ASSET_KEYS_QUERY = "{ assetNodes { assetKey { path } } }"
LAUNCH_RUN = """
mutation($params: ExecutionParams!) {
  launchRun(executionParams: $params) {
    __typename
    ... on LaunchRunSuccess { run { runId } }
    ... on PythonError { message }
    ... on InvalidSubsetError { message }
    ... on RunConfigValidationInvalid { errors { message } }
  }
}
"""
SENSOR_DRY_RUN = """
mutation($selector: SensorSelector!, $cursor: String) {
  sensorDryRun(selectorData: $selector, cursor: $cursor) {
    __typename
    ... on DryRunInstigationTick { evaluationResult { skipReason runRequests { runKey } error { message } } }
    ... on PythonError { message }
  }
}
"""


def test_ui_shows_the_whole_asset_graph(webserver):
    port, _ = webserver
    keys = {"/".join(node["assetKey"]["path"]) for node in graphql(port, ASSET_KEYS_QUERY)["assetNodes"]}
    expected = {f"raw/{t.name}" for t in RAW_TABLES} | {
        "marts/fct_firm_years",
        "marts/dim_firms",
        "analysis/firm_year_npro",
        "analysis/entropy_weights",
        "results/table03",
        "results/table04",
        "reports/table03",
        "reports/table04",
        "publish/vintage_diff",
        "publish/warehouse",
        "ops/vintage_status",
    }
    assert expected <= keys, expected - keys


def test_ui_launches_a_materialization(webserver, pipeline_run):
    port, repository = webserver
    params = {
        "selector": {
            "repositoryLocationName": repository["location"]["name"],
            "repositoryName": repository["name"],
            "jobName": "__ASSET_JOB",
            "assetSelection": [{"path": ["results", "table03"]}, {"path": ["reports", "table03"]}],
        },
        "runConfigData": {},
    }
    launched = graphql(port, LAUNCH_RUN, {"params": params})["launchRun"]
    assert launched["__typename"] == "LaunchRunSuccess", launched
    run_id = launched["run"]["runId"]
    deadline = time.monotonic() + RUN_TIMEOUT_S
    status = None
    while time.monotonic() < deadline:
        status = graphql(port, RUN_STATUS, {"id": run_id})["runOrError"]["status"]
        if status in ("SUCCESS", "FAILURE", "CANCELED"):
            break
        time.sleep(2)
    assert status == "SUCCESS", status


# The Overview timeline's query for finished runs (dagster-ui runs/useRunsForTimeline.tsx,
# COMPLETED_RUN_TIMELINE_QUERY); the timeline drops every run whose repositoryOrigin is null.
COMPLETED_RUN_TIMELINE_QUERY = """
query($completedFilter: RunsFilter!, $limit: Int!) {
  completed: runsOrError(filter: $completedFilter, limit: $limit) {
    ... on Runs { results { id pipelineName tags { key value } repositoryOrigin { repositoryName repositoryLocationName } } }
  }
}
"""


def test_cli_runs_are_on_the_overview_timeline(webserver, pipeline_run):
    """`nqp run`'s run (in process, no run launcher) is a run of the UI's code location."""
    port, repository = webserver
    runs = graphql(port, COMPLETED_RUN_TIMELINE_QUERY, {
        "completedFilter": {"statuses": ["SUCCESS", "FAILURE", "CANCELED"], "pipelineName": "materialize_all",
                            "updatedAfter": 0.0, "updatedBefore": time.time() + 60},
        "limit": 500,
    })["completed"]["results"]
    cli_runs = [run for run in runs if {"key": "nqp/vintage", "value": pipeline_run.vintage_id} in run["tags"]]
    assert cli_runs, runs
    for run in cli_runs:
        assert run["repositoryOrigin"] == {
            "repositoryName": repository["name"], "repositoryLocationName": repository["location"]["name"],
        }, run


def test_ui_evaluates_the_landing_sensor(webserver):
    """The UI's "Test sensor" (a dry run in the code server): the session's vintage is published, so it skips."""
    port, repository = webserver
    selector = {
        "repositoryLocationName": repository["location"]["name"],
        "repositoryName": repository["name"],
        "sensorName": "landing_sensor",
    }
    result = graphql(port, SENSOR_DRY_RUN, {"selector": selector, "cursor": None})["sensorDryRun"]
    assert result["__typename"] == "DryRunInstigationTick", result
    evaluation = result["evaluationResult"]
    assert evaluation["error"] is None, evaluation["error"]
    assert evaluation["runRequests"] == []
    assert "all published or rejected" in evaluation["skipReason"], evaluation["skipReason"]
