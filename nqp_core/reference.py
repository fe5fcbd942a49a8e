"""The reference seeds the generator plants its data on (provinces, contiguity, industries, dictionaries).

Reading them from ``dbt_models/seeds`` keeps the generator and the pipeline on one definition
of regions, industries, the contiguity matrix and the AI/green dictionaries.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

from nqp_core.settings import SEEDS_DIR


def _read(seeds_dir: Path, name: str) -> list[dict[str, str]]:
    with open(seeds_dir / f"{name}.csv", encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


@dataclass(frozen=True)
class ReferenceData:
    province_codes: tuple[str, ...]
    province_regions: tuple[str, ...]
    province_capital_lon: np.ndarray
    contiguity: np.ndarray  # row-standardised 0-1 contiguity (land borders plus the Hainan-Guangdong link)
    industry_codes: tuple[str, ...]
    industry_manufacturing: np.ndarray
    industry_financial: np.ndarray
    industry_heavy_polluting: np.ndarray
    industry_high_tech: np.ndarray
    ai_keywords: tuple[str, ...]
    ai_ipc_prefixes: tuple[str, ...]
    green_ipc_prefixes: tuple[str, ...]


@lru_cache(maxsize=2)
def load_reference_data(seeds_dir: Path = SEEDS_DIR) -> ReferenceData:
    provinces = _read(seeds_dir, "provinces")
    codes = tuple(row["gb_code"] for row in provinces)
    position = {code: i for i, code in enumerate(codes)}
    binary = np.zeros((len(codes), len(codes)))
    for row in _read(seeds_dir, "province_adjacency"):
        a, b = position[row["gb_code_a"]], position[row["gb_code_b"]]
        binary[a, b] = binary[b, a] = 1.0
    if (binary.sum(axis=1) == 0).any():
        raise ValueError("province_adjacency.csv leaves a province without any neighbour")
    industries = _read(seeds_dir, "csrc_industries")

    def flag(column: str) -> np.ndarray:
        return np.array([row[column] == "true" for row in industries])

    return ReferenceData(
        province_codes=codes,
        province_regions=tuple(row["region"] for row in provinces),
        province_capital_lon=np.array([float(row["capital_lon"]) for row in provinces]),
        contiguity=binary / binary.sum(axis=1, keepdims=True),
        industry_codes=tuple(row["industry_code"] for row in industries),
        industry_manufacturing=flag("is_manufacturing"),
        industry_financial=flag("is_financial"),
        industry_heavy_polluting=flag("heavy_polluting"),
        industry_high_tech=flag("high_tech"),
        ai_keywords=tuple(row["keyword_zh"] for row in _read(seeds_dir, "ai_keywords")),
        ai_ipc_prefixes=tuple(row["ipc_prefix"] for row in _read(seeds_dir, "ai_ipc_groups")),
        green_ipc_prefixes=tuple(row["ipc_prefix"] for row in _read(seeds_dir, "green_ipc_codes")),
    )


def matches_any_prefix(code: str, prefixes: tuple[str, ...]) -> bool:
    return any(code.startswith(prefix) for prefix in prefixes)
