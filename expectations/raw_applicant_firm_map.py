"""Suite for ``raw.applicant_firm_map``: which applicant names belong to which listed firm."""

from __future__ import annotations

import duckdb
import pandas as pd

from nqp_core.contract import APPLICANT_FIRM_MAP
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
# Applicants that cannot be a listed firm or its subsidiary: universities, research
# institutes, academies, hospitals (public institutions), and individuals (a bare name of
# two or three Han characters, no organisational suffix). Co-applicants of this kind are
# common in CNIPA data; mapped to a firm they credit it with someone else's patents.
NON_SUBSIDIARY_PATTERN = r"(?:大学|学院|研究院|研究所|科学院|研究中心|医院)|^[\u4e00-\u9fff]{2,3}$"


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
    built.add_expectation(
        gx.expectations.ExpectColumnValuesToNotMatchRegex(
            column="applicant_name", regex=NON_SUBSIDIARY_PATTERN,
            meta={"severity": "warning", "rule": "applicant_map_non_subsidiary",
                  "why": "a university, research institute, hospital or individual mapped to a listed firm; "
                         "check the subsidiary list it came from"},
        )
    )
    return built
