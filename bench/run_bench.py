"""``make bench``: the default job per stage, against its bare-compute floor, at two scales.

Printed and written to bench/results/bench.json:
- **Definitions import**, each in a fresh interpreter: *warm*; *cold*, once the files left
  the page cache; and *without any bytecode* (every module compiled from source).
- **Per scale**, in a throw-away data folder:
  - *orchestrated*: what ``nqp run`` does. The vintage is generated, the definitions are
    imported, and ONE in-process ``materialize_all`` run builds and publishes the vintage with
    the same run config. Each step's time comes from the run's event log (STEP_START to
    STEP_SUCCESS). Steps are grouped into stages, and the time between steps is Dagster's
    own work;
  - *floor*: the same computations in one plain Python process (``bench/floor.py``), with no
    Dagster run and no dbt;
  - the ratio orchestrated / floor, with the vintage's generation left out of both (it is the
    same code in both), and the peak memory (max RSS) of each process.

    .venv/bin/python bench/run_bench.py                 # scales 1 and 0.25
    .venv/bin/python bench/run_bench.py --scales 1 10   # scale factors of your choice
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BENCH_VINTAGE = "2024-06"
BENCH_SEED = 42
STAGES = ("imports", "ingest", "raw suites", "dbt models", "marts suite", "index", "dbt after index",
          "estimation", "reports", "publish + export")
IMPORT_SNIPPET = ("import time; started = time.perf_counter(); import dagster_project.definitions; "
                  "print(time.perf_counter() - started)")


def stage_of(step_key: str) -> str:
    """The bench stage of a step of ``materialize_all`` (the floor times the same stages)."""
    if step_key == "raw_vintages":
        return "ingest"
    if step_key.startswith("raw__") and "_gx_raw_" in step_key:
        return "raw suites"
    if step_key == "dbt_models":
        return "dbt models"
    if step_key.startswith("marts__fct_firm_years_gx"):
        return "marts suite"
    if step_key == "npro_index" or step_key.startswith("analysis__spatial_weights"):
        return "index"
    if step_key == "dbt_models_after_python":
        return "dbt after index"
    if step_key.startswith("reports__"):
        return "reports"
    if step_key.startswith(("publish__", "exports__")):
        return "publish + export"
    return "estimation"


def _step_timings(instance, run_id: str) -> list[dict]:
    """Per step: seconds from STEP_START to STEP_SUCCESS (or failure) and the "seconds*"
    metadata its assets reported (e.g. each permutation test of Table 10)."""
    starts: dict[str, float] = {}
    steps: dict[str, dict] = {}
    for entry in instance.all_logs(run_id):
        event = entry.dagster_event
        if event is None or event.step_key is None:
            continue
        key = event.step_key
        record = steps.setdefault(key, {"step": key, "stage": stage_of(key), "reported": {}})
        if event.event_type_value == "STEP_START":
            starts[key] = entry.timestamp
        elif event.event_type_value in ("STEP_SUCCESS", "STEP_FAILURE"):
            record["seconds"] = entry.timestamp - starts[key]
            record["status"] = "success" if event.event_type_value == "STEP_SUCCESS" else "failure"
        elif event.event_type_value == "ASSET_MATERIALIZATION":
            materialization = event.event_specific_data.materialization
            for name, value in materialization.metadata.items():
                if name.startswith("seconds"):
                    record["reported"][f"{materialization.asset_key.to_user_string()}:{name}"] = float(value.value)
    return sorted((s for s in steps.values() if "seconds" in s), key=lambda s: -s["seconds"])


def orchestrated(scale: float) -> dict:
    """Runs in a child process whose NQP_DATA_DIR points at a fresh folder."""
    from nqp_core import settings
    from synthetic import generate_vintage

    seconds: dict[str, float] = {}
    t = time.perf_counter()
    vintage_dir = generate_vintage(settings.landing_dir(), seed=BENCH_SEED, scale=scale, vintage_id=BENCH_VINTAGE)
    seconds["generate"] = time.perf_counter() - t

    t = time.perf_counter()
    from dagster import DagsterInstance

    from dagster_project.definitions import vintage_job
    from dagster_project.defs.publish.run_origin import execute_in_process_with_origin
    from dagster_project.defs.publish.runs import run_config_for

    job = vintage_job()
    seconds["imports"] = time.perf_counter() - t
    # The instance `nqp run` uses: the run folder's DAGSTER_HOME, its event log on disk.
    with DagsterInstance.get() as instance:
        t = time.perf_counter()
        result = execute_in_process_with_origin(job, instance=instance, run_config=run_config_for(BENCH_VINTAGE),
                                                tags={})
        seconds["materialize_all"] = time.perf_counter() - t
        steps = _step_timings(instance, result.run_id)
    if not result.success:
        failed = [step["step"] for step in steps if step.get("status") == "failure"]
        raise RuntimeError(f"materialize_all failed at scale {scale} in steps {failed}")
    by_stage: dict[str, float] = defaultdict(float)
    for step in steps:
        by_stage[step["stage"]] += step["seconds"]
    by_stage["imports"] = seconds["imports"]
    by_stage["between steps (Dagster)"] = seconds["materialize_all"] - sum(step["seconds"] for step in steps)

    import duckdb

    with duckdb.connect(str(settings.warehouse_path()), read_only=True) as conn:
        firm_years = conn.execute("select count(*) from marts.fct_firm_years").fetchone()[0]
        patents = conn.execute("select count(*) from raw.patents").fetchone()[0]
    return {
        "scale": scale, "firm_years": firm_years, "patents": patents, "run_id": result.run_id,
        "vintage_dir": str(vintage_dir), "published": str(settings.warehouse_path()),
        "seconds": seconds, "stages": dict(by_stage), "steps": steps,
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }


def _child(args: list[str], env: dict[str, str]) -> dict:
    completed = subprocess.run([sys.executable, *args], env=env, cwd=ROOT, capture_output=True, text=True)
    if completed.returncode != 0:
        sys.stderr.write(completed.stdout[-3000:] + completed.stderr[-5000:])
        raise SystemExit(completed.returncode)
    return json.loads(completed.stdout.strip().splitlines()[-1])


def _evict_from_page_cache(*roots: Path) -> None:
    """Ask the kernel to drop these files from the page cache (posix_fadvise DONTNEED), as
    after a reboot: the next import reads them from disk. Pages other processes map stay."""
    for root in roots:
        for folder, _, files in os.walk(root):
            for name in files:
                try:
                    fd = os.open(os.path.join(folder, name), os.O_RDONLY)
                except OSError:
                    continue
                try:
                    os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
                finally:
                    os.close(fd)


def _import_once(env: dict[str, str] | None = None) -> float:
    completed = subprocess.run([sys.executable, "-c", IMPORT_SNIPPET], env=env, cwd=ROOT, check=True,
                               capture_output=True, text=True)
    return float(completed.stdout.split()[-1])


def import_seconds() -> dict[str, float]:
    """The definitions import in fresh interpreters.

    *warm*: the files in the page cache and the bytecode ``make setup`` compiles.
    *cold*: the same after the environment's and the project's files left the page cache,
    as in the first ``nqp run`` after a reboot. *no bytecode*: every module compiled from
    source, as when no bytecode was compiled and none may be written (PYTHONDONTWRITEBYTECODE).
    """
    _evict_from_page_cache(Path(sys.prefix), Path(sys.base_prefix) / "lib", ROOT)
    cold = _import_once()
    warm = min(_import_once() for _ in range(2))
    with tempfile.TemporaryDirectory(prefix="nqp-bench-pyc-") as empty:
        no_bytecode = _import_once({**os.environ, "PYTHONPYCACHEPREFIX": empty, "PYTHONDONTWRITEBYTECODE": "1"})
    return {"warm": warm, "cold": cold, "no_bytecode": no_bytecode}


def run_scale(scale: float, with_floor: bool) -> dict:
    with tempfile.TemporaryDirectory(prefix="nqp-bench-") as tmp:
        env = {**os.environ, "NQP_DATA_DIR": f"{tmp}/data", "NQP_REPORTS_DIR": f"{tmp}/reports",
               "NQP_EXPORTS_DIR": f"{tmp}/exports", "DAGSTER_HOME": f"{tmp}/dagster_home"}
        Path(env["DAGSTER_HOME"]).mkdir()
        Path(env["DAGSTER_HOME"], "dagster.yaml").write_text("telemetry:\n  enabled: false\n")
        print(f"scale {scale}: orchestrated run ...", flush=True)
        run = _child([__file__, "--child-scale", str(scale)], env)
        if with_floor:
            print(f"scale {scale}: floor ...", flush=True)
            run["floor"] = _child([str(ROOT / "bench" / "floor.py"), "--vintage-dir", run["vintage_dir"],
                                   "--work", f"{tmp}/floor", "--compiled", run["run_id"][:8],
                                   "--published", run["published"]], env)
        return run


def print_run(run: dict) -> None:
    floor = run.get("floor", {}).get("seconds", {})
    orchestrated_total = run["seconds"]["imports"] + run["seconds"]["materialize_all"]
    print(f"\nscale {run['scale']}: {run['firm_years']} firm-years, {run['patents']} patents; "
          f"generated in {run['seconds']['generate']:.1f} s (same code in both, not in the ratio)")
    print(f"  {'stage':<26}{'orchestrated':>13}{'floor':>9}")
    for stage in (*STAGES, "between steps (Dagster)"):
        value = run["stages"].get(stage, 0.0)
        floor_value = f"{floor[stage]:9.1f}" if stage in floor else f"{'-':>9}"
        print(f"  {stage:<26}{value:13.1f}{floor_value}")
    print(f"  {'total':<26}{orchestrated_total:13.1f}" + (f"{floor['total']:9.1f}" if floor else ""))
    if floor:
        print(f"  ratio orchestrated / floor: {orchestrated_total / floor['total']:.2f}")
    print(f"  nqp run equivalent (generate + import + run): {run['seconds']['generate'] + orchestrated_total:.1f} s")
    print(f"  peak memory: orchestrated {run['peak_rss_mb']:.0f} MB"
          + (f", floor {run['floor']['peak_rss_mb']:.0f} MB" if floor else ""))
    print("  slowest steps:")
    for step in run["steps"][:12]:
        print(f"    {step['seconds']:7.2f} s  {step['step']}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scales", type=float, nargs="+", default=[1.0, 0.25])
    parser.add_argument("--no-floor", action="store_true", help="skip the floor runs")
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "bench.json")
    parser.add_argument("--child-scale", type=float, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child_scale is not None:
        print(json.dumps(orchestrated(args.child_scale)))
        return 0

    sys.path.insert(0, str(ROOT))
    from dagster_project.defs.transform.manifest import prepare_manifest

    prepare_manifest()
    load = os.getloadavg()
    print(f"load average before: {load[0]:.2f} {load[1]:.2f} {load[2]:.2f} on {os.cpu_count()} CPUs", flush=True)
    imports = import_seconds()
    print(f"definitions import: warm {imports['warm']:.1f} s, cold (page cache dropped) {imports['cold']:.1f} s, "
          f"without any bytecode {imports['no_bytecode']:.1f} s", flush=True)
    runs = []
    for scale in args.scales:
        runs.append(run_scale(scale, not args.no_floor))
        print_run(runs[-1])
    if len(runs) > 1:
        base = runs[0]
        for run in runs[1:]:
            ratio = ((run["seconds"]["imports"] + run["seconds"]["materialize_all"])
                     / (base["seconds"]["imports"] + base["seconds"]["materialize_all"]))
            print(f"\nscale {run['scale']} vs scale {base['scale']}: x{ratio:.2f} time for "
                  f"x{run['firm_years'] / base['firm_years']:.2f} firm-years")
    load = os.getloadavg()
    print(f"load average after: {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps({"machine": platform.platform(), "cpus": os.cpu_count(), "imports": imports,
                                    "runs": runs}, indent=2))
    print(f"written {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
