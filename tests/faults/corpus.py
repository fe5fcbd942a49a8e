"""The fault-injection corpus: named ways a delivered vintage goes wrong, and who must catch each.

Every :class:`Mutation` edits a vintage folder in place. Apply it only to a COPY of a
generated vintage, renamed to a new vintage id (:func:`copy_vintage`), never to an
original. ``detected_by`` names the asset check that must fail (``gx_raw_<table>``, the
raw suites in ``expectations/raw_*.py``) or ``ingest_contract`` when the loader
(``nqp_core/loader.py``) must refuse the vintage; ``rule_hint`` is the rule
the failure message must name (a GX expectation type or a contract rule) and ``column``
the column it must name, when there is one.

Mutations work on Parquet and CSV vintages alike (the table keeps its format unless the
mutation is about CSV, in which case it converts that one table to CSV first). A good
next vintage, the counterpart that must pass, comes from
``synthetic.next_vintage.generate_next_vintage``.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from nqp_core.contract import RAW_TABLES_BY_NAME, TRUTH_FILE, vintage_file
from synthetic.vintage import contract_schema

INGEST = "ingest_contract"
AMOUNT_COLUMNS = tuple(
    c.name for c in RAW_TABLES_BY_NAME["financials"].columns if c.unit.startswith("yuan")
)


@dataclass(frozen=True)
class Mutation:
    name: str
    description: str
    apply: Callable[[Path], None]
    detected_by: str  # asset check name (gx_raw_<table>) or 'ingest_contract'
    rule_hint: str  # rule the message must name: GX expectation type or loader rule
    column: str | None = None  # column the message must name, if any


def copy_vintage(source: Path, target: Path) -> Path:
    """Copy a vintage folder to ``target`` (its name is the new vintage id); the source is never touched."""
    if target.exists():
        raise FileExistsError(f"{target} exists; mutations go to fresh copies only")
    shutil.copytree(source, target)
    return target


# --- reading and writing one table in the format it was delivered in --------------------------------


def _path(folder: Path, table: str) -> Path:
    path = vintage_file(folder, RAW_TABLES_BY_NAME[table])
    if path is None:
        raise FileNotFoundError(f"{folder} holds no {table} file")
    return path


def read_table(folder: Path, table: str) -> pd.DataFrame:
    path = _path(folder, table)
    schema = contract_schema(RAW_TABLES_BY_NAME[table])
    if path.suffix == ".parquet":
        return pq.read_table(path).to_pandas()
    options = pacsv.ConvertOptions(column_types=schema, strings_can_be_null=False)
    return pacsv.read_csv(path, convert_options=options).to_pandas()


def write_table(folder: Path, table: str, frame: pd.DataFrame, *, conform: bool = True, suffix: str | None = None) -> Path:
    """Write ``frame`` back as ``table``'s file (same format unless ``suffix``); ``conform`` casts to the contract types."""
    old = _path(folder, table)
    path = old.with_suffix(suffix) if suffix else old
    if conform:  # contract types, but nullable: some mutations plant nulls the contract forbids
        schema = pa.schema([field.with_nullable(True) for field in contract_schema(RAW_TABLES_BY_NAME[table])])
        arrow = pa.Table.from_pandas(frame, schema=schema, preserve_index=False)
    else:
        arrow = pa.Table.from_pandas(frame, preserve_index=False)
    if path != old:
        old.unlink()
    if path.suffix == ".parquet":
        pq.write_table(arrow, path)
    else:
        pacsv.write_csv(arrow, path)
    return path


def edit(table: str, change: Callable[[pd.DataFrame], pd.DataFrame | None], *, conform: bool = True) -> Callable[[Path], None]:
    """A mutation that rewrites one table through ``change`` (which may edit in place and return None)."""

    def apply(folder: Path) -> None:
        frame = read_table(folder, table)
        changed = change(frame)
        write_table(folder, table, frame if changed is None else changed, conform=conform)

    return apply


def to_csv(folder: Path, table: str) -> Path:
    """Re-deliver one table as CSV (the contract allows either format)."""
    path = _path(folder, table)
    if path.suffix == ".csv":
        return path
    return write_table(folder, table, read_table(folder, table), suffix=".csv")


def _rows(frame: pd.DataFrame, share: float, seed: int = 0) -> np.ndarray:
    """A reproducible random share of row positions (at least one)."""
    rng = np.random.default_rng(seed)
    n = max(1, int(round(share * len(frame))))
    return np.sort(rng.choice(len(frame), size=n, replace=False))


def _set(frame: pd.DataFrame, positions, column: str, values) -> None:
    frame.loc[frame.index[positions], column] = values


# --- the mutations ------------------------------------------------------------------------------------


def _delete_file(table: str) -> Callable[[Path], None]:
    return lambda folder: _path(folder, table).unlink()


def _truncate(table: str, keep: float) -> Callable[[Path], None]:
    def apply(folder: Path) -> None:
        path = _path(folder, table)
        data = path.read_bytes()
        path.write_bytes(data[: int(len(data) * keep)])

    return apply


def _truncated_csv(folder: Path) -> None:
    """A transfer cut mid-row: the last line stops inside a record."""
    path = to_csv(folder, "financials")
    data = path.read_bytes()
    cut = data.rfind(b"\n", 0, len(data) - 1)  # start of the last record
    path.write_bytes(data[: cut + 1 + 12])


def _empty_csv(folder: Path) -> None:
    path = to_csv(folder, "governance")
    path.write_bytes(b"")


def _gbk_csv(folder: Path) -> None:
    """Exported from a Chinese-locale spreadsheet: GB18030 (GBK superset) bytes where the contract says UTF-8."""
    path = to_csv(folder, "firms")
    path.write_bytes(path.read_text(encoding="utf-8").encode("gb18030"))


def _csv_lost_zeros(folder: Path) -> None:
    """A CSV opened and saved in a spreadsheet: stock codes became numbers ('000651' -> '651')."""
    to_csv(folder, "firms")
    frame = read_table(folder, "firms")
    frame["stock_code"] = frame["stock_code"].astype(int).astype(str)
    write_table(folder, "firms", frame)


def _csv_bad_number(frame: pd.DataFrame) -> pd.DataFrame:
    frame = frame.astype({"total_assets": str})  # a text column, as a CSV reader sees it
    _set(frame, _rows(frame, 0.01), "total_assets", "n/a")
    return frame


def _csv_wrong_type(folder: Path) -> None:
    to_csv(folder, "financials")
    frame = _csv_bad_number(read_table(folder, "financials"))
    write_table(folder, "financials", frame, conform=False)


def _mojibake(text: str) -> str:
    return text.encode("utf-8").decode("latin-1")


def _duplicate_keys(frame: pd.DataFrame) -> pd.DataFrame:
    copies = frame.iloc[_rows(frame, 0.005)].copy()
    copies["net_profit"] = copies["net_profit"] * 1.1  # restated figures delivered beside the old ones
    return pd.concat([frame, copies], ignore_index=True)


def _duplicate_patent_numbers(frame: pd.DataFrame) -> None:
    positions = _rows(frame, 0.002)
    _set(frame, positions, "application_number", frame["application_number"].iloc[positions - 1].to_numpy())


def _unit_10k(frame: pd.DataFrame) -> None:
    for column in AMOUNT_COLUMNS:
        frame[column] = frame[column] / 10_000


def _negate_assets(frame: pd.DataFrame) -> None:
    positions = _rows(frame, 0.002)
    for column in ("total_assets", "total_liabilities", "total_equity"):  # the identity still holds
        _set(frame, positions, column, -frame[column].iloc[positions].to_numpy())


def _break_identity(frame: pd.DataFrame) -> None:
    positions = _rows(frame, 0.01)
    _set(frame, positions, "total_equity",
         (frame["total_equity"] + 0.1 * frame["total_assets"]).iloc[positions].to_numpy())


def _drop_year(year: int) -> Callable[[pd.DataFrame], pd.DataFrame]:
    return lambda frame: frame[frame["fiscal_year"] != year]


def _future_listing(frame: pd.DataFrame) -> None:
    positions = _rows(frame, 0.02)
    _set(frame, positions, "listing_date", pd.Timestamp("2031-03-15").date())
    _set(frame, positions, "delisting_date", None)


def _future_fiscal_year(frame: pd.DataFrame) -> pd.DataFrame:
    last = frame[frame["fiscal_year"] == frame["fiscal_year"].max()].copy()
    last["fiscal_year"] = last["fiscal_year"] + 1  # statements of a year not closed at the vintage date
    return pd.concat([frame, last], ignore_index=True)


def _future_patent_dates(frame: pd.DataFrame) -> None:
    positions = _rows(frame, 0.001)
    _set(frame, positions, "application_date", pd.Timestamp("2030-01-02").date())


def _set_value(column: str, value, share: float = 0.02) -> Callable[[pd.DataFrame], None]:
    return lambda frame: _set(frame, _rows(frame, share), column, value)


def _orphan_patents(frame: pd.DataFrame) -> None:
    positions = _rows(frame, 0.3)
    _set(frame, positions, "applicants", "某某科技有限公司")  # a company missing from the applicant map


def _mojibake_titles(frame: pd.DataFrame) -> None:
    positions = _rows(frame, 0.05)
    _set(frame, positions, "title", frame["title"].iloc[positions].map(_mojibake).to_numpy())


def _replacement_characters(frame: pd.DataFrame) -> None:
    positions = _rows(frame, 0.02)
    _set(frame, positions, "firm_name", frame["firm_name"].iloc[positions].map(lambda s: s[:-1] + "\ufffd").to_numpy())


def _empty_rows(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.iloc[0:0]


def _all_null(column: str) -> Callable[[pd.DataFrame], None]:
    def change(frame: pd.DataFrame) -> None:
        frame[column] = None

    return change


def _revise_history(share: float, factor: float, seed: int) -> Callable[[pd.DataFrame], None]:
    """Scale the balance sheet and income of ``share`` of the firm-years (the identity keeps holding)."""

    def change(frame: pd.DataFrame) -> None:
        positions = _rows(frame, share, seed)
        for column in ("total_assets", "total_liabilities", "total_equity", "operating_income"):
            _set(frame, positions, column, (frame[column] * factor).iloc[positions].to_numpy())

    return change


def _strip_zeros(frame: pd.DataFrame) -> None:
    frame["stock_code"] = frame["stock_code"].str.lstrip("0")


def _b_share(frame: pd.DataFrame) -> None:
    _set(frame, [0], "stock_code", "900901")  # a Shanghai B share slipped into the A-share list


def _delisted_before_listing(frame: pd.DataFrame) -> None:
    positions = _rows(frame, 0.02)
    _set(frame, positions, "delisting_date",
         (pd.to_datetime(frame["listing_date"]) - pd.Timedelta(days=400)).dt.date.iloc[positions].to_numpy())


def _pair_exceeds(column: str, over: str, extra: int) -> Callable[[pd.DataFrame], None]:
    def change(frame: pd.DataFrame) -> None:
        positions = _rows(frame, 0.01)
        _set(frame, positions, column, (frame[over] + extra).iloc[positions].to_numpy())

    return change


def _unknown_firm(frame: pd.DataFrame) -> pd.DataFrame:
    stray = frame.iloc[:3].copy()
    stray["stock_code"] = ["600999", "600998", "600997"]  # firm-years of firms the firms file does not list
    return pd.concat([frame, stray], ignore_index=True)


def _lose_share(share: float) -> Callable[[pd.DataFrame], pd.DataFrame]:
    return lambda frame: frame.drop(frame.index[_rows(frame, share)])


def _dates_as_beijing_timestamps(folder: Path) -> None:
    """application_date exported as a UTC timestamp of Beijing midnight: 16:00 UTC of the day before."""
    frame = read_table(folder, "patents")
    midnight_utc = pd.to_datetime(frame["application_date"]).dt.tz_localize("Asia/Shanghai").dt.tz_convert("UTC")
    frame["application_date"] = midnight_utc
    write_table(folder, "patents", frame, conform=False)


def _csv_dates_with_time(folder: Path) -> None:
    to_csv(folder, "firms")
    frame = read_table(folder, "firms").astype({"listing_date": str})
    _set(frame, _rows(frame, 0.05), "listing_date", (frame["listing_date"] + " 16:00:00").iloc[_rows(frame, 0.05)].to_numpy())
    write_table(folder, "firms", frame, conform=False)


def _nan_amounts(folder: Path) -> None:
    """NaN (not null) in 2% of rd_lease: pandas would turn NaN into null, so write through Arrow."""
    frame = read_table(folder, "financials")
    values = frame["rd_lease"].to_numpy(dtype=float, copy=True)
    values[_rows(frame, 0.02)] = np.nan
    arrow = pq.read_table(_path(folder, "financials"))
    index = arrow.schema.get_field_index("rd_lease")
    arrow = arrow.set_column(index, "rd_lease", pa.array(values, pa.float64(), from_pandas=False))
    pq.write_table(arrow, _path(folder, "financials"))


def _scale_columns(columns: tuple[str, ...], factor: float) -> Callable[[pd.DataFrame], None]:
    def change(frame: pd.DataFrame) -> None:
        for column in columns:
            frame[column] = frame[column] * factor

    return change


def _fullwidth_separators(frame: pd.DataFrame) -> None:
    frame["applicants"] = frame["applicants"].str.replace(";", "；", regex=False)


def _lowercase_ipc(frame: pd.DataFrame) -> None:
    frame["ipc_codes"] = frame["ipc_codes"].str.lower()


def _drop_province_year(frame: pd.DataFrame, folder: Path) -> pd.DataFrame:
    """The firm-years of the largest province in 2019: a hole the total row count hardly shows."""
    firms = read_table(folder, "firms")
    largest = firms["province_code"].value_counts().index[0]
    codes = set(firms.loc[firms["province_code"] == largest, "stock_code"])
    return frame[~(frame["stock_code"].isin(codes) & (frame["fiscal_year"] == 2019))]


def _province_year_hole(folder: Path) -> None:
    write_table(folder, "financials", _drop_province_year(read_table(folder, "financials"), folder))


def _unit_slip_in_one_year(frame: pd.DataFrame) -> None:
    """R&D in 10k yuan for fiscal 2016 only: the pooled median hardly moves, that year's does."""
    year = frame["fiscal_year"] == 2016
    for column in ("rd_expense", "rd_salaries", "rd_depreciation_amortization", "rd_lease", "rd_direct_inputs"):
        frame.loc[year, column] = frame.loc[year, column] / 10_000


def _zero_filled(frame: pd.DataFrame) -> None:
    frame["bachelor_staff"] = frame["bachelor_staff"].fillna(0)


def _renumbered_duplicates(frame: pd.DataFrame) -> pd.DataFrame:
    """0.5% of the applications delivered again under a new number (serial digits replaced)."""
    copies = frame.iloc[_rows(frame, 0.005)].copy()
    copies["application_number"] = copies["application_number"].str.slice(0, 7) + "9" + copies["application_number"].str.slice(8)
    return pd.concat([frame, copies], ignore_index=True)


def _traditional_script(frame: pd.DataFrame) -> None:
    """A fifth of the titles and abstracts converted to traditional script (OpenCC s2t)."""
    import opencc

    to_traditional = opencc.OpenCC("s2t")
    positions = _rows(frame, 0.2)
    for column in ("title", "abstract"):
        _set(frame, positions, column, frame[column].iloc[positions].map(to_traditional.convert).to_numpy())


def _english_titles(frame: pd.DataFrame) -> None:
    positions = _rows(frame, 0.05)
    _set(frame, positions, "title", "Method and device for intelligent production line inspection")


CASH_FLOW_COLUMNS = ("operating_cash_outflows", "cash_paid_goods_services", "cash_paid_employees")
RD_COLUMNS = ("rd_expense", "rd_salaries", "rd_depreciation_amortization", "rd_lease", "rd_direct_inputs")

# Content that is valid value by value but wrong as a whole (issue: bad data that looks fine).
SEMANTIC_MUTATIONS: tuple[Mutation, ...] = (
    Mutation("infinite_net_profit", "+inf in net profit", edit("financials", _set_value("net_profit", np.inf, 0.001)),
             INGEST, "non_finite", "net_profit"),
    Mutation("nan_for_null_amount", "NaN instead of an empty value in rd_lease",
             _nan_amounts, INGEST, "non_finite", "rd_lease"),
    Mutation("patent_dates_as_timestamps", "application_date delivered as UTC timestamps of Beijing midnight",
             _dates_as_beijing_timestamps, INGEST, "date_with_time", "application_date"),
    Mutation("csv_dates_with_time", "CSV: listing dates with a time of day ('2010-05-04 16:00:00')",
             _csv_dates_with_time, INGEST, "date_with_time", "listing_date"),
    Mutation("placeholder_incorporation_dates", "incorporation_date 1900-01-01 standing for unknown",
             edit("firms", _set_value("incorporation_date", pd.Timestamp("1900-01-01").date())), INGEST,
             "placeholder_date", "incorporation_date"),
    Mutation("top1_share_as_fraction", "top1_share_pct delivered as a fraction (0.35 for 35%)",
             edit("governance", _scale_columns(("top1_share_pct",), 0.01)), "gx_raw_governance",
             "expect_column_median_to_be_between", "top1_share_pct"),
    Mutation("cash_flows_in_100m_yuan", "cash-flow items in 100m yuan (亿元) while the rest are in yuan",
             edit("financials", _scale_columns(CASH_FLOW_COLUMNS, 1e-8)), "gx_raw_financials",
             "expect_column_median_to_be_between", "cash_paid_goods_services__per_operating_income"),
    Mutation("rd_items_in_10k_yuan", "R&D items in 10k yuan (万元) while the rest are in yuan",
             edit("financials", _scale_columns(RD_COLUMNS, 1e-4)), "gx_raw_financials",
             "expect_column_median_to_be_between", "rd_expense__per_operating_income"),
    Mutation("fullwidth_applicant_separators", "applicant lists separated by the full-width '；'",
             edit("patents", _fullwidth_separators), "gx_raw_patents", "expect_column_values_to_be_null",
             "patent_text_issue"),
    # Against the previous vintage, per stratum (expectations/drift.py).
    Mutation("province_year_hole", "financials of the largest province missing for 2019 only",
             _province_year_hole, "gx_raw_financials", "expect_column_values_to_be_between", "rows_ratio"),
    Mutation("scattered_firm_years_lost", "2% of the firm-years missing, scattered over years and provinces",
             edit("financials", _lose_share(0.02)), "gx_raw_financials", "expect_column_values_to_be_between",
             "kept_share"),
    Mutation("unit_slip_in_one_year", "R&D items of fiscal 2016 in 10k yuan, every other year in yuan",
             edit("financials", _unit_slip_in_one_year), "gx_raw_financials", "expect_column_values_to_be_between",
             "ln_median_shift"),
    Mutation("undisclosed_as_zero", "bachelor_staff: undisclosed values delivered as 0 instead of empty",
             edit("financials", _zero_filled), "gx_raw_financials", "expect_column_values_to_be_between",
             "null_share_shift"),
    Mutation("renumbered_duplicate_patents", "0.5% of the applications repeated under new application numbers",
             edit("patents", _renumbered_duplicates), "gx_raw_patents", "expect_column_values_to_be_in_set",
             "is_content_duplicate"),
    Mutation("traditional_script_texts", "a fifth of titles and abstracts in traditional Chinese",
             edit("patents", _traditional_script), "gx_raw_patents", "expect_column_mean_to_be_between",
             "in_traditional_script"),
    Mutation("english_titles", "5% of titles delivered in English", edit("patents", _english_titles),
             "gx_raw_patents", "expect_column_mean_to_be_between", "title_without_chinese"),
    Mutation("lowercase_ipc_codes", "ipc_codes in lower case ('g06n 3/08'): no AI IPC group would match",
             edit("patents", _lowercase_ipc), "gx_raw_patents", "expect_column_values_to_be_null", "patent_text_issue"),
)

MUTATIONS: tuple[Mutation, ...] = (
    # Refused by the loader contract before a row is written.
    Mutation("missing_file", "governance file not delivered", _delete_file("governance"), INGEST, "required_file"),
    Mutation("missing_column", "net_profit column dropped from financials",
             edit("financials", lambda f: f.drop(columns="net_profit"), conform=False), INGEST, "required_column",
             "net_profit"),
    Mutation("extra_column", "an audit_opinion column the contract does not know",
             edit("financials", lambda f: f.assign(audit_opinion="standard"), conform=False), INGEST,
             "no_extra_columns", "audit_opinion"),
    Mutation("renamed_column", "top1_share_pct delivered as top1_share",
             edit("governance", lambda f: f.rename(columns={"top1_share_pct": "top1_share"}), conform=False), INGEST,
             "required_column", "top1_share_pct"),
    Mutation("wrong_type_parquet", "stock_code written as an integer column",
             edit("financials", lambda f: f.assign(stock_code=f["stock_code"].astype("int64")), conform=False),
             INGEST, "column_type", "stock_code"),
    Mutation("wrong_type_csv", "CSV: 'n/a' in the total_assets column", _csv_wrong_type, INGEST, "column_type",
             "total_assets"),
    Mutation("truncated_parquet", "patents.parquet cut to half its bytes in transfer",
             _truncate("patents", 0.5), INGEST, "cannot be read"),
    Mutation("truncated_csv", "CSV: financials.csv cut inside its last record", _truncated_csv, INGEST,
             "cannot be read"),
    Mutation("empty_csv_file", "CSV: governance.csv is a zero-byte file (no header)", _empty_csv, INGEST,
             "required_column"),
    Mutation("csv_not_utf8", "CSV: firms.csv saved as GBK instead of UTF-8", _gbk_csv, INGEST, "cannot be read"),
    Mutation("required_column_all_null", "net_profit empty in every row",
             edit("financials", _all_null("net_profit")), INGEST, "not_null", "net_profit"),
    # Loaded (the contract holds) and stopped by the raw suites right after ingest.
    Mutation("duplicate_firm_year_keys", "restated financials delivered beside the original rows",
             edit("financials", _duplicate_keys), "gx_raw_financials", "expect_compound_columns_to_be_unique",
             "fiscal_year"),
    Mutation("duplicated_vintage_rows", "the governance file holds its rows twice (appended export)",
             edit("governance", lambda f: pd.concat([f, f], ignore_index=True)), "gx_raw_governance",
             "expect_compound_columns_to_be_unique", "stock_code"),
    Mutation("duplicate_patent_numbers", "application numbers repeated across patents",
             edit("patents", _duplicate_patent_numbers), "gx_raw_patents", "expect_column_values_to_be_unique",
             "application_number"),
    Mutation("unit_change_10k_yuan", "every amount in 10k yuan instead of yuan", edit("financials", _unit_10k),
             "gx_raw_financials", "expect_column_median_to_be_between", "total_assets"),
    Mutation("negative_total_assets", "sign-flipped balance sheets", edit("financials", _negate_assets),
             "gx_raw_financials", "expect_column_values_to_be_between", "total_assets"),
    Mutation("accounting_identity_broken", "total_liabilities + total_equity != total_assets in 1% of rows",
             edit("financials", _break_identity), "gx_raw_financials", "expect_column_parts_to_sum_to_total",
             "total_equity"),
    Mutation("year_missing", "fiscal year 2019 missing from financials", edit("financials", _drop_year(2019)),
             "gx_raw_financials", "expect_column_distinct_values_to_contain_set", "fiscal_year"),
    Mutation("future_listing_dates", "listing dates after the vintage date", edit("firms", _future_listing),
             "gx_raw_firms", "expect_column_values_to_be_between", "listing_date"),
    Mutation("future_fiscal_year", "governance for a fiscal year not closed at the vintage date",
             edit("governance", _future_fiscal_year), "gx_raw_governance", "expect_column_values_to_be_between",
             "fiscal_year"),
    Mutation("future_patent_dates", "applications dated after the vintage date",
             edit("patents", _future_patent_dates), "gx_raw_patents", "expect_column_values_to_be_between",
             "application_date"),
    Mutation("unknown_province_code", "province code 990000 (not GB/T 2260)",
             edit("firms", _set_value("province_code", "990000")), "gx_raw_firms", "expect_column_values_to_be_in_set",
             "province_code"),
    Mutation("unknown_industry_code", "industry code C99 (not CSRC 2012)",
             edit("firms", _set_value("industry_code", "C99")), "gx_raw_firms", "expect_column_values_to_be_in_set",
             "industry_code"),
    Mutation("orphan_patents", "30% of patents filed by an applicant the map does not know",
             edit("patents", _orphan_patents), "gx_raw_patents", "expect_column_values_to_be_in_set",
             "has_listed_applicant"),
    Mutation("mojibake_titles", "5% of titles UTF-8 decoded as Latin-1 ('ä¸\\x80ç§\\x8d')",
             edit("patents", _mojibake_titles), "gx_raw_patents", "expect_string_column_values_to_not_match_regex", "title"),
    Mutation("replacement_characters", "firm names with U+FFFD from a lossy conversion",
             edit("firms", _replacement_characters), "gx_raw_firms", "expect_string_column_values_to_not_match_regex",
             "firm_name"),
    Mutation("empty_file", "financials file with a header and no rows", edit("financials", _empty_rows),
             "gx_raw_financials", "expect_table_row_count_to_be_between"),
    Mutation("optional_column_all_null", "bachelor_staff dropped by the vendor (all empty)",
             edit("financials", _all_null("bachelor_staff")), "gx_raw_financials",
             "expect_column_proportion_of_non_null_values_to_be_between", "bachelor_staff"),
    Mutation("revision_beyond_tolerance", "30% of firm-years restated by +25% (balance sheet and income)",
             edit("financials", _revise_history(0.3, 1.25, seed=1)), "gx_raw_financials",
             "expect_column_pair_values_to_be_within_relative_distance", "total_assets"),
    Mutation("malformed_stock_codes", "firm_status stock codes lost their leading zeros",
             edit("firm_status", _strip_zeros), "gx_raw_firm_status", "expect_column_values_to_match_regex",
             "stock_code"),
    Mutation("csv_leading_zeros_lost", "CSV: firms.csv saved through a spreadsheet, codes became numbers",
             _csv_lost_zeros, "gx_raw_firms", "expect_column_values_to_match_regex", "stock_code"),
    Mutation("b_share_code", "a B-share code (900901) in the firms file", edit("firms", _b_share), "gx_raw_firms",
             "expect_column_values_to_match_regex", "stock_code"),
    Mutation("delisting_before_listing", "delisting dates before listing dates",
             edit("firms", _delisted_before_listing), "gx_raw_firms",
             "expect_column_pair_values_a_to_be_greater_than_b", "delisting_date"),
    Mutation("top1_share_over_100", "largest shareholder above 100%", edit("governance", _set_value("top1_share_pct", 134.5)),
             "gx_raw_governance", "expect_column_values_to_be_between", "top1_share_pct"),
    Mutation("independent_directors_exceed_board", "more independent directors than directors",
             edit("governance", _pair_exceeds("independent_directors", "board_size", 2)), "gx_raw_governance",
             "expect_column_pair_values_a_to_be_greater_than_b", "independent_directors"),
    Mutation("rd_staff_exceed_employees", "R&D staff above head count",
             edit("financials", _pair_exceeds("rd_staff", "employees", 10)), "gx_raw_financials",
             "expect_column_pair_values_a_to_be_greater_than_b", "rd_staff"),
    Mutation("unknown_firm_in_financials", "financials for stock codes the firms file does not list",
             edit("financials", _unknown_firm), "gx_raw_financials", "expect_column_values_to_be_in_set",
             "stock_code"),
    Mutation("firms_partly_missing", "40% of the firms file missing against the previous vintage",
             edit("firms", _lose_share(0.4)), "gx_raw_firms", "expect_table_row_count_to_be_between"),
    Mutation("unknown_patent_type", "patent_type 'invention_patent' outside the contract's list",
             edit("patents", _set_value("patent_type", "invention_patent", 0.01)), "gx_raw_patents",
             "expect_column_values_to_be_in_set", "patent_type"),
    Mutation("unknown_trading_status", "trading_status 'delisted' outside the contract's list",
             edit("firm_status", _set_value("trading_status", "delisted", 0.01)), "gx_raw_firm_status",
             "expect_column_values_to_be_in_set", "trading_status"),
    *SEMANTIC_MUTATIONS,
)
MUTATIONS_BY_NAME = {m.name: m for m in MUTATIONS}
assert len(MUTATIONS_BY_NAME) == len(MUTATIONS), "mutation names must be unique"


def _as_real_delivery(folder: Path) -> None:
    """No truth.json: a researcher's real export, never judged against the synthetic vintage before it."""
    (folder / TRUTH_FILE).unlink()


def _province_without_manufacturers(province_code: str) -> Callable[[Path], None]:
    """A real delivery in which every firm of one province is classified outside manufacturing (CSRC I65)."""

    def apply(folder: Path) -> None:
        _as_real_delivery(folder)
        edit("firms", lambda f: f.assign(industry_code=f["industry_code"].where(
            f["province_code"] != province_code, "I65")))(folder)

    return apply


# Faults every raw suite passes, caught later in the job: by a dbt data test (the province
# panel of Tables 11-14 needs firms in every province-year) or by the marts suite (a model
# variable that no longer varies). Their detected_by names that check.
LATE_STAGE_FAULTS: tuple[Mutation, ...] = (
    Mutation("province_without_manufacturers", "every firm of Ningxia (640000) outside manufacturing",
             _province_without_manufacturers("640000"), "assert_every_province_year_has_firms",
             "assert_every_province_year_has_firms"),
    Mutation("duality_zero_filled", "chair_ceo_duality false for every firm-year (an unfilled vendor field)",
             edit("governance", lambda f: f.assign(chair_ceo_duality=False)), "gx_fct_firm_years",
             "expect_column_stdev_to_be_between", "both"),
)

# Run end to end through the whole job (tests/e2e/test_faults_e2e.py): what that adds to the
# function-level tests (tests/unit/test_fault_detection.py, every mutation) is the wiring (the
# check blocks the job, the alert reaches ops.alerts, the vintage is rejected, nothing is
# published), so a few per stage prove it: two loader refusals (a missing file, a bad value),
# one fault per raw suite check the corpus reaches (firms, financials against the previous
# vintage, governance, firm_status, patents on its own long-text frame), and the late-stage faults.
END_TO_END: tuple[Mutation, ...] = (
    *(MUTATIONS_BY_NAME[name] for name in (
        "missing_file", "wrong_type_csv", "unknown_province_code", "revision_beyond_tolerance",
        "top1_share_over_100", "unknown_trading_status", "mojibake_titles",
    )),
    *LATE_STAGE_FAULTS,
)

