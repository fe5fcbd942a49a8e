"""describe() against a hand example and against numpy/pandas."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from analysis.descriptives import describe

EXACT_TOL = 1e-12
"""Hand values are exact up to float rounding."""


def test_hand_example_even_and_odd_counts_and_missing_values():
    data = pd.DataFrame({"even": [7.0, 1.0, 4.0, 2.0], "odd": [3.0, np.nan, 1.0, 2.0]})
    table = describe(data, ["even", "odd"])
    assert list(table.columns) == ["n", "mean", "sd", "min", "p50", "max"]
    assert list(table.index) == ["even", "odd"]
    # even: 1, 2, 4, 7 -> mean 3.5; deviations -2.5, -1.5, 0.5, 3.5 -> sum of squares 21,
    # sd = sqrt(21 / 3) = sqrt(7); median = (2 + 4) / 2 = 3 (Stata's p50 for even N).
    even = table.loc["even"]
    assert even["n"] == 4
    assert abs(even["mean"] - 3.5) < EXACT_TOL
    assert abs(even["sd"] - math.sqrt(7)) < EXACT_TOL
    assert (even["min"], even["p50"], even["max"]) == (1.0, 3.0, 7.0)
    # odd: the missing value is left out -> 1, 2, 3: mean 2, sd 1, median 2.
    odd = table.loc["odd"]
    assert odd["n"] == 3
    assert (odd["mean"], odd["sd"], odd["min"], odd["p50"], odd["max"]) == (2.0, 1.0, 1.0, 2.0, 3.0)
    assert table["n"].dtype == np.int64


def test_matches_numpy_and_pandas_on_random_data():
    rng = np.random.default_rng(3)
    data = pd.DataFrame({"x": rng.normal(size=1001), "y": rng.lognormal(size=1001)})
    data.loc[::7, "y"] = np.nan
    table = describe(data, ["x", "y"])
    for name in ("x", "y"):
        values = data[name].dropna()
        expected = [len(values), values.mean(), values.std(ddof=1), values.min(), values.median(), values.max()]
        np.testing.assert_allclose(table.loc[name].to_numpy(dtype=float), expected, rtol=EXACT_TOL)
        assert table.loc[name, "p50"] == np.median(values.to_numpy())


def test_booleans_count_as_zero_one_and_empty_variables_give_nan():
    data = pd.DataFrame({"flag": [True, False, True], "empty": [np.nan, np.nan, np.nan]})
    table = describe(data, ["flag", "empty"])
    assert table.loc["flag", "mean"] == pytest.approx(2 / 3, abs=EXACT_TOL)
    assert table.loc["empty", "n"] == 0 and np.isnan(table.loc["empty", "mean"])


def test_input_is_not_mutated_and_bad_input_is_rejected():
    data = pd.DataFrame({"x": [1.0, 2.0], "s": ["a", "b"], "inf": [1.0, np.inf]})
    snapshot = data.copy()
    describe(data, ["x"])
    pd.testing.assert_frame_equal(data, snapshot)
    with pytest.raises(ValueError, match="lacks column.*nope"):
        describe(data, ["nope"])
    with pytest.raises(ValueError, match="'s' is not numeric"):
        describe(data, ["s"])
    with pytest.raises(ValueError, match="'inf' has infinite"):
        describe(data, ["inf"])
    with pytest.raises(ValueError, match="more than once"):
        describe(data, ["x", "x"])
