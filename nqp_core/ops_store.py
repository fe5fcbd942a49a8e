"""The ops store: operational records kept apart from the published warehouse.

A rejected vintage must leave ``data/warehouse.duckdb`` byte-identical, yet its alerts
and status must be kept somewhere: they go to a second DuckDB file,
``settings.ops_path()`` (``<data_dir>/ops.duckdb``), schema ``ops``:

- ``ops.vintage_status``: one row per status change of a vintage (loaded, validated,
  published, rejected), append-only, so the history of a vintage stays readable;
- ``ops.vintage_diffs``: the cross-vintage diff of each built vintage against the last
  published one (long format, see :data:`VINTAGE_DIFF_COLUMNS`);
- ``ops.alerts``: created and written by ``nqp_core.alerts``; this module
  only hosts it (any caller may ``create table if not exists ops.<name>`` through
  :meth:`OpsStore.connection`).

Connections are short-lived on purpose. The run process, the sensor (inside the Dagster
daemon) and analysts touch the file from different processes, and DuckDB lets one
process write a file at a time; a connection held only for one statement batch, with a
retry on the file lock, lets them take turns. Analysts attach it read-only::

    ATTACH 'data/ops.duckdb' AS ops_store (READ_ONLY);
    SELECT * FROM ops_store.ops.vintage_status;

This module has no Dagster import at module level except the resource base class, so
the sensor can use it without loading the pipeline.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import duckdb

from nqp_core import settings
from nqp_core.data_dictionary import ensure_comments
from nqp_core.warehouse import table_exists

VINTAGE_STATUSES = ("loaded", "validated", "published", "rejected")

# How long to wait for another process (a run, the daemon's sensor) to release the file.
LOCK_WAIT_S = 60.0
_LOCK_RETRY_S = 0.2
STORE_CATALOG = "ops_store"

_SCHEMA_DDL = (
    "create schema if not exists ops",
    """
    create table if not exists ops.vintage_status (
        vintage_id varchar not null,
        fingerprint varchar,
        status varchar not null check (status in ('loaded', 'validated', 'published', 'rejected')),
        run_id varchar,
        recorded_at timestamp not null,
        detail varchar
    )
    """,
    # Long format: one row per measure. kind is firm_years | revisions | largest_revisions
    # | patents | coefficients; subject names what is measured (added, a column, a model
    # term); value_old / value_new / delta hold the numbers, detail any JSON context.
    """
    create table if not exists ops.vintage_diffs (
        new_vintage_id varchar not null,
        base_vintage_id varchar,
        kind varchar not null,
        subject varchar not null,
        measure varchar not null,
        value_old double,
        value_new double,
        delta double,
        detail varchar,
        computed_at timestamp not null
    )
    """,
)

# The data dictionary of this module's tables (DuckDB comments, set by OpsStore.connection).
OPS_TABLE_DESCRIPTIONS = {
    "ops.vintage_status": (
        "One row per status change of a vintage (loaded, validated, published, rejected), append-only.",
        {
            "vintage_id": "Vintage id (landing folder name).",
            "fingerprint": "SHA-256 fingerprint of the vintage's files when the status was recorded; NULL if not known.",
            "status": "New status: loaded, validated, published or rejected.",
            "run_id": "Dagster run that recorded the change; NULL outside a run.",
            "recorded_at": "When the change was recorded (current_timestamp of the store connection).",
            "detail": "Free-text context, e.g. the rule a rejected vintage failed; NULL if none.",
        },
    ),
    "ops.vintage_diffs": (
        "Cross-vintage diff of each built vintage against the last published one, one row per measure.",
        {
            "new_vintage_id": "The vintage that was built.",
            "base_vintage_id": "The published vintage it is compared with; NULL for the first vintage.",
            "kind": "What is compared: firm_years, revisions, largest_revisions, patents or coefficients.",
            "subject": "What is measured within the kind: added/removed firm-years, a column, a model term.",
            "measure": "Name of the number in value_old / value_new / delta.",
            "value_old": "Value in the base vintage; NULL where it has none.",
            "value_new": "Value in the new vintage; NULL where it has none.",
            "delta": "Change from value_old to value_new; NULL where undefined.",
            "detail": "JSON context of the row (e.g. the firm-years behind a revision); NULL if none.",
            "computed_at": "When the diff was computed.",
        },
    ),
}

# The columns a diff row supplies (new_vintage_id and computed_at are filled in on insert).
VINTAGE_DIFF_COLUMNS = ("base_vintage_id", "kind", "subject", "measure", "value_old", "value_new", "delta", "detail")


@dataclass(frozen=True)
class VintageStatus:
    vintage_id: str
    fingerprint: str | None
    status: str
    run_id: str | None
    recorded_at: datetime
    detail: str | None


def _is_lock_conflict(error: duckdb.Error) -> bool:
    text = str(error)
    return "lock" in text.lower() or "Conflicting" in text


def connect_with_retry(
    path: Path, *, read_only: bool, wait_s: float = LOCK_WAIT_S, config: dict | None = None
) -> duckdb.DuckDBPyConnection:
    """Open a DuckDB file, waiting while another process holds its write lock."""
    deadline = time.monotonic() + wait_s
    while True:
        try:
            return duckdb.connect(str(path), read_only=read_only, config=config or {})
        except duckdb.IOException as error:
            if not _is_lock_conflict(error) or time.monotonic() > deadline:
                raise
            time.sleep(_LOCK_RETRY_S)


def _attach_store(path: Path, *, read_only: bool, wait_s: float = LOCK_WAIT_S) -> duckdb.DuckDBPyConnection:
    """An in-memory connection with the store attached as catalog ``ops_store`` and in use.

    Opening ops.duckdb directly would name its catalog ``ops`` too, and DuckDB then
    refuses ``ops.<table>`` as ambiguous; under the alias, ``ops.<table>`` means schema ops.
    """
    conn = duckdb.connect()
    quoted = str(path).replace("'", "''")
    mode = " (READ_ONLY)" if read_only else ""
    deadline = time.monotonic() + wait_s
    try:
        while True:
            try:
                conn.execute(f"attach '{quoted}' as {STORE_CATALOG}{mode}")
                break
            except duckdb.IOException as error:
                if not _is_lock_conflict(error) or time.monotonic() > deadline:
                    raise
                time.sleep(_LOCK_RETRY_S)
        conn.execute(f"use {STORE_CATALOG}")
    except BaseException:
        conn.close()
        raise
    return conn


class OpsStore:
    """The one way into ``ops.duckdb`` (Dagster steps get it as the ``ops`` resource, which is
    this class with a configurable ``path``).

    Empty ``path`` means ``settings.ops_path()`` resolved when used, so a process that
    sets ``NQP_DATA_DIR`` after importing the definitions still writes in its own folder.
    """

    def __init__(self, path: str = "") -> None:
        self.path = path

    @property
    def file(self) -> Path:
        return Path(self.path) if self.path else settings.ops_path()

    @contextmanager
    def connection(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """A writable connection with the ``ops`` schema and this module's tables present."""
        self.file.parent.mkdir(parents=True, exist_ok=True)
        conn = _attach_store(self.file, read_only=False)
        try:
            for statement in _SCHEMA_DDL:
                conn.execute(statement)
            ensure_comments(conn, OPS_TABLE_DESCRIPTIONS)
            yield conn
        finally:
            conn.close()

    @contextmanager
    def reader(self) -> Iterator[duckdb.DuckDBPyConnection | None]:
        """A read-only connection, or None when the store has not been created yet."""
        if not self.file.exists():
            yield None
            return
        conn = _attach_store(self.file, read_only=True)
        try:
            yield conn
        finally:
            conn.close()

    def record_status(
        self, vintage_id: str, status: str, *, fingerprint: str | None = None,
        run_id: str | None = None, detail: str | None = None,
    ) -> None:
        if status not in VINTAGE_STATUSES:
            raise ValueError(f"status must be one of {', '.join(VINTAGE_STATUSES)}, got {status!r}")
        with self.connection() as conn:
            conn.execute(
                "insert into ops.vintage_status values (?, ?, ?, ?, current_timestamp, ?)",
                [vintage_id, fingerprint, status, run_id, detail],
            )

    def status_history(self) -> list[VintageStatus]:
        """Every status change, oldest first."""
        with self.reader() as conn:
            if conn is None or not table_exists(conn, "ops.vintage_status"):
                return []
            rows = conn.execute(
                "select vintage_id, fingerprint, status, run_id, recorded_at, detail from ops.vintage_status "
                "order by recorded_at, rowid"
            ).fetchall()
        return [VintageStatus(*row) for row in rows]

    def latest_statuses(self) -> dict[str, VintageStatus]:
        """The current status of each vintage id (its last recorded change)."""
        return {row.vintage_id: row for row in self.status_history()}

    def replace_vintage_diff(self, new_vintage_id: str, rows: Sequence[dict]) -> None:
        """Store the diff rows of ``new_vintage_id``, replacing any earlier diff of it."""
        with self.connection() as conn:
            conn.execute("begin transaction")
            conn.execute("delete from ops.vintage_diffs where new_vintage_id = ?", [new_vintage_id])
            if rows:
                conn.executemany(
                    f"insert into ops.vintage_diffs (new_vintage_id, {', '.join(VINTAGE_DIFF_COLUMNS)}, computed_at) "
                    f"values (?, {', '.join('?' for _ in VINTAGE_DIFF_COLUMNS)}, current_timestamp)",
                    [[new_vintage_id, *(_diff_value(row.get(column)) for column in VINTAGE_DIFF_COLUMNS)] for row in rows],
                )
            conn.execute("commit")


def _diff_value(value):
    return json.dumps(value, default=str) if isinstance(value, (dict, list)) else value
