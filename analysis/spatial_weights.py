"""Spatial weights between provinces: first-order contiguity and inverse great-circle distance.

Both constructors return a ``SpatialWeights`` that keeps the raw (unstandardised) matrix,
whose symmetry can be checked, next to the row-standardised matrix every estimator in
``analysis.spatial`` and ``analysis.spatial_panel`` uses. Rows and columns follow
``codes``; the panel code aligns data to that order, so callers never have to sort.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from itertools import combinations
from typing import Iterable, Sequence

import libpysal
import numpy as np
import pandas as pd
from libpysal.cg.sphere import RADIUS_EARTH_KM, arcdist

from analysis.results import read_only_array

PAIR_COLUMNS = ("gb_code_a", "gb_code_b", "kind")
"""Columns of the adjacency seed (``dbt_models/seeds/province_adjacency.csv``)."""


@dataclass(frozen=True, eq=False)
class SpatialWeights:
    """An n x n spatial weights matrix over ``codes``.

    ``raw`` holds the weights as constructed (0/1 contiguity, d^-power distance decay),
    ``matrix`` the row-standardised version (rows sum to one, zero diagonal).
    """

    codes: tuple[str, ...]
    raw: np.ndarray
    kind: str
    matrix: np.ndarray = field(init=False, repr=False)

    def __post_init__(self) -> None:
        codes = tuple(str(c) for c in self.codes)
        if len(set(codes)) != len(codes):
            raise ValueError("codes must be unique")
        raw = read_only_array(self.raw)
        n = len(codes)
        if raw.shape != (n, n):
            raise ValueError(f"raw weights have shape {raw.shape}, expected ({n}, {n}) for {n} codes")
        if not np.all(np.isfinite(raw)) or np.any(raw < 0):
            raise ValueError("raw weights must be finite and non-negative")
        if np.any(np.diag(raw) != 0):
            raise ValueError("raw weights must have a zero diagonal (no unit is its own neighbour)")
        row_sums = raw.sum(axis=1)
        isolated = [code for code, total in zip(codes, row_sums) if total == 0]
        if isolated:
            raise ValueError(f"units without neighbours cannot be row-standardised: {isolated}")
        object.__setattr__(self, "codes", codes)
        object.__setattr__(self, "raw", raw)
        object.__setattr__(self, "matrix", read_only_array(raw / row_sums[:, None]))

    @property
    def n(self) -> int:
        return len(self.codes)

    def same_as(self, other: "SpatialWeights") -> bool:
        """Same codes in the same order and the same raw weights."""
        return self.codes == other.codes and bool(np.array_equal(self.raw, other.raw))

    def is_symmetric(self, atol: float = 1e-12) -> bool:
        """Whether the raw matrix is symmetric (contiguity and distance matrices must be)."""
        return bool(np.allclose(self.raw, self.raw.T, rtol=0.0, atol=atol))

    def tidy(self) -> pd.DataFrame:
        """One row per non-zero link: i, j (codes), weight (row-standardised), raw_weight."""
        rows, cols = np.nonzero(self.raw)
        return pd.DataFrame(
            {
                "i": [self.codes[r] for r in rows],
                "j": [self.codes[c] for c in cols],
                "weight": self.matrix[rows, cols],
                "raw_weight": self.raw[rows, cols],
            }
        )

    def to_libpysal(self) -> libpysal.weights.W:
        """The row-standardised weights as a libpysal ``W`` with ``id_order == codes``."""
        w = libpysal.weights.full2W(np.array(self.raw), ids=list(self.codes))
        w.transform = "r"
        return w


def _validate_codes(codes: Sequence[str]) -> tuple[str, ...]:
    codes = tuple(str(c) for c in codes)
    if len(codes) < 2:
        raise ValueError("at least two spatial units are needed")
    duplicated = sorted({c for c in codes if codes.count(c) > 1})
    if duplicated:
        raise ValueError(f"duplicated codes: {duplicated}")
    return codes


def contiguity_weights(
    codes: Sequence[str],
    pairs: pd.DataFrame,
    include_kinds: Iterable[str] = ("land", "hainan_link"),
) -> SpatialWeights:
    """Binary first-order contiguity from an edge list, row-standardised.

    ``pairs`` has the columns of the adjacency seed (``gb_code_a``, ``gb_code_b``,
    ``kind``); each undirected link may be listed once or in both directions. Only
    links whose ``kind`` is in ``include_kinds`` are used, so the Hainan ferry link can be
    switched off for a robustness check.
    """
    codes = _validate_codes(codes)
    missing = [c for c in PAIR_COLUMNS if c not in pairs.columns]
    if missing:
        raise ValueError(f"pairs is missing columns {missing}")
    kinds = set(include_kinds)
    if not kinds:
        raise ValueError("include_kinds must name at least one kind of link")
    used = pairs[pairs["kind"].isin(kinds)]
    position = {code: i for i, code in enumerate(codes)}
    a_codes = used["gb_code_a"].astype(str).tolist()
    b_codes = used["gb_code_b"].astype(str).tolist()
    unknown = sorted({c for c in a_codes + b_codes if c not in position})
    if unknown:
        raise ValueError(f"pairs refer to codes not in codes: {unknown}")
    loops = sorted({a for a, b in zip(a_codes, b_codes) if a == b})
    if loops:
        raise ValueError(f"pairs link a unit to itself: {loops}")
    raw = np.zeros((len(codes), len(codes)))
    for a, b in zip(a_codes, b_codes):
        raw[position[a], position[b]] = raw[position[b], position[a]] = 1.0
    return SpatialWeights(codes=codes, raw=raw, kind="contiguity")


def great_circle_km(lat: Sequence[float], lon: Sequence[float]) -> np.ndarray:
    """Pairwise great-circle distances in km on a sphere of radius ``RADIUS_EARTH_KM``."""
    lat = np.asarray(lat, dtype=float)
    lon = np.asarray(lon, dtype=float)
    if lat.shape != lon.shape or lat.ndim != 1:
        raise ValueError("lat and lon must be one-dimensional and of equal length")
    if not (np.all(np.isfinite(lat)) and np.all(np.isfinite(lon))):
        raise ValueError("lat and lon must be finite")
    if np.any(np.abs(lat) > 90) or np.any(np.abs(lon) > 180):
        raise ValueError("lat must lie in [-90, 90] and lon in [-180, 180] (decimal degrees)")
    n = lat.size
    distance = np.zeros((n, n))
    for i, j in combinations(range(n), 2):
        distance[i, j] = distance[j, i] = arcdist((lon[i], lat[i]), (lon[j], lat[j]), RADIUS_EARTH_KM)
    return distance


def inverse_distance_weights(
    codes: Sequence[str],
    lat: Sequence[float],
    lon: Sequence[float],
    power: float = 1,
    cutoff_km: float | None = None,
) -> SpatialWeights:
    """Inverse great-circle distance between capitals, w_ij = d_ij^-power, row-standardised.

    With ``cutoff_km`` links longer than the cutoff get weight zero; a unit left without
    any neighbour is an error rather than a silent zero row.
    """
    codes = _validate_codes(codes)
    if len(lat) != len(codes) or len(lon) != len(codes):
        raise ValueError("lat and lon must have one entry per code")
    if not np.isfinite(power) or power <= 0:
        raise ValueError("power must be a positive number")
    if cutoff_km is not None and not cutoff_km > 0:
        raise ValueError("cutoff_km must be positive")
    distance = great_circle_km(lat, lon)
    off_diagonal = ~np.eye(len(codes), dtype=bool)
    if np.any(distance[off_diagonal] == 0):
        i, j = np.argwhere((distance == 0) & off_diagonal)[0]
        raise ValueError(f"units {codes[i]} and {codes[j]} share a location; inverse distance is undefined")
    raw = np.zeros_like(distance)
    raw[off_diagonal] = distance[off_diagonal] ** (-float(power))
    if cutoff_km is not None:
        raw[distance > cutoff_km] = 0.0
    return SpatialWeights(codes=codes, raw=raw, kind="inverse_distance")
