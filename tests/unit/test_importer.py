"""`nqp import`: every file quirk of vendor exports and every error message, on small generated files.

Fixtures are written here (pandas/openpyxl) or by the vendor writer from a small synthetic vintage;
nothing is downloaded. Expected values are the numbers written into each fixture.
"""

from __future__ import annotations

import codecs
import io
import shutil
import zipfile
from decimal import Decimal
from pathlib import Path

import pandas as pd
import pytest

from importer import engine, readers
from importer.readers import ImportProblem
from importer.run import import_vintage, parse_source
from importer.vendor_writer import write_vendor_downloads
from synthetic.vintage import build_vintage

FIXTURE_SCALE = 0.02  # ~80 firms: every table and quirk present, a second to write


@pytest.fixture(scope="module")
def downloads(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("downloads")
    write_vendor_downloads(build_vintage(3, FIXTURE_SCALE, "fixture").tables, ["csmar", "cnki"], out)
    return out


@pytest.fixture
def editable(downloads, tmp_path) -> Path:
    copy = tmp_path / "downloads"
    shutil.copytree(downloads, copy)
    return copy


def _import(folder: Path, landing: Path, vendors=("csmar", "cnki")) -> Path:
    return import_vintage([parse_source(f"{v}:{folder / v}") for v in vendors], "v1", landing)


def _csv(path: Path, frame: pd.DataFrame, encoding: str = "utf-8", sep: str = ",") -> None:
    path.write_bytes(frame.to_csv(index=False, sep=sep).encode(encoding))


def _read_table(folder: Path, table: str, code: str | None = "Stkcd") -> pd.DataFrame:
    files = list(readers.export_files(folder))
    mine = [f for f in files if readers.table_of(f.name, [table]) == table]
    return readers.read_csmar_like(mine, table, code, lambda m: None).frame


# --------------------------------------------------------------------------- reading quirks

def test_three_header_rows_are_dropped_and_counted(tmp_path):
    frame = pd.DataFrame([["证券代码", "会计期间", "资产总计"], ["没有单位", "没有单位", "元"],
                          ["1", "2020-12-31", "100"], ["", "", ""]], columns=["Stkcd", "Accper", "A001000000"])
    _csv(tmp_path / "FS_Combas.csv", frame)
    read = readers.read_csmar_like(list(readers.export_files(tmp_path)), "FS_Combas", "Stkcd", print)
    assert read.header_rows_dropped == 2 and read.footer_rows_dropped == 1  # the blank padding row
    assert read.frame[["Stkcd", "A001000000"]].values.tolist() == [["1", "100"]]
    assert read.frame["_row"].tolist() == [4]  # the file's own line number, for error messages


def test_single_header_utf16_tab_separated_txt(tmp_path):
    frame = pd.DataFrame({"Stkcd": ["000001", "600000"], "Accper": ["2020-12-31"] * 2, "D000103000": ["5", "6"]})
    _csv(tmp_path / "FS_Comscfi.txt", frame, "utf-16", "\t")
    read = _read_table(tmp_path, "FS_Comscfi")
    assert read["D000103000"].tolist() == ["5", "6"] and read["Stkcd"].tolist() == ["000001", "600000"]


@pytest.mark.parametrize("encoding", ["gb18030", "gbk", "utf-8-sig", "utf-16", "utf-16-le", "utf-8"])
def test_encodings_are_sniffed(encoding):
    text = "Stkcd,Stknme\n000001,平安银行\n"
    assert readers.decode(text.encode(encoding), "x.csv").replace("\r", "") == text


def test_undecodable_file_names_the_file_and_rule():
    with pytest.raises(ImportProblem, match=r"broken\.csv: cannot decode the file as utf-8, gb18030, utf-16 \(rule: encoding"):
        readers.decode(bytes([0x81, 0x20, 0xff]) * 3, "broken.csv")  # odd length, invalid GB18030 pairs
    with pytest.raises(ImportProblem, match=r"cannot decode the file as utf-16"):
        readers.decode(codecs.BOM_UTF16_BE + b"\x00a\xd8", "bom.txt")  # a BOM, then a truncated surrogate


def test_zip_with_split_files_and_des_dictionary(tmp_path):
    def xlsx(frame):
        buffer = io.BytesIO()
        frame.to_excel(buffer, index=False, engine="openpyxl")
        return buffer.getvalue()
    header = [["证券代码", "会计期间", "资产总计"], ["没有单位", "没有单位", "元"]]
    first = pd.DataFrame(header + [[1.0, "2020-12-31", 10.0]], columns=["Stkcd", "Accper", "A001000000"])
    second = pd.DataFrame(header + [["600000", "2020-12-31", "20"]], columns=["Stkcd", "Accper", "A001000000"])
    with zipfile.ZipFile(tmp_path / "资产负债表123456789(仅供研究使用).zip", "w") as archive:
        archive.writestr("FS_Combas2.xlsx", xlsx(second))
        archive.writestr("FS_Combas1.xlsx", xlsx(first))
        archive.writestr("FS_Combas[DES][xlsx].txt", "Stkcd [证券代码] - code\nA001000000 [资产总计] - total")
    files = list(readers.export_files(tmp_path))
    assert {readers.table_of(f.name, ["FS_Combas", "FS_Comins"]) for f in files} == {"FS_Combas"}
    read = readers.read_csmar_like(files, "FS_Combas", "Stkcd", print)
    assert read.dictionary == {"Stkcd": "证券代码", "A001000000": "资产总计"}
    assert engine.normalise_code(read.frame["Stkcd"]).tolist() == ["000001", "600000"]  # TABLE1 before TABLE2
    assert pd.to_numeric(read.frame["A001000000"]).tolist() == [10.0, 20.0]


def test_merged_download_prefixes_are_stripped_but_not_field_digits():
    assert readers.strip_prefix(["FS_Combas-A001000000", "FS_CombasA001000000", "Stkcd"], "FS_Combas") == [
        "A001000000", "A001000000", "Stkcd"]
    assert readers.strip_prefix(["FN_Fn06001", "PT_LCRDSPENDING-RDSpendSumRatio"], "FN_Fn060") == [
        "FN_Fn06001", "PT_LCRDSPENDING-RDSpendSumRatio"]
    assert readers.strip_prefix(["PT_LCRDSPENDING-RDSpendSumRatio"], "PT_LCRDSpending") == ["RDSpendSumRatio"]


def test_split_file_names_map_to_their_table():
    tables = ["FN_Fn060", "CG_Sharehold", "TRD_Co"]
    assert readers.table_of("cg_sharehold3.csv", tables) == "CG_Sharehold"
    assert readers.table_of("FN_Fn060.csv", tables) == "FN_Fn060"
    assert readers.table_of("TRD_Co[DES][csv].txt", tables) == "TRD_Co"
    assert readers.table_of("README.txt", tables) is None


def test_stock_codes_lost_zeros_floats_and_suffixes():
    codes = pd.Series(["1", "1.0", "000001.SZ", "SH600000", " 2395 ", "600000.0"])
    assert engine.normalise_code(codes).tolist() == ["000001", "000001", "000001", "600000", "002395", "600000"]


def test_numbers_as_text_thousands_separators_and_missing_tokens():
    values = pd.Series(["1,211,379,763.0000", "--", "", "12.5", " 7 ", "NULL"])
    out = engine.to_decimal_floats(values, Decimal(1), lambda i: f"row {i}")
    assert out.tolist()[:1] == [1211379763.0] and out.iloc[3] == 12.5 and out.iloc[4] == 7.0
    assert out.isna().tolist() == [False, True, True, False, False, True]


def test_unit_scaling_is_exact_in_decimal_arithmetic():
    # 0.1 + 0.2 style float error would make 469422.1606 * 10000 != 4694221606.
    out = engine.to_decimal_floats(pd.Series(["469422.1606", "0.0003"]), Decimal(10_000), str)
    assert out.tolist() == [4694221606.0, 3.0]


def test_a_non_number_names_its_location_and_rule():
    with pytest.raises(ImportProblem, match=r"row 1: 'abc' is not a number \(rule: numeric value\)"):
        engine.to_decimal_floats(pd.Series(["1", "abc"]), Decimal(1), lambda i: f"row {i}")


def test_dates_with_unknown_days_integers_and_times():
    values = pd.Series(["1993-12-00", "20180301", "20180301.0", "2018-03-01 00:00:00", "2018/3/1", "--",
                        "0000-00-00"])
    out = engine.to_dates(values, str).tolist()
    assert [str(d) for d in out[:5]] == ["1993-12-01", "2018-03-01", "2018-03-01", "2018-03-01", "2018-03-01"]
    assert out[5] is None and out[6] is None


def test_an_impossible_date_names_its_location_and_rule():
    with pytest.raises(ImportProblem, match=r"row 1: '2018-13-40' is not a calendar date \(rule: date value\)"):
        engine.to_dates(pd.Series(["2018-01-01", "2018-13-40"]), lambda i: f"row {i}")


def test_patent_numbers_with_or_without_the_cn_prefix_and_ipc_spacing():
    numbers = pd.Series(["202311340972.0", "CN201811107071.6", "cn201811107071.6"])
    assert engine.normalise_application_number(numbers).tolist() == [
        "CN202311340972.0", "CN201811107071.6", "CN201811107071.6"]
    assert engine.normalise_ipc_list(pd.Series(["H01M10/0525；G06N3/08", "G06F 16/35 | A23L2/52"])).tolist() == [
        "H01M 10/0525;G06N 3/08", "G06F 16/35;A23L 2/52"]


def test_wind_multi_line_header_units_and_footer(tmp_path):
    sheet = pd.DataFrame({
        "证券代码": ["000001.SZ", "600000.SH", "数据来源：Wind"],
        "证券简称": ["平安银行", "浦发银行", ""],
        "营业总收入\n[报告期] 2018年报\n[报表类型] 合并报表\n[单位] 万元": ["1,234.5678", "--", ""],
        "营业总收入\n[报告期] 2018年报\n[报表类型] 母公司报表\n[单位] 元": ["1", "1", ""],
        "资产总计\n[报告期] 2018年报\n[报表类型] 合并报表\n[单位] 亿元": ["2.5", "3", ""],
    })
    repeated = "资产总计\n[报告期] 2018年报\n[报表类型] 合并报表\n[单位] 元"
    sheet = pd.concat([sheet, pd.DataFrame({repeated: ["1", "", ""]})], axis=1)  # a column exported twice
    _csv(tmp_path / "wind.csv", sheet, "utf-8-sig")
    header = readers.parse_wind_header(sheet.columns[2])
    assert (header.indicator, header.year, header.statement_type, header.unit) == ("营业总收入", 2018, "合并报表", "万元")
    from importer.wind import read_wind_tables

    tables = read_wind_tables(list(readers.export_files(tmp_path)), engine.load_profile("wind"), print)
    panel = tables["WindPanel"].frame
    assert tables["WindPanel"].footer_rows_dropped == 1
    assert panel["营业总收入"].tolist() == ["12345678.0000", ""]  # 1,234.5678 万元, the parent column ignored
    assert panel["资产总计"].tolist() == ["1", "300000000"]  # a repeated column: its last non-empty value
    assert panel["_period"].unique().tolist() == ["2018-12-31"]


# --------------------------------------------------------------------------- engine rules

def test_rd_note_lines_are_classified_and_the_rest_reported(tmp_path):
    lines = pd.DataFrame({
        "Stkcd": ["1"] * 6, "Accper": ["2020-12-31"] * 5 + ["2020-06-30"],
        "FN_Fn06001": ["职工薪酬", "折旧费", "无形资产摊销", "委托外部研发费用", "合计", "职工薪酬"],
        "FN_Fn06002": ["100", "20", "5", "7", "132", "999"]})
    _csv(tmp_path / "FN_Fn060.csv", lines, "gb18030")
    spec = engine.load_profile("csmar")["tables"]["FN_Fn060"]
    read = readers.read_csmar_like(list(readers.export_files(tmp_path)), "FN_Fn060", "Stkcd", print)
    prepared = engine.prepare_table("csmar", "FN_Fn060", spec, read)
    sums = prepared.line_sums.loc[("000001", 2020)]
    assert sums.to_dict() == {"salaries": 100.0, "depreciation_amortization": 25.0, "lease": 0.0, "direct_inputs": 0.0}
    assert prepared.stats.unclassified_lines == {"委托外部研发费用": 1}
    assert prepared.stats.dropped_by_rule == {"annual period (Accper ends 12-31)": 1}


def test_restatements_keep_the_last_row_and_parent_rows_are_dropped(tmp_path):
    frame = pd.DataFrame({"Stkcd": ["1", "1", "1", "1"], "Accper": ["2020-12-31", "2020-12-31", "2020-12-31", "2020-01-01"],
                          "Typrep": ["A", "B", "A", "A"], "A001000000": ["90", "50", "100", "80"]})
    _csv(tmp_path / "FS_Combas.csv", frame)
    read = _read_table(tmp_path, "FS_Combas")
    prepared = engine.prepare_table("csmar", "FS_Combas", engine.load_profile("csmar")["tables"]["FS_Combas"],
                                    readers.VendorFrame("FS_Combas", read, ["FS_Combas.csv"]))
    assert prepared.frame["A001000000"].tolist() == ["100"]
    assert prepared.stats.duplicates_resolved == 1
    assert prepared.stats.dropped_by_rule == {"consolidated statements (Typrep = A)": 1,
                                              "annual period (Accper ends 12-31)": 1}


# --------------------------------------------------------------------------- whole imports and errors

def test_missing_vendor_table_names_what_to_download(editable, tmp_path):
    (editable / "csmar" / "CG_Ybasic.csv").unlink()
    with pytest.raises(ImportProblem) as error:
        _import(editable, tmp_path / "landing")
    message = str(error.value)
    assert "governance.board_size: download CSMAR CG_Ybasic (field Y1101a)" in message
    assert "financials.employees: download CSMAR CG_Ybasic (field Y0601b)" in message
    assert not (tmp_path / "landing").exists() or not any((tmp_path / "landing").iterdir())


def _edit_csv(path: Path, encoding: str, edit) -> None:
    frame = pd.read_csv(path, dtype=str, keep_default_na=False, encoding=encoding)
    edit(frame)
    path.write_bytes(frame.to_csv(index=False).encode(encoding))


def test_unknown_code_names_file_row_field_and_rule(editable, tmp_path):
    def plant(frame):
        frame.loc[frame.index[5], "Y1001b"] = "3"
    _edit_csv(editable / "csmar" / "CG_Ybasic.csv", "gb18030", plant)
    with pytest.raises(ImportProblem, match=r"CG_Ybasic\.csv, row 7, field Y1001b: unknown code '3' \(rule: recode"):
        _import(editable, tmp_path / "landing")
    assert not (tmp_path / "landing" / "v1").exists()


def test_ambiguous_rows_name_file_rows_field_and_rule(editable, tmp_path):
    path = editable / "csmar" / "TRD_Co.csv"
    _edit_csv(path, "gb18030", lambda frame: frame.loc.__setitem__((frame.index[3], "Stkcd"), frame.loc[frame.index[2], "Stkcd"]))
    with pytest.raises(ImportProblem, match=r"TRD_Co: ambiguous rows for stock_code=\d{6} .*TRD_Co\.csv row 4; "
                                            r".*TRD_Co\.csv row 5\); field stock_code; rule: one row per key"):
        _import(editable, tmp_path / "landing")


def test_a_failed_import_writes_nothing_and_leaves_inputs_untouched(editable, tmp_path, digest):
    (editable / "cnki" / "CNKI专利导出.zip").unlink()
    before = digest(editable)
    with pytest.raises(ImportProblem, match=r"cnki: no file of the cnki profile's tables found"):
        _import(editable, tmp_path / "landing")
    assert digest(editable) == before
    landing = tmp_path / "landing"
    assert not landing.exists() or list(landing.iterdir()) == []


def test_successful_import_writes_report_and_ready_last(downloads, tmp_path, digest):
    before = digest(downloads)
    target = _import(downloads, tmp_path / "landing")
    assert digest(downloads) == before
    assert (target / "_READY").exists() and (target / "import_report.json").exists()
    report = (target / "import_report.md").read_text(encoding="utf-8")
    assert "`financials.operating_cash_outflows` | CSMAR FS_Comscfd.C001200000 | 元" in report
    assert "`其他费用`" in report  # the unclassified FN_Fn060 remainder line is listed
    assert "Applicant-to-firm map" in report and "100.0%" in report
    with pytest.raises(FileExistsError):
        _import(downloads, tmp_path / "landing")


def test_ratio_route_converts_nqpf_ratios_through_operating_income(downloads, tmp_path):
    folder = tmp_path / "downloads"
    shutil.copytree(downloads, folder)
    (folder / "csmar" / "FN_Fn060.csv").unlink()
    comins = pd.read_csv(folder / "csmar" / "FS_Comins.csv", dtype=str, skiprows=[1, 2], encoding="utf-8-sig")
    annual = comins[comins["Accper"].str.endswith("12-31") & (comins["Typrep"] == "A")].drop_duplicates(
        ["Stkcd", "Accper"], keep="last")
    annual = annual.assign(Stkcd=engine.normalise_code(annual["Stkcd"])).drop_duplicates(["Stkcd", "Accper"], keep="last")
    ratios = pd.DataFrame({"Symbol": annual["Stkcd"], "EndDate": annual["Accper"], "RDPSalaryRatio": "1.25",
                           "RDPDepAmortRatio": "0.5", "RDPLeaseCostsRatio": "0", "DirectInvestment": "2"})
    _csv(folder / "csmar" / "NQPF_EnNQPThreeLevelIndLT.csv", ratios)
    target = _import(folder, tmp_path / "landing")
    financials = pd.read_parquet(target / "financials.parquet")
    assert (financials["rd_salaries"] == (financials["operating_income"] * 0.0125).round()).all()
    assert (financials["rd_direct_inputs"] == (financials["operating_income"] * 0.02).round()).all()
    assert (financials["rd_lease"] == 0).all()


CNKI_HEADERS = {"application_number": "申请号", "application_date": "申请日", "patent_type": "专利类型",
                "title": "名称", "abstract": "摘要", "main_ipc": "主分类号", "ipc_codes": "分类号",
                "applicants": "申请(专利权)人"}


def test_symbol_link_in_a_patent_export_maps_an_otherwise_unknown_applicant(downloads, tmp_path):
    folder = tmp_path / "downloads"
    shutil.copytree(downloads, folder)
    (folder / "csmar" / "上市公司子公司情况表.csv").unlink()
    target = _import(folder, tmp_path / "landing")  # no subsidiary table: parents only
    parents_only = pd.read_parquet(target / "applicant_firm_map.parquet")
    assert set(parents_only["relation"]) == {"parent"}
    patents = pd.read_parquet(target / "patents.parquet")
    first = patents["applicants"].str.split(";").str[0]
    position = int(first.str.contains("(", regex=False).to_numpy().argmax())  # a subsidiary's patent
    code = parents_only["stock_code"].iloc[0]
    linked = patents.iloc[[position]].rename(columns=CNKI_HEADERS).assign(
        专利类型=lambda f: f["专利类型"].map({"invention": "发明", "utility_model": "实用新型", "design": "外观设计"}),
        Symbol=code.lstrip("0"))
    _csv(folder / "cnki" / "专利3.csv", linked)  # after 专利1/专利2: its copy of the patent is the one kept
    relinked = import_vintage([parse_source(f"csmar:{folder / 'csmar'}"), parse_source(f"cnki:{folder / 'cnki'}")],
                              "v2", tmp_path / "landing")
    mapped = pd.read_parquet(relinked / "applicant_firm_map.parquet")
    row = mapped[mapped["applicant_name"] == first.iloc[position]]
    assert row[["stock_code", "relation"]].values.tolist() == [[code, "subsidiary"]]


def test_the_importer_imports_no_dagster():
    import subprocess
    import sys

    code = ("import sys; import importer.run, importer.vendor_writer, "
            "importer.wind, importer.fetch; "
            "print(sorted(m for m in sys.modules if m.split('.')[0] in ('dagster', 'dbt', 'duckdb')))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def _cli(*args: str):
    import subprocess
    import sys

    return subprocess.run([sys.executable, "-m", "dagster_project.cli", *args], capture_output=True, text=True,
                          cwd=Path(__file__).resolve().parents[2])


def test_cli_import_error_is_one_clear_message(tmp_path):
    (tmp_path / "empty").mkdir()
    out = _cli("import", "--from", f"csmar:{tmp_path / 'empty'}", "--vintage", "x", "--landing", str(tmp_path / "l"))
    assert out.returncode == 2 and "Traceback" not in out.stderr
    assert "no file of the csmar profile's tables found" in out.stderr and "nothing was written" in out.stderr
    traversal = _cli("import", "--from", f"csmar:{tmp_path}", "--vintage", "../x", "--landing", str(tmp_path / "l"))
    assert traversal.returncode == 2 and "is not allowed (rule: vintage_id)" in traversal.stderr
    bad = _cli("import", "--from", "nosuchvendor:/tmp", "--vintage", "x", "--landing", str(tmp_path / "l"))
    assert bad.returncode == 2 and "no profile 'nosuchvendor': choose one of akshare, cnki, csmar" in bad.stderr


def test_fetch_akshare_without_akshare_says_how_to_install(tmp_path):
    import importlib.util

    if importlib.util.find_spec("akshare") is not None:
        pytest.skip("akshare is installed here; the message is for environments without it")
    out = _cli("fetch", "akshare", "600519", "--out", str(tmp_path / "ak"))
    assert out.returncode == 2 and "uv pip install --python .venv/bin/python akshare" in out.stderr
    assert not (tmp_path / "ak").exists()


def test_a_free_vintage_names_what_it_cannot_fill(tmp_path):
    folder = tmp_path / "akshare"
    folder.mkdir()
    row = {"SECURITY_CODE": "600519", "REPORT_DATE": "2020-12-31 00:00:00"}
    _csv(folder / "stock_balance_sheet_by_report_em.csv", pd.DataFrame([{**row, "TOTAL_ASSETS": "1"}]))
    with pytest.raises(ImportProblem) as error:
        import_vintage([parse_source(f"akshare:{folder}")], "free", tmp_path / "landing")
    message = str(error.value)
    assert ("governance.board_size: download CSMAR CG_Ybasic (field Y1101a); a free (tushare/akshare) vintage "
            "cannot fill it") in message
    assert "financials.rd_salaries: download CSMAR FN_Fn060; a free" in message
    assert "patents: no rows (its rows come from CNKI patents (CNIPA bibliographic data) CNKI专利 or PatSnap" in message
    assert "financials.net_profit: download akshare (Eastmoney) stock_profit_sheet_by_report_em (field NETPROFIT)" in message


def test_tushare_frames_keep_consolidated_annual_rows(tmp_path):
    frame = pd.DataFrame({"ts_code": ["600519.SH", "600519.SH", "600519.SH", "000001.SZ"],
                          "end_date": ["20201231", "20201231", "20200930", "20201231"],
                          "report_type": ["1", "6", "1", "1"], "total_assets": ["100", "60", "90", "7"]})
    _csv(tmp_path / "balancesheet.csv", frame)
    spec = engine.load_profile("tushare")["tables"]["balancesheet"]
    read = readers.read_csmar_like(list(readers.export_files(tmp_path)), "balancesheet", "ts_code", print)
    prepared = engine.prepare_table("tushare", "balancesheet", spec, read)
    assert prepared.frame.index.tolist() == [("600519", 2020), ("000001", 2020)]
    assert prepared.frame["total_assets"].tolist() == ["100", "7"]
    assert prepared.stats.dropped_by_rule == {"consolidated (report_type = 1)": 1, "annual period (end_date 1231)": 1}


# --------------------------------------------------------------------------- review fixes

def test_header_only_csmar_file_reads_as_no_rows(tmp_path):
    (tmp_path / "FS_Combas.csv").write_text("Stkcd,Accper,A001000000\n", encoding="utf-8")
    assert _read_table(tmp_path, "FS_Combas").empty
    (tmp_path / "FS_Combas.csv").write_text("Stkcd,Accper,A001000000\n证券代码,会计期间,资产总计\n"
                                            "没有单位,没有单位,元\n", encoding="utf-8")
    read = readers.read_csmar_like(list(readers.export_files(tmp_path)), "FS_Combas", "Stkcd", print)
    assert read.frame.empty and read.header_rows_dropped == 2


def test_blank_or_dotted_codes_in_the_first_data_rows_are_kept(tmp_path):
    frame = pd.DataFrame([["", "2020-12-31", "1"], ["--", "2020-12-31", "2"], ["sh.600000", "2020-12-31", "3"],
                          ["000001", "2020-12-31", "4"]], columns=["Stkcd", "Accper", "A001000000"])
    _csv(tmp_path / "FS_Combas.csv", frame)
    read = _read_table(tmp_path, "FS_Combas")
    assert read["A001000000"].tolist() == ["1", "2", "3", "4"]
    assert engine.normalise_code(read["Stkcd"]).tolist() == ["", "", "600000", "000001"]


def test_more_than_two_extra_header_rows_name_file_and_row(tmp_path):
    frame = pd.DataFrame([["证券代码", "x"], ["没有单位", "x"], ["备注", "x"], ["000001", "1"]], columns=["Stkcd", "A"])
    _csv(tmp_path / "FS_Combas.csv", frame)
    with pytest.raises(ImportProblem, match=r"FS_Combas\.csv, row 4, field Stkcd: '备注' .*\(rule: header rows\)"):
        _read_table(tmp_path, "FS_Combas")
    _csv(tmp_path / "FS_Combas.csv", pd.DataFrame([["a", "1"], ["b", "2"], ["c", "3"]], columns=["Stkcd", "A"]))
    with pytest.raises(ImportProblem, match=r"row 2, field Stkcd: no row has a stock code"):
        _read_table(tmp_path, "FS_Combas")


@pytest.mark.parametrize("cell", ["——", "N.A.", "12.5%"])
def test_wind_non_number_names_file_row_and_column(tmp_path, cell):
    sheet = pd.DataFrame({"证券代码": ["000001.SZ", "600000.SH"],
                          "营业总收入\n[报告期] 2018年报\n[报表类型] 合并报表\n[单位] 万元": ["1", cell]})
    _csv(tmp_path / "wind.csv", sheet)
    from importer.wind import read_wind_tables

    with pytest.raises(ImportProblem, match=r"wind\.csv, row 3, column 2 \(营业总收入 2018\): .* is not a number "
                                            r"\(rule: numeric value\)"):
        read_wind_tables(list(readers.export_files(tmp_path)), engine.load_profile("wind"), print)


def _xlsx_bytes(sheets: dict[str, pd.DataFrame]) -> bytes:
    buffer = io.BytesIO()
    with pd.ExcelWriter(buffer, engine="openpyxl") as writer:
        for name, frame in sheets.items():
            frame.to_excel(writer, sheet_name=name, index=False)
    return buffer.getvalue()


def test_lock_files_and_macos_debris_are_skipped(tmp_path):
    good = pd.DataFrame({"Stkcd": ["000001"], "A": ["1"]})
    _csv(tmp_path / "x.csv", good)
    (tmp_path / "~$x.xlsx").write_bytes(b"\x00lock")
    (tmp_path / "._x.csv").write_bytes(b"\x00\x05\x16\x07resource fork")
    with zipfile.ZipFile(tmp_path / "d.zip", "w") as archive:
        archive.writestr("__MACOSX/._y.csv", b"\x00\x05\x16\x07")
        archive.writestr("y.csv", good.to_csv(index=False))
    assert sorted(f.name for f in readers.export_files(tmp_path)) == ["x.csv", "y.csv"]


def test_corrupt_workbook_names_the_file_and_rule(tmp_path):
    (tmp_path / "FS_Combas.xlsx").write_bytes(b"PK\x03\x04 not really a workbook")
    with pytest.raises(ImportProblem, match=r"FS_Combas\.xlsx: cannot be read as Excel: .*\(rule: file layout\)"):
        _read_table(tmp_path, "FS_Combas")


def test_wind_empty_files_are_skipped_and_parts_keep_their_names(tmp_path):
    from importer.wind import read_wind_tables

    (tmp_path / "a_empty.csv").write_text("", encoding="utf-8")
    revenue = "营业总收入\n[报告期] 2018年报\n[报表类型] 合并报表\n[单位] 元"
    assets = "资产总计\n[报告期] 2018年报\n[报表类型] 合并报表\n[单位] 元"
    (tmp_path / "b.xlsx").write_bytes(_xlsx_bytes({
        "one": pd.DataFrame({"证券代码": ["000001.SZ"], revenue: ["5"]}),
        "blank": pd.DataFrame(),
        "two": pd.DataFrame({"证券代码": ["000001.SZ"], "证券简称": ["平安银行"], assets: ["7"]})}))
    tables = read_wind_tables(list(readers.export_files(tmp_path)), engine.load_profile("wind"), print)
    panel = tables["WindPanel"].frame
    assert panel[["营业总收入", "资产总计"]].values.tolist() == [["5", "7"]]  # both sheets read
    assert tables["WindPanel"].files == [f"{tmp_path / 'b.xlsx'}[one]", f"{tmp_path / 'b.xlsx'}[two]"]
    assert tables["WindSnapshot"].frame["_file"].tolist() == [f"{tmp_path / 'b.xlsx'}[two]"]


def test_a_workbook_with_two_non_empty_sheets_is_refused_naming_them(tmp_path):
    frame = pd.DataFrame({"Stkcd": ["000001"], "A": ["1"]})
    (tmp_path / "FS_Combas.xlsx").write_bytes(_xlsx_bytes({"Sheet1": frame, "Sheet2": frame, "empty": pd.DataFrame()}))
    with pytest.raises(ImportProblem, match=r"FS_Combas\.xlsx: the workbook has 2 non-empty sheets \(Sheet1, Sheet2\)"):
        _read_table(tmp_path, "FS_Combas")


def test_an_unknown_profile_unit_names_the_column_and_known_units(editable, tmp_path):
    profile = tmp_path / "csmar.yaml"
    text = (engine.PROFILES_DIR / "csmar.yaml").read_text(encoding="utf-8")
    profile.write_text(text.replace("unit: 元", "unit: 万", 1), encoding="utf-8")
    sources = [parse_source(f"{profile}:{editable / 'csmar'}"), parse_source(f"cnki:{editable / 'cnki'}")]
    with pytest.raises(ImportProblem, match=r"profile .*csmar\.yaml: \w+\.\w+: unknown unit '万' "
                                            r"\(rule: profile unit; known units: 元, yuan, 千元, 万元"):
        import_vintage(sources, "v1", tmp_path / "landing")
    from importer.wind import read_wind_tables

    (tmp_path / "w").mkdir()
    _csv(tmp_path / "w" / "w.csv", pd.DataFrame({"证券代码": ["000001.SZ"], "A\n[报告期] 2018年报\n[单位] thousand": ["1"]}))
    with pytest.raises(ImportProblem, match=r"w\.csv, column 2 \(A 2018\): unknown unit 'thousand' \(rule: Wind"):
        read_wind_tables(list(readers.export_files(tmp_path / "w")), engine.load_profile("wind"), print)


@pytest.mark.parametrize("cell", ["0", "否", "False"])
def test_a_boolean_column_without_a_recode_table_refuses_text(cell):
    with pytest.raises(ImportProblem, match=rf"row 1: '{cell}' is not a boolean \(rule: BOOLEAN column needs a recode"):
        engine._cast(pd.Series([True, cell, None], dtype=object), "BOOLEAN", Decimal(1), lambda i: f"row {i}")
    recoded = engine._recode(pd.Series(["1", "0", ""]), {1: True, 0: False}, lambda i: f"row {i}")
    assert engine._cast(recoded, "BOOLEAN", Decimal(1), str).tolist() == [True, False, pd.NA]


def test_missing_legal_and_subsidiary_names_make_no_applicant_rows():
    from importer.applicants import build_applicant_firm_map

    assert engine.normalise_name(pd.Series(["甲（集团） 公司", None, float("nan")], dtype=object)).tolist() == [
        "甲(集团)公司", "", ""]
    patents = pd.DataFrame({"application_number": ["CN1", "CN2"], "applicants": ["甲公司", "乙公司;丙公司"]})
    firms = pd.DataFrame({"stock_code": ["000001", "000002"]})
    auxiliary = {"legal_names": pd.DataFrame({"stock_code": ["000001", "000001", "000002"],
                                              "legal_name": ["甲公司", None, pd.NA]}, dtype=object),
                 "subsidiaries": pd.DataFrame({"stock_code": ["000002", "000002"],
                                               "subsidiary_name": [float("nan"), "丙公司"]}, dtype=object)}
    table, stats = build_applicant_firm_map(patents, firms, auxiliary)
    assert table.values.tolist() == [["甲公司", "000001", "parent"], ["丙公司", "000002", "subsidiary"]]
    assert stats["names_matched"] == 2


def test_blank_keys_stay_blank_and_are_refused_naming_file_and_row(tmp_path):
    assert engine.normalise_code(pd.Series(["", "--", "1"])).tolist() == ["", "", "000001"]
    assert engine.normalise_application_number(pd.Series(["", "--", "2023.0"])).tolist() == ["", "", "CN2023.0"]
    _csv(tmp_path / "FS_Combas.csv", pd.DataFrame({"Stkcd": ["1", "", "2"], "Accper": ["2020-12-31"] * 3,
                                                   "Typrep": ["A"] * 3, "A001000000": ["1", "2", "3"]}))
    read = _read_table(tmp_path, "FS_Combas")
    with pytest.raises(ImportProblem, match=r"FS_Combas\.csv, row 3, field Stkcd: '' leaves the key stock_code "
                                            r"missing \(rule: key present\)"):
        engine.prepare_table("csmar", "FS_Combas", engine.load_profile("csmar")["tables"]["FS_Combas"],
                             readers.VendorFrame("FS_Combas", read, ["FS_Combas.csv"]))
    # Two patents without a number would have collapsed into one under keep_last.
    _csv(tmp_path / "CNKI专利.csv", pd.DataFrame({"申请号": ["202311340972.0", "--", ""], "名称": ["a", "b", "c"]}))
    read = _read_table(tmp_path, "CNKI专利", None)
    with pytest.raises(ImportProblem, match=r"CNKI专利\.csv, row 3, field 申请号: '--' leaves the key _id missing"):
        engine.prepare_table("cnki", "CNKI专利", engine.load_profile("cnki")["tables"]["CNKI专利"],
                             readers.VendorFrame("CNKI专利", read, ["CNKI专利.csv"]))
