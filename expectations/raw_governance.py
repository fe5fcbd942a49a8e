"""Suite for ``raw.governance``: ownership and board at year end, one row per firm and fiscal year."""

from __future__ import annotations

import duckdb
import pandas as pd

from nqp_core.contract import GOVERNANCE
from expectations.config import QualityTolerances
from expectations.raw_common import VintageFacts, add_contract_rules, add_firm_year_rules, read_frame

TABLE = GOVERNANCE
FIRST_YEAR = 2015  # governance starts with the sample (docs/raw_data.md)
# PRC Company Law (art. 108, 2018 text): a joint-stock company's board has 5 to 19 directors.
BOARD_SIZE_RANGE = (5, 19)


def batch(conn: duckdb.DuckDBPyConnection, facts: VintageFacts) -> pd.DataFrame:
    return read_frame(
        conn,
        "select * exclude (loaded_at) from raw.governance where vintage_id = ? order by source_row", [facts.vintage_id]
    )


def suite(facts: VintageFacts, tolerances: QualityTolerances):
    import great_expectations as gx

    expect = gx.expectations
    built = gx.ExpectationSuite(name="raw_governance")
    add_contract_rules(built, TABLE)
    add_firm_year_rules(built, TABLE, FIRST_YEAR, facts, tolerances)
    built.add_expectation(expect.ExpectColumnValuesToBeBetween(column="top1_share_pct", min_value=0, max_value=100))
    # Each value of a fraction (0-1) is a valid percent too; only the column as a whole gives it away.
    built.add_expectation(
        expect.ExpectColumnMedianToBeBetween(
            column="top1_share_pct", min_value=tolerances.min_median_share_pct,
            meta={"why": "looks like a fraction (0-1) where the contract says percent (0-100): multiply by 100"},
        )
    )
    low, high = BOARD_SIZE_RANGE
    built.add_expectation(expect.ExpectColumnValuesToBeBetween(column="board_size", min_value=low, max_value=high))
    built.add_expectation(expect.ExpectColumnValuesToBeBetween(column="independent_directors", min_value=0))
    built.add_expectation(
        expect.ExpectColumnPairValuesAToBeGreaterThanB(
            column_A="board_size", column_B="independent_directors", or_equal=True, ignore_row_if="either_value_is_missing"
        )
    )
    return built
