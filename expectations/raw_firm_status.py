"""Suite for ``raw.firm_status``: special-treatment label and suspension at year end."""

from __future__ import annotations

import duckdb
import pandas as pd

from nqp_core.contract import FIRM_STATUS, STATUSES
from expectations.config import QualityTolerances
from expectations.raw_common import VintageFacts, add_contract_rules, add_firm_year_rules, read_frame

TABLE = FIRM_STATUS
FIRST_YEAR = 2015  # status starts with the sample (docs/raw_data.md)


def batch(conn: duckdb.DuckDBPyConnection, facts: VintageFacts) -> pd.DataFrame:
    return read_frame(
        conn,
        "select * exclude (loaded_at) from raw.firm_status where vintage_id = ? order by source_row", [facts.vintage_id]
    )


def suite(facts: VintageFacts, tolerances: QualityTolerances):
    import great_expectations as gx

    built = gx.ExpectationSuite(name="raw_firm_status")
    add_contract_rules(built, TABLE)
    add_firm_year_rules(built, TABLE, FIRST_YEAR, facts, tolerances)
    built.add_expectation(gx.expectations.ExpectColumnValuesToBeInSet(column="trading_status", value_set=list(STATUSES)))
    return built
