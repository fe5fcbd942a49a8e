"""Read vendor export files into frames of strings, whatever their quirks.

Handled here: folders, single files and zip downloads (``[DES]`` field dictionaries are parsed,
not read as data); tables split over several files (``TABLE1.xlsx``, ``TABLE2.xlsx``); merged
downloads whose columns carry a table prefix (``PT_LCRDSPENDING-RDSpendSumRatio``,
``FS_CombasA001000000``); CSMAR's extra header rows (Chinese name, unit); BOM sniffing, then
UTF-8, GB18030 and UTF-16; Wind's multi-line headers with per-column units and its
``数据来源：Wind`` footer. XLSX is read by calamine through pandas; CSV/TXT by pandas.
Input files are only ever opened for reading.
"""

from __future__ import annotations

import codecs
import csv
import io
import re
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

DATA_SUFFIXES = (".xlsx", ".xls", ".csv", ".txt")
DES_MARKER = "[DES]"
ENCODINGS = ("utf-8", "gb18030", "utf-16")
_BOMS = ((codecs.BOM_UTF8, "utf-8-sig"), (codecs.BOM_UTF16_LE, "utf-16"), (codecs.BOM_UTF16_BE, "utf-16"))
# Cells that mean 'no value' (the engine's missing values; here they make no header row).
MISSING_TOKENS = frozenset({"", "--", "-", "—", "nan", "NaN", "NULL", "null", "None", "N/A", "NA", "#N/A"})
PROGRESS_BYTES = 20_000_000  # files at least this large are announced while they are read


class ImportProblem(ValueError):
    """An import error that names the file, row, field and rule involved."""


@dataclass(frozen=True)
class ExportFile:
    """One data or dictionary file of a download: where it is and how to get its bytes."""

    location: str  # 'folder/file.csv' or 'download.zip!member.csv', for messages
    name: str  # the file name alone
    read_bytes: Callable[[], bytes]
    size: int


@dataclass
class VendorFrame:
    """A vendor table read from one or more files: string cells, plus where each row came from."""

    table: str
    frame: pd.DataFrame  # string cells; '_file' and '_row' (1-based line or sheet row) added
    files: list[str] = field(default_factory=list)
    header_rows_dropped: int = 0
    footer_rows_dropped: int = 0
    dictionary: dict[str, str] = field(default_factory=dict)  # field -> Chinese name, from [DES]
    columns_dropped: dict[str, int] = field(default_factory=dict)  # rule -> columns the reader dropped


def export_files(path: Path) -> Iterator[ExportFile]:
    """Every file of a download given as a folder, a single file or a zip (zips inside folders too)."""
    path = Path(path)
    if not path.exists():
        raise ImportProblem(f"{path}: no such file or folder")
    candidates = sorted(p for p in path.rglob("*") if p.is_file()) if path.is_dir() else [path]
    for candidate in candidates:
        if candidate.suffix.lower() == ".zip":
            with zipfile.ZipFile(candidate) as archive:
                for info in sorted(archive.infolist(), key=lambda i: i.filename):
                    if info.is_dir() or _is_os_debris(info.filename):
                        continue
                    yield ExportFile(
                        location=f"{candidate}!{info.filename}", name=_zip_member_name(info),
                        read_bytes=lambda c=candidate, n=info.filename: _zip_read(c, n), size=info.file_size,
                    )
        elif not _is_os_debris(str(candidate.relative_to(path)) if path.is_dir() else candidate.name):
            yield ExportFile(location=str(candidate), name=candidate.name,
                             read_bytes=candidate.read_bytes, size=candidate.stat().st_size)


def _is_os_debris(relative_path: str) -> bool:
    """Excel's lock files (``~$x.xlsx``) and macOS resource forks (``._x.csv``, ``__MACOSX/``): no data."""
    parts = relative_path.replace("\\", "/").split("/")
    return "__MACOSX" in parts[:-1] or parts[-1].startswith(("~$", "._"))


def _zip_member_name(info: zipfile.ZipInfo) -> str:
    name = info.filename.rsplit("/", 1)[-1]
    if not info.flag_bits & 0x800:  # no UTF-8 flag: Chinese Windows zips store names in GBK
        try:
            name = name.encode("cp437").decode("gb18030")
        except (UnicodeEncodeError, UnicodeDecodeError):
            pass
    return name


def _zip_read(archive: Path, member: str) -> bytes:
    with zipfile.ZipFile(archive) as handle:
        return handle.read(member)


def decode(data: bytes, location: str) -> str:
    """Text of a file: by its BOM if it has one, else the first of UTF-8, GB18030, UTF-16 that decodes."""
    candidates: tuple[str, ...] = ENCODINGS
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            candidates = (encoding,)
            break
    else:
        if data[:200].count(b"\x00") > 20:  # UTF-16 without a BOM: every other byte of ASCII is zero
            candidates = ("utf-16-le" if data[1:2] == b"\x00" else "utf-16-be",)
    for encoding in candidates:
        try:
            return data.decode(encoding).lstrip("\ufeff")
        except UnicodeDecodeError:
            continue
    raise ImportProblem(f"{location}: cannot decode the file as {', '.join(candidates)} "
                        "(rule: encoding; sniff the BOM, then UTF-8, GB18030, UTF-16)")


def read_grid(file: ExportFile) -> pd.DataFrame:
    """The file's cells as strings, header row included (row 0), no type guessing; a workbook
    must hold its table in one sheet (only Wind's reader takes a sheet per part)."""
    sheets = [(name, grid) for name, grid in read_sheets(file) if not grid.empty]
    if len(sheets) > 1:
        raise ImportProblem(f"{file.location}: the workbook has {len(sheets)} non-empty sheets "
                            f"({', '.join(name for name, _ in sheets)}); keep one table in one sheet, or split it into "
                            f"files TABLE1, TABLE2 (rule: file layout)")
    return sheets[0][1] if sheets else pd.DataFrame()


def read_sheets(file: ExportFile) -> list[tuple[str, pd.DataFrame]]:
    """(sheet name, cells as strings) of every sheet of a workbook; a text file is one unnamed sheet."""
    suffix = Path(file.name).suffix.lower()
    data = file.read_bytes()
    if suffix in (".xlsx", ".xls"):
        from python_calamine import CalamineError

        try:
            book = pd.read_excel(io.BytesIO(data), engine="calamine", header=None, dtype=object, sheet_name=None)
        except (CalamineError, ValueError, zipfile.BadZipFile) as error:
            raise ImportProblem(f"{file.location}: cannot be read as Excel: {error} (rule: file layout)") from None
        return [(str(name), grid.map(_cell_text).astype("string[pyarrow]")) for name, grid in book.items()]
    return [("", _read_text_grid(file, data))]


def _read_text_grid(file: ExportFile, data: bytes) -> pd.DataFrame:
    import pyarrow as pa
    import pyarrow.csv as pacsv

    text = decode(data, file.location)
    if not text.strip():
        return pd.DataFrame()
    first_line = text.split("\n", 1)[0]
    separator = "\t" if "\t" in first_line else ","
    width = len(next(csv.reader([first_line], delimiter=separator)))
    # Arrow's reader (every column a string, quoted line breaks allowed), then Arrow-backed pandas
    # strings: the engine's string cleaning runs in Arrow compute.
    try:
        table = pacsv.read_csv(
            io.BytesIO(text.encode("utf-8")),
            read_options=pacsv.ReadOptions(autogenerate_column_names=True),
            parse_options=pacsv.ParseOptions(delimiter=separator, newlines_in_values=True),
            convert_options=pacsv.ConvertOptions(column_types={f"f{i}": pa.string() for i in range(width)},
                                                 strings_can_be_null=False, quoted_strings_can_be_null=False))
    except pa.ArrowInvalid as error:
        raise ImportProblem(f"{file.location}: cannot be read as a {'tab' if separator == chr(9) else 'comma'}"
                            f"-separated table: {error} (rule: file layout)") from None
    frame = table.to_pandas(types_mapper={pa.string(): pd.StringDtype("pyarrow")}.get)
    frame.columns = range(frame.shape[1])
    return frame


def _cell_text(value: object) -> str:
    if value is None or (isinstance(value, float) and value != value):
        return ""
    if isinstance(value, pd.Timestamp) or hasattr(value, "isoformat"):
        return value.isoformat()[:10] if not isinstance(value, str) else value
    return str(value)


def parse_dictionary(text: str) -> dict[str, str]:
    """A CSMAR ``[DES]`` file: lines ``Field [中文名] - description`` -> {Field: 中文名}."""
    entries = {}
    for line in text.splitlines():
        match = re.match(r"^\s*([A-Za-z][\w]*)\s*\[([^\]]*)\]", line)
        if match:
            entries[match.group(1)] = match.group(2).strip()
    return entries


def table_of(file_name: str, tables: list[str]) -> str | None:
    """The profile table a file belongs to: its stem, or its stem minus a split number (``TABLE2``)."""
    stem = Path(file_name).stem
    if DES_MARKER in stem:
        stem = stem.split(DES_MARKER)[0]
    lowered = stem.lower()
    by_lower = {t.lower(): t for t in tables}
    if lowered in by_lower:
        return by_lower[lowered]
    for name in sorted(tables, key=len, reverse=True):
        rest = lowered[len(name):] if lowered.startswith(name.lower()) else None
        if rest is not None and re.fullmatch(r"_?\d+", rest):
            return name
    return None


def strip_prefix(columns: list[str], table: str) -> list[str]:
    """Drop a merged download's table prefix from column names (``FS_Combas-A001000000``)."""
    out = []
    for column in columns:
        text = str(column).strip()
        rest = text[len(table):]
        # 'FS_Combas-A001000000' or Stata's 'FS_CombasA001000000', but not 'FN_Fn06001' of table FN_Fn060.
        if text.lower().startswith(table.lower()) and (rest[:1] in ("-", ".") or rest[:1].isalpha()):
            text = rest.lstrip("-.")
        out.append(text)
    return out


def read_csmar_like(files: list[ExportFile], table: str, code_field: str | None,
                    progress: Callable[[str], None]) -> VendorFrame:
    """Concatenate a table's (split) files; drop extra header rows and unit rows; keep row numbers."""
    frames, header_dropped, footer_dropped, dictionary, locations = [], 0, 0, {}, []
    data_files = [f for f in files if DES_MARKER not in f.name]
    for file in files:
        if DES_MARKER in file.name:
            dictionary.update(parse_dictionary(decode(file.read_bytes(), file.location)))
    for file in sorted(data_files, key=lambda f: _split_number(f.name)):
        if file.size >= PROGRESS_BYTES:
            progress(f"reading {file.location} ({file.size / 1e6:.0f} MB)")
        grid = read_grid(file)
        if grid.empty:
            continue
        header = strip_prefix([str(v) for v in grid.iloc[0]], table)
        body = grid.iloc[1:].copy()
        body.columns = header
        body["_row"] = range(2, len(body) + 2)
        body["_file"] = file.location
        if code_field and code_field in body.columns:
            first = _first_data_row(body[code_field], body["_row"], file.location, code_field)
            header_dropped += first
            body = body.iloc[first:]
        cells = body.drop(columns=["_row", "_file"])
        if len(cells.columns) and len(cells):
            blank = cells.fillna("").apply(lambda c: c.str.strip()).eq("").all(axis=1)
            if blank.any():  # spreadsheet padding rows: not data
                footer_dropped += int(blank.sum())
                body = body[~blank.to_numpy()]
        frames.append(body)
        locations.append(file.location)
    frame = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()
    return VendorFrame(table=table, frame=frame, files=locations, header_rows_dropped=header_dropped,
                       footer_rows_dropped=footer_dropped, dictionary=dictionary)


# A data row's code: digits, possibly '1.0', '000001.SZ', 'SZ000001' or 'sh.600000'.
STOCK_CODE_CELL = re.compile(r"^(?:[A-Za-z]{2}\.?)?\d+(?:\.\d+|\.[A-Za-z]{2})?$")
MAX_EXTRA_HEADER_ROWS = 2  # CSMAR's Chinese-name row and unit row under the field-code row


def _first_data_row(codes: pd.Series, rows: pd.Series, location: str, code_field: str) -> int:
    """How many extra header rows lead the body: rows whose code cell is text but no stock code
    (CSMAR's Chinese name and unit), at most two. A blank or '--' code is a data row with a missing key
    (refused later, by row), never a header row."""
    text = codes.fillna("").str.strip()
    header_like = (~text.isin(MISSING_TOKENS) & ~text.str.match(STOCK_CODE_CELL)).to_numpy()
    first = 0
    while first < len(header_like) and header_like[first]:
        first += 1
    if first > MAX_EXTRA_HEADER_ROWS and first < len(header_like):
        raise ImportProblem(f"{location}, row {rows.iloc[MAX_EXTRA_HEADER_ROWS]}, field {code_field}: "
                            f"{codes.iloc[MAX_EXTRA_HEADER_ROWS]!r} is no stock code, and at most "
                            f"{MAX_EXTRA_HEADER_ROWS} extra header rows may precede the data (rule: header rows)")
    if first > MAX_EXTRA_HEADER_ROWS:
        raise ImportProblem(f"{location}, row {rows.iloc[0]}, field {code_field}: no row has a stock code "
                            f"(first {codes.iloc[0]!r}) (rule: header rows)")
    return first


def _split_number(name: str) -> int:
    match = re.search(r"(\d+)$", Path(name).stem)
    return int(match.group(1)) if match else 0


WIND_FOOTER = re.compile(r"^\s*数据来源")
_WIND_PERIOD = re.compile(r"\[报告期\]\s*(\d{4})\s*年报")
_WIND_UNIT = re.compile(r"\[单位\]\s*(\S+)")
_WIND_TYPE = re.compile(r"\[报表类型\]\s*(\S+)")


@dataclass(frozen=True)
class WindHeader:
    indicator: str
    year: int | None
    statement_type: str | None
    unit: str | None


def parse_wind_header(cell: str) -> WindHeader:
    """``营业收入\\n[报告期] 2018年报\\n[报表类型] 合并报表\\n[单位] 元`` -> its four parts."""
    text = str(cell)
    indicator = re.split(r"\n|\[", text, maxsplit=1)[0].strip()
    year = _WIND_PERIOD.search(text)
    unit = _WIND_UNIT.search(text)
    kind = _WIND_TYPE.search(text)
    return WindHeader(indicator, int(year.group(1)) if year else None,
                      kind.group(1) if kind else None, unit.group(1) if unit else None)


def read_wind(files: list[ExportFile], progress: Callable[[str], None]
              ) -> tuple[list[tuple[str, list[WindHeader], pd.DataFrame]], int]:
    """Each non-empty Wind sheet as (location, parsed headers, body with row 0 dropped and footer
    rows removed); every sheet of a workbook is a part."""
    sheets, footers = [], 0
    for file in files:
        if file.size >= PROGRESS_BYTES:
            progress(f"reading {file.location} ({file.size / 1e6:.0f} MB)")
        parts = [(name, grid) for name, grid in read_sheets(file) if not grid.empty]
        for sheet_name, grid in parts:
            location = f"{file.location}[{sheet_name}]" if len(parts) > 1 else file.location
            headers = [parse_wind_header(v) for v in grid.iloc[0]]
            body = grid.iloc[1:].copy()
            body.columns = range(body.shape[1])
            body["_row"] = range(2, len(body) + 2)
            body["_file"] = location
            footer = body[0].astype(str).str.match(WIND_FOOTER) | (body.drop(columns=["_row", "_file"])
                                                                   .astype(str).apply(lambda c: c.str.strip() == "")
                                                                   .all(axis=1))
            footers += int(footer.sum())
            sheets.append((location, headers, body[~footer]))
    return sheets, footers
