"""Suite for ``raw.applicant_firm_map``: which applicant names belong to which listed firm."""

from __future__ import annotations

import duckdb
import pandas as pd

from dagster_project.raw_contract import APPLICANT_FIRM_MAP
from expectations.config import QualityTolerances
from expectations.raw_common import (
    VintageFacts,
    add_contract_rules,
    add_row_count_rule,
    add_stock_code_rules,
    add_text_rules,
    read_frame,
)

TABLE = APPLICANT_FIRM_MAP
RELATIONS = ("parent", "subsidiary")


def batch(conn: duckdb.DuckDBPyConnection, facts: VintageFacts) -> pd.DataFrame:
    return read_frame(
        conn,
        "select * exclude (loaded_at) from raw.applicant_firm_map where vintage_id = ? order by source_row", [facts.vintage_id]
    )


def suite(facts: VintageFacts, tolerances: QualityTolerances):
    import great_expectations as gx

    built = gx.ExpectationSuite(name="raw_applicant_firm_map")
    add_contract_rules(built, TABLE)
    add_row_count_rule(built, TABLE, facts, tolerances)
    add_stock_code_rules(built, facts=facts)
    built.add_expectation(gx.expectations.ExpectColumnValuesToBeInSet(column="relation", value_set=list(RELATIONS)))
    add_text_rules(built, ("applicant_name",))
    return built
