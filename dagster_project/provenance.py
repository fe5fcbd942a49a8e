"""Provenance stamped on every result row and rendered table: vintage, synthetic flag, code version."""

from __future__ import annotations

import functools
import subprocess
from dataclasses import dataclass
from importlib.metadata import PackageNotFoundError, version

import duckdb

from dagster_project import settings


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

    @property
    def label(self) -> str:
        data = "SYNTHETIC data (generated, not real firms)" if self.is_synthetic else "real data"
        return f"vintage {self.vintage_id} | {data} | code {self.code_version}"


def provenance_for(conn: duckdb.DuckDBPyConnection, vintage_id: str) -> Provenance:
    row = conn.execute("select is_synthetic from raw.vintages where vintage_id = ?", [vintage_id]).fetchone()
    if row is None:
        raise LookupError(f"vintage {vintage_id!r} is not loaded in raw.vintages")
    return Provenance(vintage_id, bool(row[0]), code_version())


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
