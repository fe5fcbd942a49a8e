"""The entropy weight method on a hand-worked example, its invariances and its input checks."""

from __future__ import annotations

import math
from fractions import Fraction

import numpy as np
import pandas as pd
import pytest

from analysis.entropy import entropy_index

HAND_EXAMPLE_TOL = 1e-12
"""The hand computation and the implementation differ only by float rounding (~1e-16)."""
INVARIANCE_RTOL = 1e-12
"""Affine transforms change the normalised values only by float rounding."""
PRINTED_DECIMALS_TOL = 1e-9
"""The values written in the comments below are truncated to 9 decimals."""

# Hand example: 4 firm-years x 3 indicators, default shift 1e-4 and scale 10.
#   a (positive): 0, 1, 2, 4   -> z = (x - 0) / 4   = 0, 1/4, 1/2, 1
#   b (negative): 10, 30, 20, 50 -> z = (50 - x) / 40 = 1, 1/2, 3/4, 0
#   c (positive): 3, 3, 5, 7   -> z = (x - 3) / 4   = 0, 0, 1/2, 1
HAND_DATA = pd.DataFrame({"a": [0.0, 1.0, 2.0, 4.0], "b": [10.0, 30.0, 20.0, 50.0], "c": [3.0, 3.0, 5.0, 7.0]})
HAND_DIRECTIONS = {"a": "positive", "b": "negative", "c": "positive"}
HAND_NORMALISED = {
    "a": [Fraction(0), Fraction(1, 4), Fraction(1, 2), Fraction(1)],
    "b": [Fraction(1), Fraction(1, 2), Fraction(3, 4), Fraction(0)],
    "c": [Fraction(0), Fraction(0), Fraction(1, 2), Fraction(1)],
}
# z' = z + 1/10000, so in units of 1/10000: a: 1, 2501, 5001, 10001 (sum 17504);
# b: 10001, 5001, 7501, 1 (sum 22504); c: 1, 1, 5001, 10001 (sum 15004). p_ij = z'_ij / sum_i z'_ij:
HAND_PROPORTIONS = {
    "a": [Fraction(v, 17504) for v in (1, 2501, 5001, 10001)],
    "b": [Fraction(v, 22504) for v in (10001, 5001, 7501, 1)],
    "c": [Fraction(v, 15004) for v in (1, 1, 5001, 10001)],
}
# e_j = -(1/ln 4) sum_i p_ij ln p_ij  ->  e_a = 0.689832927..., e_b = 0.765573211..., e_c = 0.460118592...
# d_j = 1 - e_j; w_j = d_j / sum d  ->  w_a = 0.286006589..., w_b = 0.216166098..., w_c = 0.497827311...
# score_i = 10 sum_j w_j z_ij -> 2.161660989..., 1.795846968..., 5.540415247..., 7.838339010...


def _hand_entropy(proportions: list[Fraction]) -> float:
    return -math.fsum(float(p) * math.log(float(p)) for p in proportions) / math.log(len(proportions))


def test_hand_example_entropies_weights_and_scores():
    result = entropy_index(HAND_DATA, HAND_DIRECTIONS)
    entropy = {name: _hand_entropy(HAND_PROPORTIONS[name]) for name in HAND_DIRECTIONS}
    redundancy = {name: 1 - value for name, value in entropy.items()}
    weights = {name: value / math.fsum(redundancy.values()) for name, value in redundancy.items()}
    scores = [10 * math.fsum(weights[name] * float(HAND_NORMALISED[name][i]) for name in weights) for i in range(4)]

    for name in HAND_DIRECTIONS:
        assert abs(result.entropy[name] - entropy[name]) < HAND_EXAMPLE_TOL
        assert abs(result.redundancy[name] - redundancy[name]) < HAND_EXAMPLE_TOL
        assert abs(result.weights[name] - weights[name]) < HAND_EXAMPLE_TOL
    # The printed values in the comment above, as a check on the hand computation itself.
    assert abs(entropy["a"] - 0.689832927) < PRINTED_DECIMALS_TOL
    assert abs(weights["c"] - 0.497827311) < PRINTED_DECIMALS_TOL
    np.testing.assert_allclose(result.scores.to_numpy(), scores, rtol=0, atol=HAND_EXAMPLE_TOL)
    assert abs(result.weights.sum() - 1) < HAND_EXAMPLE_TOL
    assert result.n == 4
    assert list(result.scores.index) == list(HAND_DATA.index)


def test_tidy_lists_indicators_in_order():
    tidy = entropy_index(HAND_DATA, HAND_DIRECTIONS).tidy()
    assert list(tidy.columns) == ["indicator", "direction", "entropy", "redundancy", "weight"]
    assert list(tidy["indicator"]) == ["a", "b", "c"]
    assert list(tidy["direction"]) == ["positive", "negative", "positive"]


def test_scores_keep_the_input_index_and_ignore_other_columns():
    data = HAND_DATA.set_index(pd.Index([10, 20, 30, 40])).assign(label=["w", "x", "y", "z"])
    result = entropy_index(data, HAND_DIRECTIONS)
    assert list(result.scores.index) == [10, 20, 30, 40]
    np.testing.assert_allclose(result.scores.to_numpy(), entropy_index(HAND_DATA, HAND_DIRECTIONS).scores.to_numpy())


def test_weights_invariant_to_positive_affine_transforms():
    rng = np.random.default_rng(11)
    data = pd.DataFrame(rng.lognormal(size=(50, 3)), columns=["x", "y", "z"])
    directions = {"x": "positive", "y": "negative", "z": "positive"}
    base = entropy_index(data, directions)
    transformed = data.assign(x=3.5 * data["x"] + 100.0, y=0.01 * data["y"] - 7.0)
    moved = entropy_index(transformed, directions)
    np.testing.assert_allclose(moved.weights.to_numpy(), base.weights.to_numpy(), rtol=INVARIANCE_RTOL)
    np.testing.assert_allclose(moved.scores.to_numpy(), base.scores.to_numpy(), rtol=INVARIANCE_RTOL)


def test_direction_flip_is_the_reversed_normalisation():
    rng = np.random.default_rng(12)
    data = pd.DataFrame(rng.normal(size=(40, 2)), columns=["x", "y"])
    # A negative indicator x normalises to (max - x) / (max - min), exactly the positive
    # normalisation of -x; so the two specifications give the same weights and scores.
    negative = entropy_index(data, {"x": "negative", "y": "positive"})
    mirrored = entropy_index(data.assign(x=-data["x"]), {"x": "positive", "y": "positive"})
    np.testing.assert_allclose(negative.weights.to_numpy(), mirrored.weights.to_numpy(), rtol=INVARIANCE_RTOL)
    np.testing.assert_allclose(negative.scores.to_numpy(), mirrored.scores.to_numpy(), rtol=INVARIANCE_RTOL)
    # With a single indicator (weight 1) the score is scale * z, so the flip maps z to 1 - z.
    positive_only = entropy_index(data, {"x": "positive"}, scale=1.0).scores
    negative_only = entropy_index(data, {"x": "negative"}, scale=1.0).scores
    np.testing.assert_allclose(negative_only.to_numpy(), 1 - positive_only.to_numpy(), rtol=0, atol=HAND_EXAMPLE_TOL)


def test_input_is_not_mutated():
    data = HAND_DATA.copy()
    entropy_index(data, HAND_DIRECTIONS)
    pd.testing.assert_frame_equal(data, HAND_DATA)


@pytest.mark.parametrize(
    ("data", "directions", "message"),
    [
        (HAND_DATA, {"a": "positive", "zz": "positive"}, "lacks indicator column.*zz"),
        (HAND_DATA.assign(a=[0.0, np.nan, 1.0, 2.0]), HAND_DIRECTIONS, "'a' has 1 missing"),
        (HAND_DATA.assign(b=[0.0, np.inf, 1.0, 2.0]), HAND_DIRECTIONS, "'b' has infinite"),
        (HAND_DATA.assign(c=5.0), HAND_DIRECTIONS, "'c' is constant"),
        (HAND_DATA.assign(a=list("wxyz")), HAND_DIRECTIONS, "'a' is not numeric"),
        (HAND_DATA.head(1), HAND_DIRECTIONS, "at least 2 rows"),
        (HAND_DATA, {"a": "up"}, "direction of indicator 'a'"),
        (HAND_DATA, {}, "at least one indicator"),
    ],
)
def test_invalid_inputs_are_rejected(data, directions, message):
    with pytest.raises(ValueError, match=message):
        entropy_index(data, directions)
