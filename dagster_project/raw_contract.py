"""The raw data contract: the files a vintage consists of, column by column.

This module is the single source of truth for the raw layer. The synthetic generator
writes exactly these files, the ingest step checks a vintage against them before it
loads anything, the dbt sources file mirrors them and ``docs/raw_data.md`` documents
them (a test keeps the three in step). It imports nothing heavy so that the CLI, the
generator and the tests can use it cheaply.

Column names follow the English snake_case of the project; the CSMAR / Wind / CNIPA
field each one corresponds to is given in ``source_field`` so that a user holding real
exports knows what to rename.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

READY_MARKER = "_READY"
"""A vintage folder is complete when this marker file is present (written last)."""

TRUTH_FILE = "truth.json"
"""Synthetic vintages carry their planted parameters beside the data; real ones do not."""


@dataclass(frozen=True)
class Column:
    name: str
    dtype: str  # DuckDB type the column must cast to without loss
    unit: str
    meaning: str
    source_field: str
    nullable: bool = False


@dataclass(frozen=True)
class RawTable:
    name: str  # file stem: <name>.parquet or <name>.csv
    grain: str
    key: tuple[str, ...]
    columns: tuple[Column, ...]
    source: str

    @property
    def column_names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns)

    def column(self, name: str) -> Column:
        for col in self.columns:
            if col.name == name:
                return col
        raise KeyError(f"{self.name} has no column {name!r}")


def _yuan(name: str, meaning: str, source_field: str, nullable: bool = False) -> Column:
    return Column(name, "DOUBLE", "yuan (CNY)", meaning, source_field, nullable)


STOCK_CODE = Column(
    "stock_code", "VARCHAR", "-", "Six-digit A-share stock code, zero-padded text ('000001')", "Stkcd"
)
FISCAL_YEAR = Column("fiscal_year", "INTEGER", "year", "Fiscal year (December year end)", "Accper (year)")

FIRMS = RawTable(
    name="firms",
    grain="one row per listed company",
    key=("stock_code",),
    source="CSMAR company profile (TRD_Co / listed-company basic information)",
    columns=(
        STOCK_CODE,
        Column("firm_name", "VARCHAR", "-", "Company short name in Chinese", "Stknme"),
        Column(
            "province_code", "VARCHAR", "-",
            "Province of registration, GB/T 2260 six-digit code ('110000' Beijing)", "PROVINCE code",
        ),
        Column(
            "industry_code", "VARCHAR", "-",
            "CSRC 2012 industry classification, letter plus two digits ('C39'); manufacturing is C13-C43",
            "Nnindcd",
        ),
        Column("incorporation_date", "DATE", "date", "Date of incorporation", "Estbdt"),
        Column("listing_date", "DATE", "date", "Date of A-share listing (IPO)", "Listdt"),
        Column(
            "delisting_date", "DATE", "date", "Date of delisting; empty while listed", "Delistdt", nullable=True
        ),
    ),
)

FINANCIALS = RawTable(
    name="financials",
    grain="one row per firm and fiscal year (consolidated statements, year end)",
    key=("stock_code", "fiscal_year"),
    source="CSMAR financial statements (FS_Combas, FS_Comins, FS_Comscfd) and R&D notes (PT_LCRDSpendNew)",
    columns=(
        STOCK_CODE,
        FISCAL_YEAR,
        _yuan("total_assets", "Total assets at year end", "A001000000"),
        _yuan("total_liabilities", "Total liabilities at year end", "A002000000"),
        _yuan("total_equity", "Total owners' equity at year end (assets - liabilities)", "A003000000"),
        _yuan("net_profit", "Net profit for the year", "B002000000"),
        _yuan("operating_income", "Total operating income (revenue)", "B001100000"),
        _yuan("fixed_assets", "Net fixed assets at year end", "A001212000"),
        _yuan("intangible_assets", "Net intangible assets at year end", "A001218000"),
        _yuan("operating_cash_outflows", "Subtotal of cash outflows from operating activities", "C001014000"),
        _yuan("cash_paid_goods_services", "Cash paid for goods and services", "C001012000"),
        _yuan("cash_paid_employees", "Cash paid to and for employees", "C001020000"),
        _yuan("depreciation_fixed_assets", "Depreciation of fixed assets (cash-flow supplement)", "D000103000"),
        _yuan("amortization_intangibles", "Amortization of intangible assets", "D000104000"),
        _yuan("impairment_provisions", "Asset impairment provisions for the year", "D000102000"),
        _yuan("rd_expense", "Total R&D expenditure", "RDSpendSum"),
        _yuan("rd_salaries", "R&D expenditure: salaries and remuneration", "RDSalary"),
        _yuan("rd_depreciation_amortization", "R&D expenditure: depreciation and amortization", "RDDepreciation"),
        _yuan("rd_lease", "R&D expenditure: lease payments", "RDLease"),
        _yuan("rd_direct_inputs", "R&D expenditure: direct inputs (materials, energy)", "RDDirectInput"),
        Column("employees", "INTEGER", "persons", "Employees at year end", "StaffNumber"),
        Column("rd_staff", "INTEGER", "persons", "R&D personnel at year end", "RDPerson"),
        Column(
            "bachelor_staff", "INTEGER", "persons",
            "Employees with a bachelor degree or above; empty where not disclosed", "BachelorAbove",
            nullable=True,
        ),
    ),
)

GOVERNANCE = RawTable(
    name="governance",
    grain="one row per firm and fiscal year (position at year end)",
    key=("stock_code", "fiscal_year"),
    source="CSMAR corporate governance (CG_Sharehold, CG_Ybasic)",
    columns=(
        STOCK_CODE,
        FISCAL_YEAR,
        Column("top1_share_pct", "DOUBLE", "percent (0-100)", "Shares held by the largest shareholder", "S0301b"),
        Column("board_size", "INTEGER", "persons", "Number of directors on the board", "Y1101a"),
        Column("independent_directors", "INTEGER", "persons", "Number of independent directors", "Y1101b"),
        Column("chair_ceo_duality", "BOOLEAN", "flag", "Chair of the board is also the CEO", "Y1001b"),
    ),
)

STATUSES = ("normal", "ST", "*ST", "PT")

FIRM_STATUS = RawTable(
    name="firm_status",
    grain="one row per firm and fiscal year (status at year end)",
    key=("stock_code", "fiscal_year"),
    source="CSMAR trading status (TRD_Co special treatment history)",
    columns=(
        STOCK_CODE,
        FISCAL_YEAR,
        Column("trading_status", "VARCHAR", "-", "Special treatment label: " + ", ".join(STATUSES), "Markettype/ST flag"),
        Column("suspended", "BOOLEAN", "flag", "Trading suspended at year end", "Suspension flag"),
    ),
)

PATENT_TYPES = ("invention", "utility_model", "design")

PATENTS = RawTable(
    name="patents",
    grain="one row per patent application",
    key=("application_number",),
    source="CNIPA patent application bibliographic data",
    columns=(
        Column(
            "application_number", "VARCHAR", "-",
            "CNIPA application number, 'CN' + year + type digit + serial + '.' + check digit", "申请号",
        ),
        Column("application_date", "DATE", "date", "Date of application", "申请日"),
        Column("patent_type", "VARCHAR", "-", "One of " + ", ".join(PATENT_TYPES), "专利类型"),
        Column("title", "VARCHAR", "-", "Title in Chinese", "名称"),
        Column("abstract", "VARCHAR", "-", "Abstract in Chinese", "摘要"),
        Column("main_ipc", "VARCHAR", "-", "Main IPC code, 'G06N 3/08' form", "主分类号"),
        Column("ipc_codes", "VARCHAR", "-", "All IPC codes, ';'-separated, main code first", "分类号"),
        Column("applicants", "VARCHAR", "-", "Applicant names, ';'-separated, first applicant first", "申请(专利权)人"),
    ),
)

APPLICANT_FIRM_MAP = RawTable(
    name="applicant_firm_map",
    grain="one row per applicant name and listed firm it belongs to",
    key=("applicant_name", "stock_code"),
    source="CSMAR listed-company subsidiaries (related-party notes) joined to applicant names",
    columns=(
        Column("applicant_name", "VARCHAR", "-", "Applicant name exactly as it appears in patents.applicants", "申请人"),
        STOCK_CODE,
        Column("relation", "VARCHAR", "-", "'parent' (the listed company itself) or 'subsidiary'", "关系"),
    ),
)

RAW_TABLES: tuple[RawTable, ...] = (FIRMS, FINANCIALS, GOVERNANCE, FIRM_STATUS, PATENTS, APPLICANT_FIRM_MAP)
RAW_TABLES_BY_NAME = {t.name: t for t in RAW_TABLES}

FILE_FORMATS = (".parquet", ".csv")


def vintage_file(folder: Path, table: RawTable) -> Path | None:
    """The file holding ``table`` in a vintage folder, Parquet preferred, or None."""
    for suffix in FILE_FORMATS:
        candidate = folder / f"{table.name}{suffix}"
        if candidate.exists():
            return candidate
    return None
