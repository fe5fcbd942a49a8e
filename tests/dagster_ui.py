"""`dagster dev` on a free port against a pipeline run's folders, and its GraphQL API (what the UI calls)."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request

from nqp_core.settings import PROJECT_ROOT

STARTUP_TIMEOUT_S = 180  # the code location imports dagster, dbt and the estimators
RUN_STATUS = 'query($id: ID!) { runOrError(runId: $id) { ... on Run { status } } }'
REPOSITORY_QUERY = "{ repositoriesOrError { ... on RepositoryConnection { nodes { name location { name } } } } }"
LOAD_ERRORS = (
    "{ workspaceOrError { ... on Workspace { locationEntries { name "
    "locationOrLoadError { __typename ... on PythonError { message } } } } } }"
)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def graphql(port: int, query: str, variables: dict | None = None) -> dict:
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/graphql",
        data=json.dumps({"query": query, "variables": variables or {}}).encode(),
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=60) as response:
        payload = json.load(response)
    assert "errors" not in payload, payload
    return payload["data"]


@contextlib.contextmanager
def dagster_dev(env: dict[str, str]):
    """Yield (port, repository) of a running `dagster dev`; stop its whole process group after."""
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "dagster", "dev", "-w", "workspace.yaml", "-h", "127.0.0.1", "-p", str(port)],
        cwd=PROJECT_ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,  # dagster dev starts a webserver, a daemon and code servers: stop them all
    )
    try:
        deadline = time.monotonic() + STARTUP_TIMEOUT_S
        while True:
            try:
                repositories = graphql(port, REPOSITORY_QUERY)["repositoriesOrError"].get("nodes")
                if repositories:
                    break
                entries = graphql(port, LOAD_ERRORS)["workspaceOrError"]["locationEntries"]
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
