"""The new quality productivity index (Npro) of Table 1: which indicators, in which direction."""

from __future__ import annotations

import pandas as pd

from analysis.entropy import EntropyResult, entropy_index
from analysis.published import table1_weights

# All eleven indicators enter positively, as in the indicator systems of Song et al. (2024)
# and Wang & Wang (2024) that the paper follows; Table 1 states no reverse indicator.
NPRO_DIRECTIONS: dict[str, str] = {indicator: "positive" for indicator in table1_weights()}

NPRO_SCALE = 10.0
"""Npro = 10 x (weighted sum of min-max normalised indicators), so that its magnitude is
comparable with Table 3 (mean 2.47, range 0.72-7.10); the unscaled index lies in [0, 1]."""


def build_npro(firm_years: pd.DataFrame) -> EntropyResult:
    """Entropy weights and Npro scores for a firm-year frame holding the eleven indicators."""
    return entropy_index(firm_years, NPRO_DIRECTIONS, scale=NPRO_SCALE)
