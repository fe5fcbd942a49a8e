"""Semantic checks beyond the fault corpus: the newest year's coverage, warnings and their acknowledgement, messages.

Function level, on small generated vintages loaded into a real DuckDB file and judged by
the real suites (the corpus cases themselves run in test_fault_detection.py and, end to
end, in test_faults_e2e.py).
"""

from __future__ import annotations

import shutil
from pathlib import Path

import duckdb
import pandas as pd
import pytest
from dagster import AssetKey

from dagster_project.ingest.loader import load_vintage
from dagster_project.quality.checks import outcome_alerts
from dagster_project.synthetic.next_vintage import generate_next_vintage
from dagster_project.synthetic.vintage import generate_vintage
from expectations.raw import validate_raw_table
from expectations.raw_common import collect_facts
from tests.faults.corpus import MUTATIONS_BY_NAME, copy_vintage, edit, read_table, write_table

SCALE = 0.05
SEED = 7


@pytest.fixture(scope="module")
def base(tmp_path_factory) -> tuple[Path, Path]:
    root = tmp_path_factory.mktemp("semantic")
    folder = generate_vintage(root / "landing", "2024-06", seed=SEED, scale=SCALE)
    database = root / "base.duckdb"
    with duckdb.connect(str(database)) as conn:
        load_vintage(conn, folder)
    return folder, database


def _judge(base, tmp_path: Path, folder: Path, table: str):
    working = tmp_path / "working.duckdb"
    shutil.copy(base[1], working)
    with duckdb.connect(str(working)) as conn:
        load_vintage(conn, folder)
        return validate_raw_table(conn, table, collect_facts(conn, folder.name))


def test_an_incomplete_newest_year_fails_even_though_rows_exist(base, tmp_path):
    following = generate_next_vintage(base[0], tmp_path / "landing")
    frame = read_table(following, "financials")
    newest = int(frame["fiscal_year"].max())
    in_newest = frame.index[frame["fiscal_year"] == newest]
    write_table(following, "financials", frame.drop(in_newest[: len(in_newest) // 2]))

    outcome = _judge(base, tmp_path, following, "financials")
    (failure,) = [f for f in outcome.failures if f.check == "coverage_new_year"]
    message = failure.message(outcome.table)
    assert f"stratum='fiscal_year={newest} (new) vs fiscal_year={newest - 1}'" in message, message
    assert "an incomplete year" in message
    ratio = failure.examples[0]["current"] / failure.examples[0]["previous"]
    assert 0.45 < ratio < 0.55


def test_a_clean_next_vintage_has_no_coverage_or_drift_failure(base, tmp_path):
    following = generate_next_vintage(base[0], tmp_path / "landing")
    for table in ("financials", "governance", "patents", "firms", "firm_status"):
        outcome = _judge(base, tmp_path, following, table)
        assert not outcome.failures, [f.message(outcome.table) for f in outcome.failures]


def test_drift_message_names_column_stratum_and_both_figures(base, tmp_path):
    folder = copy_vintage(base[0], tmp_path / "landing" / "2024-09")
    MUTATIONS_BY_NAME["unit_slip_in_one_year"].apply(folder)
    outcome = _judge(base, tmp_path, folder, "financials")
    drifted = [f for f in outcome.failures if f.check == "drift_ln_median"]
    assert drifted, [f.message(outcome.table) for f in outcome.failures]
    strata = {(e["column"], e["stratum"]) for e in drifted[0].examples}
    assert ("rd_expense", "fiscal_year=2016") in strata
    example = next(e for e in drifted[0].examples if e["stratum"] == "fiscal_year=2016")
    assert example["previous"] - example["current"] == pytest.approx(9.2103, abs=1e-3)  # ln 10^4
    assert "against previous vintage 2024-06" in drifted[0].message(outcome.table)


def test_fraction_for_percent_message_quotes_the_median(base, tmp_path):
    folder = copy_vintage(base[0], tmp_path / "landing" / "2024-09")
    MUTATIONS_BY_NAME["top1_share_as_fraction"].apply(folder)
    outcome = _judge(base, tmp_path, folder, "governance")
    (failure,) = [f for f in outcome.failures if f.rule == "expect_column_median_to_be_between"]
    message = failure.message(outcome.table)
    assert "top1_share_pct" in message and "looks like a fraction (0-1) where the contract says percent" in message
    observed = float(message.split("observed ")[1].split(";")[0])
    assert 0.2 < observed < 0.5


def _university_mapped(folder: Path) -> None:
    def add(frame: pd.DataFrame) -> pd.DataFrame:
        extra = frame.iloc[:1].copy()
        extra["applicant_name"] = "华东理工大学"
        extra["relation"] = "subsidiary"
        return pd.concat([frame, extra], ignore_index=True)

    edit("applicant_firm_map", add)(folder)


def test_a_university_in_the_applicant_map_is_a_warning_that_can_be_acknowledged(base, tmp_path):
    folder = copy_vintage(base[0], tmp_path / "landing" / "2024-09")
    _university_mapped(folder)
    outcome = _judge(base, tmp_path, folder, "applicant_firm_map")
    assert outcome.success, "a warning does not refuse the vintage"
    (warning,) = outcome.failures
    assert (warning.severity, warning.check, warning.unexpected_count) == ("warning", "applicant_map_non_subsidiary", 1)
    assert warning.examples[0]["applicant_name"] == "华东理工大学"

    asset = AssetKey(["raw", "applicant_firm_map"])
    (raised,) = outcome_alerts(outcome, "2024-09", asset)
    assert raised.severity == "warning" and raised.message.startswith("WARNING (published; acknowledge it in data/acknowledged_warnings.yaml with "
                                                                     "'2024-09': [applicant_map_non_subsidiary])")
    (acknowledged,) = outcome_alerts(outcome, "2024-09", asset, ("applicant_map_non_subsidiary",))
    assert acknowledged.message.startswith("WARNING (acknowledged for vintage 2024-09)")


def test_the_clean_applicant_map_raises_no_warning(base, tmp_path):
    folder = copy_vintage(base[0], tmp_path / "landing" / "2024-09")
    assert not _judge(base, tmp_path, folder, "applicant_firm_map").failures


def test_acknowledgements_file_reaches_every_quality_check_of_that_vintage_only(tmp_path, monkeypatch):
    from dagster_project.publish.runs import ACKNOWLEDGEMENTS_FILE, QUALITY_CHECK_OPS, run_config_for

    monkeypatch.setenv("NQP_DATA_DIR", str(tmp_path))
    assert "ops" not in run_config_for("2025-06")
    (tmp_path / ACKNOWLEDGEMENTS_FILE).write_text("'2025-06': [applicant_map_non_subsidiary]\n", encoding="utf-8")
    ops = run_config_for("2025-06")["ops"]
    assert set(ops) == set(QUALITY_CHECK_OPS) and len(QUALITY_CHECK_OPS) == 7
    assert ops["raw__applicant_firm_map_gx_raw_applicant_firm_map"]["config"] == {
        "acknowledged_warnings": {"2025-06": ["applicant_map_non_subsidiary"]}}
    assert "ops" not in run_config_for("2025-09"), "an acknowledgement holds for its vintage only"
    (tmp_path / ACKNOWLEDGEMENTS_FILE).write_text("- applicant_map_non_subsidiary\n", encoding="utf-8")
    with pytest.raises(ValueError, match="mapping of vintage id to a list of rules"):
        run_config_for("2025-06")
