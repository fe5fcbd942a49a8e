"""fit_iv on simulated panels with a planted coefficient, plus its input contract.

The data mimic paper Table 6: firms nested in provinces, year and province effects absorbed,
firm-clustered errors, one endogenous regressor whose error is correlated with the outcome's.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pytest

from analysis.fixed_effects import fit_ols
from analysis.iv import fit_iv

pytestmark = pytest.mark.slow  # Monte-Carlo checks against planted truths: minutes, not seconds

TRUE_BETA = 1.5
ESTIMATE_SIGMAS = 4.0
"""The 2SLS estimate lies within 4 of its standard errors of the planted beta (false alarm
~6e-5 for one fixed seed)."""
OLS_BIAS_SIGMAS = 10.0
"""The endogeneity is strong enough that OLS misses beta by more than 10 standard errors, so
recovering beta is evidence that the instruments are used."""
STRONG_F_FLOOR = 100.0
"""Strong design: first-stage coefficient 0.8 with 2,400 observations gives F in the hundreds."""
WEAK_F_CEILING = 10.0
"""Weak design (coefficient 0.02): the Staiger-Stock rule-of-thumb threshold must flag it."""
SAME_MODEL_RTOL = 1e-8
"""Absorbing fixed effects vs. including their dummies: same model, only the 1e-12 demeaning
tolerance and summation order differ."""


def simulate_panel(rng: np.random.Generator, first_stage_strength: float, n_firms: int = 300, n_years: int = 8) -> pd.DataFrame:
    firm = np.repeat(np.arange(n_firms), n_years)
    year = np.tile(np.arange(2015, 2015 + n_years), n_firms)
    province = rng.integers(0, 10, n_firms)[firm]
    n = firm.size
    year_effect = rng.normal(size=n_years)[year - 2015]
    province_effect = rng.normal(size=10)[province]
    firm_shock = rng.normal(size=n_firms)[firm]
    u = 0.7 * firm_shock + rng.normal(size=n)
    v = 0.8 * u + rng.normal(size=n)
    z1 = rng.normal(size=n) + 0.5 * rng.normal(size=n_firms)[firm]
    z2 = rng.normal(size=n)
    c1, c2 = rng.normal(size=n), rng.normal(size=n)
    x = first_stage_strength * (z1 + 0.5 * z2) + 0.3 * c1 + year_effect + province_effect + v
    y = TRUE_BETA * x + 0.5 * c1 - 0.3 * c2 + year_effect + 2.0 * province_effect + u
    return pd.DataFrame(
        {"y": y, "x": x, "z1": z1, "z2": z2, "c1": c1, "c2": c2, "firm": firm, "year": year, "province": province}
    )


@pytest.fixture(scope="module")
def strong_panel() -> pd.DataFrame:
    return simulate_panel(np.random.default_rng(20250101), first_stage_strength=0.8)


def fit_table6_style(data: pd.DataFrame, **kwargs):
    return fit_iv(data, "y", "x", ["z1", "z2"], ["c1", "c2"], fixed_effects=["year", "province"], cluster="firm", **kwargs)


def test_strong_instruments_recover_planted_beta(strong_panel):
    result = fit_table6_style(strong_panel)
    assert abs(result.params["x"] - TRUE_BETA) < ESTIMATE_SIGMAS * result.std_errors["x"]
    ols = fit_ols(strong_panel, "y", ["x", "c1", "c2"], fixed_effects=["year", "province"], cluster="firm")
    assert abs(ols.params["x"] - TRUE_BETA) > OLS_BIAS_SIGMAS * ols.std_errors["x"]
    assert result.diagnostics["first_stage_f[x]"] > STRONG_F_FLOOR
    assert result.diagnostics["kleibergen_paap_f"] > STRONG_F_FLOOR
    assert result.diagnostics["underid_lm_p"] < 1e-6
    # Planted controls are recovered too: c1 0.5, c2 -0.3.
    assert abs(result.params["c1"] - 0.5) < ESTIMATE_SIGMAS * result.std_errors["c1"]
    assert abs(result.params["c2"] + 0.3) < ESTIMATE_SIGMAS * result.std_errors["c2"]
    first_stage = result.first_stage["x"]
    assert list(first_stage.params.index) == ["z1", "z2", "c1", "c2"]
    assert abs(first_stage.params["z1"] - 0.8) < ESTIMATE_SIGMAS * first_stage.std_errors["z1"]


def test_weak_instruments_give_small_first_stage_f():
    weak = simulate_panel(np.random.default_rng(7), first_stage_strength=0.02)
    diagnostics = fit_table6_style(weak).diagnostics
    assert diagnostics["first_stage_f[x]"] < WEAK_F_CEILING
    assert diagnostics["kleibergen_paap_f"] < WEAK_F_CEILING
    assert diagnostics["cragg_donald_f"] < WEAK_F_CEILING


@pytest.mark.parametrize("small", [True, False])
def test_absorbed_fixed_effects_equal_explicit_dummies(strong_panel, small):
    # ivreg2's partial() is numerically the regression with the dummies included: the absorbed
    # levels (8 years + 10 provinces - 1 shared constant) are charged to the small-sample
    # degrees of freedom exactly as the dummy columns would be.
    dummies = pd.get_dummies(strong_panel[["year", "province"]].astype(str), drop_first=True, dtype=float)
    with_dummies = pd.concat([strong_panel, dummies], axis=1)
    explicit = fit_iv(
        with_dummies, "y", "x", ["z1", "z2"], ["c1", "c2", *dummies.columns], cluster="firm", small=small
    )
    absorbed = fit_table6_style(strong_panel, small=small)
    assert absorbed.diagnostics["absorbed_dof"] == 17
    terms = ["x", "c1", "c2"]
    np.testing.assert_allclose(absorbed.params[terms], explicit.params[terms], rtol=SAME_MODEL_RTOL)
    np.testing.assert_allclose(absorbed.std_errors[terms], explicit.std_errors[terms], rtol=SAME_MODEL_RTOL)
    # The Stock-Wright S statistic is the exception: its robust S matrix weights the
    # instruments by the squared restricted residuals, so projecting the dummies out first
    # (ivreg2's partial(), every statistic then computed on the partialled variables) is
    # not the same as keeping them among the instruments.
    for name, value in explicit.diagnostics.items():
        if name not in ("absorbed_dof", "stock_wright_s", "stock_wright_s_p"):
            assert absorbed.diagnostics[name] == pytest.approx(value, rel=SAME_MODEL_RTOL, nan_ok=True), name
    assert absorbed.stats["r2"] == pytest.approx(explicit.stats["r2"], rel=SAME_MODEL_RTOL)
    assert absorbed.stats["df_resid"] == explicit.stats["df_resid"] == 299


def test_one_endogenous_regressor_collapses_weak_id_statistics(strong_panel):
    # With K1 = 1 the rk Wald F, the Sanderson-Windmeijer F and the first-stage F are the same
    # test (ivreg2 prints equal numbers); here they come from three different code paths.
    diagnostics = fit_table6_style(strong_panel).diagnostics
    assert diagnostics["kleibergen_paap_f"] == pytest.approx(diagnostics["first_stage_f[x]"], rel=1e-10)
    assert diagnostics["sanderson_windmeijer_f[x]"] == pytest.approx(diagnostics["first_stage_f[x]"], rel=1e-10)


def test_rows_with_missing_values_are_dropped_listwise(strong_panel):
    data = strong_panel.copy()
    data.loc[:9, "z2"] = np.nan  # all eight rows of firm 0 and two of firm 1
    data.loc[20:24, "y"] = np.nan
    result = fit_table6_style(data)
    assert result.nobs == len(data) - 15
    assert result.stats["n_clusters"] == 299


def test_input_is_not_mutated_and_result_is_frozen(strong_panel):
    before = strong_panel.copy()
    result = fit_table6_style(strong_panel)
    pd.testing.assert_frame_equal(strong_panel, before)
    with pytest.raises(dataclasses.FrozenInstanceError):
        result.second_stage = result.first_stage["x"]
    with pytest.raises(TypeError):
        result.diagnostics["cragg_donald_f"] = 0.0
    assert list(result.tidy().columns) == ["term", "estimate", "std_error", "statistic", "p_value"]


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"instruments": ["z1", "missing_column"]}, "missing_column"),
        ({"instruments": ["z1", "c1"]}, "'c1' is given both"),
        ({"endog": ["x", "c1"], "exog": ["c2"], "instruments": ["z1"]}, "order condition"),
        ({"instruments": ["z1", "firm_name"]}, "'firm_name' is not numeric"),
        ({"instruments": ["z1", "z_inf"]}, "'z_inf' has infinite"),
        ({"instruments": ["z1", "z1_copy"]}, "collinear"),
        ({"cluster": None, "vce": "cluster"}, "needs the name of a cluster column"),
        ({"vce": "hc3"}, "vce must be one of"),
    ],
)
def test_invalid_inputs_raise_naming_the_problem(strong_panel, kwargs, message):
    data = strong_panel.assign(firm_name="f" + strong_panel["firm"].astype(str), z1_copy=2 * strong_panel["z1"])
    data["z_inf"] = data["z2"].where(data.index != 3, np.inf)
    arguments = {
        "data": data,
        "depvar": "y",
        "endog": "x",
        "instruments": ["z1", "z2"],
        "exog": ["c1", "c2"],
        "fixed_effects": ["year", "province"],
        "cluster": "firm",
        **kwargs,
    }
    with pytest.raises(ValueError, match=message):
        fit_iv(**arguments)
