"""Per-stage wall times of the whole pipeline at two scales, printed and written as JSON.

Each scale runs in its own subprocess with a throw-away data folder, so imports are paid
as a user pays them: ``import_definitions`` is the cost of loading Dagster, dbt-core and
the estimators once per run. Stages are the asset groups, each materialized as its own
in-process Dagster run (so every stage also carries one run's bookkeeping).

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
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
STAGES = ("ingest", "transform", "index", "estimation", "reporting")


def run_one_scale(scale: float) -> dict:
    """Runs inside the child process: NQP_DATA_DIR already points at a fresh folder."""
    timings: dict[str, float] = {}
    started = time.perf_counter()

    from dagster_project import settings
    from dagster_project.synthetic import generate_vintage

    t = time.perf_counter()
    generate_vintage(settings.landing_dir(), seed=42, scale=scale)
    timings["generate"] = time.perf_counter() - t

    t = time.perf_counter()
    from dagster import AssetSelection, DagsterInstance, Definitions, define_asset_job

    from dagster_project.definitions import defs

    timings["import_definitions"] = time.perf_counter() - t
    stage_defs = Definitions.merge(
        defs,
        Definitions(jobs=[define_asset_job(f"bench_{s}", AssetSelection.groups(s)) for s in STAGES]),
    )
    with DagsterInstance.ephemeral() as instance:
        for stage in STAGES:
            t = time.perf_counter()
            result = stage_defs.resolve_job_def(f"bench_{stage}").execute_in_process(instance=instance)
            if not result.success:
                raise RuntimeError(f"stage {stage} failed at scale {scale}")
            timings[stage] = time.perf_counter() - t
    timings["total"] = time.perf_counter() - started

    import duckdb

    with duckdb.connect(str(settings.warehouse_path()), read_only=True) as conn:
        firm_years = conn.execute("select count(*) from marts.fct_firm_years").fetchone()[0]
        patents = conn.execute("select count(*) from raw.patents").fetchone()[0]
    return {"scale": scale, "firm_years": firm_years, "patents": patents, "seconds": timings}


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
            env = {**os.environ, "NQP_DATA_DIR": f"{tmp}/data", "NQP_REPORTS_DIR": f"{tmp}/reports",
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
            seconds = run["seconds"]
            print(f"scale {scale}: {run['firm_years']} firm-years, {run['patents']} patents")
            for stage, value in seconds.items():
                print(f"  {stage:<20}{value:8.1f} s")

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
