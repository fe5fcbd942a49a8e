"""The entropy weight method of section 4.2.1 (equations 5-11) of Cheng & Xu (2025).

Conventions (``docs/index_method.md`` gives the reasons):

* normalisation, proportions and entropies are pooled over all rows (firm-years), not
  computed year by year: the paper's equations index the sum over "years" while its sample
  is firm-years;
* a small ``shift`` is added to every normalised value before the proportions are formed,
  z' = z + shift, so that ln p is defined where z = 0 (common practice with this method);
* the score is ``scale`` times the weighted sum of the normalised values (without the
  shift); equation (11) omits the normalised value, and ``scale = 10`` puts the index on
  the magnitude of the paper's Table 3 (mean 2.47).
"""

from __future__ import annotations

from dataclasses import dataclass
from types import MappingProxyType
from typing import Literal, Mapping

import numpy as np
import pandas as pd

Direction = Literal["positive", "negative"]
DIRECTIONS: tuple[str, ...] = ("positive", "negative")


@dataclass(frozen=True)
class EntropyResult:
    """Weights of the indicators and the composite score of every row.

    ``weights``, ``entropy`` and ``redundancy`` are indexed by indicator (in the order of
    ``directions``); ``scores`` is aligned with the index of the input frame; ``n`` is the
    number of rows the weights were computed from.
    """

    weights: pd.Series
    entropy: pd.Series
    redundancy: pd.Series
    scores: pd.Series
    directions: Mapping[str, str]
    n: int

    def tidy(self) -> pd.DataFrame:
        """One row per indicator: indicator, direction, entropy, redundancy, weight."""
        indicators = list(self.weights.index)
        return pd.DataFrame(
            {
                "indicator": indicators,
                "direction": [self.directions[name] for name in indicators],
                "entropy": self.entropy.to_numpy(),
                "redundancy": self.redundancy.to_numpy(),
                "weight": self.weights.to_numpy(),
            }
        )


def _validated_indicators(data: pd.DataFrame, directions: Mapping[str, str]) -> np.ndarray:
    if not isinstance(data, pd.DataFrame):
        raise ValueError(f"data must be a pandas DataFrame, got {type(data).__name__}")
    if not directions:
        raise ValueError("directions must name at least one indicator")
    for name, direction in directions.items():
        if direction not in DIRECTIONS:
            raise ValueError(f"direction of indicator {name!r} must be 'positive' or 'negative', got {direction!r}")
    missing = [name for name in directions if name not in data.columns]
    if missing:
        raise ValueError(f"data lacks indicator column(s): {', '.join(map(str, missing))}")
    if len(data) < 2:
        raise ValueError(f"the entropy method needs at least 2 rows, got {len(data)}")
    for name in directions:
        column = data[name]
        if not (pd.api.types.is_numeric_dtype(column) and not pd.api.types.is_bool_dtype(column)):
            raise ValueError(f"indicator column {name!r} is not numeric (dtype {column.dtype})")
        values = column.to_numpy(dtype=float)
        if np.isnan(values).any():
            raise ValueError(f"indicator column {name!r} has {int(np.isnan(values).sum())} missing value(s)")
        if np.isinf(values).any():
            raise ValueError(f"indicator column {name!r} has infinite value(s)")
        if values.min() == values.max():
            raise ValueError(
                f"indicator column {name!r} is constant ({values[0]!r}): its min-max normalisation is undefined"
            )
    return data[list(directions)].to_numpy(dtype=float)


def min_max_normalise(values: np.ndarray, directions: list[str]) -> np.ndarray:
    """Equations (5) and (6), column by column over all rows: each column maps onto [0, 1]."""
    low = values.min(axis=0)
    high = values.max(axis=0)
    span = high - low
    positive = (values - low) / span
    negative = (high - values) / span
    is_negative = np.array([direction == "negative" for direction in directions])
    return np.where(is_negative, negative, positive)


def entropy_index(
    data: pd.DataFrame,
    directions: Mapping[str, Direction],
    shift: float = 1e-4,
    scale: float = 10.0,
) -> EntropyResult:
    """Entropy weights of the indicators in ``directions`` and the composite score of each row.

    ``directions`` maps each indicator column of ``data`` to ``"positive"`` (larger is better,
    eq. 5) or ``"negative"`` (eq. 6); other columns of ``data`` are ignored. Steps, pooled
    over all rows: z = min-max normalised value; z' = z + shift; p_ij = z'_ij / sum_i z'_ij;
    e_j = -(1 / ln n) sum_i p_ij ln p_ij; d_j = 1 - e_j; w_j = d_j / sum_j d_j;
    score_i = scale * sum_j w_j z_ij.
    """
    if not (np.isfinite(shift) and shift > 0):
        raise ValueError(f"shift must be a positive number, got {shift!r}")
    if not (np.isfinite(scale) and scale > 0):
        raise ValueError(f"scale must be a positive number, got {scale!r}")
    values = _validated_indicators(data, directions)
    indicators = list(directions)
    n = values.shape[0]

    normalised = min_max_normalise(values, [directions[name] for name in indicators])
    shifted = normalised + shift
    proportions = shifted / shifted.sum(axis=0)
    entropy = -(proportions * np.log(proportions)).sum(axis=0) / np.log(n)
    redundancy = 1.0 - entropy
    weights = redundancy / redundancy.sum()
    scores = scale * normalised @ weights

    return EntropyResult(
        weights=pd.Series(weights, index=indicators, name="weight"),
        entropy=pd.Series(entropy, index=indicators, name="entropy"),
        redundancy=pd.Series(redundancy, index=indicators, name="redundancy"),
        scores=pd.Series(scores, index=data.index.copy(), name="score"),
        directions=MappingProxyType(dict(directions)),
        n=n,
    )
