"""Load a raw vintage folder into the DuckDB schema ``raw``, append-only.

The contract of :mod:`nqp_core.contract` is enforced before a single row
is written: every file present, every column present and no unexpected one, every
value castable to its contract type, no null where the contract forbids it. A
vintage is loaded in one transaction, so the warehouse holds all of it or none.
Reloading a vintage with identical content is a no-op; a vintage id already loaded
with different content is refused, because raw vintages are immutable.

This module has no Dagster import: the CLI, the Dagster asset and the tests share it.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

import duckdb

from nqp_core.data_dictionary import comment_on
from nqp_core.contract import (
    RAW_TABLES,
    READY_MARKER,
    TRUTH_FILE,
    Column,
    RawTable,
    vintage_file,
    vintage_id_problem,
)

LINEAGE_COLUMNS = (
    ("vintage_id", "VARCHAR"),
    ("source_file", "VARCHAR"),
    ("source_row", "BIGINT"),
    ("loaded_at", "TIMESTAMP"),
)
LINEAGE_DESCRIPTIONS = {
    "vintage_id": "Vintage (landing folder name) the row was delivered in.",
    "source_file": "File of the vintage the row was read from.",
    "source_row": "Row number of the record in that file (1 = first data row).",
    "loaded_at": "When the row was loaded into the warehouse (UTC).",
}
VINTAGES_DESCRIPTIONS = {
    "vintage_id": "Vintage id (landing folder name).",
    "fingerprint": "SHA-256 over the names and bytes of the vintage's contract files (and truth.json).",
    "is_synthetic": "Whether the vintage is synthetic (truth.json says synthetic: true).",
    "truth_json": "The synthetic vintage's truth.json (planted parameters and population values); NULL for real data.",
    "row_counts": "JSON object: rows loaded per raw table.",
    "loaded_at": "When the vintage was loaded (UTC).",
}

# Parquet physical types accepted for each contract type. Anything else (an integer
# stock code that lost its zero padding, a date stored as text) is a contract breach
# rather than something to coerce silently.
_PARQUET_COMPATIBLE = {
    "VARCHAR": {"VARCHAR"},
    "DOUBLE": {"DOUBLE", "FLOAT", "BIGINT", "INTEGER", "SMALLINT", "TINYINT", "HUGEINT", "DECIMAL"},
    "INTEGER": {"BIGINT", "INTEGER", "SMALLINT", "TINYINT", "UINTEGER", "USMALLINT", "UTINYINT"},
    # A timestamp is not a date: casting one keeps its UTC day, so a Beijing-midnight
    # timestamp (16:00 UTC the day before) would shift every date by one. Refused.
    "DATE": {"DATE"},
    "BOOLEAN": {"BOOLEAN"},
}

_EXAMPLES_IN_MESSAGE = 5

# Dates vendors and spreadsheets write for "unknown": the Excel and Unix epochs, the
# first and last days of the range of common date types, round far-future sentinels.
# No real incorporation, listing, delisting or patent application falls on them.
# ('0000-00-00' cannot be read as a date at all and breaks rule column_type.)
PLACEHOLDER_DATES = (
    "0001-01-01", "1899-12-30", "1899-12-31", "1900-01-01", "1970-01-01",
    "2099-12-31", "2100-01-01", "2999-12-31", "9999-12-31",
)

# Refusals about the folder rather than its files: recorded without a fingerprint, so the
# same files are built once the folder is put right.
FOLDER_RULES = ("vintage_id", "symlinked_vintage", "incomplete_vintage")


class VintageContractError(ValueError):
    """A vintage breaks the raw data contract; the message names file, row, column and rule.

    The same facts are kept as attributes so that ingest can raise a structured alert.
    """

    def __init__(
        self, message: str, *, rule: str, file: str | None = None, column: str | None = None,
        failing_count: int = 1, examples: tuple[dict, ...] = (),
    ):
        super().__init__(message)
        self.rule = rule
        self.file = file
        self.column = column
        self.failing_count = failing_count
        self.examples = examples


@dataclass(frozen=True)
class LoadReport:
    vintage_id: str
    status: str  # "loaded" or "already_loaded"
    row_counts: dict[str, int]
    fingerprint: str
    is_synthetic: bool


def check_vintage_id(vintage_id: str) -> str:
    """``vintage_id`` itself if it may name a vintage (raw_contract.VINTAGE_ID_PATTERN), else
    VintageContractError (rule vintage_id)."""
    problem = vintage_id_problem(vintage_id)
    if problem:
        raise VintageContractError(problem, rule="vintage_id", file=repr(vintage_id))
    return vintage_id


def is_complete_vintage(folder: Path) -> bool:
    return folder.is_dir() and (folder / READY_MARKER).exists()


def complete_vintages(landing: Path) -> list[Path]:
    """Complete vintage folders under ``landing``, oldest id first."""
    if not landing.exists():
        return []
    return sorted((p for p in landing.iterdir() if is_complete_vintage(p)), key=lambda p: p.name)


def vintage_fingerprint(folder: Path) -> str:
    """SHA-256 over the names and bytes of the contract files (and truth.json if any)."""
    digest = hashlib.sha256()
    paths = [vintage_file(folder, table) for table in RAW_TABLES]
    paths.append(folder / TRUTH_FILE)
    for path in paths:
        if path is None or not path.exists():
            continue
        digest.update(path.name.encode())
        with path.open("rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                digest.update(block)
    return digest.hexdigest()


def ensure_raw_schema(conn: duckdb.DuckDBPyConnection) -> None:
    conn.execute("create schema if not exists raw")
    for table in RAW_TABLES:
        columns = [f"{c.name} {c.dtype}" for c in table.columns]
        columns += [f"{name} {dtype}" for name, dtype in LINEAGE_COLUMNS]
        conn.execute(f"create table if not exists raw.{table.name} ({', '.join(columns)})")
    conn.execute(
        """
        create table if not exists raw.vintages (
            vintage_id varchar primary key,
            fingerprint varchar not null,
            is_synthetic boolean not null,
            truth_json varchar,
            row_counts varchar not null,
            loaded_at timestamp not null
        )
        """
    )
    for table in RAW_TABLES:
        comment_on(
            conn, f"raw.{table.name}", f"Raw vendor records, every vintage side by side: {table.grain}. Source: "
            f"{table.source}.",
            {**{c.name: f"{c.meaning.rstrip('.')}." + (f" Unit: {c.unit}." if c.unit not in ("-", "") else "")
                for c in table.columns}, **LINEAGE_DESCRIPTIONS},
        )
    comment_on(conn, "raw.vintages", "One row per loaded vintage: fingerprint, synthetic flag, row counts.",
               VINTAGES_DESCRIPTIONS)


def _relation_sql(path: Path, table: RawTable) -> str:
    quoted = str(path).replace("'", "''")
    if path.suffix == ".parquet":
        return f"(select * exclude (file_row_number), file_row_number + 1 as __row from read_parquet('{quoted}', file_row_number = true))"
    # CSV is read as text and cast under the contract below, so that a bad value is
    # reported with its row instead of failing inside the CSV sniffer.
    return (
        f"(select *, row_number() over () as __row from read_csv('{quoted}', header = true, "
        f"all_varchar = true, auto_detect = true, delim = ',', quote = '\"', encoding = 'utf-8'))"
    )


def _describe(conn: duckdb.DuckDBPyConnection, relation: str) -> dict[str, str]:
    rows = conn.execute(f"describe select * from {relation}").fetchall()
    return {name: dtype for name, dtype, *_ in rows if name != "__row"}


def _base_type(dtype: str) -> str:
    return dtype.split("(")[0].strip().strip('"').upper()


def _check_columns(path: Path, table: RawTable, found: dict[str, str], display: str) -> None:
    missing = [c for c in table.column_names if c not in found]
    if missing:
        raise VintageContractError(
            f"{display}: missing column(s) {', '.join(missing)} (rule: required_column; "
            f"expected {', '.join(table.column_names)})",
            rule="required_column", file=display, column=", ".join(missing), failing_count=len(missing),
        )
    extra = [c for c in found if c not in table.column_names]
    if extra:
        raise VintageContractError(
            f"{display}: unexpected column(s) {', '.join(extra)} (rule: no_extra_columns; "
            f"the contract lists {', '.join(table.column_names)})",
            rule="no_extra_columns", file=display, column=", ".join(extra), failing_count=len(extra),
        )
    if path.suffix != ".parquet":
        return
    for column in table.columns:
        actual = _base_type(found[column.name])
        # An all-null Parquet column has the NULL type; the not-null rule judges it.
        if actual != "NULL" and actual not in _PARQUET_COMPATIBLE[column.dtype]:
            rule = "date_with_time" if column.dtype == "DATE" and actual.startswith("TIMESTAMP") else "column_type"
            raise VintageContractError(
                f"{display}: column {column.name} has type {found[column.name]}, expected {column.dtype} "
                f"(rule: {rule})" + ("; a timestamp is refused, not truncated to its UTC day: write dates"
                                     if rule == "date_with_time" else ""),
                rule=rule, file=display, column=column.name,
            )


def _check_values(conn: duckdb.DuckDBPyConnection, relation: str, table: RawTable, display: str) -> None:
    """Every value casts to its contract type, required columns hold no nulls, amounts are finite, dates are dates.

    One query per column and rule: each reads one column of a Parquet file, which is
    faster than one scan of every column judging all rules at once (measured: 0.75-1.0 s
    against 1.0-1.6 s on the 832,836 patents of a scale-1 vintage).
    """
    for column in table.columns:
        name = column.name
        for rule, predicate, meaning in _value_rules(column):
            count, examples = conn.execute(
                f"""
                select count(*), list(struct_pack(r := __row, v := cast({name} as varchar)) order by __row)[1:{_EXAMPLES_IN_MESSAGE}]
                from {relation} where {predicate}
                """
            ).fetchone()
            if count:
                shown = "; ".join(f"row {e['r']}: {e['v']!r}" for e in examples)
                raise VintageContractError(
                    f"{display}: column {name}: {count} row(s) break rule {rule} ({meaning}); first: {shown}",
                    rule=rule, file=display, column=name, failing_count=count,
                    examples=tuple({"row": e["r"], name: e["v"]} for e in examples),
                )


def _value_rules(column: Column) -> list[tuple[str, str, str]]:
    """(rule, SQL predicate of a breaking row, meaning) of one contract column."""
    name = column.name
    text_null = f"({name} is null or trim(cast({name} as varchar)) = '')"
    rules = [
        (
            "column_type",
            f"not {text_null} and try_cast({name} as {column.dtype}) is null",
            f"value cannot be read as {column.dtype}",
        )
    ]
    if not column.nullable:
        rules.append(("not_null", text_null, "required value is empty"))
    if column.dtype == "DOUBLE":
        # NaN and infinities are not missing values: they pass every cast and comparison
        # rule and then poison means and logs. An unknown amount is delivered empty (NULL).
        rules.append((
            "non_finite", f"not isfinite(try_cast({name} as DOUBLE))",
            "NaN or an infinity; deliver an unknown amount as an empty value (NULL)",
        ))
    if column.dtype == "DATE":
        # CSV text such as '2020-03-01 16:00:00' would be truncated to its day.
        rules.append((
            "date_with_time",
            f"cast(try_cast({name} as TIMESTAMP) as TIME) <> TIME '00:00:00'",
            "a timestamp with a time of day where the contract says DATE; it would be truncated",
        ))
        placeholders = ", ".join(f"DATE '{day}'" for day in PLACEHOLDER_DATES)
        rules.append((
            "placeholder_date", f"try_cast({name} as DATE) in ({placeholders})",
            "a placeholder date standing for 'unknown'; deliver an unknown date as an empty value (NULL)",
        ))
    return rules


def check_landing_folder(folder: Path) -> None:
    """Refuse a vintage folder that is a symbolic link, or whose name is not a valid vintage id.

    A symlink would be loaded under its target's name while the run asked for the link's,
    and a landing file must be the delivered file itself (inputs are never modified, and
    a link's target may change under a run). Copy the folder instead.
    """
    check_vintage_id(folder.name)
    if folder.is_symlink():
        raise VintageContractError(
            f"{folder}: the vintage folder is a symbolic link to {folder.readlink()} (rule: symlinked_vintage); "
            f"deliver the files themselves: copy the folder into the landing folder under its vintage id",
            rule="symlinked_vintage", file=folder.name,
        )
    linked = sorted(p.name for p in folder.iterdir() if p.is_symlink()) if folder.is_dir() else []
    if linked:
        raise VintageContractError(
            f"{folder}: file(s) {', '.join(linked)} are symbolic links (rule: symlinked_vintage); "
            f"deliver the files themselves",
            rule="symlinked_vintage", file=f"{folder.name}/{linked[0]}", failing_count=len(linked),
        )


def validate_vintage(conn: duckdb.DuckDBPyConnection, folder: Path) -> dict[str, Path]:
    """Check a vintage folder against the contract; return the file of each table."""
    check_landing_folder(folder)
    if not folder.is_dir():
        raise VintageContractError(f"{folder}: vintage folder does not exist", rule="vintage_folder", file=str(folder))
    if not (folder / READY_MARKER).exists():
        raise VintageContractError(
            f"{folder}: no {READY_MARKER} marker (rule: incomplete_vintage); a vintage is complete only once "
            f"{READY_MARKER} is written, last, after every file",
            rule="incomplete_vintage", file=f"{folder.name}/{READY_MARKER}",
        )
    files: dict[str, Path] = {}
    for table in RAW_TABLES:
        path = vintage_file(folder, table)
        if path is None:
            raise VintageContractError(
                f"{folder / (table.name + '.parquet')}: missing file (rule: required_file; "
                f"expected {table.name}.parquet or {table.name}.csv)",
                rule="required_file", file=f"{folder.name}/{table.name}.parquet",
            )
        display = f"{folder.name}/{path.name}"
        try:
            relation = _relation_sql(path, table)
            found = _describe(conn, relation)
        except duckdb.Error as exc:
            raise VintageContractError(
                f"{display}: cannot be read ({exc.__class__.__name__}: {exc}) (rule: readable_file)",
                rule="readable_file", file=display,
            ) from exc
        _check_columns(path, table, found, display)
        _check_values(conn, relation, table, display)
        files[table.name] = path
    return files


def load_vintage(conn: duckdb.DuckDBPyConnection, vintage_dir: Path) -> LoadReport:
    """Validate and append one vintage to ``raw``; idempotent for identical content."""
    vintage_dir = Path(vintage_dir).absolute()
    check_landing_folder(vintage_dir)
    vintage_id = vintage_dir.name
    ensure_raw_schema(conn)
    fingerprint = vintage_fingerprint(vintage_dir)
    existing = conn.execute(
        "select fingerprint, row_counts, is_synthetic from raw.vintages where vintage_id = ?", [vintage_id]
    ).fetchone()
    if existing is not None:
        if existing[0] != fingerprint:
            raise VintageContractError(
                f"{vintage_dir}: vintage {vintage_id!r} was already loaded with different content "
                f"(rule: immutable_vintage); raw vintages are never modified: deliver the change as a new vintage id",
                rule="immutable_vintage", file=vintage_id,
            )
        return LoadReport(vintage_id, "already_loaded", json.loads(existing[1]), fingerprint, bool(existing[2]))

    files = validate_vintage(conn, vintage_dir)
    truth_path = vintage_dir / TRUTH_FILE
    truth_json = truth_path.read_text(encoding="utf-8") if truth_path.exists() else None
    is_synthetic = bool(truth_json and json.loads(truth_json).get("synthetic", False))

    row_counts: dict[str, int] = {}
    conn.execute("begin transaction")
    try:
        for table in RAW_TABLES:
            path = files[table.name]
            relation = _relation_sql(path, table)
            source_file = f"{vintage_id}/{path.name}"
            casts = ", ".join(f"cast({c.name} as {c.dtype}) as {c.name}" for c in table.columns)
            conn.execute(
                f"""
                insert into raw.{table.name}
                select {casts}, ? as vintage_id, ? as source_file, __row as source_row, current_timestamp as loaded_at
                from {relation}
                """,
                [vintage_id, source_file],
            )
            row_counts[table.name] = conn.execute(
                f"select count(*) from raw.{table.name} where vintage_id = ?", [vintage_id]
            ).fetchone()[0]
        conn.execute(
            "insert into raw.vintages values (?, ?, ?, ?, ?, current_timestamp)",
            [vintage_id, fingerprint, is_synthetic, truth_json, json.dumps(row_counts)],
        )
        conn.execute("commit")
    except BaseException:
        conn.execute("rollback")
        raise
    return LoadReport(vintage_id, "loaded", row_counts, fingerprint, is_synthetic)
