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

from nqp_core import settings

DAGSTER_YAML = """\
# Written by `nqp`; Dagster's instance for this project (run history, event logs).
telemetry:
  enabled: false
# No "Join the Dagster community" (newsletter) modal on the first visit of the UI.
nux:
  enabled: false
# One run at a time: each run publishes on top of the warehouse it copied (docs/publishing.md).
concurrency:
  runs:
    max_concurrent_runs: 1
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
    from synthetic import DEFAULT_SEED, DEFAULT_VINTAGE_ID, generate_vintage

    from nqp_core.contract import vintage_id_problem

    problem = vintage_id_problem(args.vintage) if args.vintage else None
    if problem:
        raise ValueError(problem)
    landing = Path(args.landing).resolve() if args.landing else settings.landing_dir()
    started = time.perf_counter()
    if args.as_vendors:
        from importer.synth_downloads import synth_downloads

        vendors = [v.strip() for v in args.as_vendors.split(",") if v.strip()]
        out = synth_downloads(
            vendors,
            Path(args.out) if args.out else None, vintage_id=args.vintage or DEFAULT_VINTAGE_ID,
            seed=DEFAULT_SEED if args.seed is None else args.seed, scale=1.0 if args.scale is None else args.scale,
            progress=_say)
        _say(f"vendor downloads written to {out} in {time.perf_counter() - started:.1f} s; import them with "
             "nqp import " + " ".join(f"--from {vendor}:{out / vendor}" for vendor in vendors if (out / vendor).is_dir())
             + f" --vintage {args.vintage or DEFAULT_VINTAGE_ID}")
        return 0
    if args.next_of:
        from synthetic.next_vintage import generate_next_vintage

        if args.seed is not None or args.scale is not None:
            raise ValueError("--next-of takes the seed and scale of its base vintage; drop --seed/--scale")
        path = generate_next_vintage(Path(args.next_of), landing, vintage_id=args.vintage, progress=_say)
        _say(f"next synthetic vintage written to {path} in {time.perf_counter() - started:.1f} s")
        return 0
    path = generate_vintage(
        landing,
        vintage_id=args.vintage or DEFAULT_VINTAGE_ID,
        seed=DEFAULT_SEED if args.seed is None else args.seed,
        scale=1.0 if args.scale is None else args.scale,
        file_format=args.format,
        progress=_say,
    )
    _say(f"synthetic vintage written to {path} in {time.perf_counter() - started:.1f} s")
    return 0


def cmd_import(args: argparse.Namespace) -> int:
    from importer.readers import ImportProblem
    from importer.run import import_vintage, parse_source

    landing = Path(args.landing).resolve() if args.landing else settings.landing_dir()
    try:
        import_vintage([parse_source(s) for s in args.sources], args.vintage, landing, progress=_say)
    except ImportProblem as problem:
        print(f"nqp import: error: {problem}\nnothing was written to {landing}", file=sys.stderr)
        return 2
    return 0


def cmd_fetch(args: argparse.Namespace) -> int:
    from importer.fetch import fetch_akshare

    return fetch_akshare(args.codes, Path(args.out), progress=_say)


def _ensure_default_vintage() -> None:
    from nqp_core.loader import complete_vintages
    from synthetic import DEFAULT_SEED, DEFAULT_VINTAGE_ID, generate_vintage

    landing = settings.landing_dir()
    if complete_vintages(landing):
        return
    _say(f"no vintage in {landing}: generating the default synthetic vintage {DEFAULT_VINTAGE_ID}")
    started = time.perf_counter()
    generate_vintage(landing, vintage_id=DEFAULT_VINTAGE_ID, seed=DEFAULT_SEED, progress=_say)
    _say(f"generated in {time.perf_counter() - started:.1f} s")


def _vintages_to_build() -> list[str]:
    """--vintage / NQP_VINTAGE; else every waiting vintage in id order; else the newest published
    one again (a vintage rejected with its present files would only be rejected again); else the
    newest complete one."""
    from nqp_core.loader import complete_vintages
    from nqp_core.ops_store import OpsStore
    from dagster_project.defs.publish.runs import waiting_vintages

    requested = os.environ.get("NQP_VINTAGE", "")
    if requested:
        return [requested]
    ops = OpsStore()
    waiting = [vintage.vintage_id for vintage in waiting_vintages(ops)]
    if waiting:
        return waiting
    complete = [folder.name for folder in complete_vintages(settings.landing_dir())]
    latest = ops.latest_statuses()
    published = [vintage_id for vintage_id in complete if vintage_id in latest and latest[vintage_id].status == "published"]
    if published:
        _say(f"no vintage waits; rebuilding the newest published one, {published[-1]}")
        return [published[-1]]
    _say(f"no vintage waits and none is published; rebuilding the newest, {complete[-1]} "
         "(a rejected vintage waits again once its files change: see reports/alerts/)")
    return [complete[-1]]


def cmd_run(args: argparse.Namespace) -> int:
    from nqp_core.loader import check_vintage_id
    from nqp_core.ops_store import OpsStore
    from nqp_core.recovery import recover_interrupted_publication, run_lock

    if args.vintage:
        check_vintage_id(args.vintage)
        if not (settings.landing_dir() / args.vintage).is_dir():
            from nqp_core.loader import complete_vintages

            known = ", ".join(p.name for p in complete_vintages(settings.landing_dir())) or "none"
            raise LookupError(f"no vintage folder {settings.landing_dir() / args.vintage} (complete vintages: {known}); "
                              "deliver it there (or with `nqp import`) first")
        os.environ["NQP_VINTAGE"] = args.vintage
    prepare_dagster_home()
    # One `nqp run` per data folder at a time: a second one waits, then builds what still waits.
    with run_lock(say=_say):
        for line in recover_interrupted_publication(OpsStore()).lines():
            _say(f"recovery after an interrupted run: {line}")
        return _run_waiting_vintages()


def _run_waiting_vintages() -> int:
    _ensure_default_vintage()
    vintages = _vintages_to_build()
    _say(f"vintage(s) to build, one run each: {', '.join(vintages)}")

    _say("loading the Dagster definitions (parses the dbt project when it changed)")
    started = time.perf_counter()
    from dagster import DagsterInstance

    from dagster_project.definitions import vintage_job
    from dagster_project.defs.publish.runs import execute_vintage_run

    job = vintage_job()
    rejected = []
    with DagsterInstance.get() as instance:
        for vintage_id in vintages:
            outcome = execute_vintage_run(vintage_id, instance, job)
            if outcome.success:
                _say(f"vintage {vintage_id}: run {outcome.run_id} succeeded in {outcome.seconds:.1f} s, status {outcome.status}")
                continue
            if outcome.status == "published":
                # the failure hook keeps a vintage published only when a step after publication failed
                _say(f"vintage {vintage_id}: run {outcome.run_id} published it, but the later step(s) "
                     f"{', '.join(outcome.failed_steps) or '?'} failed (warning; the served data are sound)")
                for error in outcome.errors:
                    print(error, file=sys.stderr)
                continue
            if outcome.status == "validated":
                _say(f"vintage {vintage_id}: validated, but another run published first (publish_conflict); "
                     f"it still waits: run `nqp run` again")
            rejected.append(vintage_id)
            _say(f"vintage {vintage_id}: run {outcome.run_id} FAILED in steps {', '.join(outcome.failed_steps) or '?'} "
                 f"after {outcome.seconds:.1f} s; status {outcome.status}; NOT published")
            if outcome.failed_checks:
                _say(f"  failed checks: {', '.join(outcome.failed_checks)}")
            for alert in outcome.alerts:
                print(f"  alert: {alert[:600]}", file=sys.stderr)
            for error in outcome.errors:
                print(error, file=sys.stderr)
    _say(f"done in {time.perf_counter() - started:.1f} s")
    published = settings.warehouse_path()
    if published.exists():
        _say(f"published warehouse (read it with `nqp sql`, read-only): {published}")
    reports = sorted(p for p in settings.reports_dir().rglob("*") if p.is_file() and p.parent.name != "alerts")
    _say(f"reports ({len(reports)} files) in {settings.reports_dir()}:")
    for path in reports:
        print(f"  {path}")
    exports = sorted(p for p in settings.exports_dir().glob("*") if p.is_file())
    if exports:
        _say(f"exports (the analysis panel of the published vintage) in {settings.exports_dir()}:")
        for path in exports:
            print(f"  {path}")
    if rejected:
        _say(f"REJECTED: {', '.join(rejected)}; the published warehouse was left as it was. Alerts: "
             f"{settings.reports_dir() / 'alerts'} and table ops.alerts in {settings.ops_path()}")
        return 1
    _say("open the UI with `make ui`; query with `.venv/bin/nqp sql \"select ...\"` (read-only)")
    return 0


def cmd_ui(args: argparse.Namespace) -> int:
    if args.host not in LOOPBACK_HOSTS:
        print(UNAUTHENTICATED_UI_WARNING.format(host=args.host, port=args.port), file=sys.stderr, flush=True)
    prepare_dagster_home()
    # Parse dbt before the webserver imports the code location, so the first load is quick.
    from dagster_project.defs.transform.assets import ensure_manifest  # noqa: F401  (import parses if stale)

    command = ["dagster", "dev", "-w", str(settings.PROJECT_ROOT / "workspace.yaml"), "-h", args.host, "-p", str(args.port)]
    _say(f"serving the asset graph on http://{args.host}:{args.port} (Ctrl-C stops)")
    os.chdir(settings.PROJECT_ROOT)
    os.execvp(command[0], command)


LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "::1")
UNAUTHENTICATED_UI_WARNING = """\
[nqp] WARNING ****************************************************************************
[nqp] WARNING  The Dagster UI has NO authentication. Bound to {host}:{port}, anyone who can reach
[nqp] WARNING  this port can launch runs, wipe assets and read every log of this machine's data.
[nqp] WARNING  Keep it on 127.0.0.1 and put an authenticating reverse proxy in front of it
[nqp] WARNING  (docs/publishing.md, "Serving the UI to others").
[nqp] WARNING ****************************************************************************"""

# `nqp sql` reads the published warehouse and nothing else: with external access off DuckDB
# refuses every file and network path other than the database opened (COPY TO, ATTACH,
# read_text/read_csv, httpfs URLs, INSTALL/LOAD), and the locked configuration stops a
# query from switching it back on.
EXPORT_FORMATS = ("csv", "parquet", "dta")
"""dagster_project.defs.exports.files.FORMATS, named here so that building the parser imports no pandas."""

SQL_READ_ONLY_CONFIG = {
    "enable_external_access": False,
    "autoinstall_known_extensions": False,
    "autoload_known_extensions": False,
    "allow_community_extensions": False,
    "allow_unsigned_extensions": False,
    "lock_configuration": True,
}


def cmd_sql(args: argparse.Namespace) -> int:
    import duckdb

    warehouse = settings.warehouse_path()
    if not warehouse.exists():
        raise LookupError(f"no warehouse at {warehouse}: run `make run` first")
    # Read-only, so a query never blocks or alters a run; DuckDB's own CLI works the same way (-readonly).
    with duckdb.connect(str(warehouse), read_only=True, config=SQL_READ_ONLY_CONFIG) as conn:
        try:
            relation = conn.sql(args.query)
        except duckdb.Error as error:
            print(f"nqp sql: {error}", file=sys.stderr)
            if isinstance(error, duckdb.PermissionException):
                print("nqp sql reads the published warehouse only: export with `nqp export --table SCHEMA.NAME`, "
                      "read data/ops.duckdb from Python (docs/publishing.md)", file=sys.stderr)
            return 2
        if relation is not None:
            relation.show(max_rows=args.max_rows, max_width=200)
    return 0


def cmd_export(args: argparse.Namespace) -> int:
    import duckdb

    from dagster_project.defs.exports.files import export_relation

    warehouse = settings.warehouse_path()
    if not warehouse.exists():
        raise LookupError(f"no warehouse at {warehouse}: run `make run` first")
    suffix = Path(args.output).suffix.lstrip(".").lower() if args.output else ""
    fmt = args.format or (suffix if suffix in EXPORT_FORMATS else "csv")
    if args.output and suffix != fmt:
        raise ValueError(f"--output {args.output} does not end in .{fmt}: give the file that extension, or "
                         f"leave out --format to take the format from the extension ({', '.join(EXPORT_FORMATS)})")
    path = Path(args.output) if args.output else settings.exports_dir() / f"{args.table}.{fmt}"
    with duckdb.connect(str(warehouse), read_only=True) as conn:
        export_relation(conn, args.table, fmt, path)
    _say(f"wrote {path}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="nqp", description="NQP Warehouse: Cheng & Xu (2025) evidence base")
    commands = parser.add_subparsers(dest="command", required=True)

    synth = commands.add_parser("synth", help="write a synthetic vintage in the raw data contract")
    synth.add_argument("--seed", type=int, default=None, help="random seed (default 42)")
    synth.add_argument("--scale", type=float, default=None, help="1.0 (default) = paper scale (~24,000 firm-years)")
    synth.add_argument("--vintage", default=None, help="vintage id, the folder name under the landing dir (default 2024-06)")
    synth.add_argument("--format", choices=("parquet", "csv"), default="parquet",
                       help="file format of the contract files (default parquet)")
    synth.add_argument("--landing", default=None, help="landing folder (default data/landing)")
    synth.add_argument("--next-of", default=None, metavar="VINTAGE_DIR",
                       help="write the next vintage of this one instead: one more fiscal year, 2%% of history "
                       "revised (default id: its id a year later, e.g. 2025-06)")
    synth.add_argument("--as", dest="as_vendors", default=None, metavar="VENDORS",
                       help="write the vintage as vendor downloads instead (csmar,cnki,wind,patsnap,akshare; comma-separated)")
    synth.add_argument("--out", default=None, help="folder for --as downloads (default data/downloads/<vintage>)")
    synth.set_defaults(handler=cmd_synth)

    imp = commands.add_parser("import", help="turn vendor downloads (CSMAR, Wind, CNKI, ...) into a vintage")
    imp.add_argument("--from", dest="sources", action="append", required=True, metavar="VENDOR:PATH",
                     help="a vendor profile (csmar, wind, tushare, akshare, cnki, patsnap, or the path of your own "
                     ".yaml) and a folder, file or zip; repeat to mix sources (first wins per column); "
                     "see docs/importing.md")
    imp.add_argument("--vintage", required=True, help="vintage id: the folder data/landing/<ID> to create")
    imp.add_argument("--landing", default=None, help="landing folder (default data/landing)")
    imp.set_defaults(handler=cmd_import)

    fetch = commands.add_parser("fetch", help="save raw akshare frames for `nqp import --from akshare:FOLDER`")
    fetch.add_argument("source", choices=("akshare",))
    fetch.add_argument("codes", nargs="+", help="six-digit stock codes")
    fetch.add_argument("--out", default="data/downloads/akshare", help="folder for the saved frames "
                       "(default data/downloads/akshare)")
    fetch.set_defaults(handler=cmd_fetch)

    run = commands.add_parser(
        "run", help="generate the default vintage if none; build, audit and publish each waiting vintage "
        "(exit status 1 when one is rejected)")
    run.add_argument("--vintage", default=None,
                     help="vintage to build (default: every waiting vintage in order, else the newest published "
                     "one again)")
    run.set_defaults(handler=cmd_run)

    sql = commands.add_parser("sql", help="run a SQL query on the warehouse, read-only")
    sql.add_argument("query", help="one SQL statement (the last one's result is shown)")
    sql.add_argument("--max-rows", type=int, default=40, help="rows to print at most (default 40)")
    sql.set_defaults(handler=cmd_sql)

    export = commands.add_parser("export", help="write a warehouse table as CSV, Parquet or Stata .dta (with labels)")
    export.add_argument("--table", required=True, help="SCHEMA.NAME, e.g. marts.analysis_panel")
    export.add_argument("--format", choices=EXPORT_FORMATS, default=None,
                        help="csv (default), parquet or dta; taken from --output's extension when omitted")
    export.add_argument("--output", default=None, help="file to write (default exports/SCHEMA.NAME.FORMAT)")
    export.set_defaults(handler=cmd_export)

    ui = commands.add_parser("ui", help="serve the Dagster UI (dagster dev) on 127.0.0.1")
    ui.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1; the UI has no "
                    "authentication: another address warns, see docs/publishing.md)")
    ui.add_argument("--port", type=int, default=3000, help="port (default 3000)")
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
