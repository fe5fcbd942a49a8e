"""The paper's published numbers, as transcribed in ``tables.yaml`` (copied from the project's shared paper folder).

Used to print the paper's value beside ours and to name the Table 1 indicators; never
used to tune anything.
"""

from __future__ import annotations

import functools
from importlib.resources import files
from typing import Any

import yaml

SOURCE = (
    "Cheng & Xu (2025), Frontiers in Sustainability, doi:10.3389/frsus.2025.1679298; "
    "transcribed in analysis/published/tables.yaml"
)


@functools.cache
def published_tables() -> dict[str, Any]:
    return yaml.safe_load(files(__package__).joinpath("tables.yaml").read_text(encoding="utf-8"))


def table1_weights() -> dict[str, float]:
    """Published entropy weight of each Table 1 indicator, keyed by the mart column name."""
    blocks = published_tables()["table1_entropy_weights"]
    return {name: spec["weight"] for block in blocks.values() for name, spec in block.items()}
