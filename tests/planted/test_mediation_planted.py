"""fit_mediation on a simulated firm panel with planted paths, plus its input contract.

Paper Table 8 layout: treatment -> mediator -> outcome with controls, year and province
fixed effects absorbed, firm-clustered errors and a firm-cluster bootstrap.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pytest

from analysis.mediation import _confidence_intervals, fit_mediation

pytestmark = pytest.mark.slow  # Monte-Carlo checks against planted truths: minutes, not seconds

TRUE_A, TRUE_B, TRUE_DIRECT = 0.5, 0.4, 0.3
N_BOOT = 499
ESTIMATE_SIGMAS = 4.0
"""Estimates within 4 of their (clustered) standard errors of the planted values (false alarm
~6e-5 per check for one fixed seed)."""
BOOTSTRAP_SE_RATIO_BOUNDS = (0.75, 1.33)
"""The sd of 499 cluster-bootstrap draws of a*b estimates its sampling sd with ~3% noise; the
Sobel SE (delta method, clustered) agrees with it to first order, so their ratio lies well
inside 1 -+ 25%."""
SAME_DRAWS_RTOL = 1e-10
"""Same seed, same resampling counts: a different number of draws only changes the shape of
the BLAS products and so their summation order (measured differences ~1e-14)."""
IDENTITY_RTOL = 1e-9
"""total = direct + a*b holds exactly for least squares on one sample with the same controls."""


@pytest.fixture(scope="module")
def panel() -> pd.DataFrame:
    rng = np.random.default_rng(2025)
    n_firms, n_years = 250, 8
    firm = np.repeat(np.arange(n_firms), n_years)
    year = np.tile(np.arange(2015, 2015 + n_years), n_firms)
    province = rng.integers(0, 12, n_firms)[firm]
    n = firm.size
    control = rng.normal(size=n)
    treatment = rng.normal(size=n) + 0.6 * rng.normal(size=n_firms)[firm] + 0.3 * control
    mediator = (
        TRUE_A * treatment + 0.2 * control + 0.1 * (year - 2015) + 0.3 * province
        + 0.5 * rng.normal(size=n_firms)[firm] + rng.normal(size=n)
    )
    outcome = (
        TRUE_B * mediator + TRUE_DIRECT * treatment - 0.2 * control + 0.05 * (year - 2015) - 0.1 * province
        + 0.7 * rng.normal(size=n_firms)[firm] + rng.normal(size=n)
    )
    return pd.DataFrame(
        {
            "outcome": outcome, "mediator": mediator, "treatment": treatment, "control": control,
            "firm": firm, "year": year, "province": province,
        }
    )


def fit_table8_style(data: pd.DataFrame, **kwargs):
    arguments = {"fixed_effects": ["year", "province"], "cluster": "firm", "n_boot": N_BOOT, "rng": np.random.default_rng(3)}
    return fit_mediation(data, "outcome", "treatment", "mediator", ["control"], **{**arguments, **kwargs})


@pytest.fixture(scope="module")
def result(panel):
    return fit_table8_style(panel)


def test_paths_recover_planted_values(result):
    params, std_errors = result.params, result.std_errors
    assert abs(params["a"] - TRUE_A) < ESTIMATE_SIGMAS * std_errors["a"]
    assert abs(params["b"] - TRUE_B) < ESTIMATE_SIGMAS * std_errors["b"]
    assert abs(params["direct"] - TRUE_DIRECT) < ESTIMATE_SIGMAS * std_errors["direct"]
    assert abs(params["indirect"] - TRUE_A * TRUE_B) < ESTIMATE_SIGMAS * std_errors["indirect"]
    assert params["total"] == pytest.approx(params["direct"] + params["indirect"], rel=IDENTITY_RTOL)
    assert result.stats["sobel_z"] > 10
    assert result.path_a.info["vce"] == "cluster"


def test_bootstrap_intervals_cover_the_planted_indirect_effect(result):
    stats = result.stats
    true_indirect = TRUE_A * TRUE_B
    assert stats["ci_percentile_low"] < true_indirect < stats["ci_percentile_high"]
    assert stats["ci_bias_corrected_low"] < true_indirect < stats["ci_bias_corrected_high"]
    assert stats["ci_percentile_low"] < result.params["indirect"] < stats["ci_percentile_high"]
    ratio = result.bootstrap_draws.std(ddof=1) / stats["sobel_se"]
    assert BOOTSTRAP_SE_RATIO_BOUNDS[0] < ratio < BOOTSTRAP_SE_RATIO_BOUNDS[1]
    assert result.bootstrap_draws.shape == (N_BOOT,)
    assert stats["n_resampling_units"] == 250
    assert result.info["resampling_unit"] == "cluster (firm)"


def test_bias_corrected_interval_shifts_with_the_median_bias():
    # Draws whose median lies above the estimate: z0 < 0, so the bias-corrected interval
    # moves down relative to the percentile interval (Efron's BC, as Stata computes it).
    draws = np.random.default_rng(0).normal(loc=1.2, scale=1.0, size=20_000)
    intervals = _confidence_intervals(draws, estimate=1.0, level=0.9)
    assert intervals["ci_bias_corrected_low"] < intervals["ci_percentile_low"]
    assert intervals["ci_bias_corrected_high"] < intervals["ci_percentile_high"]
    # Normal draws: z0 = Phi^-1(P(N(1.2,1) <= 1)) = -0.2, so the BC bounds are the
    # Phi(2 z0 -+ 1.645) quantiles, i.e. 1.2 - 0.4 -+ 1.645 in expectation.
    assert intervals["ci_bias_corrected_low"] == pytest.approx(0.8 - 1.645, abs=0.05)
    assert intervals["ci_bias_corrected_high"] == pytest.approx(0.8 + 1.645, abs=0.05)


def test_same_seed_same_draws_and_different_seed_different_draws(panel, result):
    again = fit_table8_style(panel, n_boot=50, rng=np.random.default_rng(3))
    np.testing.assert_allclose(again.bootstrap_draws, result.bootstrap_draws[:50], rtol=SAME_DRAWS_RTOL)
    other = fit_table8_style(panel, n_boot=50, rng=np.random.default_rng(4))
    assert not np.allclose(other.bootstrap_draws, again.bootstrap_draws, rtol=1e-3)


def test_without_bootstrap_intervals_are_missing_and_no_rng_is_needed(panel):
    no_draws = fit_table8_style(panel, n_boot=0, rng=None)
    assert no_draws.bootstrap_draws.size == 0
    assert np.isnan(no_draws.stats["ci_percentile_low"])
    assert np.isnan(no_draws.stats["ci_bias_corrected_high"])


def test_tidy_layout_and_immutability(panel, result):
    tidy = result.tidy()
    assert list(tidy.columns) == ["term", "estimate", "std_error", "statistic", "p_value"]
    assert list(tidy["term"]) == ["a", "b", "direct", "total", "indirect_sobel", "indirect_aroian", "indirect_goodman"]
    assert tidy.loc[tidy["term"] == "indirect_sobel", "statistic"].item() == result.stats["sobel_z"]
    with pytest.raises(dataclasses.FrozenInstanceError):
        result.treatment = "other"
    with pytest.raises(ValueError):
        result.bootstrap_draws[0] = 0.0
    with pytest.raises(TypeError):
        result.stats["sobel_z"] = 0.0


def test_input_is_not_mutated(panel):
    before = panel.copy()
    fit_table8_style(panel, n_boot=20)
    pd.testing.assert_frame_equal(panel, before)


def test_high_dimensional_fixed_effects_across_resampling_units_are_refused(panel):
    # Resampling observations with firm effects would need 500 + 8 dummy columns per draw.
    doubled = pd.concat([panel, panel.assign(firm=panel["firm"] + 250)], ignore_index=True)
    with pytest.raises(ValueError, match="not nested in the resampling units"):
        fit_table8_style(doubled, fixed_effects=["firm", "year"], cluster_bootstrap=False, n_boot=10)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"mediator": "treatment"}, "more than one role"),
        ({"controls": ["control", "missing_column"]}, "missing_column"),
        ({"n_boot": 10, "rng": None}, "rng must be a numpy.random.Generator"),
        ({"n_boot": -1}, "n_boot must be a non-negative integer"),
        ({"level": 95, "n_boot": 0}, "level must lie strictly between 0 and 1"),
    ],
)
def test_invalid_inputs_raise_naming_the_problem(panel, kwargs, message):
    arguments = {"outcome": "outcome", "treatment": "treatment", "mediator": "mediator", "controls": ["control"], **kwargs}
    with pytest.raises(ValueError, match=message):
        fit_mediation(panel, **arguments)
