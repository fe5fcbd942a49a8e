"""The raw data contract: the files a vintage consists of, column by column.

This module is the single source of truth for the raw layer. The synthetic generator
writes exactly these files, the ingest step checks a vintage against them before it
loads anything, the dbt sources file mirrors them and ``docs/raw_data.md`` documents
them (a test keeps the three in step). It imports nothing heavy so that the CLI, the
generator and the tests can use it cheaply.

Column names follow the English snake_case of the project; the CSMAR / Wind / CNIPA
table.field each one comes from is given in ``source_field`` with the confidence of that fact
(C two sources, 1 one source, I inferred, ? not found; docs/importing.md). ``nqp import`` applies
the vendor profiles in ``importer/profiles/``, which state these mappings as data.
"""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

VINTAGE_ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$"
"""A vintage id (its landing folder's name): a letter or digit, then up to 63 letters, digits, '.', '_', '-'.

The id becomes a folder, a file-name part (archives, reports) and a value in SQL and
Markdown, so path separators, quotes, spaces and control characters are refused. Ids
sort as text, and the newest must sort last: '2024-06' < '2025-06'.
"""


def vintage_id_problem(vintage_id: object) -> str | None:
    """Why ``vintage_id`` cannot name a vintage, or None when it can (the generator, the
    importer and the loader all apply this one rule)."""
    if isinstance(vintage_id, str) and re.fullmatch(VINTAGE_ID_PATTERN, vintage_id):
        return None
    return (f"vintage id {vintage_id!r} is not allowed (rule: vintage_id): use 1-64 letters, digits, '.', '_' "
            f"or '-', starting with a letter or digit (pattern {VINTAGE_ID_PATTERN}); no path separators, quotes, "
            f"spaces or control characters")


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


_RD_NOTE = (
    "FN_Fn060 note lines (FN_Fn06001 item text, FN_Fn06002 current amount) classified as {0} by the keyword "
    "table importer/profiles/rd_note_keywords.yaml (C); else NQPF_EnNQPThreeLevelIndLT.{1} x operating income "
    "(1); 0 when only a total is disclosed (policy, I)"
)

STOCK_CODE = Column(
    "stock_code", "VARCHAR", "-", "Six-digit A-share stock code, zero-padded text ('000001')",
    "TRD_Co.Stkcd / FS_*.Stkcd / CG_*.Stkcd; PT_LCRDSpending.Symbol (C)"
)
FISCAL_YEAR = Column(
    "fiscal_year", "INTEGER", "year", "Fiscal year (December year end)",
    "FS_*.Accper / PT_LCRDSpending.EndDate (year of a YYYY-12-31 period); CG_*.Reptdt for governance (C)",
)

FIRMS = RawTable(
    name="firms",
    grain="one row per listed company",
    key=("stock_code",),
    source="CSMAR company profile (TRD_Co / listed-company basic information)",
    columns=(
        STOCK_CODE,
        Column("firm_name", "VARCHAR", "-", "Company short name in Chinese", "TRD_Co.Stknme (current name; may carry an ST prefix) (C)"),
        Column(
            "province_code", "VARCHAR", "-",
            "Province of registration, GB/T 2260 six-digit code ('110000' Beijing)", "TRD_Co.PROVINCE (a province name, recoded to GB/T 2260 via the provinces seed) (C name; the PROVINCECODE system is ?)",
        ),
        Column(
            "industry_code", "VARCHAR", "-",
            "CSRC 2012 industry classification, letter plus two digits ('C39'); manufacturing is C13-C43",
            "TRD_Co.Nnindcd (CSRC 2012) (C)",
        ),
        Column("incorporation_date", "DATE", "date", "Date of incorporation", "TRD_Co.Estbdt (C; '1993-12-00' day-unknown form 1)"),
        Column("listing_date", "DATE", "date", "Date of A-share listing (IPO)", "TRD_Co.Listdt (C)"),
        Column(
            "delisting_date", "DATE", "date", "Date of delisting; empty while listed",
            "derived: TRD_Co.Statdt where TRD_Co.Statco = 'D' (TRD_Co has no delisting field) (I)", nullable=True,
        ),
    ),
)

FINANCIALS = RawTable(
    name="financials",
    grain="one row per firm and fiscal year (consolidated statements, year end)",
    key=("stock_code", "fiscal_year"),
    source=(
        "CSMAR financial statements (FS_Combas, FS_Comins, FS_Comscfd direct cash flow, FS_Comscfi indirect cash flow), "
        "R&D (PT_LCRDSpending; FN_Fn060 R&D note lines), employees (CG_Ybasic)"
    ),
    columns=(
        STOCK_CODE,
        FISCAL_YEAR,
        _yuan("total_assets", "Total assets at year end", "FS_Combas.A001000000 (C)"),
        _yuan("total_liabilities", "Total liabilities at year end", "FS_Combas.A002000000 (C)"),
        _yuan("total_equity", "Total owners' equity at year end (assets - liabilities)", "FS_Combas.A003000000 (incl. minority interests) (C)"),
        _yuan("net_profit", "Net profit for the year", "FS_Comins.B002000000 (C)"),
        _yuan("operating_income", "Total operating income (revenue)", "FS_Comins.B001100000 (C)"),
        _yuan("fixed_assets", "Net fixed assets at year end", "FS_Combas.A001212000 (C)"),
        _yuan("intangible_assets", "Net intangible assets at year end", "FS_Combas.A001218000 (C)"),
        _yuan("operating_cash_outflows", "Subtotal of cash outflows from operating activities", "FS_Comscfd.C001200000 (C)"),
        _yuan("cash_paid_goods_services", "Cash paid for goods and services", "FS_Comscfd.C001014000 (C)"),
        _yuan("cash_paid_employees", "Cash paid to and for employees", "FS_Comscfd.C001020000 (C)"),
        _yuan("depreciation_fixed_assets", "Depreciation of fixed assets (cash-flow supplement)", "FS_Comscfi.D000103000 (C)"),
        _yuan("amortization_intangibles", "Amortization of intangible assets", "FS_Comscfi.D000104000 (C; CSMAR field 1)"),
        _yuan("impairment_provisions", "Asset impairment provisions for the year", "FS_Comscfi.D000102000 (1; whether it includes 信用减值损失 after 2019 is ?)"),
        _yuan("rd_expense", "Total R&D expenditure", "PT_LCRDSpending.RDSpendSum (StateTypeCode 1) (C)"),
        _yuan("rd_salaries", "R&D expenditure: salaries and remuneration", _RD_NOTE.format("salaries", "RDPSalaryRatio")),
        _yuan("rd_depreciation_amortization", "R&D expenditure: depreciation and amortization",
              _RD_NOTE.format("depreciation_amortization", "RDPDepAmortRatio")),
        _yuan("rd_lease", "R&D expenditure: lease payments", _RD_NOTE.format("lease", "RDPLeaseCostsRatio")),
        _yuan("rd_direct_inputs", "R&D expenditure: direct inputs (materials, energy)",
              _RD_NOTE.format("direct_inputs", "DirectInvestment")),
        Column("employees", "INTEGER", "persons", "Employees at year end", "CG_Ybasic.Y0601b (Reptdt) (C)"),
        Column("rd_staff", "INTEGER", "persons", "R&D personnel at year end", "PT_LCRDSpending.RDPerson (C)"),
        Column(
            "bachelor_staff", "INTEGER", "persons",
            "Employees with a bachelor degree or above; empty where not disclosed",
            "sum of 本科/硕士/博士 rows of 上市公司人员结构表 (EmployDetail, Amount; long) (1; table and field names configurable)",
            nullable=True,
        ),
    ),
)

GOVERNANCE = RawTable(
    name="governance",
    grain="one row per firm and fiscal year (position at year end)",
    key=("stock_code", "fiscal_year"),
    source="CSMAR corporate governance (CG_Sharehold, CG_Ybasic), keyed by Reptdt",
    columns=(
        STOCK_CODE,
        FISCAL_YEAR,
        Column("top1_share_pct", "DOUBLE", "percent (0-100)", "Shares held by the largest shareholder",
               "CG_Sharehold.S0301b where S0501b = 1 (C)"),
        Column("board_size", "INTEGER", "persons", "Number of directors on the board", "CG_Ybasic.Y1101a (C)"),
        Column("independent_directors", "INTEGER", "persons", "Number of independent directors", "CG_Ybasic.Y1101b (C)"),
        Column("chair_ceo_duality", "BOOLEAN", "flag", "Chair of the board is also the CEO",
               "CG_Ybasic.Y1001b recoded 1 -> true, 2 -> false (C)"),
    ),
)

STATUSES = ("normal", "ST", "*ST", "PT")

FIRM_STATUS = RawTable(
    name="firm_status",
    grain="one row per firm and fiscal year (status at year end)",
    key=("stock_code", "fiscal_year"),
    source="CSMAR daily trading file TRD_Dalyr (TRD_Co holds no special-treatment history)",
    columns=(
        STOCK_CODE,
        FISCAL_YEAR,
        Column("trading_status", "VARCHAR", "-", "Special treatment label: " + ", ".join(STATUSES), 
               "TRD_Dalyr.Trdsta on the firm's last December trading day, recoded (C codes; the recoding of 4-15 is I)"),
        Column("suspended", "BOOLEAN", "flag", "Trading suspended at year end",
               "derived: no TRD_Dalyr row on the market's last trading day of the year (I; no vendor field found)"),
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
            "CNIPA application number, 'CN' + year + type digit + serial + '.' + check digit",
            "CNKI/PatSnap 申请号 (CN prefix added when missing) (C)",
        ),
        Column("application_date", "DATE", "date", "Date of application", "CNKI/PatSnap 申请日 (C)"),
        Column("patent_type", "VARCHAR", "-", "One of " + ", ".join(PATENT_TYPES),
               "CNKI 专利类型 (发明/实用新型/外观设计); PatSnap: kind letter of 公开(公告)号 (C)"),
        Column("title", "VARCHAR", "-", "Title in Chinese", "CNKI 名称; PatSnap 标题 (C)"),
        Column("abstract", "VARCHAR", "-", "Abstract in Chinese", "CNKI/PatSnap 摘要 (C)"),
        Column("main_ipc", "VARCHAR", "-", "Main IPC code, 'G06N 3/08' form", "CNKI 主分类号; PatSnap IPC主分类号 (C)"),
        Column("ipc_codes", "VARCHAR", "-", "All IPC codes, ';'-separated, main code first",
               "CNKI 分类号; PatSnap IPC分类号 (C names; the separator and spacing are I)"),
        Column("applicants", "VARCHAR", "-", "Applicant names, ';'-separated, first applicant first",
               "CNKI/PatSnap 申请(专利权)人 (C)"),
    ),
)

APPLICANT_FIRM_MAP = RawTable(
    name="applicant_firm_map",
    grain="one row per applicant name and listed firm it belongs to",
    key=("applicant_name", "stock_code"),
    source=(
        "derived by the importer (no vendor ships it): the patent export's Symbol link, else a subsidiary table "
        "(CSMAR 上市公司子公司情况表, 1), else the exact normalised legal name"
    ),
    columns=(
        Column("applicant_name", "VARCHAR", "-", "Applicant name exactly as it appears in patents.applicants",
               "申请(专利权)人 / subsidiary table name / TRD_Co legal name"),
        STOCK_CODE,
        Column("relation", "VARCHAR", "-", "'parent' (the listed company itself) or 'subsidiary'",
               "derived from the route that matched"),
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


@contextmanager
def staged_vintage_folder(target: Path) -> Iterator[Path]:
    """A hidden sibling folder of ``target`` to write a vintage into. When the block ends
    without an error it is renamed to ``target`` and ``_READY`` is created last; when it
    fails it is removed. Either way no reader ever sees a half-written vintage."""
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = target.parent / f".{target.name}.partial-{os.getpid()}"
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir()
    try:
        yield staging
        staging.rename(target)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    (target / READY_MARKER).write_text("", encoding="utf-8")
