"""Suite for ``raw.firms``: one row per listed company of the vintage."""

from __future__ import annotations

import duckdb
import pandas as pd

from nqp_core.contract import FIRMS
from expectations.config import QualityTolerances
from expectations.raw_common import (
    EARLIEST_INCORPORATION,
    EARLIEST_LISTING,
    VintageFacts,
    add_contract_rules,
    add_row_count_rule,
    add_stock_code_rules,
    add_text_rules,
    known_industry_codes,
    known_province_codes,
    read_frame,
)

TABLE = FIRMS


def batch(conn: duckdb.DuckDBPyConnection, facts: VintageFacts) -> pd.DataFrame:
    return read_frame(
        conn,
        "select * exclude (loaded_at) from raw.firms where vintage_id = ? order by source_row", [facts.vintage_id]
    )


def suite(facts: VintageFacts, tolerances: QualityTolerances):
    import great_expectations as gx

    expect = gx.expectations
    built = gx.ExpectationSuite(name="raw_firms")
    add_contract_rules(built, TABLE)
    add_row_count_rule(built, TABLE, facts, tolerances)
    add_stock_code_rules(built)
    built.add_expectation(expect.ExpectColumnValuesToBeInSet(column="province_code", value_set=known_province_codes()))
    built.add_expectation(expect.ExpectColumnValuesToBeInSet(column="industry_code", value_set=known_industry_codes()))
    add_text_rules(built, ("firm_name",))
    reference = pd.Timestamp(facts.reference_date)
    for column, earliest in (
        ("incorporation_date", EARLIEST_INCORPORATION),
        ("listing_date", EARLIEST_LISTING),
        ("delisting_date", EARLIEST_LISTING),
    ):
        built.add_expectation(
            expect.ExpectColumnValuesToBeBetween(column=column, min_value=pd.Timestamp(earliest), max_value=reference)
        )
    # A company is incorporated before it lists and lists before it delists.
    for later, earlier in (("listing_date", "incorporation_date"), ("delisting_date", "listing_date")):
        built.add_expectation(
            expect.ExpectColumnPairValuesAToBeGreaterThanB(
                column_A=later, column_B=earlier, or_equal=True, ignore_row_if="either_value_is_missing"
            )
        )
    return built
