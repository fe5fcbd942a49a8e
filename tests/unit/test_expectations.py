"""The fct_firm_years suite passes a clean sample and names column, rule and rows of a bad one."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from expectations.marts import INDICATORS, KEY_COLUMNS, MODEL_VARIABLES, fct_firm_years_suite
from expectations.runner import validate_frame


@pytest.fixture(scope="module")
def clean_sample() -> pd.DataFrame:
    rng = np.random.default_rng(0)
    n = 40
    frame = pd.DataFrame(
        {
            "stock_code": [f"{600000 + i // 4:06d}" for i in range(n)],
            "fiscal_year": [2015 + i % 4 for i in range(n)],
            "province_code": "110000",
            "region": "east",
            "industry_code": "C39",
            **{column: rng.uniform(0.05, 0.9, n) for column in (*MODEL_VARIABLES, *INDICATORS, "human_capital")},
        }
    )
    frame["size"] = rng.normal(22.3, 1.2, n)
    frame["ai_did"] = (frame["ai"] > frame["ai"].mean()).astype(int)
    frame["both"] = rng.integers(0, 2, n)
    return frame


def _outcome(frame):
    return validate_frame(frame, "marts.fct_firm_years", fct_firm_years_suite, KEY_COLUMNS)


def test_clean_sample_passes(clean_sample):
    outcome = _outcome(clean_sample)
    assert outcome.success, [f.message("t") for f in outcome.failures]
    assert outcome.rows == len(clean_sample) and outcome.evaluated > 40


def test_failures_name_column_rule_count_and_rows(clean_sample):
    bad = clean_sample.copy()
    bad.loc[3, "lev"] = 1.7  # liabilities above assets: an insolvent firm leaked through
    bad.loc[5, "roa"] = np.nan
    bad.loc[7, ["stock_code", "fiscal_year"]] = bad.loc[6, ["stock_code", "fiscal_year"]].to_numpy()
    outcome = _outcome(bad)
    by_rule = {(f.rule, f.columns): f for f in outcome.failures}
    lev = by_rule[("expect_column_values_to_be_between", ("lev",))]
    assert lev.unexpected_count == 1
    assert lev.examples[0]["lev"] == 1.7 and lev.examples[0]["stock_code"] == bad.loc[3, "stock_code"]
    assert by_rule[("expect_column_values_to_not_be_null", ("roa",))].unexpected_count == 1
    assert by_rule[("expect_compound_columns_to_be_unique", KEY_COLUMNS)].unexpected_count == 2
    message = lev.message("marts.fct_firm_years")
    assert "lev" in message and "expect_column_values_to_be_between" in message and "1 row(s)" in message
    assert len(outcome.failures) == 3
