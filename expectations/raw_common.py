"""What every raw-table suite shares: the vintage's facts, how its rows are read, the patterns of its text rules.

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
import pyarrow.compute as pc

from nqp_core.vintages import previous_vintage

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


# The dates datetime64[ns] can hold (pandas.Timestamp.min and .max, to the day).
_NANOSECOND_DATES = (date(1677, 9, 22), date(2262, 4, 11))


def _as_nanoseconds(column: pa.ChunkedArray) -> bool:
    """Whether to read a date column as datetime64[ns]: GX compares those vectorised, while pandas'
    default for Arrow dates, datetime64[ms], sends each value through Python (2 s on the dates of
    ~720,000 patents). A date beyond the nanosecond range (year 2262 and later) keeps the default."""
    if not pa.types.is_date(column.type):
        return False
    bounds = pc.min_max(column)
    low, high = bounds["min"].as_py(), bounds["max"].as_py()
    return low is None or (_NANOSECOND_DATES[0] <= low and high <= _NANOSECOND_DATES[1])


def read_frame(conn: duckdb.DuckDBPyConnection, sql: str, params: list) -> pd.DataFrame:
    """Rows of a query as a DataFrame with Arrow-backed strings and datetime64 dates.

    Arrow strings make the text rules (regexes over ~700,000 titles and abstracts at full
    scale) about five times faster than Python-object strings and load in a fraction of the time.
    """
    with conn.cursor() as cursor:  # a fresh cursor: the relation API refuses a connection with a pending result
        table = cursor.sql(sql, params=params).to_arrow_table()
    table = table.cast(pa.schema([
        field.with_type(pa.timestamp("ns")) if _as_nanoseconds(table[field.name]) else field for field in table.schema
    ]))
    return table.to_pandas(
        date_as_object=False,
        types_mapper=lambda arrow_type: pd.StringDtype("pyarrow") if pa.types.is_string(arrow_type) else None,
    )
