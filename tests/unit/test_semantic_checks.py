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

from nqp_core.loader import load_vintage
from dagster_project.defs.quality.checks import outcome_alerts
from synthetic.next_vintage import generate_next_vintage
from synthetic.vintage import generate_vintage
from expectations import raw_patents
from expectations.config import DEFAULT_TOLERANCES
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
    from dagster_project.defs.publish.runs import ACKNOWLEDGEMENTS_FILE, QUALITY_CHECK_OPS, run_config_for

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


def _ai_measure_failure(base, tmp_path, change) -> tuple:
    folder = copy_vintage(base[0], tmp_path / "landing" / "2024-09")
    edit("patents", change)(folder)
    outcome = _judge(base, tmp_path, folder, "patents")
    failures = [f for f in outcome.failures if f.check == "ai_keyword_vs_ipc"]
    return outcome, failures


def test_keyword_and_ipc_ai_shares_agree_on_the_clean_vintage_and_match_a_python_count(base, tmp_path):
    keywords = raw_patents._seed_values("ai_keywords", "keyword_zh")
    prefixes = raw_patents._seed_values("ai_ipc_groups", "ipc_prefix")
    frame = read_table(base[0], "patents")
    year = frame["application_date"].map(lambda d: d.year)
    # independent implementation: plain substring and prefix tests, as int_patents_classified defines the flags
    by_keyword = [any(k in (t or "") or k in (a or "") for k in keywords)
                  for t, a in zip(frame["title"], frame["abstract"], strict=True)]
    by_ipc = [any(code.strip().startswith(p) for code in codes.split(";") for p in prefixes)
              for codes in frame["ipc_codes"]]
    expected = pd.DataFrame({"year": year, "kw": by_keyword, "ipc": by_ipc}).groupby("year").mean()
    with duckdb.connect(str(base[1]), read_only=True) as conn:
        measures = raw_patents.ai_measure_frame(conn, collect_facts(conn, base[0].name), DEFAULT_TOLERANCES)
    measures["year"] = measures["stratum"].str.removeprefix("application_year=").astype(int)
    measures = measures.set_index("year")
    assert measures["keyword_share"].to_numpy() == pytest.approx(expected.loc[measures.index, "kw"].to_numpy())
    assert measures["ipc_share"].to_numpy() == pytest.approx(expected.loc[measures.index, "ipc"].to_numpy())
    factor = DEFAULT_TOLERANCES.ai_keyword_ipc_max_factor
    assert measures["keyword_to_ipc_ratio"].notna().all()
    assert measures["keyword_to_ipc_ratio"].between(1 / factor, factor).all()


def test_ipc_codes_matching_no_ai_group_fail_naming_both_shares(base, tmp_path):
    def no_ai_ipc(frame: pd.DataFrame) -> None:
        frame["ipc_codes"] = "A01B 1/00"  # well-formed, so only the AI measures can notice

    outcome, failures = _ai_measure_failure(base, tmp_path, no_ai_ipc)
    (failure,) = failures
    message = failure.message(outcome.table)
    assert "keyword_to_ipc_ratio" in message and "ipc_share 0 means ipc_codes match no AI IPC group" in message
    example = failure.examples[0]
    assert example["stratum"].startswith("application_year=")
    assert example["ipc_share"] == 0 and example["keyword_share"] > 0.1
    assert f"keyword_share={float(example['keyword_share'])!r}, ipc_share=0.0" in message


def test_titles_and_abstracts_matching_no_keyword_fail_naming_both_shares(base, tmp_path):
    def boilerplate_texts(frame: pd.DataFrame) -> None:
        frame["title"] = "一种连接装置"
        frame["abstract"] = "本发明公开了一种连接装置，包括底座和支架。"

    outcome, failures = _ai_measure_failure(base, tmp_path, boilerplate_texts)
    (failure,) = failures
    message = failure.message(outcome.table)
    assert "keyword_share 0 means titles and abstracts match no keyword" in message
    example = failure.examples[0]
    assert example["keyword_share"] == 0 and example["ipc_share"] > 0.1
    assert failure.unexpected_count == outcome_years(base)


def outcome_years(base) -> int:
    with duckdb.connect(str(base[1]), read_only=True) as conn:
        return conn.execute(
            "select count(*) from (select year(application_date) from raw.patents group by all having count(*) >= ?)",
            [DEFAULT_TOLERANCES.ai_measure_min_year_patents]).fetchone()[0]


def test_abstracts_alone_in_traditional_script_fail_the_script_check(base, tmp_path):
    import opencc

    to_traditional = opencc.OpenCC("s2t")
    folder = copy_vintage(base[0], tmp_path / "landing" / "2024-09")

    def traditional_abstracts(frame: pd.DataFrame) -> None:
        frame["abstract"] = frame["abstract"].map(to_traditional.convert)

    edit("patents", traditional_abstracts)(folder)
    outcome = _judge(base, tmp_path, folder, "patents")
    (failure,) = [f for f in outcome.failures if f.check == "patent_text_script"]
    assert "in_traditional_script" in failure.message(outcome.table)


def _zero_rd_lease_in_2016(frame: pd.DataFrame) -> None:
    frame.loc[frame["fiscal_year"] == 2016, "rd_lease"] = 0.0


def test_a_column_turning_all_zero_is_a_zero_share_change_not_an_infinite_log_shift(base, tmp_path):
    """No positive value left: the log location is undefined (NaN), so only the zero share judges it."""
    folder = copy_vintage(base[0], tmp_path / "landing" / "2024-09")
    edit("financials", _zero_rd_lease_in_2016)(folder)
    outcome = _judge(base, tmp_path, folder, "financials")
    flagged = {(f.check, e["column"], e["stratum"]) for f in outcome.failures for e in f.examples}
    assert ("drift_zero_share", "rd_lease", "fiscal_year=2016") in flagged, flagged
    # (the province strata pool every year, so their log IQR of rd_lease does move for real)
    assert not [key for key in flagged if key[0] in ("drift_ln_median", "drift_ln_iqr")
                and key[2] == "fiscal_year=2016"], flagged
