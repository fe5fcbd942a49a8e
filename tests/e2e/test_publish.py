"""Write-audit-publish pieces without a pipeline run: files, ops store, sensor, diff, next vintage.

Everything runs on real DuckDB files, real generated vintages and Dagster's own
``build_sensor_context`` (no mocks); the full runs are in test_publish_pipeline.py.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import duckdb
import pandas as pd
import pytest
from dagster import build_sensor_context

from nqp_core import settings
from nqp_core.loader import load_vintage, vintage_fingerprint
from nqp_core.ops_store import OpsStore
from dagster_project.defs.common.resources import OpsResource
from nqp_core.provenance import Provenance
from dagster_project.defs.publish.diff import compute_vintage_diff, render_markdown
from nqp_core.working_copy import (
    PublishConflict,
    file_sha256,
    publications,
    publish_working_copy,
    start_working_copy,
    working_copy_path,
)
from dagster_project.defs.publish.runs import run_config_for, waiting_vintages
from dagster_project.defs.publish.sensors import VINTAGE_REGISTRY, landing_sensor
from nqp_core.contract import READY_MARKER
from synthetic import generate_vintage
from synthetic.next_vintage import generate_next_vintage
from nqp_core.warehouse import replace_rows

SMALL_SCALE = 0.02  # ~80 firms, ~700 firm-years: enough rows for a revision sample of a dozen
SEED = 7
READER_WAIT_S = 30  # the reader subprocess imports duckdb only


@pytest.fixture
def data_dir(tmp_path, monkeypatch) -> Path:
    monkeypatch.setenv("NQP_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("NQP_REPORTS_DIR", str(tmp_path / "reports"))
    monkeypatch.delenv("NQP_KEEP_PUBLICATIONS", raising=False)
    return tmp_path / "data"


def _build(vintage_id: str, rows: int) -> Path:
    """A working copy started from the published file, with ``ledger`` holding ``rows`` rows."""
    working = working_copy_path(vintage_id)
    start_working_copy(working)
    with duckdb.connect(str(working)) as conn:
        conn.execute("create or replace table ledger as select range as id, 1.0 as amount from range(?)", [rows])
        conn.execute("create or replace table totals as select ? :: double as total", [rows])
    return working


def _rows_published() -> int:
    with duckdb.connect(str(settings.warehouse_path()), read_only=True) as conn:
        return conn.execute("select count(*) from ledger").fetchone()[0]


# --- files: working copy and atomic publication ------------------------------------------------------


def test_first_publication_then_previous_and_archives_are_kept(data_dir):
    first = publish_working_copy(_build("v1", 10), "v1")
    assert first.previous is None and _rows_published() == 10
    assert not working_copy_path("v1").parent.exists(), "the working copy is removed once published"
    first_sha = file_sha256(settings.warehouse_path())

    working = _build("v2", 20)
    with duckdb.connect(str(working), read_only=True) as conn:
        assert conn.execute("select count(*) from ledger").fetchone()[0] == 20
    second = publish_working_copy(working, "v2")
    assert _rows_published() == 20
    assert file_sha256(settings.previous_warehouse_path()) == first_sha
    assert [p.name.split("__")[0] for p in publications()] == ["v1", "v2"]
    assert file_sha256(second.archive) == second.sha256 == file_sha256(settings.warehouse_path())


def test_working_copy_starts_from_the_published_file_and_drops_leftovers(data_dir):
    publish_working_copy(_build("v1", 5), "v1")
    working = working_copy_path("v2")
    working.parent.mkdir(parents=True)
    working.write_bytes(b"half-built database of a killed run")
    working.with_name(working.name + ".wal").write_bytes(b"stale wal")
    base = start_working_copy(working)
    assert base == file_sha256(settings.warehouse_path()) == file_sha256(working)
    assert not working.with_name(working.name + ".wal").exists()


def test_uncheckpointed_writes_are_published(data_dir):
    """The publish step checkpoints the WAL into the file before copying it."""
    working = _build("v1", 3)
    conn = duckdb.connect(str(working))
    try:
        conn.execute("insert into ledger select range + 100, 1.0 from range(7)")
        assert working.with_name(working.name + ".wal").exists(), "DuckDB kept the insert in its WAL"
        publish_working_copy(working, "v1")
    finally:
        conn.close()
    assert _rows_published() == 10


def test_retention_keeps_the_newest_publications(data_dir, monkeypatch):
    monkeypatch.setenv("NQP_KEEP_PUBLICATIONS", "2")
    removed = [publish_working_copy(_build(f"v{i}", i + 1), f"v{i}").removed_archives for i in range(3)]
    assert [p.name.split("__")[0] for p in publications()] == ["v1", "v2"]
    assert [p.name.split("__")[0] for p in removed[2]] == ["v0"]


def test_a_run_built_on_a_stale_copy_is_refused(data_dir):
    publish_working_copy(_build("v1", 1), "v1")
    late = _build("v3", 3)  # copied v1, then v2 gets published first
    publish_working_copy(_build("v2", 2), "v2")
    published = file_sha256(settings.warehouse_path())
    with pytest.raises(PublishConflict, match="changed since this run copied it"):
        publish_working_copy(late, "v3")
    assert file_sha256(settings.warehouse_path()) == published


READER = """
import sys, time, duckdb
conn = duckdb.connect(sys.argv[1], read_only=True)
def state():
    rows, total = conn.execute("select count(*), sum(amount) from ledger").fetchone()
    return rows, total, conn.execute("select total from totals").fetchone()[0]
print("before", *state(), flush=True)
sys.stdin.readline()  # the test publishes, then lets us go on
print("after", *state(), flush=True)
conn.close()
fresh = duckdb.connect(sys.argv[1], read_only=True)
print("fresh", fresh.execute("select count(*) from ledger").fetchone()[0], flush=True)
"""


def test_a_reader_holding_a_connection_during_publish_keeps_a_consistent_database(data_dir):
    publish_working_copy(_build("v1", 1000), "v1")
    reader = subprocess.Popen([sys.executable, "-c", READER, str(settings.warehouse_path())],
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert reader.stdout.readline().split() == ["before", "1000", "1000.0", "1000.0"]
        publish_working_copy(_build("v2", 2500), "v2")
        reader.stdin.write("go\n")
        reader.stdin.flush()
        reader.wait(timeout=READER_WAIT_S)
        lines = [line.split() for line in reader.stdout.read().splitlines()]
    finally:
        reader.kill()
    assert lines == [["after", "1000", "1000.0", "1000.0"], ["fresh", "2500"]], (
        "the open connection still reads the old publication, whole; a new one reads the new publication")


# --- ops store -----------------------------------------------------------------------------------------


def test_ops_store_keeps_status_history_and_is_attachable_read_only(data_dir):
    ops = OpsStore()
    assert ops.status_history() == [] and not settings.ops_path().exists()
    ops.record_status("2024-06", "loaded", fingerprint="f1", run_id="r1")
    ops.record_status("2024-06", "published", fingerprint="f1", run_id="r1")
    ops.record_status("2024-09", "rejected", fingerprint="f2", run_id="r2", detail="gx_raw_financials")
    with pytest.raises(ValueError, match="status must be one of"):
        ops.record_status("2024-09", "approved")
    assert [row.status for row in ops.status_history()] == ["loaded", "published", "rejected"]
    assert {k: v.status for k, v in ops.latest_statuses().items()} == {"2024-06": "published", "2024-09": "rejected"}
    # What docs/publishing.md tells analysts to type.
    with duckdb.connect() as conn:
        conn.execute(f"attach '{settings.ops_path()}' as ops_store (read_only)")
        assert conn.execute("select count(*) from ops_store.ops.vintage_status").fetchone()[0] == 3
        with pytest.raises(duckdb.Error):
            conn.execute("delete from ops_store.ops.vintage_status")


# --- the landing sensor -----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def small_vintages(tmp_path_factory) -> tuple[Path, Path]:
    """A small base vintage and its next vintage, generated once for the module."""
    landing = tmp_path_factory.mktemp("generated") / "landing"
    base = generate_vintage(landing, "2024-06", seed=SEED, scale=SMALL_SCALE)
    return base, generate_next_vintage(base, landing)


def _evaluate(cursor: str | None = None):
    with build_sensor_context(cursor=cursor, resources={"ops": OpsResource()}) as context:
        return landing_sensor(context)


def test_sensor_requests_one_run_per_new_complete_vintage(data_dir, small_vintages):
    landing = settings.landing_dir()
    landing.mkdir(parents=True)
    empty = _evaluate()
    assert not empty.run_requests and "no new complete vintage" in empty.skip_reason.skip_message

    base, following = small_vintages
    shutil.copytree(base, landing / base.name)
    shutil.copytree(following, landing / following.name, ignore=shutil.ignore_patterns(READY_MARKER))
    result = _evaluate()
    assert [request.run_key for request in result.run_requests] == [f"2024-06:{vintage_fingerprint(base)}"]
    assert result.run_requests[0].run_config == run_config_for("2024-06")
    assert run_config_for("2024-06")["resources"]["warehouse"]["config"]["database"] == str(
        data_dir / "work" / "2024-06" / "warehouse.duckdb")

    (landing / following.name / READY_MARKER).write_text("")
    result = _evaluate()
    assert [request.tags["nqp/vintage"] for request in result.run_requests] == ["2024-06", "2025-06"]


def test_sensor_skips_published_and_rejected_vintages_until_the_files_change(data_dir, small_vintages):
    base, following = small_vintages
    landing = settings.landing_dir()
    for folder in (base, following):
        shutil.copytree(folder, landing / folder.name)
    ops = OpsStore()
    ops.record_status("2024-06", "published", fingerprint=vintage_fingerprint(base), run_id="r1")
    ops.record_status("2025-06", "rejected", fingerprint=vintage_fingerprint(following), run_id="r2")
    first = _evaluate()
    assert not first.run_requests
    assert "all published or rejected" in first.skip_reason.skip_message
    (observation,) = first.asset_events
    assert observation.asset_key == VINTAGE_REGISTRY
    assert "**rejected**" in observation.metadata["vintages"].value
    assert not _evaluate(first.cursor).asset_events, "the registry is reported again only when it changes"

    # A corrected re-delivery of the rejected vintage under the same id is a new run.
    (landing / "2025-06" / "governance.parquet").unlink()
    shutil.copy(base / "governance.parquet", landing / "2025-06" / "governance.parquet")
    (request,) = _evaluate(first.cursor).run_requests
    assert request.run_key == f"2025-06:{vintage_fingerprint(landing / '2025-06')}"
    assert [w.vintage_id for w in waiting_vintages(ops)] == ["2025-06"]


def test_sensor_module_imports_nothing_heavy():
    code = ("import sys, dagster_project.defs.publish.sensors; "
            "print(sorted(m for m in ('pandas', 'dbt', 'dagster_dbt', 'great_expectations', 'analysis', "
            "'dagster_project.definitions', 'pyarrow') if m in sys.modules))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          cwd=settings.PROJECT_ROOT, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"


# --- next vintage and the diff -----------------------------------------------------------------------


def test_next_vintage_is_deterministic_and_keeps_the_identities(small_vintages, tmp_path):
    base, following = small_vintages
    again = generate_next_vintage(base, tmp_path / "landing")
    for path in following.iterdir():
        assert path.read_bytes() == (again / path.name).read_bytes(), path.name
    next_of = json.loads((following / "truth.json").read_text())["next_of"]
    assert next_of["new_fiscal_year"] == 2024
    with duckdb.connect() as conn:
        new_rows = conn.execute(
            f"select count(*), max(abs(total_liabilities + total_equity - total_assets) / total_assets) "
            f"from read_parquet('{following / 'financials.parquet'}') where fiscal_year = 2024").fetchone()
    assert new_rows[0] == next_of["firm_years_added"] > 0
    assert new_rows[1] < 1e-12, "growth scales a whole balance sheet"
    with pytest.raises(FileExistsError):
        generate_next_vintage(base, following.parent)


def test_diff_finds_exactly_the_planted_changes(small_vintages, tmp_path):
    base, following = small_vintages
    planted = json.loads((following / "truth.json").read_text())["next_of"]
    with duckdb.connect(str(tmp_path / "two_vintages.duckdb")) as conn:
        load_vintage(conn, base)
        load_vintage(conn, following)
        # Coefficients of both vintages, as the estimation assets store them.
        for vintage_id, estimate in (("2024-06", 0.50), ("2025-06", 0.53)):
            replace_rows(conn, "results.coefficients", pd.DataFrame({
                "table_id": ["table04"], "column_id": ["(3)"], "term": ["ai"], "estimate": [estimate],
                "std_error": [0.02], "statistic": [estimate / 0.02], "p_value": [0.0]}),
                Provenance(vintage_id, True, "test"), table_id="table04")
        diff = compute_vintage_diff(conn, "2025-06")
    assert diff.base_vintage_id == "2024-06"
    assert diff.value("firm_years", "added") == planted["firm_years_added"]
    assert diff.value("firm_years", "removed") == 0
    assert diff.value("patents", "added") == planted["patents_added"]
    revisions = planted["revisions"]
    assert diff.value("firm_years", "revised") == len({(r["stock_code"], r["fiscal_year"]) for r in revisions})
    for column in ("operating_income", "net_profit"):
        planted_here = [r for r in revisions if r["column"] == column]
        assert diff.value("revisions", f"financials.{column}", "firm_years_revised") == len(planted_here)
        largest = max(planted_here, key=lambda r: abs(r["new"] - r["old"]) / abs(r["old"]))
        top = next(r for r in diff.rows if r["kind"] == "largest_revisions" and r["subject"] == f"financials.{column}")
        assert top["measure"] == f"{largest['stock_code']}/{largest['fiscal_year']}"
        assert top["delta"] == pytest.approx(abs(largest["new"] - largest["old"]) / abs(largest["old"]), rel=1e-9)
    assert not [r for r in diff.rows if r["kind"] == "revisions" and not r["subject"].startswith("financials.")]
    (drift,) = [r for r in diff.rows if r["kind"] == "coefficients"]
    assert drift["delta"] == pytest.approx(0.03) and drift["detail"]["drift_in_old_se"] == pytest.approx(1.5)
    text = render_markdown(diff, ["header"])
    assert f"| {planted['firm_years_added']} | 0 | {diff.value('firm_years', 'revised'):.0f} |" in text


# --- the failure hook ----------------------------------------------------------------------------------


def test_failure_hook_rejects_the_vintage_and_alerts_for_failures_that_raised_none(data_dir, tmp_path):
    """A failed check that raised no alert itself (as dbt tests) and a crashed step each get one."""
    from dagster import (
        AssetCheckResult,
        DagsterInstance,
        Definitions,
        asset,
        asset_check,
        define_asset_job,
        in_process_executor,
    )

    from dagster_project.defs.publish.assets import reject_vintage_on_failure
    from dagster_project.defs.publish.runs import alerted_assets
    from dagster_project.defs.common.resources import OpsResource, VintageSelection, WorkingWarehouse

    @asset(key=["marts", "fct_firm_years"])
    def mart():
        return None

    @asset_check(asset=mart, name="not_null_fct_firm_years_npro", blocking=True)
    def dbt_like_test():
        return AssetCheckResult(passed=False, metadata={"dagster_dbt/failed_row_count": 3})

    @asset(key=["results", "table04"])
    def crashing():
        raise ZeroDivisionError("singular design matrix")

    resources = {"ops": OpsResource(), "vintage": VintageSelection(vintage_id="2024-09"),
                 "warehouse": WorkingWarehouse(database=str(tmp_path / "work.duckdb"))}
    OpsStore().record_status("2024-09", "loaded", fingerprint="f-2024-09", run_id="ingest-run")
    for selection, asset_path, rule in (
        ([mart.key], "marts/fct_firm_years", "not_null_fct_firm_years_npro"),
        ([crashing.key], "results__table04", "step_failed"),
    ):
        job = define_asset_job("audit", selection=selection, hooks={reject_vintage_on_failure})
        defs = Definitions(assets=[mart, crashing], asset_checks=[dbt_like_test], jobs=[job],
                           resources=resources, executor=in_process_executor)
        with DagsterInstance.ephemeral() as instance:
            result = defs.resolve_job_def("audit").execute_in_process(instance=instance, raise_on_error=False)
        assert not result.success
        assert alerted_assets(OpsStore(), result.run_id) == {asset_path}
        with OpsStore().reader() as conn:
            rules = conn.execute("select rule, failing_count from ops.alerts where run_id = ?", [result.run_id]).fetchall()
        assert rules == [(rule, 3 if rule != "step_failed" else 1)]
        latest = OpsStore().latest_statuses()["2024-09"]
        assert (latest.status, latest.run_id, latest.fingerprint) == ("rejected", result.run_id, "f-2024-09")
