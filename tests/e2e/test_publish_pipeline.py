"""A killed run publishes nothing; the rerun publishes the next vintage with a correct diff.

Works on a private copy of the session's published ``pipeline_run`` (vintage 2024-06).
``nqp synth --next-of`` delivers 2025-06 (fiscal 2024 added, 2% of history revised, the
planted changes listed in its truth.json). ``nqp run`` is started as a subprocess and
killed with SIGKILL (its whole process group, dbt included) while dbt builds the working
copy; then ``nqp run`` again must publish 2025-06, keep 2024-06's file as the previous
one, and produce a diff report whose counts are the planted ones.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import duckdb
import pytest

from nqp_core.working_copy import file_sha256
from nqp_core.settings import PROJECT_ROOT

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

NEXT_VINTAGE = "2025-06"
KILL_DEADLINE_S = 600  # definitions import and ingest before dbt starts, on a loaded 2-core machine
BUILD_MARKER = f"dbt build for vintage {NEXT_VINTAGE}"  # logged by the dbt asset as dbt starts


def _start_and_kill_during_dbt(env: dict[str, str]) -> list[str]:
    process = subprocess.Popen(
        [sys.executable, "-m", "dagster_project.cli", "run"], cwd=PROJECT_ROOT, env=env,
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True,
    )
    seen = []
    try:
        deadline = time.monotonic() + KILL_DEADLINE_S
        for line in process.stdout:
            seen.append(line)
            if BUILD_MARKER in line or time.monotonic() > deadline:
                break
        time.sleep(2)  # let dbt write into the working copy
        assert process.poll() is None, "".join(seen[-40:])
    finally:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=60)
    return seen


def working_copy_path_in(home):
    """The working copy of the next vintage (nqp_core.working_copy.working_copy_path under home)."""
    return home.data_dir / "work" / NEXT_VINTAGE / "warehouse.duckdb"


def _query(path, sql, params=()):
    with duckdb.connect(str(path), read_only=True) as conn:
        return conn.execute(sql, params).fetchall()


def test_killed_run_leaves_the_publication_intact_and_the_rerun_publishes_the_next_vintage(
    pipeline_run, copy_published, tmp_path_factory, digest,
):
    home = copy_published(pipeline_run, tmp_path_factory.mktemp("publish_pipeline"))
    synth = home.nqp("synth", "--next-of", str(home.vintage_dir))
    assert synth.returncode == 0, synth.stderr
    planted = json.loads((home.data_dir / "landing" / NEXT_VINTAGE / "truth.json").read_text())["next_of"]
    published_before = file_sha256(home.warehouse)
    landing_before = digest(home.data_dir / "landing")

    log = _start_and_kill_during_dbt(home.env)
    assert any(BUILD_MARKER in line for line in log), "".join(log[-40:])
    assert working_copy_path_in(home).exists(), "the kill hit while the working copy was being built"
    assert file_sha256(home.warehouse) == published_before
    assert digest(home.data_dir / "landing") == landing_before
    assert _query(home.warehouse, "select list(vintage_id) from raw.vintages")[0][0] == ["2024-06"]

    rerun = home.nqp("run")
    assert rerun.returncode == 0, (rerun.stdout[-3000:], rerun.stderr[-3000:])
    assert f"vintage {NEXT_VINTAGE}: run" in rerun.stdout and "status published" in rerun.stdout
    assert f"published warehouse (read it with `nqp sql`, read-only): {home.warehouse}" in rerun.stdout
    assert file_sha256(home.data_dir / "warehouse.previous.duckdb") == published_before
    assert _query(home.warehouse, "select list(vintage_id order by 1) from raw.vintages")[0][0] == [
        "2024-06", NEXT_VINTAGE]
    assert not working_copy_path_in(home).parent.exists()

    ops = home.data_dir / "ops.duckdb"
    with duckdb.connect() as conn:
        conn.execute(f"attach '{ops}' as ops_store (read_only)")
        statuses = [s for (s,) in conn.execute(
            "select status from ops_store.ops.vintage_status where vintage_id = ? order by recorded_at", [NEXT_VINTAGE]
        ).fetchall()]
        diff = {(kind, subject, measure): (old, new, delta) for kind, subject, measure, old, new, delta in conn.execute(
            "select kind, subject, measure, value_old, value_new, delta from ops_store.ops.vintage_diffs "
            "where new_vintage_id = ? and base_vintage_id = '2024-06'", [NEXT_VINTAGE]).fetchall()}
    # loaded by the killed run, then loaded, validated and published by the rerun
    assert statuses == ["loaded", "loaded", "validated", "published"]

    assert diff[("firm_years", "added", "count")][1] == planted["firm_years_added"] > 0
    assert diff[("firm_years", "removed", "count")][1] == 0
    revised_keys = {(r["stock_code"], r["fiscal_year"]) for r in planted["revisions"]}
    assert diff[("firm_years", "revised", "count")][1] == len(revised_keys)
    for column in ("operating_income", "net_profit"):
        count = sum(r["column"] == column for r in planted["revisions"])
        assert diff[("revisions", f"financials.{column}", "firm_years_revised")][1] == count
    assert diff[("patents", "added", "count")][1] == planted["patents_added"]
    # Fiscal 2024 lies outside the paper's sample window (dbt var sample_last_year = 2023) and
    # restating income does not move a firm-year in or out, so the analysis sample is unchanged.
    assert diff[("sample", "added", "count")][1] == diff[("sample", "removed", "count")][1] == 0
    coefficients = _query(home.warehouse, "select table_id || ' ' || column_id || ' ' || term, estimate "
                          "from results.coefficients where vintage_id = ?", [NEXT_VINTAGE])
    assert coefficients
    for subject, estimate in coefficients:
        old, new, delta = diff[("coefficients", subject, "estimate")]
        assert new == pytest.approx(estimate, rel=1e-12) and delta == pytest.approx(new - old, abs=1e-12)

    report = (home.reports_dir / f"vintage_diff_{NEXT_VINTAGE}_vs_2024-06.md").read_text(encoding="utf-8")
    assert "SYNTHETIC" in report and NEXT_VINTAGE in report
    assert f"Added by fiscal year: 2024: {planted['firm_years_added']}." in report
