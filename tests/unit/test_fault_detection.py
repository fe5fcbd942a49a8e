"""Every fault of the corpus is caught by the rule it names, at function level; clean vintages raise nothing.

Each mutation is applied to a copy of one small generated vintage (the base, '2024-06'),
renamed '2024-09', and loaded into a copy of a DuckDB file that already holds the base:
the base is the previous vintage the row-count and revision rules compare with, as the
last published vintage is under write-audit-publish. Then either the loader contract
refuses the copy, or the raw suite of the table named by the mutation fails with the
named rule, and the message names the table and file, column, rule, count and examples.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import duckdb
import pytest
from dagster import AssetKey

from nqp_core.loader import VintageContractError, load_vintage
from dagster_project.defs.quality.checks import outcome_alerts
from synthetic.next_vintage import generate_next_vintage
from synthetic.vintage import generate_vintage
from expectations.raw import RAW_SUITES, validate_raw_table, validate_raw_vintage
from expectations.raw_common import collect_facts
from tests.faults.corpus import END_TO_END, INGEST, LATE_STAGE_FAULTS, MUTATIONS, copy_vintage

BASE_SCALE = 0.05  # ~200 firms, ~1,800 firm-years, ~37,000 patents: every rule has rows to judge, loads in < 1 s
BASE_SEED = 7
BASE_VINTAGE = "2024-06"
FAULT_VINTAGE = "2024-09"
REFRESH_VINTAGE = "2025-06"  # the refresh adds fiscal 2024, which a vintage dated in 2024 cannot hold


@pytest.fixture(scope="module")
def base(tmp_path_factory) -> tuple[Path, Path]:
    """The base vintage folder and a DuckDB file holding it in raw."""
    root = tmp_path_factory.mktemp("faults")
    folder = generate_vintage(root / "landing", BASE_VINTAGE, seed=BASE_SEED, scale=BASE_SCALE)
    database = root / "base.duckdb"
    with duckdb.connect(str(database)) as conn:
        load_vintage(conn, folder)
    return folder, database


def _load_copy(base, tmp_path: Path, vintage_id: str, mutate) -> tuple[duckdb.DuckDBPyConnection, Path]:
    folder, database = base
    copy = copy_vintage(folder, tmp_path / "landing" / vintage_id)
    mutate(copy)
    working = tmp_path / "working.duckdb"
    shutil.copy(database, working)
    conn = duckdb.connect(str(working))
    return conn, copy


def _failure_report(outcomes) -> list[str]:
    return [f.message(o.table) for o in outcomes.values() for f in o.failures]


def test_base_vintage_passes_every_suite_without_a_previous_one(base):
    folder, database = base
    with duckdb.connect(str(database), read_only=True) as conn:
        outcomes = validate_raw_vintage(conn, BASE_VINTAGE)
    assert set(outcomes) == set(RAW_SUITES)
    assert not _failure_report(outcomes)
    assert all(o.rows > 0 and o.evaluated >= 10 for o in outcomes.values())


def test_a_real_vintage_is_not_judged_against_a_synthetic_one(base, tmp_path):
    # A researcher's first real delivery (no truth.json) after the synthetic demo run: the
    # synthetic vintage is no previous vintage for it (nor for the vintage diff), so it is judged
    # by the plausibility checks alone, and passes them.
    from nqp_core.vintages import previous_vintage
    from nqp_core.contract import TRUTH_FILE

    def make_real(folder: Path) -> None:
        (folder / TRUTH_FILE).unlink()

    conn, copy = _load_copy(base, tmp_path, FAULT_VINTAGE, make_real)
    with conn:
        load_vintage(conn, copy)
        facts = collect_facts(conn, FAULT_VINTAGE)
        assert facts.previous_vintage_id is None and facts.previous_row_counts == {}
        assert previous_vintage(conn, FAULT_VINTAGE) is None  # the vintage diff compares with the same
        assert collect_facts(conn, BASE_VINTAGE).previous_vintage_id is None  # nor the reverse
        outcomes = {table: validate_raw_table(conn, table, facts) for table in RAW_SUITES}
    assert not _failure_report(outcomes)


@pytest.mark.slow
def test_unchanged_copy_passes_against_the_previous_vintage(base, tmp_path):
    conn, copy = _load_copy(base, tmp_path, FAULT_VINTAGE, lambda folder: None)
    with conn:
        load_vintage(conn, copy)
        facts = collect_facts(conn, FAULT_VINTAGE)
        outcomes = {table: validate_raw_table(conn, table, facts) for table in RAW_SUITES}
    assert facts.previous_vintage_id == BASE_VINTAGE
    assert not _failure_report(outcomes)


@pytest.mark.slow
def test_next_vintage_passes_every_suite(base, tmp_path):
    """A good refresh (one more fiscal year, ~2% of history restated) raises no false alarm."""
    folder, database = base
    copy = generate_next_vintage(folder, tmp_path / "landing", vintage_id=REFRESH_VINTAGE)
    working = tmp_path / "working.duckdb"
    shutil.copy(database, working)
    with duckdb.connect(str(working)) as conn:
        report = load_vintage(conn, copy)
        outcomes = validate_raw_vintage(conn, REFRESH_VINTAGE)
        revised = conn.execute(
            """
            select count(*) from raw.financials as new join raw.financials as old using (stock_code, fiscal_year)
            where new.vintage_id = ? and old.vintage_id = ? and new.operating_income <> old.operating_income
            """,
            [REFRESH_VINTAGE, BASE_VINTAGE],
        ).fetchone()[0]
        base_rows = conn.execute("select count(*) from raw.financials where vintage_id = ?", [BASE_VINTAGE]).fetchone()[0]
    assert not _failure_report(outcomes)
    # It really is a refresh the rules had to judge: a year more, and revised history.
    assert report.row_counts["financials"] > base_rows and revised > 0


def test_corpus_is_large_and_covers_the_issue_list():
    names = {m.name for m in MUTATIONS}
    required = {
        "missing_file", "missing_column", "extra_column", "renamed_column", "wrong_type_parquet", "wrong_type_csv",
        "duplicate_firm_year_keys", "duplicate_patent_numbers", "unit_change_10k_yuan", "negative_total_assets",
        "accounting_identity_broken", "year_missing", "future_listing_dates", "unknown_province_code",
        "unknown_industry_code", "orphan_patents", "mojibake_titles", "empty_file", "truncated_parquet",
        "truncated_csv", "required_column_all_null", "optional_column_all_null", "revision_beyond_tolerance",
    }
    assert required <= names and len(MUTATIONS) >= 20
    assert all(m.detected_by == INGEST or m.detected_by.removeprefix("gx_raw_") in RAW_SUITES for m in MUTATIONS)


def test_end_to_end_faults_cover_every_stage():
    """The job-level test runs a few faults per stage: the loader, every raw check the corpus reaches, the later checks."""
    stages = {m.detected_by for m in END_TO_END}
    assert INGEST in stages and {m.detected_by for m in MUTATIONS} <= stages | {INGEST}
    assert {m.detected_by for m in LATE_STAGE_FAULTS} <= stages
    assert {"gx_fct_firm_years"} < {m.detected_by for m in LATE_STAGE_FAULTS}  # and a dbt data test


@pytest.mark.parametrize("mutation", LATE_STAGE_FAULTS, ids=lambda m: m.name)
def test_late_stage_faults_pass_every_raw_suite(mutation, base, tmp_path):
    """They are caught later in the job (tests/e2e/test_faults_e2e.py), so nothing may stop them earlier."""
    conn, copy = _load_copy(base, tmp_path, FAULT_VINTAGE, mutation.apply)
    with conn:
        load_vintage(conn, copy)
        outcomes = validate_raw_vintage(conn, FAULT_VINTAGE)
    assert not _failure_report(outcomes)


@pytest.mark.parametrize("mutation", [m for m in MUTATIONS if m.detected_by == INGEST], ids=lambda m: m.name)
def test_ingest_contract_refuses(mutation, base, tmp_path):
    conn, copy = _load_copy(base, tmp_path, FAULT_VINTAGE, mutation.apply)
    with conn, pytest.raises(VintageContractError) as refused:
        load_vintage(conn, copy)
    message = str(refused.value)
    assert mutation.rule_hint in message, message
    assert FAULT_VINTAGE in message  # names the vintage folder and, below, the file
    assert any(table in message for table in RAW_SUITES), message
    if mutation.column:
        assert mutation.column in message, message
    with duckdb.connect(str(tmp_path / "working.duckdb"), read_only=True) as after:  # nothing half-loaded
        assert after.execute("select count(*) from raw.vintages where vintage_id = ?", [FAULT_VINTAGE]).fetchone()[0] == 0


@pytest.mark.slow  # one GX validation per fault: ~2-6 s each on 2 shared cores
@pytest.mark.parametrize("mutation", [m for m in MUTATIONS if m.detected_by != INGEST], ids=lambda m: m.name)
def test_raw_suite_fails_with_the_named_rule(mutation, base, tmp_path):
    table = mutation.detected_by.removeprefix("gx_raw_")
    conn, copy = _load_copy(base, tmp_path, FAULT_VINTAGE, mutation.apply)
    with conn:
        load_vintage(conn, copy)  # the contract holds: this fault is about content
        outcome = validate_raw_table(conn, table, collect_facts(conn, FAULT_VINTAGE))
    matching = [
        f for f in outcome.failures
        if f.rule == mutation.rule_hint and (mutation.column is None or mutation.column in f.columns)
    ]
    assert matching, [f.message(outcome.table) for f in outcome.failures]
    failure = matching[0]
    message = failure.message(outcome.table)
    # The table and the delivered file; an empty table has no row lineage, so it names the vintage.
    where = f"{FAULT_VINTAGE}/{table}." if outcome.rows else f"vintage {FAULT_VINTAGE}, no rows"
    assert f"raw.{table}" in message and where in message, message
    assert mutation.rule_hint in message and f"{failure.unexpected_count} row(s)" in message
    assert failure.unexpected_count > 0
    if mutation.column:
        assert mutation.column in message
    if failure.examples:  # row rules quote the offending rows with their line in the file, drift rules the stratum
        assert ("source_row" in failure.examples[0] or "stratum" in failure.examples[0]) and "first:" in message
    # What the asset check turns it into: one alert per failed expectation, naming asset, file and column.
    alert = next(a for a in outcome_alerts(outcome, FAULT_VINTAGE, AssetKey(["raw", table])) if a.message == message)
    assert (alert.asset, alert.rule, alert.failing_count) == (f"raw/{table}", mutation.rule_hint, failure.unexpected_count)
    assert alert.file is None if not outcome.rows else alert.file.startswith(f"{FAULT_VINTAGE}/{table}.")
    assert mutation.column is None or mutation.column in alert.column

