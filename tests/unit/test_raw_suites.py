"""The raw suites are generated from the contract: a new column gets its rules, and the fast paths change no outcome."""

from __future__ import annotations

import dataclasses
from datetime import date

import duckdb
import pandas as pd

from expectations.raw import long_text_columns, raw_suite
from expectations.raw_common import LINEAGE, MOJIBAKE_PATTERN, VintageFacts, read_frame
from expectations.raw_rules import EARLIEST_DATE
from expectations.runner import validate_frame
from nqp_core.contract import FINANCIALS, FIRMS, Column

FACTS = VintageFacts(
    vintage_id="2024-06", reference_date=date(2024, 6, 30), previous_vintage_id=None, previous_row_counts={},
    previous_max_year={}, max_year={"financials": 2023}, firm_codes=("000001", "600000"),
)
NEW_COLUMNS = (
    Column("goodwill", "DOUBLE", "yuan (CNY)", "Goodwill at year end", "FS_Combas.A001220000"),
    Column("audit_date", "DATE", "date", "Date of the audit report", "FIN_Audit.Audtdt"),
    Column("auditor_name", "VARCHAR", "-", "Audit firm", "FIN_Audit.Auditor", nullable=True),
)


def _rules(suite) -> dict[str, set[tuple]]:
    """column -> {(expectation type, its arguments other than the column, as text)}."""
    by_column: dict[str, set[tuple]] = {}
    for configuration in suite.expectation_configurations:
        kwargs = dict(configuration.kwargs)
        column = kwargs.pop("column", None)
        if column is not None:
            kwargs.pop("batch_id", None)
            by_column.setdefault(column, set()).add((configuration.type, _arguments(**kwargs)))
    return by_column


def _arguments(**kwargs) -> tuple[str, ...]:
    return tuple(sorted(f"{key}={pd.Timestamp(value) if key.endswith('_value') and not isinstance(value, (int, float)) else float(value) if key.endswith('_value') else value}"
                        for key, value in kwargs.items()))


def test_a_column_added_to_the_contract_gets_the_rules_of_its_type_unit_and_nullability():
    extended = dataclasses.replace(FINANCIALS, columns=(*FINANCIALS.columns, *NEW_COLUMNS))
    before, after = _rules(raw_suite(FINANCIALS, FACTS, _tolerances())), _rules(raw_suite(extended, FACTS, _tolerances()))
    assert {c: after[c] for c in before} == before  # the existing columns keep exactly their rules
    goodwill, audit, auditor = (after[c.name] for c in NEW_COLUMNS)
    assert {rule for rule, _ in goodwill} == {"expect_column_values_to_not_be_null", "expect_column_values_to_be_between"}
    assert ("expect_column_values_to_be_between", _arguments(min_value=0)) in goodwill  # an amount: not negative
    assert ("expect_column_values_to_be_between", _arguments(
        min_value=pd.Timestamp(EARLIEST_DATE), max_value=pd.Timestamp(FACTS.reference_date))) in audit
    assert auditor == {("expect_string_column_values_to_not_match_regex", _arguments(regex=MOJIBAKE_PATTERN))}
    column_set = next(c for c in raw_suite(extended, FACTS, _tolerances()).expectation_configurations
                      if c.type == "expect_table_columns_to_match_set")
    assert set(column_set.kwargs["column_set"]) == {*FINANCIALS.column_names, *(c.name for c in NEW_COLUMNS), *LINEAGE}


def _tolerances():
    from expectations.config import DEFAULT_TOLERANCES

    return DEFAULT_TOLERANCES


def _firms_frame() -> pd.DataFrame:
    frame = pd.DataFrame({
        "stock_code": ["000001", "600000", "600000", "30075"],
        "firm_name": ["平安银行", "浦发银行", "æµ¦å\x8f\x91é\x93¶è¡\x8c", None],
        "province_code": ["440000", "310000", "310000", "990000"],
        "industry_code": ["J66", "J66", "J66", "C39"],
        "incorporation_date": pd.to_datetime(["1987-12-22", "1992-10-19", "1992-10-19", "2011-12-16"]),
        "listing_date": pd.to_datetime(["1991-04-03", "1999-11-10", "1999-11-10", "2018-06-11"]),
        "delisting_date": pd.to_datetime([None, None, None, "2010-01-01"]),
        "vintage_id": "2024-06", "source_file": "2024-06/firms.parquet", "source_row": [1, 2, 3, 4],
    })
    return frame.astype({"firm_name": pd.StringDtype("pyarrow"), "stock_code": pd.StringDtype("pyarrow")})


def test_long_texts_on_frames_of_their_own_give_the_same_outcome():
    frame = _firms_frame()

    def outcome(own_frame_columns):
        return validate_frame(frame, "raw.firms", lambda: raw_suite(FIRMS, FACTS, _tolerances()),
                              ("source_file", "source_row", "stock_code"), own_frame_columns)

    whole, apart = outcome(()), outcome(long_text_columns(FIRMS))
    assert long_text_columns(FIRMS) == ("firm_name",)
    assert whole == apart
    rules = {(f.rule, f.columns) for f in apart.failures}
    # the text column's own rules (null, mojibake) and the rules on the rest are all there
    assert {("expect_column_values_to_not_be_null", ("firm_name",)),
            ("expect_string_column_values_to_not_match_regex", ("firm_name",)),
            ("expect_column_values_to_be_unique", ("stock_code",)),
            ("expect_column_values_to_match_regex", ("stock_code",))} <= rules
    mojibake = next(f for f in apart.failures if f.rule == "expect_string_column_values_to_not_match_regex")
    assert mojibake.examples == ({"source_file": "2024-06/firms.parquet", "source_row": 3, "stock_code": "600000",
                                  "firm_name": frame.loc[2, "firm_name"]},)


def test_dates_beyond_the_nanosecond_range_are_read_and_judged():
    with duckdb.connect() as conn:
        frame = read_frame(conn, "select * from (values (date '2024-01-31'), (date '2500-01-01')) as t(d)", [])
        recent = read_frame(conn, "select date '2024-01-31' as d", [])
    assert str(recent["d"].dtype) == "datetime64[ns]"  # compared vectorised by GX
    assert frame["d"].max() > pd.Timestamp(FACTS.reference_date)  # not wrapped around: still after the vintage date
