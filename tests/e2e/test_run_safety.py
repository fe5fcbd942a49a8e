"""Run safety: the read-only SQL door, the run lock, recovery after kill -9, landing-folder refusals.

Real DuckDB files, real subprocesses killed with SIGKILL, the real ingest and publish
assets run by Dagster (no mocks). The pipeline runs here stop at ingest, so they are quick.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import pytest

from nqp_core import settings
from dagster_project.cli import main as nqp_main
from nqp_core.loader import VintageContractError, check_vintage_id, load_vintage
from nqp_core.ops_store import OpsStore
from nqp_core.working_copy import file_sha256, publications, publish_working_copy, start_working_copy, working_copy_path
from nqp_core.recovery import RunLockTimeout, recover_interrupted_publication, run_lock
from nqp_core.contract import READY_MARKER
from synthetic import generate_vintage

ROOT = Path(__file__).resolve().parents[2]
SMALL_SCALE = 0.02
SEED = 7
CHILD_WAIT_S = 60  # a child process imports duckdb and the project's light modules only


@pytest.fixture
def data_dir(tmp_path, monkeypatch) -> Path:
    monkeypatch.setenv("NQP_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("NQP_REPORTS_DIR", str(tmp_path / "reports"))
    monkeypatch.delenv("NQP_KEEP_PUBLICATIONS", raising=False)
    monkeypatch.delenv("NQP_VINTAGE", raising=False)
    (tmp_path / "data").mkdir()
    return tmp_path / "data"


@pytest.fixture(scope="module")
def small_vintage(tmp_path_factory) -> Path:
    return generate_vintage(tmp_path_factory.mktemp("generated") / "landing", "2024-06", seed=SEED, scale=SMALL_SCALE)


def _child_env() -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(ROOT)}


# --- nqp sql: the published warehouse and nothing else --------------------------------------------------


def test_nqp_sql_reads_the_warehouse_and_cannot_touch_any_other_file(data_dir, capsys):
    with duckdb.connect(str(settings.warehouse_path())) as conn:
        conn.execute("create schema marts; create table marts.fct_firm_years as select 42 as firms")
    ops = OpsStore()
    ops.record_status("2024-06", "published", fingerprint="f", run_id="r")
    landing_file = data_dir / "landing" / "2024-06" / "firms.csv"
    landing_file.parent.mkdir(parents=True)
    landing_file.write_text("stock_code\n000001\n", encoding="utf-8")
    outside = data_dir.parent / "outside.csv"
    outside.write_text("secret\n1\n", encoding="utf-8")
    guarded = [settings.warehouse_path(), settings.ops_path(), landing_file, outside]
    before = {path: file_sha256(path) for path in guarded}

    assert nqp_main(["sql", "select firms from marts.fct_firm_years"]) == 0
    assert "42" in capsys.readouterr().out

    ops_file, target = str(settings.ops_path()), data_dir.parent / "copied.csv"
    attacks = [
        f"copy marts.fct_firm_years to '{landing_file}' (header)",
        f"copy marts.fct_firm_years to '{target}'",
        f"copy (select 1) to '{ops_file}'",
        f"attach '{ops_file}' as o (READ_WRITE)",
        f"attach '{ops_file}' as o (READ_ONLY)",
        "select * from read_text('/etc/passwd')",
        f"select * from read_csv('{outside}')",
        f"select * from '{outside}'",
        f"select * from read_parquet('{landing_file.with_suffix('.parquet')}')",
        "install httpfs",
        "load httpfs",
        "select * from read_csv('https://example.org/data.csv')",
        "set enable_external_access = true",
        "set lock_configuration = false",
        f"export database '{data_dir.parent / 'exported'}'",
        "create table marts.hijack as select 1",
        "pragma enable_profiling = 'json'",
    ]
    for attack in attacks:
        assert nqp_main(["sql", attack]) == 2, attack
        err = capsys.readouterr().err
        assert err.startswith("nqp sql: "), (attack, err)
        assert any(word in err for word in ("Permission", "Cannot change configuration", "read-only")), (attack, err)
    assert {path: file_sha256(path) for path in guarded} == before
    assert not target.exists() and not (data_dir.parent / "exported").exists()
    assert [row.status for row in ops.status_history()] == ["published"]


def test_nqp_sql_refusal_through_the_installed_command(data_dir):
    """The console script, in its own process, is locked the same way."""
    with duckdb.connect(str(settings.warehouse_path())) as conn:
        conn.execute("create table t as select 1 as a")
    done = subprocess.run([str(ROOT / ".venv" / "bin" / "nqp"), "sql", "select * from read_text('/etc/passwd')"],
                          env=os.environ, capture_output=True, text=True, timeout=CHILD_WAIT_S)
    assert done.returncode == 2 and "file system operations are disabled" in done.stderr


# --- the run lock --------------------------------------------------------------------------------------

HOLD_LOCK = """
import sys, time
from nqp_core.recovery import run_lock
with run_lock():
    print("held", flush=True)
    time.sleep(600)
"""


def test_a_second_run_waits_for_the_lock_and_gets_it_when_the_holder_dies(data_dir):
    holder = subprocess.Popen([sys.executable, "-c", HOLD_LOCK], env=_child_env(), stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "held"
        said = []
        started = time.monotonic()
        with pytest.raises(RunLockTimeout), run_lock(wait_s=1.0, say=said.append):
            pass
        assert time.monotonic() - started >= 1.0
        assert said == [f"another nqp run (pid {holder.pid}) is building in {data_dir}; waiting for it to finish"]
    finally:
        holder.send_signal(signal.SIGKILL)
        holder.wait(CHILD_WAIT_S)
    with run_lock(wait_s=5.0):  # the kernel released the dead holder's flock
        assert (data_dir / ".run.lock").read_text().strip() == str(os.getpid())


# --- recovery after kill -9 around the publication -------------------------------------------------------

# Builds a working copy, records it validated (as the publish asset does), then publishes
# and SIGKILLs itself at the rename named on the command line.
KILLED_PUBLISH = """
import os, signal, sys
import duckdb
from nqp_core.ops_store import OpsStore
from nqp_core import working_copy as files

vintage, kill_at = sys.argv[1], sys.argv[2]
working = files.working_copy_path(vintage)
files.start_working_copy(working)
with duckdb.connect(str(working)) as conn:
    conn.execute("create or replace table ledger as select ? as vintage", [vintage])
OpsStore().record_status(vintage, "validated", fingerprint="fp-" + vintage, run_id="run-" + vintage)
real_replace = os.replace
def replace(source, target):
    source, target = str(source), str(target)
    if kill_at == "before_rename" and ".publishing-" in source:
        os.kill(os.getpid(), signal.SIGKILL)
    real_replace(source, target)
    if kill_at == "after_rename" and ".publishing-" in source:
        os.kill(os.getpid(), signal.SIGKILL)
os.replace = replace
files.publish_working_copy(working, vintage)
"""


def _publish_killed(vintage_id: str, kill_at: str) -> None:
    done = subprocess.run([sys.executable, "-c", KILLED_PUBLISH, vintage_id, kill_at], env=_child_env(),
                          capture_output=True, text=True, timeout=CHILD_WAIT_S)
    assert done.returncode == -signal.SIGKILL, done.stderr


def _publish(vintage_id: str) -> None:
    working = working_copy_path(vintage_id)
    start_working_copy(working)
    with duckdb.connect(str(working)) as conn:
        conn.execute("create or replace table ledger as select ? as vintage", [vintage_id])
    OpsStore().record_status(vintage_id, "validated", fingerprint=f"fp-{vintage_id}", run_id=f"run-{vintage_id}")
    publish_working_copy(working, vintage_id)
    OpsStore().record_status(vintage_id, "published", fingerprint=f"fp-{vintage_id}", run_id=f"run-{vintage_id}")


def _leftovers(data_dir: Path) -> list[str]:
    return sorted(p.name for p in data_dir.rglob("*") if ".publishing-" in p.name or ".partial" in p.name)


def test_kill_before_the_rename_leaves_nothing_after_recovery(data_dir, monkeypatch):
    monkeypatch.setenv("NQP_KEEP_PUBLICATIONS", "2")
    _publish("v1")
    _publish("v2")
    served = file_sha256(settings.warehouse_path())
    kept = [p.name for p in publications()]
    # A killed copy of another working copy too: the .partial of start_working_copy.
    stale_partial = working_copy_path("v9").with_name("warehouse.duckdb.partial-999999999")
    stale_partial.parent.mkdir(parents=True)
    stale_partial.write_bytes(b"half a copy")

    _publish_killed("v3", "before_rename")
    assert any(".publishing-" in name for name in _leftovers(data_dir))
    assert len(publications()) == 3, "the orphan archive was written before the kill"

    recovery = recover_interrupted_publication(OpsStore())
    assert _leftovers(data_dir) == []
    assert [p.name for p in recovery.removed_archives][0].startswith("v3__")
    assert [p.name for p in publications()] == kept, "the orphan archive does not count toward keep-N"
    assert file_sha256(settings.warehouse_path()) == served
    assert OpsStore().latest_statuses()["v3"].status == "validated", "v3 was never served; it waits for a run"
    assert recover_interrupted_publication(OpsStore()).lines() == [], "recovery is idempotent"


def test_kill_after_the_rename_is_recorded_published_at_recovery(data_dir):
    _publish("v1")
    _publish_killed("v2", "after_rename")
    with duckdb.connect(str(settings.warehouse_path()), read_only=True) as conn:
        assert conn.execute("select vintage from ledger").fetchone()[0] == "v2", "v2 is served"
    assert OpsStore().latest_statuses()["v2"].status == "validated"

    recovery = recover_interrupted_publication(OpsStore())
    assert recovery.reconciled == ["v2"] and not recovery.removed_archives
    latest = OpsStore().latest_statuses()["v2"]
    assert (latest.status, latest.fingerprint, latest.run_id) == ("published", "fp-v2", "run-v2")
    assert [p.name.split("__")[0] for p in publications()] == ["v1", "v2"]


def test_recovery_leaves_a_live_publication_alone(data_dir):
    _publish("v1")
    live = settings.data_dir() / f".warehouse.duckdb.publishing-{os.getpid()}"
    live.write_bytes(b"being written by a live process")
    recover_interrupted_publication(OpsStore())
    assert live.exists(), "its writer (this process) is alive"


# --- landing-folder refusals, through the real job ---------------------------------------------------------


def test_vintage_ids_are_checked(data_dir):
    for good in ("2024-06", "2025-06b", "v1.2_final"):
        assert check_vintage_id(good) == good
    for bad in ("", "..", "a/b", "a\\b", "2024'06", '2024"06', "2024 06", "2024\n06", "2024\x0006", "-x", "x" * 65):
        with pytest.raises(VintageContractError, match="rule: vintage_id"):
            check_vintage_id(bad)


def test_loader_refuses_a_symlinked_vintage_folder(tmp_path, small_vintage):
    link = tmp_path / "landing" / "2025-06"
    link.parent.mkdir()
    link.symlink_to(small_vintage, target_is_directory=True)
    with duckdb.connect(str(tmp_path / "w.duckdb")) as conn:
        with pytest.raises(VintageContractError, match="symbolic link") as refused:
            load_vintage(conn, link)
        assert refused.value.rule == "symlinked_vintage"
        assert not conn.execute("select count(*) from information_schema.tables where table_name = 'vintages'"
                                ).fetchone()[0] or not conn.execute("select count(*) from raw.vintages").fetchone()[0]


def test_the_job_refuses_symlinked_invalid_and_incomplete_vintages_and_publishes_nothing(data_dir, small_vintage):
    from dagster import DagsterInstance

    from dagster_project.definitions import vintage_job

    from dagster_project.defs.publish.runs import execute_vintage_run, waiting_vintages

    landing = settings.landing_dir()
    landing.mkdir(parents=True)
    (landing / "2025-06").symlink_to(small_vintage, target_is_directory=True)
    shutil.copytree(small_vintage, landing / "2025'07")
    shutil.copytree(small_vintage, landing / "2025-08", ignore=shutil.ignore_patterns(READY_MARKER))
    expected = {"2025-06": "symlinked_vintage", "2025'07": "vintage_id", "2025-08": "incomplete_vintage"}
    with DagsterInstance.ephemeral() as instance:
        for vintage_id, rule in expected.items():
            outcome = execute_vintage_run(vintage_id, instance, vintage_job())
            assert not outcome.success and outcome.status == "rejected", outcome
            assert len(outcome.alerts) == 1 and outcome.alerts[0].startswith(f"{rule} (ingest): "), outcome.alerts
    assert not settings.warehouse_path().exists() and not publications()
    # Refused for the folder, not the files: once a copy replaces the link, the vintage waits again.
    (landing / "2025-06").unlink()
    shutil.copytree(small_vintage, landing / "2025-06")
    assert "2025-06" in [w.vintage_id for w in waiting_vintages(OpsStore())]


# --- a publish conflict is retryable, never a rejection ------------------------------------------------------


def test_a_publish_conflict_does_not_brand_the_vintage_rejected(data_dir, small_vintage):
    from dagster import DagsterInstance, Definitions, define_asset_job, in_process_executor

    from nqp_core.loader import vintage_fingerprint
    from dagster_project.defs.publish.assets import PUBLISHED_WAREHOUSE, build_publish_assets, reject_vintage_on_failure
    from dagster_project.defs.publish.runs import run_config_for, waiting_vintages
    from dagster_project.defs.common.resources import OpsResource, VintageSelection, WorkingWarehouse

    landing = settings.landing_dir()
    shutil.copytree(small_vintage, landing / "2024-06")
    working = working_copy_path("2024-06")
    start_working_copy(working)
    with duckdb.connect(str(working)) as conn:
        load_vintage(conn, landing / "2024-06")
    _publish("other")  # another run publishes after this one copied the (empty) warehouse
    served = file_sha256(settings.warehouse_path())

    assets = build_publish_assets([])
    job = define_asset_job("publish_only", selection=[PUBLISHED_WAREHOUSE], hooks={reject_vintage_on_failure})
    defs = Definitions(assets=assets, jobs=[job], executor=in_process_executor,
                       resources={"ops": OpsResource(), "vintage": VintageSelection(),
                                  "warehouse": WorkingWarehouse(database="")})
    with DagsterInstance.ephemeral() as instance:
        result = defs.resolve_job_def("publish_only").execute_in_process(
            run_config=run_config_for("2024-06"), instance=instance, raise_on_error=False)
    assert not result.success
    assert file_sha256(settings.warehouse_path()) == served
    statuses = [row.status for row in OpsStore().status_history() if row.vintage_id == "2024-06"]
    assert statuses == ["validated"], "a conflict is not a rejection"
    with OpsStore().reader() as conn:
        rules = conn.execute("select rule, severity from ops.alerts where run_id = ?", [result.run_id]).fetchall()
    assert rules == [("publish_conflict", "warning")]
    assert [(w.vintage_id, w.fingerprint) for w in waiting_vintages(OpsStore())] == [
        ("2024-06", vintage_fingerprint(landing / "2024-06"))]


def test_ui_on_a_public_address_warns_loudly(tmp_path):
    """`nqp ui --host 0.0.0.0` warns on stderr before it starts anything; stopped once it has."""
    env = {**_child_env(), "DAGSTER_HOME": str(tmp_path / "dagster_home")}
    ui = subprocess.Popen([str(ROOT / ".venv" / "bin" / "nqp"), "ui", "--host", "0.0.0.0", "--port", "39871"],
                          env=env, stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True, start_new_session=True)
    try:
        first_lines = [ui.stderr.readline() for _ in range(3)]
    finally:
        os.killpg(ui.pid, signal.SIGKILL)
        ui.wait(CHILD_WAIT_S)
    assert "WARNING" in first_lines[0] and "NO authentication" in first_lines[1] and "0.0.0.0:39871" in first_lines[1]
    docs = (ROOT / "docs" / "publishing.md").read_text(encoding="utf-8")
    assert "## Serving the UI to others" in docs

