"""fit_levinsohn_petrin on simulated Cobb-Douglas panels with planted elasticities, plus its
input contract and the bookkeeping (lags, TFP, bootstrap resampling).

The data-generating process follows the Levinsohn-Petrin timing: productivity omega is AR(1);
capital is chosen a year ahead (on last year's capital and productivity); labour is chosen
after omega is seen (so pooled OLS over-states its elasticity) with an independent wage-type
shock that identifies it in stage 1; intermediate demand is strictly increasing in omega
given capital (a mild curvature, so the stage-1 polynomial has something to approximate);
output carries i.i.d. measurement noise.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm

from analysis.production import _minimise, fit_levinsohn_petrin

pytestmark = pytest.mark.slow  # Monte-Carlo checks against planted truths: minutes, not seconds

BETA_LABOUR, BETA_CAPITAL, BETA_LAND = 0.6, 0.3, 0.1
RHO = 0.7

LABOUR_TOLERANCE = 0.015
"""~5 Monte Carlo sd: over 40 simulated 1,000 x 10 panels the labour estimate had sd 0.0031
(max |error| 0.0084)."""
CAPITAL_TOLERANCE = 0.025
"""~5 Monte Carlo sd: capital sd 0.0049 with criterion="levpet", 0.0054 with "moment" (max
|error| 0.014, 0.016 over the same 40 panels)."""
LAND_TOLERANCE = 0.07
"""~5 Monte Carlo sd: with capital and land both state inputs, over 25 panels the land
estimate had sd 0.014 (max |error| 0.027); labour and capital stayed within the bands above."""
OLS_LABOUR_BIAS = 0.1
"""Labour responds one-for-one to omega here: pooled OLS put it at 1.06 on average, LP at 0.60."""
EXACT_RTOL = 1e-12
"""Identities that hold to rounding (TFP definition, row order, relabelled years and firms)."""
SAME_OPTIMUM_ATOL = 1e-7
"""Two computations of one estimate that differ only in summation order and optimiser start:
the criterion is flat to float precision within ~1e-8 of its minimum."""
BOOTSTRAP_SE_RATIO_BOUNDS = (0.75, 1.33)
"""Mean bootstrap SE over 3 panels (200 draws each) against the sd of 60 Monte Carlo
estimates: the latter carries ~9% noise and each bootstrap SE ~5%, so +-30% is 3 sd."""

def simulate_panel(
    rng: np.random.Generator, n_firms: int = 1000, n_years: int = 10, with_land: bool = False
) -> pd.DataFrame:
    burn_in = 5
    periods = n_years + burn_in
    sd_innovation = 0.2
    omega = np.empty((n_firms, periods))
    capital = np.empty((n_firms, periods))
    land = np.empty((n_firms, periods))
    omega[:, 0] = rng.normal(0, sd_innovation / np.sqrt(1 - RHO**2), n_firms)
    capital[:, 0] = rng.normal(2.0, 0.8, n_firms)
    land[:, 0] = rng.normal(1.0, 0.5, n_firms)
    firm_capital_level = rng.normal(0, 0.3, n_firms)
    for t in range(1, periods):
        capital[:, t] = 0.4 + firm_capital_level + 0.8 * capital[:, t - 1] + 0.5 * omega[:, t - 1]
        capital[:, t] += rng.normal(0, 0.1, n_firms)
        land[:, t] = 0.3 + 0.7 * land[:, t - 1] + 0.2 * omega[:, t - 1] + rng.normal(0, 0.15, n_firms)
        omega[:, t] = RHO * omega[:, t - 1] + rng.normal(0, sd_innovation, n_firms)
    omega, capital, land = omega[:, burn_in:], capital[:, burn_in:], land[:, burn_in:]
    labour = 0.5 + 0.4 * capital + 1.0 * omega + rng.normal(0, 0.3, omega.shape)
    intermediate = 0.3 + 0.5 * capital + 1.5 * omega + 0.15 * omega**2
    output = BETA_LABOUR * labour + BETA_CAPITAL * capital + omega + rng.normal(0, 0.1, omega.shape)
    if with_land:
        intermediate += 0.4 * land
        output += BETA_LAND * land
    return pd.DataFrame(
        {
            "firm": np.repeat([f"F{i:05d}" for i in range(n_firms)], n_years),
            "year": np.tile(np.arange(2015, 2015 + n_years), n_firms),
            "ln_output": output.ravel(),
            "ln_labour": labour.ravel(),
            "ln_capital": capital.ravel(),
            "ln_land": land.ravel(),
            "ln_intermediate": intermediate.ravel(),
        }
    )


def fit(data: pd.DataFrame, **kwargs):
    arguments = {"n_boot": 0} | kwargs
    return fit_levinsohn_petrin(data, "firm", "year", "ln_output", **arguments)


@pytest.fixture(scope="module")
def panel() -> pd.DataFrame:
    return simulate_panel(np.random.default_rng(2025))


@pytest.fixture(scope="module")
def small_panel() -> pd.DataFrame:
    return simulate_panel(np.random.default_rng(11), n_firms=120, n_years=6)


# ----------------------------------------------------------------------------- planted truth


@pytest.mark.parametrize("criterion", ["levpet", "moment"])
def test_recovers_planted_elasticities(panel, criterion):
    result = fit(panel, criterion=criterion)
    assert abs(result.params["ln_labour"] - BETA_LABOUR) < LABOUR_TOLERANCE, result.params
    assert abs(result.params["ln_capital"] - BETA_CAPITAL) < CAPITAL_TOLERANCE, result.params
    assert result.nobs == 10_000
    assert result.stats["n_second_stage"] == 9_000
    assert result.stats["n_firms"] == 1_000


def test_pooled_ols_is_visibly_biased_where_lp_is_not(panel):
    ols = sm.OLS(panel["ln_output"], sm.add_constant(panel[["ln_labour", "ln_capital"]])).fit()
    lp = fit(panel)
    assert ols.params["ln_labour"] > BETA_LABOUR + OLS_LABOUR_BIAS
    assert abs(lp.params["ln_labour"] - BETA_LABOUR) < LABOUR_TOLERANCE


def test_two_state_inputs_are_recovered_by_the_simplex_search():
    data = simulate_panel(np.random.default_rng(8), with_land=True)
    result = fit(data, state=("ln_capital", "ln_land"))
    assert list(result.params.index) == ["ln_labour", "ln_capital", "ln_land"]
    assert abs(result.params["ln_labour"] - BETA_LABOUR) < LABOUR_TOLERANCE, result.params
    assert abs(result.params["ln_capital"] - BETA_CAPITAL) < CAPITAL_TOLERANCE, result.params
    assert abs(result.params["ln_land"] - BETA_LAND) < LAND_TOLERANCE, result.params


@pytest.mark.slow
def test_bootstrap_standard_errors_match_the_monte_carlo_spread():
    estimates = [
        fit(simulate_panel(np.random.default_rng(5_000 + r), n_firms=300)).params for r in range(60)
    ]
    monte_carlo_sd = pd.DataFrame(estimates).std(ddof=1)
    bootstrap_se = pd.DataFrame(
        [
            fit(simulate_panel(np.random.default_rng(9_000 + r), n_firms=300), n_boot=200,
                rng=np.random.default_rng(r)).std_errors
            for r in range(3)
        ]
    ).mean()
    ratio = bootstrap_se / monte_carlo_sd
    low, high = BOOTSTRAP_SE_RATIO_BOUNDS
    assert ratio.between(low, high).all(), pd.DataFrame({"bootstrap": bootstrap_se, "mc": monte_carlo_sd})


@pytest.mark.slow
def test_full_sample_size_with_200_draws_has_no_failed_draw():
    # Its time is measured by bench/estimator_bench.py (tfp_lp), not here.
    data = simulate_panel(np.random.default_rng(3), n_firms=2_400)
    result = fit(data, n_boot=200, rng=np.random.default_rng(1))
    assert result.nobs == 24_000 and result.stats["n_boot_failed"] == 0


def test_the_line_search_takes_the_lower_of_two_valleys_and_walks_past_the_grid():
    # Two valleys: a shallow one at the start (0.0) and a deeper one 0.3 away.
    def two_valleys(b):
        return float(min((b[0] - 0.0) ** 2 + 0.01, (b[0] - 0.3) ** 2))

    assert _minimise(two_valleys, np.array([0.0]))[0][0] == pytest.approx(0.3, abs=SAME_OPTIMUM_ATOL)
    # A minimum beyond the +-0.5 grid: Brent's bracket search continues downhill from its end.
    assert _minimise(lambda b: float((b[0] - 2.0) ** 2), np.array([0.0]))[0][0] == pytest.approx(
        2.0, abs=SAME_OPTIMUM_ATOL
    )


# ----------------------------------------------------------------------------- bookkeeping


def test_tfp_is_output_net_of_the_estimated_inputs_on_the_callers_index(small_panel):
    data = small_panel.copy()
    data.index = [f"row{i}" for i in range(len(data))][::-1]
    data.loc["row7", "ln_labour"] = np.nan
    result = fit(data)
    expected = (
        data["ln_output"]
        - result.params["ln_labour"] * data["ln_labour"]
        - result.params["ln_capital"] * data["ln_capital"]
    )
    assert result.tfp.index.equals(data.index)
    assert result.tfp.name == "tfp_lp"
    assert np.isnan(result.tfp["row7"]) and result.tfp.isna().sum() == 1
    np.testing.assert_allclose(result.tfp.dropna(), expected.dropna(), rtol=EXACT_RTOL)
    assert result.nobs == len(data) - 1


def test_estimates_ignore_row_order_year_origin_and_firm_labels(small_panel):
    reference = fit(small_panel).params
    shuffled = small_panel.sample(frac=1.0, random_state=4)
    shuffled["year"] = shuffled["year"] + 100
    shuffled["firm"] = shuffled["firm"].str.replace("F", "firm-")
    np.testing.assert_allclose(fit(shuffled).params, reference, rtol=EXACT_RTOL)


def test_lags_need_the_previous_year_and_rows_with_missing_values_are_dropped(small_panel):
    some_firms = small_panel["firm"].isin(small_panel["firm"].unique()[::3])
    gap_rows = small_panel.index[some_firms & (small_panel["year"] == 2017)]
    without_rows = small_panel.drop(index=gap_rows)
    with_missing = small_panel.copy()
    with_missing.loc[gap_rows, "ln_output"] = np.nan
    dropped, masked = fit(without_rows), fit(with_missing)

    years = without_rows.sort_values(["firm", "year"])
    consecutive = (years.groupby("firm")["year"].diff() == 1).sum()
    assert dropped.stats["n_second_stage"] == consecutive < 120 * 5
    assert masked.stats["n_second_stage"] == consecutive
    np.testing.assert_allclose(masked.params, dropped.params, rtol=EXACT_RTOL)


def test_a_firm_block_draw_equals_the_estimate_on_the_resampled_panel(small_panel):
    seed = 17
    result = fit(small_panel, n_boot=1, rng=np.random.default_rng(seed))
    # The documented scheme: firms in sorted label order, rng.integers(0, U, size=U).
    firms = np.sort(small_panel["firm"].unique())
    drawn = np.random.default_rng(seed).integers(0, len(firms), size=len(firms))
    blocks = [
        small_panel[small_panel["firm"] == firms[f]].assign(firm=f"copy{copy:04d}")
        for copy, f in enumerate(drawn)
    ]
    resampled = fit(pd.concat(blocks, ignore_index=True)).params
    np.testing.assert_allclose(result.bootstrap_draws[0], resampled, rtol=0, atol=SAME_OPTIMUM_ATOL)


def test_bootstrap_is_reproducible_and_feeds_the_reported_inference(small_panel):
    first = fit(small_panel, n_boot=30, rng=np.random.default_rng(5))
    again = fit(small_panel, n_boot=30, rng=np.random.default_rng(5))
    other = fit(small_panel, n_boot=30, rng=np.random.default_rng(6))
    np.testing.assert_array_equal(first.bootstrap_draws, again.bootstrap_draws)
    assert not np.allclose(first.bootstrap_draws, other.bootstrap_draws)
    assert first.bootstrap_draws.shape == (30, 2) and first.stats["n_boot_failed"] == 0

    covariance = np.cov(first.bootstrap_draws, rowvar=False, ddof=1)
    np.testing.assert_allclose(first.std_errors, np.sqrt(np.diag(covariance)), rtol=EXACT_RTOL)
    wald = (first.params.sum() - 1) ** 2 / covariance.sum()
    assert first.stats["wald_crs"] == pytest.approx(wald, rel=EXACT_RTOL)
    tidy = first.tidy()
    assert list(tidy["term"]) == ["ln_labour", "ln_capital"]
    np.testing.assert_allclose(tidy["statistic"], first.params / first.std_errors, rtol=EXACT_RTOL)
    assert first.estimates.stat_kind == "z"


def test_firm_year_resampling_is_available_and_labelled(small_panel):
    result = fit(small_panel, n_boot=20, rng=np.random.default_rng(2), cluster_bootstrap=False)
    clustered = fit(small_panel, n_boot=20, rng=np.random.default_rng(2))
    assert result.info["vce"] == "bootstrap, firm-years"
    assert clustered.info["vce"] == "bootstrap, firm blocks"
    assert np.isfinite(result.bootstrap_draws).all()
    assert not np.allclose(result.bootstrap_draws, clustered.bootstrap_draws)


def test_without_draws_there_is_no_inference(small_panel):
    result = fit(small_panel)
    assert result.bootstrap_draws.shape == (0, 2)
    assert result.std_errors.isna().all() and np.isnan(result.stats["wald_crs"])


def test_the_callers_frame_is_left_untouched_and_results_are_frozen(small_panel):
    data = small_panel.copy()
    result = fit(data, n_boot=2, rng=np.random.default_rng(0))
    pd.testing.assert_frame_equal(data, small_panel)
    with pytest.raises(AttributeError):
        result.tfp = None
    with pytest.raises(ValueError):
        result.bootstrap_draws[0, 0] = 1.0


# ----------------------------------------------------------------------------- input contract


@pytest.mark.parametrize(
    ("change", "kwargs", "message"),
    [
        (lambda d: d.drop(columns="ln_capital"), {}, r"lacks column\(s\) \['ln_capital'\]"),
        (lambda d: d.assign(ln_capital=d["ln_capital"].astype(str)), {}, "'ln_capital' is not numeric"),
        (lambda d: d.assign(ln_labour=np.where(d.index == 3, np.inf, d["ln_labour"])), {}, "infinite"),
        (lambda d: d.assign(year=d["year"] + 0.5), {}, "integer periods"),
        (lambda d: pd.concat([d, d.iloc[[0]]]), {}, "repeated e.g. firm=F00000, year=2015"),
        (lambda d: d, {"free": ("ln_capital",)}, "more than one role"),
        (lambda d: d, {"free": ()}, "free must name at least one column"),
        (lambda d: d.assign(copy=d["ln_intermediate"]), {"free": ("copy",)}, "collinear with the polynomial"),
        (lambda d: d.head(6), {}, "too few observations"),
        (lambda d: d, {"poly_degree": 0}, "poly_degree"),
        (lambda d: d, {"criterion": "gmm"}, "criterion must be one of"),
        (lambda d: d, {"n_boot": -1}, "n_boot"),
        (lambda d: d, {"n_boot": 5}, "rng must be a numpy.random.Generator"),
    ],
)
def test_invalid_inputs_are_refused_with_a_clear_message(small_panel, change, kwargs, message):
    with pytest.raises(ValueError, match=message):
        fit(change(small_panel), **kwargs)


def test_data_must_be_a_dataframe(small_panel):
    with pytest.raises(ValueError, match="pandas DataFrame"):
        fit_levinsohn_petrin(small_panel.to_dict(), "firm", "year", "ln_output", n_boot=0)
