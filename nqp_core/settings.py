"""Filesystem locations of the project, overridable by environment variables.

Everything generated lives under ``data/``, ``reports/`` and ``exports/`` (git-ignored) unless
``NQP_DATA_DIR`` / ``NQP_REPORTS_DIR`` / ``NQP_EXPORTS_DIR`` point elsewhere, which is how the end-to-end
tests build a throw-away warehouse without touching the user's one.
"""

from __future__ import annotations

import os
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DBT_PROJECT_DIR = PROJECT_ROOT / "dbt_models"
SEEDS_DIR = DBT_PROJECT_DIR / "seeds"


def data_dir() -> Path:
    return Path(os.environ.get("NQP_DATA_DIR", PROJECT_ROOT / "data")).resolve()


def reports_dir() -> Path:
    return Path(os.environ.get("NQP_REPORTS_DIR", PROJECT_ROOT / "reports")).resolve()


def exports_dir() -> Path:
    """Files exported after each publication (the analysis panel as Parquet, CSV, .dta)."""
    return Path(os.environ.get("NQP_EXPORTS_DIR", PROJECT_ROOT / "exports")).resolve()


def landing_dir() -> Path:
    return data_dir() / "landing"


def warehouse_path() -> Path:
    return data_dir() / "warehouse.duckdb"


# Write-audit-publish (docs/publishing.md): a run builds into the working copy under
# work/, and only a run whose blocking checks all pass replaces warehouse.duckdb.
def work_dir() -> Path:
    return data_dir() / "work"


def working_warehouse_path() -> Path:
    return work_dir() / "warehouse.duckdb"


def previous_warehouse_path() -> Path:
    return data_dir() / "warehouse.previous.duckdb"


def publications_dir() -> Path:
    return data_dir() / "publications"


def ops_path() -> Path:
    """Operational records (vintage statuses, alerts, diffs), kept apart from the published warehouse."""
    return data_dir() / "ops.duckdb"
