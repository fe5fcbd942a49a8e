"""Provenance stamped on every result row and rendered table: vintage, synthetic flag, code version."""

from __future__ import annotations

import functools
import subprocess
from dataclasses import dataclass
from importlib.metadata import PackageNotFoundError, version

import duckdb

from nqp_core import settings


@functools.cache
def code_version() -> str:
    """``git describe`` of the checkout (``-dirty`` when uncommitted), else the package version."""
    try:
        described = subprocess.run(
            ["git", "describe", "--always", "--dirty", "--abbrev=12"],
            cwd=settings.PROJECT_ROOT,
            capture_output=True,
            text=True,
            timeout=10,
            check=True,
        ).stdout.strip()
        if described:
            return described
    except (OSError, subprocess.SubprocessError):
        pass
    try:
        return f"nqp-warehouse {version('nqp-warehouse')}"
    except PackageNotFoundError:
        return "unknown"


@dataclass(frozen=True)
class Provenance:
    vintage_id: str
    is_synthetic: bool
    code_version: str


def provenance_for(conn: duckdb.DuckDBPyConnection, vintage_id: str) -> Provenance:
    row = conn.execute("select is_synthetic from raw.vintages where vintage_id = ?", [vintage_id]).fetchone()
    if row is None:
        raise LookupError(f"vintage {vintage_id!r} is not loaded in raw.vintages")
    return Provenance(vintage_id, bool(row[0]), code_version())
