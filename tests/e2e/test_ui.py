"""The Dagster UI serves the whole asset graph and launches a materialization.

Starts `dagster dev` (webserver and daemon, as the README's `make ui` does) on 127.0.0.1
against the e2e warehouse, reads the asset graph through its GraphQL API (what the UI
itself calls) and launches a run of two assets the way the UI's Materialize button does;
the daemon dequeues it and the run must succeed.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request

import pytest

from dagster_project.raw_contract import RAW_TABLES
from dagster_project.settings import PROJECT_ROOT as ROOT

pytestmark = pytest.mark.e2e

STARTUP_TIMEOUT_S = 180  # the code location imports dagster, dbt and the estimators
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
RUN_STATUS = 'query($id: ID!) { runOrError(runId: $id) { ... on Run { status } } }'
REPOSITORY_QUERY = "{ repositoriesOrError { ... on RepositoryConnection { nodes { name location { name } } } } }"
LOAD_ERRORS = (
    "{ workspaceOrError { ... on Workspace { locationEntries { name "
    "locationOrLoadError { __typename ... on PythonError { message } } } } } }"
)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _graphql(port: int, query: str, variables: dict | None = None) -> dict:
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/graphql",
        data=json.dumps({"query": query, "variables": variables or {}}).encode(),
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=60) as response:
        payload = json.load(response)
    assert "errors" not in payload, payload
    return payload["data"]


@pytest.fixture(scope="module")
def webserver(pipeline_run):
    port = _free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "dagster", "dev", "-w", "workspace.yaml", "-h", "127.0.0.1", "-p", str(port)],
        cwd=ROOT,
        env=pipeline_run.env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,  # dagster dev starts a webserver, a daemon and code servers: stop them all
    )
    try:
        deadline = time.monotonic() + STARTUP_TIMEOUT_S
        while True:
            try:
                repositories = _graphql(port, REPOSITORY_QUERY)["repositoriesOrError"].get("nodes")
                if repositories:
                    break
                entries = _graphql(port, LOAD_ERRORS)["workspaceOrError"]["locationEntries"]
                errors = [e["locationOrLoadError"] for e in entries if e["locationOrLoadError"]]
                assert not any(e["__typename"] == "PythonError" for e in errors), errors
            except OSError:
                pass
            assert process.poll() is None, "webserver exited"
            assert time.monotonic() < deadline, "webserver did not load the code location in time"
            time.sleep(2)
        yield port, repositories[0]
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def test_ui_shows_the_whole_asset_graph(webserver):
    port, _ = webserver
    keys = {"/".join(node["assetKey"]["path"]) for node in _graphql(port, ASSET_KEYS_QUERY)["assetNodes"]}
    expected = {f"raw/{t.name}" for t in RAW_TABLES} | {
        "marts/fct_firm_years",
        "marts/dim_firms",
        "analysis/firm_year_npro",
        "analysis/entropy_weights",
        "results/table03_descriptives",
        "results/table04_benchmark",
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
            "assetSelection": [{"path": ["results", "table03_descriptives"]}, {"path": ["reports", "table03"]}],
        },
        "runConfigData": {},
    }
    launched = _graphql(port, LAUNCH_RUN, {"params": params})["launchRun"]
    assert launched["__typename"] == "LaunchRunSuccess", launched
    run_id = launched["run"]["runId"]
    deadline = time.monotonic() + RUN_TIMEOUT_S
    status = None
    while time.monotonic() < deadline:
        status = _graphql(port, RUN_STATUS, {"id": run_id})["runOrError"]["status"]
        if status in ("SUCCESS", "FAILURE", "CANCELED"):
            break
        time.sleep(2)
    assert status == "SUCCESS", status


def test_ui_evaluates_the_landing_sensor(webserver):
    """The UI's "Test sensor" (a dry run in the code server): the session's vintage is published, so it skips."""
    port, repository = webserver
    selector = {
        "repositoryLocationName": repository["location"]["name"],
        "repositoryName": repository["name"],
        "sensorName": "landing_sensor",
    }
    result = _graphql(port, SENSOR_DRY_RUN, {"selector": selector, "cursor": None})["sensorDryRun"]
    assert result["__typename"] == "DryRunInstigationTick", result
    evaluation = result["evaluationResult"]
    assert evaluation["error"] is None, evaluation["error"]
    assert evaluation["runRequests"] == []
    assert "all published or rejected" in evaluation["skipReason"], evaluation["skipReason"]
