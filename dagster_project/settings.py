"""Filesystem locations of the project, overridable by environment variables.

Everything generated lives under ``data/`` and ``reports/`` (both git-ignored) unless
``NQP_DATA_DIR`` / ``NQP_REPORTS_DIR`` point elsewhere, which is how the end-to-end
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


def landing_dir() -> Path:
    return data_dir() / "landing"


def warehouse_path() -> Path:
    return data_dir() / "warehouse.duckdb"
