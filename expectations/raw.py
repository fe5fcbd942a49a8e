"""The raw-table suites, generated from the contract, and how to run them on one vintage.

``raw_suite(table, facts, tolerances)`` builds the Great Expectations suite of one raw
table from the contract's columns and :mod:`expectations.raw_rules` (the defaults every
type, unit and nullability gives, and the declared patterns, code lists and ranges), plus
the table's own rules (:data:`TABLE_RULES`). ``validate_raw_vintage(conn, vintage_id)`` is
what the blocking asset checks on ``raw/<table>`` run right after ingest
(``dagster_project/defs/quality/checks.py``) and what the fault-corpus tests call directly; it
needs only a DuckDB connection holding ``raw``.
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Callable

import duckdb
import pandas as pd

from nqp_core.contract import FIRMS, RAW_TABLES, RAW_TABLES_BY_NAME, Column, RawTable
from nqp_core.reference import load_reference_data
from expectations import drift, raw_financials, raw_patents
from expectations.config import DEFAULT_TOLERANCES, QualityTolerances
from expectations.raw_common import (
    EXAMPLE_LINEAGE,
    LINEAGE,
    MOJIBAKE_PATTERN,
    VintageFacts,
    collect_facts,
    read_frame,
)
from expectations.raw_rules import (
    COLUMN_RULES,
    EARLIEST_DATE,
    FIRST_YEARS,
    INDUSTRY_CODES,
    PROVINCE_CODES,
    SIGNED_AMOUNTS,
    ColumnRules,
    applicant_map_rules,
    governance_rules,
)
from expectations.runner import SuiteOutcome, gx_context, validate_frame

RAW_SUITES: dict[str, RawTable] = {table.name: table for table in RAW_TABLES}

# Rules of one table beyond its columns' (identities, unit plausibility, derived flags).
TABLE_RULES: dict[str, Callable[[VintageFacts, QualityTolerances], list]] = {
    "financials": raw_financials.rules,
    "governance": governance_rules,
    "patents": raw_patents.rules,
    "applicant_firm_map": applicant_map_rules,
}
# Tables whose batch carries derived columns for their rules; the others are read as loaded.
BATCHES: dict[str, Callable[[duckdb.DuckDBPyConnection, VintageFacts], pd.DataFrame]] = {
    "financials": raw_financials.batch,
    "patents": raw_patents.batch,
}
UNIT_RANGES: dict[str, tuple[float | None, float | None]] = {
    "yuan (CNY)": (0, None), "persons": (0, None), "percent (0-100)": (0, 100),
}


def batch(conn: duckdb.DuckDBPyConnection, table: RawTable, facts: VintageFacts) -> pd.DataFrame:
    """The rows of ``raw.<table>`` in the vintage, in file order, as the suite reads them."""
    if table.name in BATCHES:
        return BATCHES[table.name](conn, facts)
    return read_frame(
        conn, f"select * exclude (loaded_at) from raw.{table.name} where vintage_id = ? order by source_row",
        [facts.vintage_id],
    )


def column_rules(column: Column) -> ColumnRules:
    return COLUMN_RULES.get(column.name, ColumnRules())


def is_free_text(column: Column) -> bool:
    rules = column_rules(column)
    if rules.free_text is not None:
        return rules.free_text
    return column.dtype == "VARCHAR" and rules.pattern is None and rules.codes is None


def long_text_columns(table: RawTable) -> tuple[str, ...]:
    """Text that is neither a code nor of a fixed pattern: free text, and lists judged in SQL (ipc_codes)."""
    return tuple(
        c.name for c in table.columns
        if c.dtype == "VARCHAR" and column_rules(c).pattern is None and column_rules(c).codes is None
    )


def _code_list(codes: tuple[str, ...] | str) -> list[str]:
    reference = load_reference_data()
    named = {PROVINCE_CODES: reference.province_codes, INDUSTRY_CODES: reference.industry_codes}
    return list(named[codes]) if isinstance(codes, str) else list(codes)


def _between(column: str, low, high, **kwargs):
    import great_expectations as gx

    bounds = {key: value for key, value in (("min_value", low), ("max_value", high)) if value is not None}
    return gx.expectations.ExpectColumnValuesToBeBetween(column=column, **bounds, **kwargs)


def _column_expectations(table: RawTable, column: Column, facts: VintageFacts) -> list:
    """A column's rules from its type, unit and name (raw_rules module docstring) and its declared rules."""
    import great_expectations as gx

    from expectations.custom import ExpectStringColumnValuesToNotMatchRegex

    expect = gx.expectations
    rules = column_rules(column)
    built = []
    if rules.pattern is not None:
        built.append(expect.ExpectColumnValuesToMatchRegex(column=column.name, regex=rules.pattern))
    if rules.codes is not None:
        built.append(expect.ExpectColumnValuesToBeInSet(column=column.name, value_set=_code_list(rules.codes)))
    if column.name in FIRMS.key and table is not FIRMS:  # a firm of this vintage's firms file
        built.append(expect.ExpectColumnValuesToBeInSet(column=column.name, value_set=list(facts.firm_codes)))
    if column.name == "fiscal_year":  # statements of year Y are out in the first four months of Y+1
        built.append(_between(column.name, FIRST_YEARS[table.name][1], facts.last_statement_year))
    value_range = rules.value_range or (
        None if column.name in SIGNED_AMOUNTS else UNIT_RANGES.get(column.unit))
    if value_range is not None:
        built.append(_between(column.name, *value_range))
    if column.dtype == "DATE":
        built.append(_between(column.name, pd.Timestamp(rules.earliest or EARLIEST_DATE),
                              pd.Timestamp(facts.reference_date)))
    for lower in rules.at_least:
        built.append(expect.ExpectColumnPairValuesAToBeGreaterThanB(
            column_A=column.name, column_B=lower, or_equal=True, ignore_row_if="either_value_is_missing"))
    if is_free_text(column):
        # decoded as UTF-8 (no replacement characters) and not double-decoded (no Latin-1 mojibake)
        built.append(ExpectStringColumnValuesToNotMatchRegex(column=column.name, regex=MOJIBAKE_PATTERN))
    return built


def raw_suite(table: RawTable, facts: VintageFacts, tolerances: QualityTolerances):
    """The suite of ``raw.<table>``: the contract's shape, each column's rules, then the table's own rules."""
    import great_expectations as gx

    gx_context()  # GX builds suites against the active context
    expect = gx.expectations
    suite = gx.ExpectationSuite(name=f"raw_{table.name}")
    expectations = [
        expect.ExpectTableColumnsToMatchSet(column_set=[*table.column_names, *LINEAGE], exact_match=False),
        expect.ExpectTableRowCountToBeBetween(min_value=1),
        expect.ExpectColumnValuesToBeUnique(column=table.key[0]) if len(table.key) == 1
        else expect.ExpectCompoundColumnsToBeUnique(column_list=list(table.key)),
        *(expect.ExpectColumnValuesToNotBeNull(column=c.name) for c in table.columns if not c.nullable),
    ]
    previous = facts.previous_row_counts.get(table.name)
    if previous:  # history is revised, not deleted; nothing to compare on a first vintage
        expectations.append(expect.ExpectTableRowCountToBeBetween(
            min_value=int(previous * tolerances.row_count_min_ratio),
            max_value=int(previous * tolerances.row_count_max_ratio) + 1,
            meta={"rule": "row_count_vs_previous_vintage", "previous_vintage": facts.previous_vintage_id,
                  "previous_rows": previous},
        ))
    for column in table.columns:
        expectations += _column_expectations(table, column, facts)
    if table.name in FIRST_YEARS:  # every year from the first to the last covered, here or in the previous vintage
        year_column, first = FIRST_YEARS[table.name]
        last = max(facts.max_year.get(table.name, first), facts.previous_max_year.get(table.name, first))
        expectations.append(expect.ExpectColumnDistinctValuesToContainSet(
            column=year_column, value_set=list(range(first, last + 1))))
    if table.name in TABLE_RULES:
        expectations += TABLE_RULES[table.name](facts, tolerances)
    for expectation in expectations:
        suite.add_expectation(expectation)
    return suite


def validate_raw_table(
    conn: duckdb.DuckDBPyConnection, table: str, facts: VintageFacts, tolerances: QualityTolerances = DEFAULT_TOLERANCES
) -> SuiteOutcome:
    """Run the suite of ``raw.<table>`` on the rows of ``facts.vintage_id``.

    The outcome's ``table`` names the delivered file too ('raw.financials (2024-09/financials.parquet)'),
    so every failure message points at the file an analyst must open.
    """
    contract = RAW_TABLES_BY_NAME[table]
    frame = batch(conn, contract, facts)
    files = sorted(frame["source_file"].dropna().unique()) if "source_file" in frame else []
    # An empty table has no row to carry its file name (lineage is per row): name the vintage instead.
    display = f"raw.{table} ({', '.join(files)})" if files else f"raw.{table} (vintage {facts.vintage_id}, no rows)"
    outcome = validate_frame(
        frame, display, functools.partial(raw_suite, contract, facts, tolerances),
        (*EXAMPLE_LINEAGE, *contract.key), long_text_columns(contract),
    )
    if facts.previous_vintage_id is not None and table in drift.STRATA:
        strata = drift.drift_frame(conn, table, facts, tolerances)
        drifted = validate_frame(strata, f"{display} strata", functools.partial(drift.suite, facts, tolerances, table),
                                 drift.KEY_COLUMNS)
        outcome = dataclasses.replace(outcome, evaluated=outcome.evaluated + drifted.evaluated,
                                      failures=outcome.failures + drifted.failures)
    if table == "patents":
        measures = raw_patents.ai_measure_frame(conn, facts, tolerances)
        judged = validate_frame(measures, f"{display} AI measures",
                                functools.partial(raw_patents.ai_measure_suite, tolerances),
                                raw_patents.AI_MEASURE_KEY_COLUMNS)
        outcome = dataclasses.replace(outcome, evaluated=outcome.evaluated + judged.evaluated,
                                      failures=outcome.failures + judged.failures)
    return dataclasses.replace(outcome, source_files=tuple(files))


def validate_raw_vintage(
    conn: duckdb.DuckDBPyConnection, vintage_id: str, tolerances: QualityTolerances = DEFAULT_TOLERANCES
) -> dict[str, SuiteOutcome]:
    """Every raw suite on one vintage, keyed by table name."""
    facts = collect_facts(conn, vintage_id)
    return {table: validate_raw_table(conn, table, facts, tolerances) for table in RAW_SUITES}
