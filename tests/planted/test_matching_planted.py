"""Propensity score matching on simulated data with a planted treatment effect, against a
brute-force greedy matcher, and its input checks.

The simulated data have selection on observables only: the treatment probability is a
logistic function of the covariates and the outcome depends on the covariates and a constant
treatment effect, so the ATT equals the planted effect and matching on the true model's score
removes the bias of the raw difference in means.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from analysis.matching import (
    MATCH_WEIGHT_COLUMN,
    average_treatment_effect_on_treated,
    balance_table,
    match_nearest_neighbour,
    plot_score_densities,
    propensity_scores,
    score_densities,
)

pytestmark = pytest.mark.slow  # Monte-Carlo checks against planted truths: minutes, not seconds

PLANTED_ATT = 2.0
PLANTED_Z_BOUND = 4.0
"""Estimates lie within 4 of their standard errors of the planted values (ATT, logit slopes)."""
MATCHED_BIAS_BOUND = 5.0
"""pstest's rule of thumb: |%bias| below 5 after matching means the covariate is balanced."""
COVARIATES = ["x1", "x2", "x3", "x4"]


def simulate(n: int, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 4))
    index = x @ np.array([0.6, -0.4, 0.3, 0.0]) - 0.3
    treated = (rng.random(n) < 1 / (1 + np.exp(-index))).astype(int)
    outcome = 1 + x @ np.array([1.5, -1.0, 0.5, 0.8]) + PLANTED_ATT * treated + rng.normal(size=n)
    return pd.DataFrame(x, columns=COVARIATES).assign(treat=treated, y=outcome)


@pytest.fixture(scope="module")
def simulated() -> pd.DataFrame:
    return simulate(6000, seed=11)


@pytest.fixture(scope="module")
def matched(simulated):
    return match_nearest_neighbour(simulated, "treat", COVARIATES, caliper=0.01, rng=np.random.default_rng(3))


def test_att_recovers_planted_effect(simulated, matched):
    means = simulated.groupby("treat")["y"].mean()
    raw_difference = means[1] - means[0]
    result = average_treatment_effect_on_treated(matched, "y")
    assert abs(raw_difference - PLANTED_ATT) > 1.0  # selection biases the raw comparison
    assert abs(result.params["ATT"] - PLANTED_ATT) < PLANTED_Z_BOUND * result.std_errors["ATT"]


def test_matching_balances_covariates(simulated, matched):
    table = balance_table(simulated, "treat", COVARIATES, matched)
    before = table[table["sample"] == "U"].set_index("variable")["pct_bias"]
    after = table[table["sample"] == "M"].set_index("variable")["pct_bias"]
    assert before[["x1", "x2", "x3"]].abs().min() > 10
    assert after.abs().max() < MATCHED_BIAS_BOUND


def test_match_structure_without_replacement(matched):
    pairs = matched.pairs
    weights = matched.weights
    assert pairs["control_index"].is_unique
    assert pairs["treated_index"].is_unique
    assert (pairs["distance"] < 0.01).all()
    assert set(pairs["treated_index"]) == set(weights.index[matched.treated & matched.on_support])
    assert (weights[pairs["control_index"]] == 1).all()
    assert weights.sum() == 2 * len(pairs)
    assert matched.stats["n_matched_sample"] == len(matched.matched_sample) == 2 * len(pairs)
    assert (matched.matched_sample[MATCH_WEIGHT_COLUMN] == 1).all()
    assert matched.stats["n_treated_off_support"] == int((matched.treated & ~matched.on_support).sum())


def brute_force_greedy(treated_scores, control_scores, order, ratio, caliper):
    """Independent O(n^2) reference: each treated unit in ``order`` (and round) takes the
    unused control minimising (distance, score, position); MatchIt's round structure."""
    used = np.zeros(len(control_scores), dtype=bool)
    matches = []
    eligible = list(order)
    for match_round in range(1, ratio + 1):
        matched_now = []
        for treated in eligible:
            candidates = np.flatnonzero(~used)
            if len(candidates) == 0:
                continue
            distance = np.abs(control_scores[candidates] - treated_scores[treated])
            best = candidates[np.lexsort((candidates, control_scores[candidates], distance))[0]]
            if abs(control_scores[best] - treated_scores[treated]) < caliper:
                used[best] = True
                matches.append((treated, best, match_round))
                matched_now.append(treated)
        if match_round == 1:
            eligible = matched_now
    return sorted(matches)


@pytest.mark.parametrize("order", ["data", "largest", "smallest", "random"])
@pytest.mark.parametrize("ratio", [1, 2])
def test_greedy_matches_brute_force_with_ties(order, ratio):
    rng = np.random.default_rng(21)
    n = 400
    # Scores on a coarse grid create many exact ties in score and in distance.
    scores = np.round(rng.uniform(0.2, 0.8, size=n), 2)
    treated = rng.random(n) < 0.35
    data = pd.DataFrame({"treat": treated.astype(int), "score": scores}, index=rng.permutation(n) + 1000)
    result = match_nearest_neighbour(
        data, "treat", score="score", caliper=0.03, ratio=ratio, rng=np.random.default_rng(8), order=order
    )

    treated_scores, control_scores = scores[treated], scores[~treated]
    positions = np.arange(treated.sum())
    expected_order = {
        "data": positions,
        "largest": np.lexsort((positions, -treated_scores)),
        "smallest": np.lexsort((positions, treated_scores)),
        # Documented: the "random" order is rng.permutation of the treated units.
        "random": np.random.default_rng(8).permutation(positions),
    }[order]
    expected = brute_force_greedy(treated_scores, control_scores, expected_order, ratio, 0.03)
    treated_labels, control_labels = data.index[treated], data.index[~treated]
    expected_pairs = sorted((treated_labels[t], control_labels[c], r) for t, c, r in expected)
    columns = ["treated_index", "control_index", "match_number"]
    actual_pairs = sorted(result.pairs[columns].itertuples(index=False, name=None))
    assert actual_pairs == expected_pairs
    assert len(actual_pairs) > 50


def test_with_replacement_weights_are_psmatch2s():
    data = simulate(800, seed=5)
    result = match_nearest_neighbour(
        data, "treat", COVARIATES, caliper=0.05, replace=True, ratio=3, rng=np.random.default_rng(0)
    )
    pairs = result.pairs
    per_treated = pairs.groupby("treated_index").size()
    assert per_treated.max() <= 3
    # psmatch2: a control's _weight is the sum of 1/(number of matches) over the units it serves.
    share = 1 / per_treated.loc[pairs["treated_index"]].to_numpy()
    expected = pd.Series(share).groupby(pairs["control_index"].to_numpy()).sum()
    np.testing.assert_allclose(result.weights.loc[expected.index], expected.to_numpy(), rtol=1e-12)
    assert result.weights[~result.treated].sum() == pytest.approx(per_treated.size)
    assert pairs.duplicated(["treated_index", "control_index"]).sum() == 0


def test_reproducible_from_seed(simulated):
    first = match_nearest_neighbour(simulated, "treat", COVARIATES, rng=np.random.default_rng(42))
    second = match_nearest_neighbour(simulated, "treat", COVARIATES, rng=np.random.default_rng(42))
    pd.testing.assert_frame_equal(first.pairs, second.pairs)


def test_input_is_not_mutated(simulated):
    before = simulated.copy()
    result = match_nearest_neighbour(simulated, "treat", COVARIATES, rng=np.random.default_rng(1))
    balance_table(simulated, "treat", COVARIATES, result)
    average_treatment_effect_on_treated(result, "y")
    pd.testing.assert_frame_equal(simulated, before)


def test_propensity_model_table(simulated):
    result = propensity_scores(simulated, "treat", COVARIATES)
    assert list(result.tidy()["term"]) == [*COVARIATES, "const"]
    assert result.model.stat_kind == "z"
    planted = pd.Series([0.6, -0.4, 0.3, 0.0, -0.3], index=[*COVARIATES, "const"])
    assert ((result.params - planted).abs() < PLANTED_Z_BOUND * result.std_errors).all()
    assert 0 < result.stats["pseudo_r2"] < 1
    assert result.nobs == len(simulated)


def test_rows_with_missing_values_are_dropped():
    data = simulate(500, seed=2)
    data.loc[[3, 7], "x2"] = np.nan
    result = match_nearest_neighbour(data, "treat", COVARIATES, rng=np.random.default_rng(0))
    assert result.nobs == 498
    assert {3, 7}.isdisjoint(result.weights.index)


def test_score_densities_and_plot(matched, tmp_path):
    densities = score_densities(matched, grid_points=64)
    assert len(densities) == 4 * 64
    for _, curve in densities.groupby(["sample", "group"]):
        area = np.trapezoid(curve["density"], curve["score"])
        assert 0.9 < area <= 1.0 + 1e-9  # kernel mass beyond the observed range is cut off
    path = plot_score_densities(matched, tmp_path / "figure1.png")
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_large_sample_without_replacement_matches():
    # Its time is measured by bench/estimator_bench.py (table07), not here.
    data = simulate(24_000, seed=9)
    result = match_nearest_neighbour(data, "treat", COVARIATES, rng=np.random.default_rng(0))
    assert result.stats["n_pairs"] > 5000


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"covariates": COVARIATES, "score": "x1"}, "exactly one"),
        ({"covariates": COVARIATES, "caliper": 0}, "caliper"),
        ({"covariates": COVARIATES, "ratio": 0}, "ratio"),
        ({"covariates": COVARIATES, "order": "closest"}, "order"),
        ({"covariates": ["x1", "nope"]}, "nope"),
        ({"covariates": ["x1", "x1"]}, "distinct"),
    ],
)
def test_invalid_arguments_are_named(simulated, kwargs, message):
    with pytest.raises(ValueError, match=message):
        match_nearest_neighbour(simulated, "treat", rng=np.random.default_rng(0), **kwargs)


def test_treatment_must_be_binary(simulated):
    with pytest.raises(ValueError, match="treatment column 'x1'"):
        match_nearest_neighbour(simulated, "x1", ["x2"], rng=np.random.default_rng(0))


def test_index_must_be_unique(simulated):
    with pytest.raises(ValueError, match="unique index"):
        match_nearest_neighbour(simulated.iloc[[0, 1, 2, 3] * 50], "treat", COVARIATES, rng=np.random.default_rng(0))


def test_balance_table_refuses_other_data(simulated, matched):
    flipped = simulated.assign(treat=1 - simulated["treat"])
    with pytest.raises(ValueError, match="does not agree"):
        balance_table(flipped, "treat", COVARIATES, matched)
