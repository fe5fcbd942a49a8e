"""The marts suite's vintage-aware rules: winsorization bounds and the size of the sample against the last one."""

from __future__ import annotations

import duckdb
import numpy as np
import pandas as pd
import pytest

from expectations.config import QualityTolerances
from expectations.marts import (
    INDICATORS,
    KEY_COLUMNS,
    MODEL_VARIABLES,
    WINSORIZED,
    MartFacts,
    collect_mart_facts,
    fct_firm_years_suite,
)
from expectations.runner import validate_frame

QUANTILE_TOLERANCE = 1e-12  # DuckDB quantile_cont and numpy's default quantile are both Hyndman-Fan type 7


@pytest.fixture(scope="module")
def unwinsorized() -> pd.DataFrame:
    rng = np.random.default_rng(3)
    n = 400
    frame = pd.DataFrame({name: rng.lognormal(-1.5, 0.6, n) for name in WINSORIZED})
    frame["size"] = rng.normal(22.3, 1.2, n)
    frame["stock_code"] = [f"{600000 + i // 4:06d}" for i in range(n)]
    frame["fiscal_year"] = [2015 + i % 4 for i in range(n)]
    frame["is_in_sample"] = np.arange(n) % 10 != 0  # a tenth filtered out: not part of the bounds
    frame["vintage_id"] = "2024-06"
    return frame


@pytest.fixture(scope="module")
def facts(unwinsorized) -> MartFacts:
    with duckdb.connect() as conn:
        conn.execute("create schema intermediate")
        conn.register("frame", unwinsorized)
        conn.execute("create table intermediate.int_firm_years_filtered as select * from frame")
        return collect_mart_facts(conn, "2024-06", "2023-12", 360)


def _winsorized_sample(unwinsorized: pd.DataFrame, facts: MartFacts) -> pd.DataFrame:
    sample = unwinsorized[unwinsorized["is_in_sample"]].reset_index(drop=True).copy()
    for name, (low, high) in facts.winsor_bounds.items():
        sample[name] = sample[name].clip(low, high)
    sample["province_code"], sample["region"], sample["industry_code"] = "110000", "east", "C39"
    for name in (*MODEL_VARIABLES, *INDICATORS, "human_capital"):
        if name not in sample:  # varying, as every model variable of a real sample does
            sample[name] = 0.3 + 0.4 * (np.arange(len(sample)) % 7) / 7
    sample["ai_did"] = (sample["ai"] > sample["ai"].mean()).astype(int)
    sample["both"] = np.arange(len(sample)) % 5 == 0
    for name in ("roa", "top1", "lev", "inde", "human_capital", *INDICATORS):
        sample[name] = sample[name].clip(upper=0.95)
    return sample


def test_bounds_are_the_pooled_percentiles_of_the_sample(unwinsorized, facts):
    in_sample = unwinsorized[unwinsorized["is_in_sample"]]
    assert set(facts.winsor_bounds) == set(WINSORIZED)
    for name, (low, high) in facts.winsor_bounds.items():
        expected = np.quantile(in_sample[name], [0.01, 0.99])  # numpy default: linear, type 7
        assert abs(low - expected[0]) < QUANTILE_TOLERANCE and abs(high - expected[1]) < QUANTILE_TOLERANCE


def _outcome(frame, facts, tolerances=QualityTolerances()):
    return validate_frame(frame, "marts.fct_firm_years", lambda: fct_firm_years_suite(facts, tolerances), KEY_COLUMNS)


def test_a_properly_winsorized_sample_of_similar_size_passes(unwinsorized, facts):
    outcome = _outcome(_winsorized_sample(unwinsorized, facts), facts)
    assert outcome.success, [f.message("t") for f in outcome.failures]


def test_an_unwinsorized_variable_fails_its_bounds(unwinsorized, facts):
    sample = _winsorized_sample(unwinsorized, facts)
    sample["ln_output"] = unwinsorized.loc[unwinsorized["is_in_sample"], "ln_output"].to_numpy()  # clip skipped
    failures = [f for f in _outcome(sample, facts).failures if f.columns == ("ln_output",)]
    assert len(failures) == 1 and failures[0].rule == "expect_column_values_to_be_between"
    # 1% of 360 rows lie below the 1st percentile and 1% above the 99th: 4 + 4 (rounding up).
    assert failures[0].unexpected_count == 8


def test_a_shrunken_sample_fails_against_the_published_one(unwinsorized, facts):
    sample = _winsorized_sample(unwinsorized, facts).iloc[:300]  # 300 of the 360 published: -17%
    failures = [f for f in _outcome(sample, facts).failures if f.rule == "expect_table_row_count_to_be_between"]
    assert len(failures) == 1 and failures[0].unexpected_count == int(360 * 0.9) - 300
    looser = QualityTolerances(marts_row_count_min_ratio=0.8)
    assert not [f for f in _outcome(sample, facts, looser).failures if f.rule == "expect_table_row_count_to_be_between"]


def test_a_constant_model_variable_is_named_with_its_raw_cause(unwinsorized, facts):
    """Instead of a LinAlgError inside an estimator: the check names the variable and the raw column."""
    sample = _winsorized_sample(unwinsorized, facts)
    sample["ai_patent"] = 0.0
    failures = [f for f in _outcome(sample, facts).failures if f.rule == "expect_column_stdev_to_be_between"]
    assert [f.columns for f in failures] == [("ai_patent",)]
    message = failures[0].message("marts.fct_firm_years")
    assert "ai_patent is the same for every firm-year" in message
    assert "raw.patents.ipc_codes matched no AI IPC group" in message and "observed 0.0" in message
    assert failures[0].check == "constant_model_variable" and failures[0].severity == "error"
