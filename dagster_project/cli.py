"""The ``nqp`` command: generate a synthetic vintage, run everything, open the UI.

Heavy imports (dagster, dbt, the estimators) happen inside the subcommands that need
them, so ``nqp synth`` and ``nqp --help`` start quickly.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

from dagster_project import settings

DAGSTER_YAML = """\
# Written by `nqp`; Dagster's instance for this project (run history, event logs).
telemetry:
  enabled: false
"""


def _say(message: str) -> None:
    print(f"[nqp] {message}", flush=True)


def prepare_dagster_home() -> Path:
    """Point DAGSTER_HOME at the project's own (git-ignored) folder, telemetry off."""
    home = Path(os.environ.get("DAGSTER_HOME", settings.PROJECT_ROOT / ".dagster_home")).resolve()
    home.mkdir(parents=True, exist_ok=True)
    config = home / "dagster.yaml"
    if not config.exists():
        config.write_text(DAGSTER_YAML, encoding="utf-8")
    os.environ["DAGSTER_HOME"] = str(home)
    return home


def cmd_synth(args: argparse.Namespace) -> int:
    from dagster_project.synthetic import DEFAULT_SEED, DEFAULT_VINTAGE_ID, generate_vintage

    landing = Path(args.landing).resolve() if args.landing else settings.landing_dir()
    started = time.perf_counter()
    path = generate_vintage(
        landing,
        vintage_id=args.vintage or DEFAULT_VINTAGE_ID,
        seed=DEFAULT_SEED if args.seed is None else args.seed,
        scale=args.scale,
        file_format=args.format,
        progress=_say,
    )
    _say(f"synthetic vintage written to {path} in {time.perf_counter() - started:.1f} s")
    return 0


def _ensure_default_vintage() -> None:
    from dagster_project.ingest.loader import complete_vintages
    from dagster_project.synthetic import DEFAULT_SEED, DEFAULT_VINTAGE_ID, generate_vintage

    landing = settings.landing_dir()
    if complete_vintages(landing):
        return
    _say(f"no vintage in {landing}: generating the default synthetic vintage {DEFAULT_VINTAGE_ID}")
    started = time.perf_counter()
    generate_vintage(landing, vintage_id=DEFAULT_VINTAGE_ID, seed=DEFAULT_SEED, progress=_say)
    _say(f"generated in {time.perf_counter() - started:.1f} s")


def cmd_run(args: argparse.Namespace) -> int:
    if args.vintage:
        os.environ["NQP_VINTAGE"] = args.vintage
    prepare_dagster_home()
    _ensure_default_vintage()

    _say("loading the Dagster definitions (parses the dbt project when it changed)")
    started = time.perf_counter()
    from dagster import DagsterInstance

    from dagster_project.definitions import defs

    _say(f"definitions loaded in {time.perf_counter() - started:.1f} s; materializing every asset")
    job = defs.resolve_job_def("materialize_all")
    with DagsterInstance.get() as instance:
        result = job.execute_in_process(instance=instance, raise_on_error=False)
    elapsed = time.perf_counter() - started
    if not result.success:
        failed = [event.step_key for event in result.all_events if event.is_step_failure]
        _say(f"run {result.run_id} FAILED in steps {', '.join(failed) or '?'} after {elapsed:.1f} s")
        for event in result.all_events:
            if event.is_step_failure and event.step_failure_data is not None:
                print(event.step_failure_data.error.to_string() if event.step_failure_data.error else "", file=sys.stderr)
        return 1
    _say(f"run {result.run_id} succeeded in {elapsed:.1f} s")
    _say(f"warehouse: {settings.warehouse_path()}")
    reports = sorted(p for p in settings.reports_dir().rglob("*") if p.is_file())
    _say(f"reports ({len(reports)} files) in {settings.reports_dir()}:")
    for path in reports:
        print(f"  {path}")
    _say("open the UI with `make ui`; query with `.venv/bin/nqp sql \"select ...\"` (read-only)")
    return 0


def cmd_ui(args: argparse.Namespace) -> int:
    prepare_dagster_home()
    # Parse dbt before the webserver imports the code location, so the first load is quick.
    from dagster_project.transform.assets import ensure_manifest  # noqa: F401  (import parses if stale)

    command = ["dagster", "dev", "-w", str(settings.PROJECT_ROOT / "workspace.yaml"), "-h", args.host, "-p", str(args.port)]
    _say(f"serving the asset graph on http://{args.host}:{args.port} (Ctrl-C stops)")
    os.chdir(settings.PROJECT_ROOT)
    os.execvp(command[0], command)


def cmd_sql(args: argparse.Namespace) -> int:
    import duckdb

    warehouse = settings.warehouse_path()
    if not warehouse.exists():
        raise LookupError(f"no warehouse at {warehouse}: run `make run` first")
    # Read-only, so a query never blocks or alters a run; DuckDB's own CLI works the same way (-readonly).
    with duckdb.connect(str(warehouse), read_only=True) as conn:
        try:
            relation = conn.sql(args.query)
        except duckdb.Error as error:
            print(f"nqp sql: {error}", file=sys.stderr)
            return 2
        if relation is not None:
            relation.show(max_rows=args.max_rows, max_width=200)
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="nqp", description="NQP Warehouse: Cheng & Xu (2025) evidence base")
    commands = parser.add_subparsers(dest="command", required=True)

    synth = commands.add_parser("synth", help="write a synthetic vintage in the raw data contract")
    synth.add_argument("--seed", type=int, default=None, help="random seed (default 42)")
    synth.add_argument("--scale", type=float, default=1.0, help="1.0 = paper scale (~24,000 firm-years)")
    synth.add_argument("--vintage", default=None, help="vintage id, the folder name under the landing dir (default 2024-06)")
    synth.add_argument("--format", choices=("parquet", "csv"), default="parquet")
    synth.add_argument("--landing", default=None, help="landing folder (default data/landing)")
    synth.set_defaults(handler=cmd_synth)

    run = commands.add_parser("run", help="generate the default vintage if none, materialize every asset")
    run.add_argument("--vintage", default=None, help="vintage to build (default: the newest loaded)")
    run.set_defaults(handler=cmd_run)

    sql = commands.add_parser("sql", help="run a SQL query on the warehouse, read-only")
    sql.add_argument("query")
    sql.add_argument("--max-rows", type=int, default=40)
    sql.set_defaults(handler=cmd_sql)

    ui = commands.add_parser("ui", help="serve the Dagster UI (dagster dev) on 127.0.0.1")
    ui.add_argument("--host", default="127.0.0.1")
    ui.add_argument("--port", type=int, default=3000)
    ui.set_defaults(handler=cmd_ui)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.handler(args)
    except (FileExistsError, ValueError, LookupError) as error:
        # Bad input (an existing vintage, a bad scale, an unknown vintage id): say what, no traceback.
        print(f"nqp {args.command}: error: {error}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
