"""Write a contract vintage out as realistic vendor downloads (``nqp synth --as csmar,cnki,...``).

Field names, units and code lists come from the same profile YAML the importer reads (the inverse
mapping), so reader and writer agree by construction; the quirks of real downloads are then added
on top: three header rows, GB18030 / UTF-16 / BOM encodings, zips with ``[DES]`` dictionaries,
tables split over several files, merged-download column prefixes, quarterly, opening (01-01) and
parent-statement rows, restatement duplicates, stock codes without leading zeros or as '1.0',
FN_Fn060 note lines, Wind 万元 columns with multi-line headers and the footer row.
Deterministic: the same vintage gives the same files (no randomness, fixed zip timestamps). Rows
keep the contract vintage's order (quirk rows next to the row they shadow), and the importer keeps
file order, so an imported vintage has the generated row order too (an iterative estimator's
last digits can depend on row order).
"""

from __future__ import annotations

import io
import re
import zipfile
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path

import numpy as np
import pandas as pd

from importer import engine
from nqp_core.settings import SEEDS_DIR

_ZIP_DATE = (2024, 6, 30, 0, 0, 0)


def _frames(tables: dict) -> dict[str, pd.DataFrame]:
    return {name: (t.to_pandas() if hasattr(t, "to_pandas") else t) for name, t in tables.items()}


def _plain_number(value: float, factor: Decimal = Decimal(1)) -> str:
    """Exact decimal text of value / factor (the writer's inverse of the reader's Decimal scaling)."""
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return ""
    text = format(Decimal(repr(float(value))) / factor, "f")
    return text.rstrip("0").rstrip(".") if "." in text else text


def _field_map(profile: dict, contract_table: str) -> dict[str, tuple[str, str, dict]]:
    """contract column -> (vendor table, field, mapping) for plain ``field`` mappings (first alternative)."""
    out = {}
    for column, mapping in profile.get("contract", {}).get(contract_table, {}).get("columns", {}).items():
        first = mapping[0] if isinstance(mapping, list) else mapping
        if "field" in first and "derive" not in first and "times" not in first:
            table, field_name = first["field"].split(".", 1)
            out[column] = (table, field_name, first)
    return out


def _inverse_recode(mapping: dict) -> dict:
    inverse: dict = {}
    for code, value in mapping.get("recode", {}).items():
        inverse.setdefault(value, str(code))
    return inverse


def _encode(values: pd.Series, mapping: dict, dtype: str) -> pd.Series:
    if "recode" in mapping:
        inverse = _inverse_recode(mapping)
        return values.map(lambda v: "" if v is None or v is pd.NA else inverse[v])
    if dtype == "DOUBLE" or dtype == "INTEGER":
        factor = engine.UNIT_FACTORS.get(mapping.get("unit", "元"), Decimal(1))
        return values.map(lambda v: _plain_number(v, factor) if pd.notna(v) else "")
    if dtype == "DATE":
        return values.map(lambda d: d.isoformat() if d is not None and pd.notna(d) else "")
    return values.map(lambda v: "" if v is None or (isinstance(v, float) and np.isnan(v)) else str(v))


def _vendor_table(profile: dict, vendor_table: str, contract: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """The rows and fields of one vendor table from every contract column mapped into it."""
    from nqp_core import contract as raw_contract

    parts = []
    for table in raw_contract.RAW_TABLES:
        fields = {c: m for c, m in _field_map(profile, table.name).items() if m[0] == vendor_table}
        if not fields:
            continue
        frame = contract[table.name]
        part = frame[list(table.key)].copy()
        for column, (_, field_name, mapping) in fields.items():
            part[field_name] = _encode(frame[column], mapping, table.column(column).dtype).to_numpy()
        parts.append(part.set_index(list(table.key)))
    joined = parts[0]
    for part in parts[1:]:
        joined = joined.join(part, how="outer")
    return joined.fillna("").reset_index()


def _header_rows(frame: pd.DataFrame, dictionary: dict[str, str]) -> pd.DataFrame:
    """CSMAR's three header rows: field code (the columns), Chinese name, unit."""
    names = {c: dictionary.get(c, c) for c in frame.columns}
    units = {c: ("元" if c[:1] in "ABCD" and c[1:].isdigit() else "没有单位") for c in frame.columns}
    return pd.concat([pd.DataFrame([names, units]), frame], ignore_index=True)


def _csv_bytes(frame: pd.DataFrame, encoding: str, separator: str = ",") -> bytes:
    text = frame.to_csv(index=False, sep=separator, lineterminator="\n")
    return text.encode(encoding)


def _xlsx_bytes(frame: pd.DataFrame) -> bytes:
    buffer = io.BytesIO()
    frame.to_excel(buffer, index=False, engine="openpyxl")
    # openpyxl stamps the save time into docProps/core.xml and the zip entries; pin both so the
    # same vintage gives byte-identical downloads.
    source = zipfile.ZipFile(io.BytesIO(buffer.getvalue()))
    pinned = io.BytesIO()
    with zipfile.ZipFile(pinned, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for info in source.infolist():
            data = source.read(info.filename)
            if info.filename == "docProps/core.xml":
                data = re.sub(rb"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z", b"2024-06-30T00:00:00Z", data)
            entry = zipfile.ZipInfo(info.filename, date_time=_ZIP_DATE)
            entry.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(entry, data)
    return pinned.getvalue()


def _zip(path: Path, members: dict[str, bytes]) -> None:
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            info = zipfile.ZipInfo(name, date_time=_ZIP_DATE)
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, data)


def _des(table: str, dictionary: dict[str, str]) -> bytes:
    return "\n".join(f"{f} [{n}] - {n}" for f, n in dictionary.items()).encode("utf-8")


def _strip_zeros(codes: pd.Series, every: int, as_float: bool = False) -> pd.Series:
    """Lose the leading zeros of every `every`-th code, as a spreadsheet does (some as '2395.0')."""
    out = codes.copy()
    positions = np.arange(len(codes)) % every == 0
    stripped = codes[positions].str.lstrip("0").replace("", "0")
    out[positions] = stripped + ".0" if as_float else stripped
    return out


# --------------------------------------------------------------------------- CSMAR

def write_csmar(contract: dict[str, pd.DataFrame], folder: Path) -> None:
    profile = engine.load_profile("csmar")
    folder.mkdir(parents=True, exist_ok=True)
    seeds = pd.read_csv(SEEDS_DIR / "provinces.csv", dtype=str)
    financials = contract["financials"]

    # TRD_Co (GB18030 CSV, three header rows, codes without zeros); Statco/Statdt carry delisting.
    firms = contract["firms"]
    trd = _vendor_table(profile, "TRD_Co", {**contract, "firms": firms.assign(
        province_code=firms["province_code"])})
    names = dict(zip(seeds["gb_code"], seeds["name_zh"]))
    province = firms["province_code"].map(names)
    short = province.str.replace(r"(省|市)$", "", regex=True)
    trd["PROVINCE"] = np.where(np.arange(len(firms)) % 3 == 0, short, province)
    delisted = firms["delisting_date"].notna().to_numpy()
    trd["Statco"] = np.where(delisted, "D", "A")
    trd["Statdt"] = np.where(delisted, _encode(firms["delisting_date"], {}, "DATE"), trd["Listdt"])
    parents = contract["applicant_firm_map"].query("relation == 'parent'").drop_duplicates("stock_code")
    trd["Conme"] = trd["stock_code"].map(dict(zip(parents["stock_code"], parents["applicant_name"]))).fillna("")
    trd.insert(0, "Stkcd", _strip_zeros(trd.pop("stock_code"), 2))
    trd_dictionary = {"Stkcd": "证券代码", "Stknme": "证券简称", "Conme": "公司全称", "PROVINCE": "所属省份",
                      "Nnindcd": "行业代码C", "Estbdt": "成立日期", "Listdt": "上市日期", "Statco": "公司活动情况",
                      "Statdt": "情况变动日"}
    (folder / "TRD_Co.csv").write_bytes(_csv_bytes(_header_rows(trd, trd_dictionary), "gb18030"))

    # The four statements: Typrep A/B, quarterly and 01-01 rows, and a restatement before the final row.
    statements = {
        "FS_Combas": ("资产负债表", "xlsx_split_zip"),
        "FS_Comins": ("利润表", "csv_utf8_bom"),
        "FS_Comscfd": ("现金流量表(直接法)", "merged_prefix_csv"),
        "FS_Comscfi": ("现金流量表(间接法)", "txt_utf16_single_header"),
    }
    for table, (title, style) in statements.items():
        base = _vendor_table(profile, table, contract)
        base.insert(0, "Accper", base.pop("fiscal_year").astype(str) + "-12-31")
        base.insert(0, "Stkcd", base.pop("stock_code"))
        base.insert(2, "Typrep", "A")
        amounts = [c for c in base.columns if c not in ("Stkcd", "Accper", "Typrep")]
        parent = base.assign(Typrep="B")
        quarter = base.assign(Accper=base["Accper"].str.replace("-12-31", "-06-30"))
        opening = base.assign(Accper=base["Accper"].str.replace("-12-31", "-01-01"))
        restated = base.iloc[::7].copy()  # an earlier release of every 7th firm-year, superseded below
        for frame in (parent, quarter, opening, restated):
            frame[amounts] = frame[amounts].map(lambda v: _plain_number(float(v) * 0.9) if v != "" else "")
        rows = pd.concat([parent, quarter, opening, restated, base], ignore_index=False)
        rows = rows.reset_index(names="_order").sort_values("_order", kind="stable")
        rows = rows.drop(columns="_order").reset_index(drop=True)
        rows["Stkcd"] = _strip_zeros(rows["Stkcd"], 5, as_float=(style == "xlsx_split_zip"))
        dictionary = {"Stkcd": "证券代码", "Accper": "会计期间", "Typrep": "报表类型", **{a: a for a in amounts}}
        if style == "xlsx_split_zip":
            half = len(rows) // 2
            members = {f"{table}1.xlsx": _xlsx_bytes(_header_rows(rows.iloc[:half], dictionary)),
                       f"{table}2.xlsx": _xlsx_bytes(_header_rows(rows.iloc[half:], dictionary)),
                       f"{table}[DES][xlsx].txt": _des(table, dictionary)}
            _zip(folder / f"{title}123456789(仅供研究使用).zip", members)
        elif style == "csv_utf8_bom":
            (folder / f"{table}.csv").write_bytes(_csv_bytes(_header_rows(rows, dictionary), "utf-8-sig"))
        elif style == "merged_prefix_csv":
            merged = _header_rows(rows, dictionary)
            merged.columns = [f"{table}-{c}" for c in merged.columns]
            (folder / f"{table}.csv").write_bytes(_csv_bytes(merged, "utf-8"))
        else:
            (folder / f"{table}.txt").write_bytes(_csv_bytes(rows, "utf-16", "\t"))

    # PT_LCRDSpending (UTF-8 TXT with three header rows): consolidated and parent rows, two Sources.
    rd = _vendor_table(profile, "PT_LCRDSpending", contract)
    rd.insert(0, "EndDate", rd.pop("fiscal_year").astype(str) + "-12-31")
    rd.insert(0, "Symbol", rd.pop("stock_code"))
    rd.insert(2, "StateTypeCode", "1")
    rd.insert(3, "Source", "年度报告")
    prospectus = rd.iloc[::5].assign(Source="招股说明书", RDSpendSum="1")
    parent_rows = rd.assign(StateTypeCode="2")
    rd_rows = pd.concat([prospectus, parent_rows, rd]).reset_index(names="_o").sort_values(
        "_o", kind="stable").drop(columns="_o")
    dictionary = {"Symbol": "股票代码", "EndDate": "统计截止日期", "StateTypeCode": "报表类型", "Source": "数据来源",
                  "RDPerson": "研发人员数量", "RDSpendSum": "研发投入金额"}
    (folder / "PT_LCRDSpending.txt").write_bytes(_csv_bytes(_header_rows(rd_rows, dictionary), "utf-8", "\t"))

    # FN_Fn060 note lines: each sub-item as one or two lines, an unclassifiable remainder, the total.
    keys = financials[["stock_code", "fiscal_year"]]
    pieces = []

    def lines(text: str, values: pd.Series, always: bool = False) -> None:
        keep = (values.to_numpy() != 0) | always
        pieces.append(pd.DataFrame({"Stkcd": keys["stock_code"][keep], "Accper": keys["fiscal_year"][keep].astype(str) + "-12-31",
                                    "FN_Fn06001": text, "FN_Fn06002": values[keep].map(_plain_number)}))
    dep = financials["rd_depreciation_amortization"]
    depreciation_part = (dep * 0.6).round()
    lines("职工薪酬", financials["rd_salaries"])
    lines("折旧费用", depreciation_part)
    lines("无形资产摊销", dep - depreciation_part)
    lines("租赁费", financials["rd_lease"])
    lines("直接投入费用", financials["rd_direct_inputs"])
    sub_items = financials[["rd_salaries", "rd_depreciation_amortization", "rd_lease", "rd_direct_inputs"]].sum(axis=1)
    lines("其他费用", (financials["rd_expense"] - sub_items).clip(lower=0))
    lines("合计", financials["rd_expense"], always=True)
    note = pd.concat(pieces).reset_index(names="_o").sort_values("_o", kind="stable").drop(columns="_o")
    half_year = note.iloc[::9].assign(Accper=lambda f: f["Accper"].str.replace("-12-31", "-06-30"))
    note = pd.concat([note, half_year], ignore_index=True)
    (folder / "FN_Fn060.csv").write_bytes(_csv_bytes(note, "gb18030"))

    # CG_Ybasic (employees for every financials year; board fields where governance has the year).
    ybasic = _vendor_table(profile, "CG_Ybasic", contract)
    ybasic.insert(0, "Reptdt", ybasic.pop("fiscal_year").astype(str) + "-12-31")
    ybasic.insert(0, "Stkcd", _strip_zeros(ybasic.pop("stock_code"), 3))
    ybasic["Y1001b"] = ybasic["Y1001b"].map(lambda v: f"{v}.0" if v else "")  # numbers stored as text
    (folder / "CG_Ybasic.csv").write_bytes(_csv_bytes(_header_rows(ybasic, {"Stkcd": "证券代码", "Reptdt": "统计截止日期"}),
                                                      "gb18030"))

    # CG_Sharehold: top-three holders per firm-year in two batches (split files).
    holders = _vendor_table(profile, "CG_Sharehold", contract)
    holders.insert(0, "Reptdt", holders.pop("fiscal_year").astype(str) + "-12-31")
    holders.insert(0, "Stkcd", holders.pop("stock_code"))
    holders["S0501b"] = "1"
    others = [holders.assign(S0501b=str(rank), S0301b=holders["S0301b"].map(
        lambda v, r=rank: _plain_number(round(float(v) / (r + 1), 2)))) for rank in (2, 3)]
    top = pd.concat([holders, *others]).reset_index(names="_o").sort_values("_o", kind="stable")
    top = _header_rows(top.drop(columns="_o"), {"S0501b": "持股排名", "S0301b": "持股比例(%)"})
    half = len(top) // 2
    _zip(folder / "十大股东文件987654321(仅供研究使用).zip", {
        "CG_Sharehold1.csv": _csv_bytes(top.iloc[:half], "gb18030"),
        "CG_Sharehold2.csv": _csv_bytes(pd.concat([top.iloc[:2], top.iloc[half:]]), "gb18030"),
        "CG_Sharehold[DES][csv].txt": _des("CG_Sharehold", {"Stkcd": "证券代码", "Reptdt": "统计截止日期",
                                                            "S0501b": "持股排名", "S0301b": "持股比例(%)"}),
    })

    # TRD_Dalyr: two December days per firm-year; a suspended firm's last row is before Dec 31.
    status = contract["firm_status"]
    inverse = _inverse_recode(profile["contract"]["firm_status"]["columns"]["trading_status"])
    code = status["trading_status"].map(inverse)
    year = status["fiscal_year"].astype(str)
    last_day = np.where(status["suspended"].to_numpy(), "-12-20", "-12-31")
    early = pd.DataFrame({"Stkcd": status["stock_code"], "Trddt": year + "-12-01", "Trdsta": "1"})
    last = pd.DataFrame({"Stkcd": status["stock_code"], "Trddt": year + last_day, "Trdsta": code})
    november = early.iloc[::4].assign(Trddt=year.iloc[::4] + "-11-28")
    daily = pd.concat([november, early, last]).reset_index(names="_o").sort_values("_o", kind="stable").drop(columns="_o")
    (folder / "TRD_Dalyr.csv").write_bytes(_csv_bytes(daily, "utf-8"))

    # 上市公司人员结构表 (long): bachelor and postgraduate rows sum to bachelor_staff.
    disclosed = financials[financials["bachelor_staff"].notna()]
    bachelor = disclosed["bachelor_staff"].astype("int64")
    postgraduate = (bachelor * 0.2).round().astype("int64")
    base = {"Symbol": disclosed["stock_code"], "EndDate": disclosed["fiscal_year"].astype(str) + "-12-31"}
    structure = pd.concat([
        pd.DataFrame({**base, "EmployDetail": "本科", "Amount": (bachelor - postgraduate).astype(str)}),
        pd.DataFrame({**base, "EmployDetail": "硕士研究生及以上", "Amount": postgraduate.astype(str)}),
        pd.DataFrame({**base, "EmployDetail": "大专及以下",
                      "Amount": (disclosed["employees"] - bachelor).clip(lower=0).astype(str)}),
    ]).reset_index(names="_o").sort_values("_o", kind="stable").drop(columns="_o")
    (folder / "上市公司人员结构表.csv").write_bytes(_csv_bytes(structure, "utf-8-sig"))

    subsidiaries = contract["applicant_firm_map"].query("relation == 'subsidiary'")
    (folder / "上市公司子公司情况表.csv").write_bytes(_csv_bytes(pd.DataFrame(
        {"Symbol": subsidiaries["stock_code"], "SubsidiaryName": subsidiaries["applicant_name"]}), "utf-8"))


# --------------------------------------------------------------------------- CNKI

def write_cnki(contract: dict[str, pd.DataFrame], folder: Path) -> None:
    profile = engine.load_profile("cnki")
    folder.mkdir(parents=True, exist_ok=True)
    patents = contract["patents"]
    table = _vendor_table(profile, "CNKI专利", contract)
    number = table.pop("application_number")
    odd = np.arange(len(table)) % 2 == 1
    table.insert(0, "申请号", np.where(odd, number.str.slice(2), number))  # half without the CN prefix
    dates = pd.to_datetime(patents["application_date"])
    table["申请日"] = np.where(odd, dates.dt.strftime("%Y%m%d"), dates.dt.strftime("%Y-%m-%d"))
    table["主分类号"] = table["主分类号"].str.replace(" ", "", regex=False)
    table["分类号"] = table["分类号"].str.replace(" ", "", regex=False)
    half = len(table) // 2
    first, second = table.iloc[:half], pd.concat([table.iloc[half - 3:half], table.iloc[half:]])  # 3 repeated
    _zip(folder / "CNKI专利导出.zip", {"专利1.csv": _csv_bytes(first, "gb18030"),
                                    "专利2.csv": _csv_bytes(second, "utf-8-sig")})


# --------------------------------------------------------------------------- Wind

WIND_UNITS = ("万元", "元", "亿元")  # columns cycle through these units, as a user's sheet mixes them


def _wind_code(codes: pd.Series) -> pd.Series:
    exchange = np.where(codes.str.startswith("6"), ".SH", np.where(codes.str.match(r"^[48]"), ".BJ", ".SZ"))
    return codes + exchange


def _with_separators(text: str) -> str:
    if not text:
        return "--"
    whole, _, fraction = text.partition(".")
    sign = "-" if whole.startswith("-") else ""
    grouped = f"{int(whole.lstrip('-')):,}"
    return sign + grouped + ("." + fraction if fraction else "")


def write_wind(contract: dict[str, pd.DataFrame], folder: Path) -> None:
    """Firm snapshot (XLSX) and a wide financials sheet (CSV, multi-line headers, mixed units, footer)."""
    profile = engine.load_profile("wind")
    folder.mkdir(parents=True, exist_ok=True)
    seeds = pd.read_csv(SEEDS_DIR / "provinces.csv", dtype=str)
    snapshot = _vendor_table(profile, "WindSnapshot", contract)
    snapshot["省份"] = contract["firms"]["province_code"].map(dict(zip(seeds["gb_code"], seeds["name_zh"]))).to_numpy()
    snapshot["摘牌日期"] = snapshot["摘牌日期"].replace("", "--")
    snapshot.insert(0, "证券代码", _wind_code(snapshot.pop("stock_code")))
    footer = pd.DataFrame([{"证券代码": "数据来源：Wind"}])
    (folder / "wind_basic_info.xlsx").write_bytes(_xlsx_bytes(pd.concat([snapshot, footer], ignore_index=True).fillna("")))

    fields = {c: m for c, m in _field_map(profile, "financials").items() if m[0] == "WindPanel"}
    financials = contract["financials"]
    firms = list(financials["stock_code"].unique())  # the contract's own order
    columns: dict[str, list[str]] = {"证券代码": list(_wind_code(pd.Series(firms))),
                                     "证券简称": list(contract["firms"].set_index("stock_code").loc[firms, "firm_name"])}
    indexed = financials.set_index(["stock_code", "fiscal_year"])
    for year in sorted(financials["fiscal_year"].unique()):
        for position, (column, (_, indicator, _mapping)) in enumerate(fields.items()):
            unit = WIND_UNITS[position % len(WIND_UNITS)]
            header = f"{indicator}\n[报告期] {year}年报\n[报表类型] 合并报表\n[单位] {unit}"
            values = indexed[column].reindex(pd.MultiIndex.from_product([firms, [year]]))
            factor = engine.UNIT_FACTORS[unit]
            columns[header] = [_with_separators(_plain_number(v, factor)) if pd.notna(v) else "--" for v in values]
        if year == financials["fiscal_year"].max():  # a parent-statement column, to be ignored
            columns[f"{fields['total_assets'][1]}\n[报告期] {year}年报\n[报表类型] 母公司报表\n[单位] 元"] = ["1"] * len(firms)
    sheet = pd.DataFrame(columns)
    sheet = pd.concat([sheet, pd.DataFrame([{"证券代码": "数据来源：Wind"}])], ignore_index=True).fillna("")
    (folder / "wind_financials.csv").write_bytes(_csv_bytes(sheet, "utf-8-sig"))


# --------------------------------------------------------------------------- PatSnap

PATSNAP_KIND = {"invention": "A", "utility_model": "U", "design": "S"}


def write_patsnap(contract: dict[str, pd.DataFrame], folder: Path) -> None:
    """A UTF-16 tab-separated PatSnap export: ' | '-joined lists, publication numbers with kind letters."""
    profile = engine.load_profile("patsnap")
    folder.mkdir(parents=True, exist_ok=True)
    patents = contract["patents"]
    table = _vendor_table(profile, "PatSnap专利", contract)
    table.insert(0, "申请号", table.pop("application_number"))
    serial = table["申请号"].str.slice(2, 14)
    table["公开(公告)号"] = "CN" + serial.str.slice(3) + patents["patent_type"].map(PATSNAP_KIND).to_numpy()
    table["IPC分类号"] = table["IPC分类号"].str.replace(";", " | ", regex=False)
    table["申请(专利权)人"] = table["申请(专利权)人"].str.replace(";", " | ", regex=False)
    table["申请日"] = pd.to_datetime(patents["application_date"]).dt.strftime("%Y%m%d").to_numpy()
    (folder / "PatSnap_export.txt").write_bytes(_csv_bytes(table, "utf-16", "\t"))


# --------------------------------------------------------------------------- akshare

def write_akshare(contract: dict[str, pd.DataFrame], folder: Path) -> None:
    """The three Eastmoney statement frames as `nqp fetch akshare` saves them, with quarterly rows."""
    profile = engine.load_profile("akshare")
    folder.mkdir(parents=True, exist_ok=True)
    for table in profile["tables"]:
        frame = _vendor_table(profile, table, contract)
        frame.insert(0, "REPORT_DATE", frame.pop("fiscal_year").astype(str) + "-12-31 00:00:00")
        frame.insert(0, "SECURITY_CODE", frame.pop("stock_code"))
        quarter = frame.assign(REPORT_DATE=frame["REPORT_DATE"].str.replace("-12-31", "-09-30"))
        rows = pd.concat([quarter, frame]).reset_index(names="_o").sort_values("_o", kind="stable").drop(columns="_o")
        (folder / f"{table}.csv").write_bytes(_csv_bytes(rows, "utf-8"))


WRITERS: dict[str, Callable[[dict[str, pd.DataFrame], Path], None]] = {
    "csmar": write_csmar, "cnki": write_cnki, "wind": write_wind, "patsnap": write_patsnap,
    "akshare": write_akshare}


def write_vendor_downloads(tables: dict, vendors: list[str], out_dir: Path,
                           progress: Callable[[str], None] | None = None) -> dict[str, Path]:
    """Write each requested vendor's download under ``out_dir/<vendor>/``; returns the folders."""
    say = progress or (lambda message: None)
    contract = _frames(tables)
    unknown = [v for v in vendors if v not in WRITERS]
    if unknown:
        raise ValueError(f"--as {','.join(unknown)}: no vendor writer; choose from {', '.join(WRITERS)}")
    folders = {}
    for vendor in vendors:
        say(f"writing the {vendor} download")
        folder = Path(out_dir) / vendor
        if folder.exists():
            raise FileExistsError(f"{folder} already exists; refusing to overwrite it")
        WRITERS[vendor](contract, folder)
        folders[vendor] = folder
    return folders
