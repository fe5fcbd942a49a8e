"""Click to success in the real UI: materialize one report asset through ``dagster dev``.

``dagster dev`` starts on a published data folder. The bench then sends the UI's own
``launchRun`` mutation for ``reports/<table>``, which is what the asset's Materialize button
sends, and polls the run until it succeeds. It prints the seconds from the launch to SUCCESS,
and the run's own start and end. Each launched run starts a run worker that imports the code
location, as a click does.

    .venv/bin/python bench/ui_bench.py                        # publishes a scale-0.05 vintage first
    .venv/bin/python bench/ui_bench.py --data-dir /path/data  # an existing published data folder
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

from dagster_ui import dagster_dev, graphql  # noqa: E402  (tests/dagster_ui.py: the helpers the UI tests use)

LAUNCH_RUN = """
mutation($params: ExecutionParams!) {
  launchRun(executionParams: $params) {
    __typename
    ... on LaunchRunSuccess { run { runId } }
    ... on PythonError { message }
  }
}
"""
RUN_TIMES = "query($id: ID!) { runOrError(runId: $id) { ... on Run { status creationTime startTime endTime } } }"
POLL_S = 0.2


def click_to_success(port: int, repository: dict, asset: list[str], timeout_s: float = 300) -> dict:
    params = {
        "selector": {
            "repositoryLocationName": repository["location"]["name"],
            "repositoryName": repository["name"],
            "jobName": "__ASSET_JOB",
            "assetSelection": [{"path": asset}],
        },
        "runConfigData": {},
    }
    clicked = time.time()
    launched = graphql(port, LAUNCH_RUN, {"params": params})["launchRun"]
    if launched["__typename"] != "LaunchRunSuccess":
        raise RuntimeError(launched)
    run_id = launched["run"]["runId"]
    while time.time() - clicked < timeout_s:
        run = graphql(port, RUN_TIMES, {"id": run_id})["runOrError"]
        if run["status"] in ("SUCCESS", "FAILURE", "CANCELED"):
            break
        time.sleep(POLL_S)
    done = time.time()
    if run["status"] != "SUCCESS":
        raise RuntimeError(f"run {run_id} ended {run['status']}")
    return {"run_id": run_id, "click_to_success": done - clicked,
            "launch_to_start": run["startTime"] - run["creationTime"], "start_to_end": run["endTime"] - run["startTime"]}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", type=Path, help="a data folder with a published warehouse")
    parser.add_argument("--asset", default="reports/table04")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="nqp-ui-bench-") as tmp:
        env = {**os.environ, "DAGSTER_HOME": f"{tmp}/dagster_home", "NQP_REPORTS_DIR": f"{tmp}/reports",
               "NQP_EXPORTS_DIR": f"{tmp}/exports", "NQP_DATA_DIR": str(args.data_dir or f"{tmp}/data")}
        nqp = [sys.executable, "-m", "dagster_project.cli"]
        if args.data_dir is None:
            subprocess.run([*nqp, "synth", "--scale", "0.05"], env=env, cwd=ROOT, check=True, capture_output=True)
            subprocess.run([*nqp, "run"], env=env, cwd=ROOT, check=True, capture_output=True)
        else:
            Path(env["DAGSTER_HOME"]).mkdir()
        # the dagster.yaml `nqp ui` writes (no telemetry, no modal), and the manifest it prepares
        subprocess.run([sys.executable, "-c", "from dagster_project.cli import prepare_dagster_home, "
                        "_prepare_dbt_manifest; prepare_dagster_home(); _prepare_dbt_manifest()"],
                       env=env, cwd=ROOT, check=True)
        with dagster_dev(env) as (port, repository):
            clicks = [click_to_success(port, repository, args.asset.split("/")) for _ in range(args.repeat)]
    for click in clicks:
        print(f"{args.asset}: click to success {click['click_to_success']:.1f} s (queued {click['launch_to_start']:.1f} s, "
              f"run worker start to end {click['start_to_end']:.1f} s)")
    print(f"median click to success: {statistics.median(c['click_to_success'] for c in clicks):.1f} s")
    print(json.dumps(clicks))
    return 0


if __name__ == "__main__":
    sys.exit(main())
