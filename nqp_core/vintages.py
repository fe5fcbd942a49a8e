"""Vintages: which one a run builds (the configured one, else the newest loaded) and which one it is
compared with (the previous of the same kind). The one place these two questions are answered."""

from __future__ import annotations

import os

import duckdb

VINTAGE_ENV = "NQP_VINTAGE"


def requested_vintage(configured: str = "") -> str:
    """The vintage asked for: ``configured``, else ``NQP_VINTAGE``, else '' (the newest loaded)."""
    return configured or os.environ.get(VINTAGE_ENV, "")


def resolve_vintage(conn: duckdb.DuckDBPyConnection, requested: str = "") -> str:
    """``requested`` if it is loaded in ``raw.vintages``, the newest loaded one when ``requested``
    is empty (ids sort by time: '2024-06' < '2024-09'); LookupError otherwise."""
    loaded = [row[0] for row in conn.execute("select vintage_id from raw.vintages order by vintage_id").fetchall()]
    if not loaded:
        raise LookupError("no vintage is loaded in raw.vintages; put one under data/landing/ and materialize raw")
    if not requested:
        return loaded[-1]
    if requested not in loaded:
        raise LookupError(f"vintage {requested!r} is not loaded; loaded vintages: {', '.join(loaded)}")
    return requested


def previous_vintage(conn: duckdb.DuckDBPyConnection, vintage_id: str) -> str | None:
    """The newest vintage in raw.vintages other than ``vintage_id`` and of the same kind (under
    write-audit-publish: the last published one). Synthetic and real vintages are never compared:
    a researcher's first real delivery after the synthetic demo run has no previous vintage, and
    is judged by the plausibility checks alone."""
    row = conn.execute(
        "select vintage_id from raw.vintages where vintage_id <> ? and is_synthetic = "
        "(select bool_or(is_synthetic) from raw.vintages where vintage_id = ?) order by vintage_id desc limit 1",
        [vintage_id, vintage_id],
    ).fetchone()
    return row[0] if row else None
