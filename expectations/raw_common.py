"""What every raw-table suite shares: the vintage's facts and the rule builders used by several tables.

A raw suite validates ``raw.<table> where vintage_id = <the run's vintage>``. Rules that
need context beyond the rows (the vintage's date, the previous vintage's row counts and
years, the firms of the vintage, the seeds' code lists) take it from
:class:`VintageFacts`, collected once per vintage with a few SQL queries.

The loader contract (``nqp_core/loader.py``) has already enforced file
presence, column names, types castable without loss and required values before any
row reaches ``raw``; the suites judge content. ``docs/data_quality.md`` lists every rule.
"""

from __future__ import annotations

import calendar
import json
import re
from dataclasses import dataclass
from datetime import date

import duckdb
import pandas as pd
import pyarrow as pa

from nqp_core.vintages import previous_vintage
from nqp_core.contract import RawTable
from nqp_core.reference import load_reference_data
from expectations.config import QualityTolerances

# Lineage columns the loader adds; examples quote source_file and source_row so a reader
# can open the delivered file at the offending line.
LINEAGE = ("vintage_id", "source_file", "source_row")
EXAMPLE_LINEAGE = ("source_file", "source_row")

# A-share codes by board: Shenzhen main board and former SME board 00xxxx (000-004 in use),
# ChiNext 30xxxx, Shanghai main board 60xxxx, STAR 68xxxx, Beijing exchange 8xxxxx / 43xxxx /
# 920xxx. B shares (200xxx, 900xxx), funds and bonds do not belong in an A-share panel.
STOCK_CODE_PATTERN = r"^(?:00|30|60|68|8\d|43|92)\d{4}$"

# Mojibake: UTF-8 bytes of Chinese text decoded as Latin-1 / cp1252 turn each character into
# a lead letter U+00C0-U+00EF ('ä', 'å', 'æ', 'ç', 'é', 'è', 'Ã') followed by a continuation
# byte shown as U+0080-U+00BF or its cp1252 glyph ('€', '¸', '­', ...). U+FFFD is the
# replacement character a decoder leaves for undecodable bytes. Neither occurs in
# well-formed Chinese names, titles or abstracts.
MOJIBAKE_PATTERN = (
    "\ufffd|[\u00c0-\u00ef][\u0080-\u00bf\u0152\u0153\u0160\u0161\u0178\u017d\u017e\u0192"
    "\u02c6\u02dc\u2013\u2014\u2018-\u201e\u2020-\u2022\u2026\u2030\u2039\u203a\u20ac\u2122]"
)

# Lower bounds of dates (docs/data_quality.md): the Shanghai exchange opened in December 1990;
# the PRC Patent Law took effect on 1 April 1985; no listed company was incorporated before 1900.
EARLIEST_LISTING = date(1990, 12, 1)
EARLIEST_PATENT_APPLICATION = date(1985, 4, 1)
EARLIEST_INCORPORATION = date(1900, 1, 1)

_VINTAGE_DATE = re.compile(r"^(\d{4})-(\d{2})")


@dataclass(frozen=True)
class VintageFacts:
    """Context a raw suite needs about its vintage and the one before it."""

    vintage_id: str
    reference_date: date  # no date in the vintage may lie after it
    previous_vintage_id: str | None
    previous_row_counts: dict[str, int]
    previous_max_year: dict[str, int]  # table -> last covered year in the previous vintage
    max_year: dict[str, int]  # table -> last covered year in this vintage
    firm_codes: tuple[str, ...]  # stock codes of raw.firms in this vintage

    @property
    def last_statement_year(self) -> int:
        """Annual statements of year Y are published in the first four months of Y+1."""
        return self.reference_date.year - 1


def vintage_reference_date(vintage_id: str, loaded_on: date) -> date:
    """The vintage's date: the end of the month its id starts with ('2024-06' -> 2024-06-30), else its load date."""
    match = _VINTAGE_DATE.match(vintage_id)
    if match and 1 <= int(match.group(2)) <= 12:
        year, month = int(match.group(1)), int(match.group(2))
        return date(year, month, calendar.monthrange(year, month)[1])
    return loaded_on


# Year column of each table whose coverage is checked (patents: the application year).
YEAR_SQL = {
    "financials": "fiscal_year",
    "governance": "fiscal_year",
    "firm_status": "fiscal_year",
    "patents": "year(application_date)",
}


def collect_facts(conn: duckdb.DuckDBPyConnection, vintage_id: str) -> VintageFacts:
    loaded = conn.execute("select cast(loaded_at as date) from raw.vintages where vintage_id = ?", [vintage_id]).fetchone()
    if loaded is None:
        raise LookupError(f"vintage {vintage_id!r} is not in raw.vintages")
    previous = previous_vintage(conn, vintage_id)

    def max_years(vintage: str) -> dict[str, int]:
        years = {}
        for table, year_sql in YEAR_SQL.items():
            value = conn.execute(f"select max({year_sql}) from raw.{table} where vintage_id = ?", [vintage]).fetchone()[0]
            if value is not None:
                years[table] = int(value)
        return years

    previous_counts: dict[str, int] = {}
    if previous is not None:
        counts_json = conn.execute("select row_counts from raw.vintages where vintage_id = ?", [previous]).fetchone()[0]
        previous_counts = {k: int(v) for k, v in json.loads(counts_json).items()}
    firm_codes = tuple(
        row[0] for row in conn.execute(
            "select distinct stock_code from raw.firms where vintage_id = ? and stock_code is not null order by 1",
            [vintage_id],
        ).fetchall()
    )
    return VintageFacts(
        vintage_id=vintage_id,
        reference_date=vintage_reference_date(vintage_id, loaded[0]),
        previous_vintage_id=previous,
        previous_row_counts=previous_counts,
        previous_max_year=max_years(previous) if previous else {},
        max_year=max_years(vintage_id),
        firm_codes=firm_codes,
    )


def read_frame(conn: duckdb.DuckDBPyConnection, sql: str, params: list) -> pd.DataFrame:
    """Rows of a query as a DataFrame with Arrow-backed strings and datetime64 dates.

    Arrow strings make the text rules (regexes over ~700,000 titles and abstracts at full
    scale) about five times faster than Python-object strings and load in a fraction of the time.
    """
    with conn.cursor() as cursor:  # a fresh cursor: the relation API refuses a connection with a pending result
        table = cursor.sql(sql, params=params).to_arrow_table()
    return table.to_pandas(
        date_as_object=False,
        types_mapper=lambda arrow_type: pd.StringDtype("pyarrow") if pa.types.is_string(arrow_type) else None,
    )


def known_province_codes() -> list[str]:
    return list(load_reference_data().province_codes)


def known_industry_codes() -> list[str]:
    return list(load_reference_data().industry_codes)


def add_contract_rules(suite, table: RawTable) -> None:
    """Columns exactly the contract's plus lineage; key unique; required columns not null; a non-empty table."""
    import great_expectations as gx

    expect = gx.expectations
    suite.add_expectation(expect.ExpectTableColumnsToMatchSet(column_set=[*table.column_names, *LINEAGE], exact_match=False))
    suite.add_expectation(expect.ExpectTableRowCountToBeBetween(min_value=1))
    if len(table.key) == 1:
        suite.add_expectation(expect.ExpectColumnValuesToBeUnique(column=table.key[0]))
    else:
        suite.add_expectation(expect.ExpectCompoundColumnsToBeUnique(column_list=list(table.key)))
    for column in table.columns:
        if not column.nullable:
            suite.add_expectation(expect.ExpectColumnValuesToNotBeNull(column=column.name))


def add_row_count_rule(suite, table: RawTable, facts: VintageFacts, tolerances: QualityTolerances) -> None:
    """Rows within [min_ratio, max_ratio] x the previous vintage's rows; nothing to compare on a first vintage."""
    import great_expectations as gx

    previous = facts.previous_row_counts.get(table.name)
    if not previous:
        return
    suite.add_expectation(
        gx.expectations.ExpectTableRowCountToBeBetween(
            min_value=int(previous * tolerances.row_count_min_ratio),
            max_value=int(previous * tolerances.row_count_max_ratio) + 1,
            meta={"rule": "row_count_vs_previous_vintage", "previous_vintage": facts.previous_vintage_id,
                  "previous_rows": previous},
        )
    )


def add_year_coverage_rule(suite, table: RawTable, column: str, first_year: int, facts: VintageFacts) -> None:
    """Every year from the contract's first year to the last one covered (here or in the previous vintage) is present."""
    import great_expectations as gx

    last = max(facts.max_year.get(table.name, first_year), facts.previous_max_year.get(table.name, first_year))
    suite.add_expectation(
        gx.expectations.ExpectColumnDistinctValuesToContainSet(column=column, value_set=list(range(first_year, last + 1)))
    )


def add_firm_year_rules(
    suite, table: RawTable, first_year: int, facts: VintageFacts, tolerances: QualityTolerances
) -> None:
    """Firm-year tables: stock code well formed and a firm of this vintage, no future year, no year missing."""
    import great_expectations as gx

    add_stock_code_rules(suite, facts=facts)
    suite.add_expectation(
        gx.expectations.ExpectColumnValuesToBeBetween(
            column="fiscal_year", min_value=first_year, max_value=facts.last_statement_year
        )
    )
    add_year_coverage_rule(suite, table, "fiscal_year", first_year, facts)
    add_row_count_rule(suite, table, facts, tolerances)


def add_stock_code_rules(suite, column: str = "stock_code", facts: VintageFacts | None = None) -> None:
    """Six digits with an A-share board prefix; when ``facts`` is given, also a firm of this vintage's firms file."""
    import great_expectations as gx

    suite.add_expectation(gx.expectations.ExpectColumnValuesToMatchRegex(column=column, regex=STOCK_CODE_PATTERN))
    if facts is not None:
        suite.add_expectation(gx.expectations.ExpectColumnValuesToBeInSet(column=column, value_set=list(facts.firm_codes)))


def add_text_rules(suite, columns: tuple[str, ...]) -> None:
    """Text decoded as UTF-8 (no replacement characters) and not double-decoded (no Latin-1 mojibake)."""
    from expectations.custom import ExpectStringColumnValuesToNotMatchRegex

    for column in columns:
        suite.add_expectation(ExpectStringColumnValuesToNotMatchRegex(column=column, regex=MOJIBAKE_PATTERN))
