"""What the raw suites check, as data: every raw suite is generated from the contract plus this module.

Each column of the raw contract gets its expectations from its type, unit and nullability
(``expectations.raw.raw_suite`` applies these defaults), so a column added to the contract
is checked the day it is added:

- every column is present (the contract's columns plus lineage), not null unless the
  contract says nullable, and the table's key is unique; the table has rows, and (from the
  second vintage on) about as many as the previous vintage;
- ``DATE``: between its earliest plausible date (:data:`EARLIEST_DATES`, else
  :data:`EARLIEST_DATE`) and the vintage's date;
- amounts in yuan and head counts (unit ``persons``): at least 0, except :data:`SIGNED_AMOUNTS`;
  percents (unit ``percent (0-100)``): between 0 and 100;
- ``VARCHAR`` with neither a pattern nor a code list: free text, which must be decoded as
  UTF-8 and not double-decoded (the mojibake rule);
- ``stock_code`` (the firms table's key) in any other table: a firm of this vintage's firms file;
- ``fiscal_year``: from the table's first year (:data:`FIRST_YEARS`) to the last year whose
  statements are out at the vintage's date, and every year in between present.

:data:`COLUMN_RULES` adds what the type cannot say (patterns, code lists, other ranges,
columns one must not fall below); the rules no single column carries (identities, unit
plausibility, derived flags) are built next to their batch in ``raw_financials.py``,
``raw_patents.py`` and below. ``docs/data_quality.md`` lists every rule with its reason.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from nqp_core.contract import PATENT_TYPES, STATUSES
from expectations.config import QualityTolerances
from expectations.raw_common import STOCK_CODE_PATTERN, VintageFacts

# 'CN' + filing year + type digit (1 invention, 2 utility model, 3 design, 8/9 PCT) + seven-digit
# serial + '.' + check character: the 12-digit format CNIPA uses since 2003.
APPLICATION_NUMBER_PATTERN = r"^CN(?:19|20)\d{2}[1-9]\d{7}\.[0-9X]$"
IPC_PATTERN = r"^[A-H]\d{2}[A-Z] \d{1,4}/\d{1,6}$"  # 'G06N 3/08' (docs/raw_data.md)

RELATIONS = ("parent", "subsidiary")  # raw.applicant_firm_map.relation (docs/raw_data.md)

# Named code lists a column can be checked against: the reference seeds (the same lists
# dbt's staging relationships use) and this vintage's firms (VintageFacts.firm_codes).
PROVINCE_CODES = "province_codes"
INDUSTRY_CODES = "industry_codes"


@dataclass(frozen=True)
class ColumnRules:
    """What a column must satisfy beyond what its contract type, unit and nullability give it."""

    pattern: str | None = None  # every value matches this regex
    codes: tuple[str, ...] | str | None = None  # allowed values, or the name of a reference code list
    value_range: tuple[float | None, float | None] | None = None  # replaces the range its unit gives
    earliest: date | None = None  # DATE columns: no value before this
    at_least: tuple[str, ...] = ()  # columns this one is never below in the same row (missing values skipped)
    # False where the column's format is judged elsewhere (ipc_codes: raw_patents.TEXT_ISSUE_SQL);
    # None: free text exactly when the column is VARCHAR without a pattern or codes.
    free_text: bool | None = None


# Lower bounds of dates (docs/data_quality.md): the Shanghai exchange opened in December 1990;
# the PRC Patent Law took effect on 1 April 1985; no listed company was incorporated before 1900.
EARLIEST_LISTING = date(1990, 12, 1)
EARLIEST_PATENT_APPLICATION = date(1985, 4, 1)
EARLIEST_INCORPORATION = date(1900, 1, 1)
EARLIEST_DATE = EARLIEST_INCORPORATION  # a DATE column declared nowhere: no A-share record predates 1900

# Amounts that can be negative: total_equity (insolvent firms), net_profit (losses) and
# impairment_provisions (reversals are booked as negative charges).
SIGNED_AMOUNTS = ("total_equity", "net_profit", "impairment_provisions")

# Year column and first year each table covers (docs/raw_data.md): statements start a year
# before the 2015 sample so 2015 has lagged assets; patents two years before, for lagged counts
# (application_year is derived from application_date by the patents batch).
FIRST_YEARS = {
    "financials": ("fiscal_year", 2014), "governance": ("fiscal_year", 2015), "firm_status": ("fiscal_year", 2015),
    "patents": ("application_year", 2013),
}

# PRC Company Law (art. 108, 2018 text): a joint-stock company's board has 5 to 19 directors.
BOARD_SIZE_RANGE = (5, 19)

# Keyed by column name: a name means the same in every table of the contract.
COLUMN_RULES: dict[str, ColumnRules] = {
    "stock_code": ColumnRules(pattern=STOCK_CODE_PATTERN),
    "province_code": ColumnRules(codes=PROVINCE_CODES),
    "industry_code": ColumnRules(codes=INDUSTRY_CODES),
    "incorporation_date": ColumnRules(earliest=EARLIEST_INCORPORATION),
    # A company is incorporated before it lists and lists before it delists.
    "listing_date": ColumnRules(earliest=EARLIEST_LISTING, at_least=("incorporation_date",)),
    "delisting_date": ColumnRules(earliest=EARLIEST_LISTING, at_least=("listing_date",)),
    "employees": ColumnRules(at_least=("rd_staff", "bachelor_staff")),
    "board_size": ColumnRules(value_range=BOARD_SIZE_RANGE, at_least=("independent_directors",)),
    "trading_status": ColumnRules(codes=STATUSES),
    "application_number": ColumnRules(pattern=APPLICATION_NUMBER_PATTERN),
    "application_date": ColumnRules(earliest=EARLIEST_PATENT_APPLICATION),
    "patent_type": ColumnRules(codes=PATENT_TYPES),
    "main_ipc": ColumnRules(pattern=IPC_PATTERN),
    "ipc_codes": ColumnRules(free_text=False),
    "relation": ColumnRules(codes=RELATIONS),
}

# Applicants that cannot be a listed firm or its subsidiary: universities, research
# institutes, academies, hospitals (public institutions), and individuals (a bare name of
# two or three Han characters, no organisational suffix). Co-applicants of this kind are
# common in CNIPA data; mapped to a firm they credit it with someone else's patents.
NON_SUBSIDIARY_PATTERN = r"(?:大学|学院|研究院|研究所|科学院|研究中心|医院)|^[\u4e00-\u9fff]{2,3}$"


def governance_rules(facts: VintageFacts, tolerances: QualityTolerances) -> list:
    import great_expectations as gx

    # Each value of a fraction (0-1) is a valid percent too; only the column as a whole gives it away.
    return [gx.expectations.ExpectColumnMedianToBeBetween(
        column="top1_share_pct", min_value=tolerances.min_median_share_pct,
        meta={"why": "looks like a fraction (0-1) where the contract says percent (0-100): multiply by 100"},
    )]


def applicant_map_rules(facts: VintageFacts, tolerances: QualityTolerances) -> list:
    import great_expectations as gx

    return [gx.expectations.ExpectColumnValuesToNotMatchRegex(
        column="applicant_name", regex=NON_SUBSIDIARY_PATTERN,
        meta={"severity": "warning", "rule": "applicant_map_non_subsidiary",
              "why": "a university, research institute, hospital or individual mapped to a listed firm; "
                     "check the subsidiary list it came from"},
    )]

