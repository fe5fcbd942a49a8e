"""Wall time of every asset of the pipeline at two scales, printed and written as JSON.

Each scale runs in its own subprocess with a throw-away data folder, so imports are paid
as a user pays them: ``import_definitions`` is the cost of loading Dagster, dbt-core and
the estimators once per run. The pipeline then runs as ``nqp run`` runs it: ONE in-process
``materialize_all`` run of the generated vintage (same run config). The time of each step
is read from the run's event log (STEP_START -> STEP_SUCCESS), so the numbers do not
depend on the order in which Dagster schedules the groups; each step is listed with the
assets it materialized and its asset group. Steps also report timings they measure
themselves (metadata entries whose name starts with "seconds", e.g. each permutation test
of Table 10).

    .venv/bin/python bench/run_bench.py                 # scales 1.0 and 0.25
    .venv/bin/python bench/run_bench.py --scales 1 2    # scale factors of your choice
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BENCH_VINTAGE = "2024-06"
BENCH_SEED = 42


def _step_timings(instance, run_id: str, asset_groups: dict[str, str]) -> list[dict]:
    """Per step of the run: seconds from STEP_START to STEP_SUCCESS (or failure), the assets
    it materialized with their groups, and the "seconds*" metadata those assets reported."""
    starts: dict[str, float] = {}
    steps: dict[str, dict] = {}
    for entry in instance.all_logs(run_id):
        event = entry.dagster_event
        if event is None or event.step_key is None:
            continue
        key = event.step_key
        record = steps.setdefault(key, {"step": key, "assets": [], "groups": [], "reported": {}})
        if event.event_type_value == "STEP_START":
            starts[key] = entry.timestamp
        elif event.event_type_value in ("STEP_SUCCESS", "STEP_FAILURE"):
            record["seconds"] = entry.timestamp - starts[key]
            record["status"] = "success" if event.event_type_value == "STEP_SUCCESS" else "failure"
        elif event.event_type_value == "ASSET_MATERIALIZATION":
            materialization = event.event_specific_data.materialization
            asset = materialization.asset_key.to_user_string()
            record["assets"].append(asset)
            if asset_groups.get(asset) and asset_groups[asset] not in record["groups"]:
                record["groups"].append(asset_groups[asset])
            for name, value in materialization.metadata.items():
                if name.startswith("seconds"):
                    record["reported"][f"{asset}:{name}"] = float(value.value)
    return sorted((s for s in steps.values() if "seconds" in s), key=lambda s: -s["seconds"])


def run_one_scale(scale: float) -> dict:
    """Runs inside the child process: NQP_DATA_DIR already points at a fresh folder."""
    timings: dict[str, float] = {}
    started = time.perf_counter()

    from nqp_core import settings
    from synthetic import generate_vintage

    t = time.perf_counter()
    generate_vintage(settings.landing_dir(), seed=BENCH_SEED, scale=scale, vintage_id=BENCH_VINTAGE)
    timings["generate"] = time.perf_counter() - t

    t = time.perf_counter()
    from dagster import DagsterInstance

    from dagster_project.definitions import defs
    from dagster_project.defs.publish.run_origin import execute_in_process_with_origin
    from dagster_project.defs.publish.runs import JOB_NAME, run_config_for

    timings["import_definitions"] = time.perf_counter() - t
    graph = defs.resolve_asset_graph()
    asset_groups = {key.to_user_string(): graph.get(key).group_name for key in graph.get_all_asset_keys()}
    with DagsterInstance.ephemeral() as instance:
        t = time.perf_counter()
        result = execute_in_process_with_origin(
            defs.resolve_job_def(JOB_NAME), instance=instance, run_config=run_config_for(BENCH_VINTAGE), tags={}
        )
        timings["materialize_all"] = time.perf_counter() - t
        steps = _step_timings(instance, result.run_id, asset_groups)
    if not result.success:
        failed = [step["step"] for step in steps if step.get("status") == "failure"]
        raise RuntimeError(f"materialize_all failed at scale {scale} in steps {failed}")
    timings["total"] = time.perf_counter() - started
    by_group: dict[str, float] = defaultdict(float)
    for step in steps:
        by_group["+".join(step["groups"]) or "checks/other"] += step["seconds"]

    import duckdb

    warehouse = settings.warehouse_path()
    with duckdb.connect(str(warehouse), read_only=True) as conn:
        firm_years = conn.execute("select count(*) from marts.fct_firm_years").fetchone()[0]
        patents = conn.execute("select count(*) from raw.patents").fetchone()[0]
    return {
        "scale": scale,
        "firm_years": firm_years,
        "patents": patents,
        "seconds": timings,
        "seconds_by_group": dict(by_group),
        "steps": steps,
    }


def _print_run(run: dict) -> None:
    print(f"scale {run['scale']}: {run['firm_years']} firm-years, {run['patents']} patents")
    for stage, value in run["seconds"].items():
        print(f"  {stage:<28}{value:8.1f} s")
    print("  by asset group (sum of step times):")
    for group, value in sorted(run["seconds_by_group"].items(), key=lambda item: -item[1]):
        print(f"    {group:<26}{value:8.1f} s")
    print("  by step (assets materialized):")
    for step in run["steps"]:
        assets = ", ".join(step["assets"]) or "-"
        print(f"    {step['seconds']:7.2f} s  {step['step']:<44} {assets[:90]}")
        for name, value in step["reported"].items():
            print(f"              {value:7.2f} s  reported {name}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scales", type=float, nargs="+", default=[1.0, 0.25])
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "bench.json")
    parser.add_argument("--child-scale", type=float, help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.child_scale is not None:
        print(json.dumps(run_one_scale(args.child_scale)))
        return 0

    runs = []
    for scale in args.scales:
        with tempfile.TemporaryDirectory(prefix="nqp-bench-") as tmp:
            env = {**os.environ, "NQP_DATA_DIR": f"{tmp}/data", "NQP_REPORTS_DIR": f"{tmp}/reports", "NQP_EXPORTS_DIR": f"{tmp}/exports",
                   "DAGSTER_HOME": f"{tmp}/dagster_home"}
            Path(env["DAGSTER_HOME"]).mkdir()
            Path(env["DAGSTER_HOME"], "dagster.yaml").write_text("telemetry:\n  enabled: false\n")
            print(f"scale {scale}: running ...", flush=True)
            completed = subprocess.run(
                [sys.executable, __file__, "--child-scale", str(scale)],
                env=env, cwd=ROOT, capture_output=True, text=True,
            )
            if completed.returncode != 0:
                sys.stderr.write(completed.stderr[-5000:])
                return completed.returncode
            run = json.loads(completed.stdout.strip().splitlines()[-1])
            runs.append(run)
            _print_run(run)

    if len(runs) > 1:
        base = runs[0]
        for run in runs[1:]:
            factor = run["scale"] / base["scale"]
            ratios = {k: run["seconds"][k] / base["seconds"][k] for k in base["seconds"] if base["seconds"][k] > 0}
            run["time_ratio_vs_first"] = ratios
            print(f"scale x{factor:g} vs scale {base['scale']}: " +
                  ", ".join(f"{k} x{v:.2f}" for k, v in ratios.items()))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps({"machine": platform.platform(), "cpus": os.cpu_count(), "runs": runs}, indent=2))
    print(f"written {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
