"""Apply vendor profiles (YAML) to export files and assemble the six contract tables.

A profile names vendor tables (how to key, select and de-duplicate their rows) and, per contract
column, where its values come from (``field``, ``lines`` or a ``derive`` rule) with the unit,
recoding and normalisation to apply. Several sources can be mixed: for every contract column the
first source (in ``--from`` order) whose files carry it wins. Everything the engine does to the
rows is counted for the import report; every refusal names the file, row, field and rule.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from functools import lru_cache
from pathlib import Path

import numpy as np
import pandas as pd
import yaml

from nqp_core import contract as raw_contract
from importer.readers import MISSING_TOKENS, ImportProblem, VendorFrame

PROFILES_DIR = Path(__file__).with_name("profiles")
KEYWORDS_FILE = PROFILES_DIR / "line_keywords.yaml"
UNIT_FACTORS = {"元": Decimal(1), "yuan": Decimal(1), "千元": Decimal(1000), "万元": Decimal(10_000),
                "百万元": Decimal(1_000_000), "亿元": Decimal(100_000_000), "percent": Decimal("0.01"),
                "%": Decimal("0.01")}


def unit_factor(unit: str, where: str, rule: str) -> Decimal:
    """The exact factor to yuan (or to a fraction) of a unit; an unknown unit ('万', 'thousand') is refused
    rather than read as 1."""
    if unit not in UNIT_FACTORS:
        raise ImportProblem(f"{where}: unknown unit {unit!r} (rule: {rule}; known units: {', '.join(UNIT_FACTORS)})")
    return UNIT_FACTORS[unit]


UNKNOWN_DAY_POLICY = 1  # '1993-12-00' (day unknown) is read as the 1st of the month; docs/importing.md


@dataclass(frozen=True)
class Source:
    vendor: str
    path: Path


@lru_cache(maxsize=16)
def load_profile(vendor: str) -> dict:
    """A profile by vendor name (``profiles/<vendor>.yaml``) or by path to a user's copy."""
    candidate = Path(vendor)
    path = candidate if candidate.suffix in (".yaml", ".yml") and candidate.exists() else PROFILES_DIR / f"{vendor}.yaml"
    if not path.exists():
        known = sorted(p.stem for p in PROFILES_DIR.glob("*.yaml") if p.stem != "line_keywords")
        raise ImportProblem(f"no profile {vendor!r}: choose one of {', '.join(known)} or give a path to a .yaml")
    profile = yaml.safe_load(path.read_text(encoding="utf-8"))
    profile.setdefault("tables", {})
    return profile


@lru_cache(maxsize=1)
def load_keywords() -> dict:
    return yaml.safe_load(KEYWORDS_FILE.read_text(encoding="utf-8"))


# --------------------------------------------------------------------------- value cleaning

def text_of(values: pd.Series) -> pd.Series:
    """Cells as stripped Arrow-backed strings, missing as '' (pandas then runs .str in Arrow compute,
    which is what keeps a paper-scale import within seconds)."""
    return values.astype("string[pyarrow]").fillna("").str.strip()


def _objects(text: pd.Series) -> pd.Series:
    return text.astype(object)


def normalise_code(values: pd.Series) -> pd.Series:
    """Six-digit stock codes from '1', '1.0', '000001.SZ', 'SZ000001' or ' 000001 '."""
    text = _present_text(values).str.upper().str.replace(r"^(?:SH|SZ|BJ)\.?|\.(?:SH|SZ|BJ)$|\.0+$", "", regex=True)
    return _objects(text.where(text == "", text.str.zfill(6)))  # a missing code stays '', not '000000'


def _present_text(values: pd.Series) -> pd.Series:
    """``text_of``, with missing tokens ('--', 'NULL') as '': normalisers must keep a missing key missing."""
    text = text_of(values)
    return text.where(~is_missing(values, text), "")


def is_missing(values: pd.Series, text: pd.Series | None = None) -> pd.Series:
    """'--', blanks, 'NULL' and the like (``text``: the already cleaned ``text_of(values)``)."""
    text = text_of(values) if text is None else text
    return (values.isna() | text.isin(MISSING_TOKENS)).astype(bool)


def clean_numbers(values: pd.Series, location: Callable[[int], str]) -> tuple[pd.Series, pd.Series, pd.Series]:
    """Number text without thousands separators, the missing mask ('--', blanks) and the parsed
    numbers; a cell that is neither a number nor missing ('——', 'N.A.', '12.5%') is refused."""
    cleaned = text_of(values)
    missing = is_missing(values, cleaned)
    text = _objects(cleaned.str.replace(",", "", regex=False))
    numeric = pd.to_numeric(text.where(~missing), errors="coerce")
    bad = numeric.isna() & ~missing
    if bad.any():
        first = bad.to_numpy().nonzero()[0][0]
        raise ImportProblem(f"{location(first)}: {values.iloc[first]!r} is not a number (rule: numeric value)")
    return text, missing, numeric


def to_decimal_floats(values: pd.Series, factor: Decimal, location: Callable[[int], str]) -> pd.Series:
    """Numbers from text (thousands separators, '--', blanks), scaled exactly in decimal arithmetic."""
    text, missing, numeric = clean_numbers(values, location)
    if factor == 1:
        return numeric.astype("float64")
    # Decimal keeps 12.3456 万元 -> 123456 元 exact, where float multiplication would not.
    scaled = [float(Decimal(v) * factor) if not m else np.nan for v, m in zip(text, missing)]
    return pd.Series(scaled, index=values.index, dtype="float64")


_DATE = r"^(\d{4})-?(\d{1,2})-?(\d{1,2})(?:[ T].*)?$"


def to_dates(values: pd.Series, location: Callable[[int], str]) -> pd.Series:
    """Dates from 'YYYY-MM-DD', 'YYYY/MM/DD', YYYYMMDD integers ('20180301.0'), '1993-12-00'."""
    cleaned = text_of(values)
    text = cleaned.str.replace("/", "-", regex=False).str.replace(r"\.0+$", "", regex=True)
    missing = is_missing(values, cleaned) | text.isin({"0000-00-00", "00000000"}).astype(bool)
    # Fast path for the two common forms; the general parser only sees what they leave.
    dates = pd.to_datetime(_objects(text.str.slice(0, 10)), format="%Y-%m-%d", errors="coerce")
    rest = dates.isna() & ~missing
    if rest.any():
        dates[rest] = pd.to_datetime(_objects(text[rest]), format="%Y%m%d", errors="coerce")
        rest = dates.isna() & ~missing
    if rest.any():
        parts = _objects(text[rest]).str.extract(_DATE)
        bad = parts[0].isna()
        if bad.any():
            first = rest.to_numpy().nonzero()[0][bad.to_numpy().nonzero()[0][0]]
            raise ImportProblem(f"{location(first)}: {values.iloc[first]!r} is not a date (rule: date value)")
        day = pd.to_numeric(parts[2]).replace(0, UNKNOWN_DAY_POLICY)
        general = pd.to_datetime(pd.DataFrame({"year": pd.to_numeric(parts[0]), "month": pd.to_numeric(parts[1]),
                                               "day": day}), errors="coerce")
        dates[rest] = general.to_numpy()
        impossible = dates.isna() & ~missing
        if impossible.any():
            first = impossible.to_numpy().nonzero()[0][0]
            raise ImportProblem(f"{location(first)}: {values.iloc[first]!r} is not a calendar date (rule: date value)")
    return dates.dt.date.where(~missing, None)


_IPC_SPACE = r"(^|;)([A-H]\d{2}[A-Z])(\d)"


def _space_ipc(text: pd.Series) -> pd.Series:
    """One space between subclass and group; Arrow's RE2 does the back-references (pandas would
    fall back to a Python loop for them)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    spaced = pc.replace_substring_regex(pa.array(text, pa.string()), _IPC_SPACE, r"\1\2 \3")
    return pd.Series(spaced.to_numpy(zero_copy_only=False), index=text.index, dtype=object)


def normalise_ipc(values: pd.Series) -> pd.Series:
    """'H01M10/0525' or 'H01M 10/0525' -> 'H01M 10/0525' (subclass, one space, group)."""
    return _space_ipc(text_of(values).str.replace(r"\s+", "", regex=True))


def normalise_ipc_list(values: pd.Series) -> pd.Series:
    """';'-joined IPC codes (also '；' or ',' separated) in the contract's 'H01M 10/0525' form."""
    text = text_of(values).str.replace(r"\s+", "", regex=True).str.replace(r"[；,，|]", ";", regex=True)
    text = text.str.replace(r";{2,}", ";", regex=True).str.replace(r"^;|;$", "", regex=True)
    return _space_ipc(text)


def normalise_name_list(values: pd.Series) -> pd.Series:
    """Applicant names joined by ';' (also '；' or ' | '), empty names dropped."""
    text = text_of(values).str.replace(r"\s*[;；|]\s*", ";", regex=True)
    return _objects(text.str.replace(r";{2,}", ";", regex=True).str.replace(r"^;|;$", "", regex=True))


def normalise_application_number(values: pd.Series) -> pd.Series:
    """'202311340972.0' -> 'CN202311340972.0'; 'cn2018...' -> 'CN2018...'."""
    text = _present_text(values).str.upper().str.replace(r"\s+", "", regex=True)
    numbered = text.str.replace(r"^(?:CN)?", "CN", regex=True)
    return _objects(text.where(text == "", numbered))  # a missing number stays '', not 'CN'


def kind_letter(values: pd.Series) -> pd.Series:
    """'CN112345678A' -> 'A', 'CN209876543U' -> 'U' (the kind code of a publication number)."""
    return _objects(text_of(values).str.extract(r"([A-Z])\d?$")[0].fillna(""))


NORMALISERS = {"ipc": normalise_ipc, "kind_letter": kind_letter, "stock_code": normalise_code, "ipc_list": normalise_ipc_list, "name_list": normalise_name_list,
               "cn_application_number": normalise_application_number}


def normalise_name(values: pd.Series) -> pd.Series:
    """Company names compared for the applicant map: full-width brackets and spaces folded."""
    table = str.maketrans({"（": "(", "）": ")", "　": "", " ": ""})
    return text_of(values).astype(object).map(lambda name: name.translate(table))  # missing -> ''


# --------------------------------------------------------------------------- tables

@dataclass
class TableStats:
    """What happened to one vendor table, for the report."""

    table: str
    files: list[str]
    rows_read: int = 0
    header_rows_dropped: int = 0
    footer_rows_dropped: int = 0
    dropped_by_rule: dict[str, int] = field(default_factory=dict)
    duplicates_resolved: int = 0
    rows_kept: int = 0
    unclassified_lines: dict[str, int] = field(default_factory=dict)


@dataclass
class PreparedTable:
    """A vendor table after selection: string cells indexed by the contract key."""

    name: str
    vendor: str
    frame: pd.DataFrame
    stats: TableStats
    key: tuple[str, ...]
    line_sums: pd.DataFrame | None = None  # classified long tables: one column per category


def _location_fn(frame: pd.DataFrame, column: str) -> Callable[[int], str]:
    def location(position: int) -> str:
        row = frame.iloc[position]
        return f"{row['_file']}, row {row['_row']}, field {column}"
    return location


def prepare_table(vendor: str, name: str, spec: dict, vendor_frame: VendorFrame) -> PreparedTable:
    frame = vendor_frame.frame
    stats = TableStats(table=name, files=vendor_frame.files, rows_read=len(frame) + vendor_frame.header_rows_dropped,
                       header_rows_dropped=vendor_frame.header_rows_dropped,
                       footer_rows_dropped=vendor_frame.footer_rows_dropped,
                       dropped_by_rule=dict(vendor_frame.columns_dropped))
    key: list[str] = []
    needed = [f for f in (spec.get("code"), spec.get("period"), spec.get("id")) if f]
    for field_name in needed:
        if field_name not in frame.columns:
            raise ImportProblem(f"{', '.join(vendor_frame.files)}: {vendor} table {name} has no column {field_name!r} "
                                f"(columns: {', '.join(c for c in frame.columns if not c.startswith('_'))}) "
                                f"(rule: key field)")
    frame = frame.copy()
    if spec.get("code"):
        frame["stock_code"] = normalise_code(frame[spec["code"]])
        key.append("stock_code")
    for rule in spec.get("select", []):
        frame = _apply_selection(frame, rule, stats)
    if spec.get("period"):
        dates = to_dates(frame[spec["period"]], _location_fn(frame, spec["period"]))
        frame["_date"] = dates
        frame["fiscal_year"] = pd.array([d.year if d is not None else pd.NA for d in dates], dtype="Int32")
        key.append("fiscal_year")
    if spec.get("id"):
        normaliser = NORMALISERS.get(spec.get("id_normalise", ""), lambda s: _objects(_present_text(s)))
        frame["_id"] = normaliser(frame[spec["id"]])
        key.append("_id")
    _refuse_missing_keys(frame, key, spec)
    prepared = PreparedTable(name=name, vendor=vendor, frame=frame, stats=stats, key=tuple(key))
    if "lines" in spec:
        prepared.line_sums = _classify_lines(frame, spec["lines"], key, stats)
        frame = frame.drop_duplicates(key)  # the rows only say which firm-years the table covers
    else:
        frame = _resolve_duplicates(frame, key, spec.get("duplicates"), name, stats)
    prepared.frame = frame.set_index(key, drop=False) if key else frame
    stats.rows_kept = len(frame)
    return prepared


def _refuse_missing_keys(frame: pd.DataFrame, key: list[str], spec: dict) -> None:
    """A row without its stock code, period or id cannot be placed; dropping it, or letting all such
    rows collapse into one under a duplicate rule, would lose data silently."""
    sources = {"stock_code": spec.get("code"), "fiscal_year": spec.get("period"), "_id": spec.get("id")}
    for column in key:
        values = frame[column]
        missing = values.isna() | (values.astype(object) == "")
        if missing.any():
            first = int(missing.to_numpy().nonzero()[0][0])
            raise ImportProblem(f"{_location_fn(frame, sources[column])(first)}: "
                                f"{frame[sources[column]].iloc[first]!r} leaves the key {column} missing "
                                f"(rule: key present)")


def _apply_selection(frame: pd.DataFrame, rule: dict, stats: TableStats) -> pd.DataFrame:
    column = rule["field"]
    if column not in frame.columns:
        raise ImportProblem(f"{stats.files[0] if stats.files else stats.table}: table {stats.table} has no column "
                            f"{column!r} needed by the rule {rule['rule']!r}")
    values = text_of(frame[column])
    if "equals" in rule:
        wanted = {str(v) for v in rule["equals"]}
        keep = values.str.replace(r"\.0+$", "", regex=True).isin(wanted)
    elif "endswith" in rule:
        keep = values.str.slice(0, 10).str.endswith(rule["endswith"])
    elif "month" in rule:
        keep = values.str.replace("/", "-").str.extract(r"^\d{4}-?(\d{2})")[0] == f"{int(rule['month']):02d}"
    else:
        raise ImportProblem(f"profile rule {rule!r} needs one of equals, endswith, month")
    keep = keep.fillna(False).astype(bool)
    stats.dropped_by_rule[rule["rule"]] = stats.dropped_by_rule.get(rule["rule"], 0) + int((~keep).sum())
    return frame[keep.to_numpy()]


def _resolve_duplicates(frame: pd.DataFrame, key: list[str], policy: str | None, name: str,
                        stats: TableStats) -> pd.DataFrame:
    if not key:
        return frame
    ordered = frame.sort_values("_date", kind="stable") if policy == "last_by_date" else frame
    duplicated = frame.duplicated(key, keep=False)
    if not duplicated.any():
        return frame
    if policy in ("keep_last", "last_by_date"):
        kept = ordered[~ordered.duplicated(key, keep="last")].sort_index()  # file order is kept
        stats.duplicates_resolved += len(frame) - len(kept)
        return kept
    rows = frame[duplicated].head(2)
    where = "; ".join(f"{r['_file']} row {r['_row']}" for _, r in rows.iterrows())
    values = ", ".join(f"{k}={rows.iloc[0][k]}" for k in key)
    raise ImportProblem(f"{name}: ambiguous rows for {values} after the selection rules ({where}); field "
                        f"{', '.join(key)}; rule: one row per key (add a selection rule, or set "
                        f"'duplicates: keep_last' in the profile)")


def _classify_lines(frame: pd.DataFrame, spec: dict, key: list[str], stats: TableStats) -> pd.DataFrame:
    keywords = load_keywords()[spec["keywords"]]
    items = _objects(text_of(frame[spec["item"]]))
    amounts = to_decimal_floats(frame[spec["amount"]], Decimal(1), _location_fn(frame, spec["amount"]))
    category = pd.Series(pd.NA, index=frame.index, dtype=object)
    is_total = items.str.contains("|".join(map(re.escape, keywords.get("totals", []))) or "(?!)", regex=True)
    for name, entry in keywords["categories"].items():
        hit = items.str.contains("|".join(map(re.escape, entry["keywords"])), regex=True) & category.isna() & ~is_total
        for word in entry.get("exclude", []):
            hit &= ~items.str.contains(re.escape(word), regex=False)
        category[hit] = name
    unclassified = category.isna() & ~is_total
    stats.unclassified_lines = items[unclassified].value_counts().to_dict()
    classified = pd.DataFrame({**{k: frame[k] for k in key}, "category": category, "amount": amounts})
    classified = classified[category.notna()]
    sums = classified.pivot_table(index=key, columns="category", values="amount", aggfunc="sum", fill_value=0.0)
    return sums.reindex(columns=list(keywords["categories"]), fill_value=0.0)


# --------------------------------------------------------------------------- columns

@dataclass
class ColumnResult:
    values: pd.Series  # indexed by the contract key
    source: str  # 'CSMAR FS_Combas.A001000000'
    unit: str


def _contract_type(table: raw_contract.RawTable, column: str) -> str:
    return table.column(column).dtype


def mapping_tables(mapping: dict) -> list[str]:
    tables = []
    for entry in ("field", "lines"):
        if entry in mapping:
            tables.append(mapping[entry].split(".", 1)[0])
    return tables


def describe_mapping(mapping: dict) -> str:
    if "lines" in mapping:
        return f"{mapping['lines']} note lines classified as {mapping['category']}"
    text = mapping["field"]
    if "times" in mapping:
        text += f" x {mapping['times']}"
    if "only_when" in mapping:
        cond = mapping["only_when"]
        text += f" where {cond['field']} in {cond['equals']}"
    if "derive" in mapping:
        text = f"derived ({mapping['derive']}) from {mapping['field']}"
    return text


def build_column(table: raw_contract.RawTable, column: str, mapping: dict, prepared: dict[str, PreparedTable],
                 rows_index: pd.Index, built: dict[str, ColumnResult], vendor: str) -> ColumnResult:
    dtype = _contract_type(table, column)
    title = load_profile(vendor).get("title", vendor)
    if "lines" in mapping:
        source = prepared[mapping["lines"]]
        sums = source.line_sums[mapping["category"]]
        covered = rows_index.isin(source.frame.index)
        values = sums.reindex(rows_index)
        # A covered firm-year without a line of this category disclosed 0 of it (the contract's policy).
        values = values.where(~(covered & values.isna()), 0.0)
        if dtype == "INTEGER":
            values = values.round().astype("Int64")
        return ColumnResult(values, f"{title} {describe_mapping(mapping)}", mapping.get("unit", "count"))
    table_name, field_name = mapping["field"].split(".", 1)
    source = prepared[table_name]
    if field_name not in source.frame.columns:
        raise ImportProblem(f"{', '.join(source.stats.files)}: {title} table {table_name} has no field {field_name!r} "
                            f"needed for {table.name}.{column} (rule: profile mapping)")
    raw = _align(source, rows_index, field_name)
    locate = _row_locator(source, rows_index, field_name)
    if "derive" in mapping:
        if mapping["derive"] != "before_last_market_day":
            raise ImportProblem(f"profile {vendor}: unknown derivation {mapping['derive']!r} for {table.name}.{column}")
        dates = pd.Series(to_dates(raw, locate), index=rows_index)
        year = rows_index.get_level_values("fiscal_year")
        last_day = dates.groupby(np.asarray(year)).transform("max")
        values = (dates < last_day).astype("boolean")
        return ColumnResult(values, f"{title} {describe_mapping(mapping)}", "flag")
    if "only_when" in mapping:
        condition = _objects(text_of(_align(source, rows_index, mapping["only_when"]["field"])))
        raw = raw.where(condition.isin([str(v) for v in mapping["only_when"]["equals"]]), "")
    if "recode_seed" in mapping:
        raw = _recode_by_seed(raw, mapping["recode_seed"], locate, f"{table.name}.{column}")
    if "normalise" in mapping:
        raw = NORMALISERS[mapping["normalise"]](raw.where(~is_missing(raw), ""))
    if "recode" in mapping:
        raw = _recode(raw, mapping["recode"], locate)
    unit = mapping.get("unit", table.column(column).unit)
    if load_profile(vendor).get("layout") == "wind" and dtype == "DOUBLE":
        unit = "元, converted from each Wind column's own [单位] (元/千元/万元/百万元/亿元)"
    factor = unit_factor(mapping.get("unit", "元"), f"profile {vendor}: {table.name}.{column}", "profile unit")
    values = _cast(raw, dtype, factor, locate)
    if "times" in mapping:
        if mapping["times"] not in built:
            raise ImportProblem(f"{table.name}.{column}: {mapping['times']} must be built before it (profile order)")
        values = (values * built[mapping["times"]].values).round(0)
        unit = f"{mapping.get('unit')} of {mapping['times']}, rounded to yuan"
    return ColumnResult(values, f"{title} {describe_mapping(mapping)}", unit)


def _align(source: PreparedTable, rows_index: pd.Index, field_name: str) -> pd.Series:
    series = source.frame[field_name]
    if series.index is rows_index or series.index.equals(rows_index):  # the row table itself
        return series
    if source.frame.index.nlevels != rows_index.nlevels:  # firm-level table joined to firm-years
        series = series.droplevel([n for n in source.frame.index.names if n not in rows_index.names])
        return series.reindex(rows_index.get_level_values("stock_code")).set_axis(rows_index)
    return series.reindex(rows_index)


def _row_locator(source: PreparedTable, rows_index: pd.Index, field_name: str) -> Callable[[int], str]:
    def locate(position: int) -> str:  # only called on the error path, so aligned lazily
        files, rows = _align(source, rows_index, "_file"), _align(source, rows_index, "_row")
        return f"{files.iloc[position]}, row {rows.iloc[position]}, field {field_name}"
    return locate


def _recode(raw: pd.Series, codes: dict, locate: Callable[[int], str]) -> pd.Series:
    lookup = {str(k): v for k, v in codes.items()}
    cleaned = text_of(raw)
    text = _objects(cleaned.str.replace(r"\.0+$", "", regex=True))
    missing = is_missing(raw, cleaned)
    unknown = ~missing & ~text.isin(lookup)
    if unknown.any():
        first = unknown.to_numpy().nonzero()[0][0]
        raise ImportProblem(f"{locate(first)}: unknown code {raw.iloc[first]!r} (rule: recode, known codes "
                            f"{', '.join(lookup)}; add it to the profile's recode table)")
    return text.map(lookup).where(~missing, None)


def _recode_by_seed(raw: pd.Series, spec: dict, locate: Callable[[int], str], column: str) -> pd.Series:
    from nqp_core.settings import SEEDS_DIR

    seed = pd.read_csv(SEEDS_DIR / f"{spec['seed']}.csv", dtype=str)
    lookup = dict(zip(seed[spec["from"]], seed[spec["to"]]))
    # Short forms ('广东' for '广东省', '内蒙古' for '内蒙古自治区') match on the name's stem too.
    for name, code in list(lookup.items()):
        stem = re.sub(r"(省|市|自治区|壮族自治区|回族自治区|维吾尔自治区|特别行政区)$", "", name)
        lookup.setdefault(stem, code)
    for code in seed[spec["to"]]:
        lookup.setdefault(code, code)
    return _recode(raw, lookup, locate)


def _cast(raw: pd.Series, dtype: str, factor: Decimal, locate: Callable[[int], str]) -> pd.Series:
    if dtype == "DOUBLE":
        return to_decimal_floats(raw, factor, locate)
    if dtype == "INTEGER":
        numbers = to_decimal_floats(raw, factor, locate)
        fractional = numbers.notna() & (numbers != numbers.round())
        if fractional.any():
            first = fractional.to_numpy().nonzero()[0][0]
            raise ImportProblem(f"{locate(first)}: {raw.iloc[first]!r} is not a whole number (rule: integer value)")
        return numbers.round().astype("Int64")
    if dtype == "DATE":
        return pd.Series(to_dates(raw, locate), index=raw.index)
    if dtype == "BOOLEAN":
        missing = raw.isna().to_numpy()
        # Only true booleans (a recode table's values): bool('0'), bool('否'), bool('False') are all True.
        not_boolean = [not m and not isinstance(v, (bool, np.bool_)) for v, m in zip(raw, missing)]
        if any(not_boolean):
            first = not_boolean.index(True)
            raise ImportProblem(f"{locate(first)}: {raw.iloc[first]!r} is not a boolean (rule: BOOLEAN column "
                                f"needs a recode table from the vendor's codes to true/false)")
        return raw.where(~missing, None).astype("boolean")
    text = text_of(raw)
    return _objects(text).where(~is_missing(raw, text), None)
