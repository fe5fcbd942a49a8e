"""``nqp import``: sources -> contract vintage in data/landing/<ID>/, with import_report.md/.json.

The vintage is written into a hidden sibling folder and renamed into place only when every table
was built; ``_READY`` comes last. Input files are opened read-only and never written.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from nqp_core import contract as raw_contract
from importer import engine, readers
from importer.readers import ImportProblem

KEY_NAMES = {("stock_code",): ("stock_code",), ("stock_code", "fiscal_year"): ("stock_code", "fiscal_year"),
             ("_id",): ("application_number",)}
REPORT_JSON = "import_report.json"
REPORT_MD = "import_report.md"
ARROW_TYPES = {"VARCHAR": pa.string(), "DOUBLE": pa.float64(), "INTEGER": pa.int32(), "DATE": pa.date32(),
               "BOOLEAN": pa.bool_()}
FREE_VENDORS = {"akshare", "tushare"}
MISSING = object()  # a column whose mapping failed; its problem is already recorded
# What the free APIs (tushare, akshare) cannot fill, for the report of a free vintage.
FREE_PATH_GAPS = ("firms.industry_code (CSRC 2012)", "financials.rd_* breakdown", "financials.rd_staff",
                  "financials.bachelor_staff", "governance.board_size", "governance.independent_directors",
                  "governance.chair_ceo_duality", "patents", "applicant_firm_map")


@dataclass
class ColumnReport:
    table: str
    column: str
    source: str
    unit: str
    coverage: float
    rows: int


@dataclass
class ImportReport:
    vintage_id: str
    sources: list[str]
    tables: dict[str, dict] = field(default_factory=dict)  # vendor table -> TableStats
    columns: list[ColumnReport] = field(default_factory=list)
    row_coverage: dict[str, dict] = field(default_factory=dict)  # contract table -> vendor table -> counts
    applicant_matching: dict = field(default_factory=dict)
    not_filled: list[str] = field(default_factory=list)
    seconds: float = 0.0


def parse_source(text: str) -> engine.Source:
    vendor, sep, path = text.partition(":")
    if not sep or not path:
        raise ImportProblem(f"--from {text!r}: write VENDOR:PATH, e.g. csmar:downloads/csmar.zip")
    return engine.Source(vendor=vendor.strip(), path=Path(path).expanduser())


def _read_source(source: engine.Source, progress: Callable[[str], None]) -> dict[str, engine.PreparedTable]:
    profile = engine.load_profile(source.vendor)
    files = list(readers.export_files(source.path))
    if profile.get("layout") == "wind":
        from importer.wind import read_wind_tables

        vendor_frames = read_wind_tables(files, profile, progress)
    else:
        names = list(profile["tables"])
        grouped: dict[str, list[readers.ExportFile]] = {}
        catch_all = [n for n, spec in profile["tables"].items() if spec.get("files") == "any"]
        for file in files:
            if Path(file.name).suffix.lower() not in readers.DATA_SUFFIXES:
                continue
            table = readers.table_of(file.name, names)
            if table is None and catch_all and readers.DES_MARKER not in file.name:
                table = catch_all[0]
            if table is not None:
                grouped.setdefault(table, []).append(file)
        vendor_frames = {}
        for table, table_files in grouped.items():
            progress(f"{source.vendor}: reading {table} ({len(table_files)} file(s))")
            frame = readers.read_csmar_like(table_files, table, profile["tables"][table].get("code"), progress)
            if not frame.frame.empty:
                vendor_frames[table] = frame
    if not vendor_frames:
        raise ImportProblem(f"{source.path}: no file of the {source.vendor} profile's tables found "
                            f"(expected file names like {', '.join(list(profile['tables'])[:4])}; "
                            "a split table may end in a number: TABLE1.xlsx)")
    return {name: engine.prepare_table(source.vendor, name, profile["tables"][name], frame)
            for name, frame in vendor_frames.items()}


def _alternatives(mapping) -> list[dict]:
    return mapping if isinstance(mapping, list) else [mapping]


def _known_vendors() -> list[str]:
    return [p.stem for p in sorted(engine.PROFILES_DIR.glob("*.yaml")) if p.stem != "line_keywords"]


def _download_hint(table: str, column: str, sources: list[engine.Source]) -> str:
    """'download CSMAR CG_Ybasic (field Y1101a)' from the given profiles, else from every profile."""
    vendors = [s.vendor for s in sources]
    for pool in (vendors, [v for v in _known_vendors() if v not in vendors]):
        hints = []
        for vendor in pool:
            profile = engine.load_profile(vendor)
            mapping = profile.get("contract", {}).get(table, {}).get("columns", {}).get(column)
            if mapping:
                first = _alternatives(mapping)[0]
                ref = first.get("field") or first.get("lines")
                tab, _, fld = ref.partition(".")
                hints.append(f"{profile.get('title', vendor)} {tab}" + (f" (field {fld})" if fld else ""))
        if hints:
            free = pool is not vendors and set(vendors) <= FREE_VENDORS
            return "download " + " or ".join(hints) + ("; a free (tushare/akshare) vintage cannot fill it" if free else "")
    return "no vendor profile carries it"


def build_tables(sources: list[engine.Source], progress: Callable[[str], None],
                 report: ImportReport) -> dict[str, pd.DataFrame]:
    prepared_by_source = [(s, _read_source(s, progress)) for s in sources]
    for source, prepared in prepared_by_source:
        for name, table in prepared.items():
            report.tables[f"{source.vendor}:{name}"] = asdict(table.stats)
    frames: dict[str, pd.DataFrame] = {}
    problems: list[str] = []
    for contract_table in raw_contract.RAW_TABLES:
        if contract_table.name == "applicant_firm_map":
            continue
        progress(f"building {contract_table.name}")
        frame = _build_contract_table(contract_table, sources, prepared_by_source, report, problems)
        if frame is not None:
            frames[contract_table.name] = frame
    if problems:
        raise ImportProblem("the import cannot fill every required contract column:\n  " + "\n  ".join(problems))
    auxiliary = _build_auxiliary(prepared_by_source)
    from importer.applicants import build_applicant_firm_map

    frames["applicant_firm_map"], report.applicant_matching = build_applicant_firm_map(
        frames["patents"], frames["firms"], auxiliary)
    return frames


def _build_contract_table(table: raw_contract.RawTable, sources, prepared_by_source, report: ImportReport,
                          problems: list[str]) -> pd.DataFrame | None:
    rows_source = None
    for source, prepared in prepared_by_source:
        spec = engine.load_profile(source.vendor).get("contract", {}).get(table.name)
        if spec and spec["rows"] in prepared:
            rows_source = (source, prepared[spec["rows"]])
            break
    if rows_source is None:
        row_tables = [f"{engine.load_profile(v).get('title', v)} {engine.load_profile(v)['contract'][table.name]['rows']}"
                      for v in _known_vendors() if table.name in engine.load_profile(v).get("contract", {})]
        problems.append(f"{table.name}: no rows (its rows come from {' or '.join(row_tables) or 'no profile'})")
        problems.extend(f"{table.name}.{c.name}: {_download_hint(table.name, c.name, sources)}" for c in table.columns
                        if not c.nullable and c.name not in ("stock_code", "fiscal_year", "application_number"))
        return None
    rows_table = rows_source[1]
    rows_index = rows_table.frame.index.unique()
    if rows_index.nlevels == 1:
        rows_index = pd.Index(rows_index, name=rows_table.key[0])
    built: dict[str, engine.ColumnResult] = {}
    coverage: dict[str, dict] = {}
    key_columns = set(KEY_NAMES[rows_table.key])
    for column in table.columns:
        if column.name in key_columns:
            continue
        result = None
        for source, prepared in prepared_by_source:
            mapping = engine.load_profile(source.vendor).get("contract", {}).get(table.name, {}).get(
                "columns", {}).get(column.name)
            for alternative in _alternatives(mapping) if mapping else []:
                if all(t in prepared for t in engine.mapping_tables(alternative)):
                    if alternative.get("times") and alternative["times"] not in built:
                        continue
                    try:
                        result = engine.build_column(table, column.name, alternative, prepared, rows_index, built,
                                                     source.vendor)
                    except ImportProblem as problem:  # collected, so one run names every problem
                        problems.append(str(problem))
                        result = MISSING
                    for vendor_table in engine.mapping_tables(alternative):
                        coverage.setdefault(f"{source.vendor}:{vendor_table}",
                                            _row_overlap(rows_index, prepared[vendor_table]))
                    break
            if result is not None:
                break
        if result is MISSING:
            continue
        if result is None:
            if column.nullable:
                result = engine.ColumnResult(pd.Series(None, index=rows_index, dtype=object),
                                             "not supplied (nullable: left empty)", column.unit)
            else:
                problems.append(f"{table.name}.{column.name}: {_download_hint(table.name, column.name, sources)}")
                continue
        nulls = result.values.isna()
        if not column.nullable and nulls.any():
            first = rows_index[nulls.to_numpy().nonzero()[0][0]]
            problems.append(f"{table.name}.{column.name}: {int(nulls.sum())} of {len(rows_index)} rows have no value "
                            f"(first: {first}) in {result.source} (rule: required contract column)")
        built[column.name] = result
        report.columns.append(ColumnReport(table.name, column.name, result.source, result.unit,
                                           round(float(1 - nulls.mean()) if len(nulls) else 0.0, 6), len(nulls)))
    report.row_coverage[table.name] = {"rows_from": f"{rows_source[0].vendor}:{rows_table.name}",
                                       "rows": len(rows_index), **coverage}
    keys = rows_index.to_frame(index=False)
    keys.columns = list(KEY_NAMES[rows_table.key])
    for name, result in built.items():
        keys[name] = result.values.to_numpy()
    return keys


def _row_overlap(rows_index: pd.Index, prepared: engine.PreparedTable) -> dict:
    """Firms (or firm-years) in the row table but not in this one, and the other way round."""
    other = prepared.frame.index.unique()
    if other.nlevels != rows_index.nlevels:
        mine = rows_index.get_level_values("stock_code").unique()
        other = other.get_level_values("stock_code").unique()
    else:
        mine = rows_index
    missing, extra = mine.difference(other), other.difference(mine)
    return {"missing_here": len(missing), "only_here": len(extra),
            "examples_missing": [str(x) for x in list(missing[:3])], "examples_only_here": [str(x) for x in list(extra[:3])]}


def _build_auxiliary(prepared_by_source) -> dict[str, pd.DataFrame]:
    """Non-contract helper tables a profile declares (legal names, subsidiaries, patent-firm links)."""
    out: dict[str, pd.DataFrame] = {}
    for source, prepared in prepared_by_source:
        for name, spec in engine.load_profile(source.vendor).get("auxiliary", {}).items():
            if name in out or spec["rows"] not in prepared:
                continue
            table = prepared[spec["rows"]]
            frame = table.frame.reset_index(drop=True)
            columns = {"stock_code": frame["stock_code"]} if "stock_code" in frame else {}
            if "_id" in frame:
                columns["_id"] = frame["_id"]
            if spec.get("optional") and not all(m["field"].split(".", 1)[1] in frame for m in spec["columns"].values()):
                continue  # e.g. a patent export without a Symbol column
            for column, mapping in spec["columns"].items():
                field_name = mapping["field"].split(".", 1)[1]
                if field_name not in frame:
                    raise ImportProblem(f"{', '.join(table.stats.files)}: table {table.name} has no field "
                                        f"{field_name!r} needed for {name}.{column} (rule: profile mapping)")
                values = frame[field_name]
                if mapping.get("normalise"):
                    values = engine.NORMALISERS[mapping["normalise"]](values)
                columns[column] = engine.text_of(values).astype(object)  # a missing name is '', never 'nan'
            out[name] = pd.DataFrame(columns)
    return out


def to_arrow(table: raw_contract.RawTable, frame: pd.DataFrame) -> pa.Table:
    arrays = {}
    for column in table.columns:
        values = frame[column.name]
        arrays[column.name] = pa.array(values.astype(object).where(values.notna(), None), ARROW_TYPES[column.dtype],
                                       from_pandas=True)
    schema = pa.schema([pa.field(c.name, ARROW_TYPES[c.dtype], nullable=c.nullable) for c in table.columns])
    return pa.table(arrays, schema=schema)


def _synthetic_truth(sources: list[engine.Source]) -> dict | None:
    """truth.json of downloads written by `nqp synth --as` (beside or above them): keeps SYNTHETIC labels."""
    for source in sources:
        folder = source.path if source.path.is_dir() else source.path.parent
        for candidate in (folder / raw_contract.TRUTH_FILE, folder.parent / raw_contract.TRUTH_FILE):
            if candidate.exists():
                truth = json.loads(candidate.read_text(encoding="utf-8"))
                if truth.get("synthetic") is True:
                    return truth
    return None


def import_vintage(sources: list[engine.Source], vintage_id: str, landing_dir: Path,
                   progress: Callable[[str], None] | None = None) -> Path:
    """Import the sources into ``landing_dir/vintage_id`` atomically; returns the vintage folder."""
    from importer.report import render_markdown

    say = progress or (lambda message: None)
    started = time.perf_counter()
    problem = raw_contract.vintage_id_problem(vintage_id)
    if problem:
        raise ImportProblem(f"--vintage: {problem}")
    target = Path(landing_dir) / vintage_id
    if target.exists():
        raise FileExistsError(f"vintage folder {target} already exists; refusing to overwrite it (vintages are "
                              "append-only: choose a new --vintage, or delete that folder first if its vintage "
                              "was rejected)")
    report = ImportReport(vintage_id=vintage_id, sources=[f"{s.vendor}:{s.path}" for s in sources])
    frames = build_tables(sources, say, report)
    if {s.vendor for s in sources} & FREE_VENDORS:  # a free source alone would stop at these
        report.not_filled = list(FREE_PATH_GAPS)
    with raw_contract.staged_vintage_folder(target) as staging:
        for table in raw_contract.RAW_TABLES:
            say(f"writing {table.name} ({len(frames[table.name]):,} rows)")
            frame = frames[table.name].reset_index(drop=True)  # rows in the row table's file order
            pq.write_table(to_arrow(table, frame), staging / f"{table.name}.parquet", compression="zstd")
        truth = _synthetic_truth(sources)
        if truth is not None:
            truth.update(vintage_id=vintage_id, imported_from=report.sources)
            (staging / raw_contract.TRUTH_FILE).write_text(json.dumps(truth, indent=2, ensure_ascii=False) + "\n",
                                                           encoding="utf-8")
        report.seconds = round(time.perf_counter() - started, 2)
        (staging / REPORT_JSON).write_text(json.dumps(asdict(report), indent=2, ensure_ascii=False, default=str) + "\n",
                                           encoding="utf-8")
        (staging / REPORT_MD).write_text(render_markdown(report), encoding="utf-8")
    say(f"vintage {vintage_id} imported to {target} in {time.perf_counter() - started:.1f} s")
    return target
