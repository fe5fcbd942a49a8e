"""The paper's published numbers, as transcribed in ``tables.yaml`` (copied from the project's shared paper folder).

Used to print the paper's value beside ours and to name the Table 1 indicators; never
used to tune anything.
"""

from __future__ import annotations

import functools
import re
from importlib.resources import files
from typing import Any

import yaml

SOURCE = (
    "Cheng & Xu (2025), Frontiers in Sustainability, doi:10.3389/frsus.2025.1679298; "
    "transcribed in analysis/published/tables.yaml"
)


TRANSCRIBED_KEY = re.compile(r"^table(\d+)_\w+$")
"""A table's key in tables.yaml, as transcribed ("table4_benchmark"); ``published_tables``
keys it by the table's one name instead ("table04")."""


@functools.cache
def published_tables() -> dict[str, Any]:
    """The transcription, each paper table under its table id ("table01" ... "table14", as its
    assets, rows and reports are named); ``sample`` and ``paper_inconsistencies`` as they are."""
    transcribed = yaml.safe_load(files(__package__).joinpath("tables.yaml").read_text(encoding="utf-8"))
    return {_table_id(key): value for key, value in transcribed.items()}


def _table_id(key: str) -> str:
    match = TRANSCRIBED_KEY.match(key)
    return f"table{int(match.group(1)):02d}" if match else key


def table1_weights() -> dict[str, float]:
    """Published entropy weight of each Table 1 indicator, keyed by the mart column name."""
    blocks = published_tables()["table01"]
    return {name: spec["weight"] for block in blocks.values() for name, spec in block.items()}
