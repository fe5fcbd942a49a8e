"""bdiff-style permutation test of a between-group coefficient difference.

* Exactness: every draw must equal b0 - b1 from fit_ols on the data with the permuted labels,
  reconstructed from the documented drawing scheme (fit_ols is itself checked against Stata's
  reghdfe in tests/reference/test_fixed_effects_reference.py).
* Size: with identical data-generating processes in both groups the permutation p-value is
  uniform, so a 5% test rejects in about 5% of simulated data sets (slow).
* Power: a planted difference gives a p-value of zero.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from analysis import permutation
from analysis.fixed_effects import fit_ols
from analysis.permutation import permutation_coefficient_difference

EXACT_RTOL = 1e-8
"""A draw solved from sufficient statistics vs fit_ols, whose demeaning converges to 1e-12."""
BATCH_RTOL = 1e-12
"""The same labels in batches of another size: BLAS may round the matrix products differently."""
PLANTED_GAP_ATOL = 0.15
"""Three standard errors of b0 - b1 (about 0.05) in the simulated 1,800 firm-years."""
SIZE_DATA_SETS = 200
SIZE_DRAWS = 200
SIZE_BAND_Z = 3.0
"""Rejection rate over SIZE_DATA_SETS null data sets within 3 binomial standard errors of 5%."""

REGRESSORS = ["ai", "roa", "size", "lev"]


def simulate_panel(n_firms: int, n_years: int, seed: int, slope_gap: float = 0.0) -> pd.DataFrame:
    """Firm-year panel with year and province effects; group-1 firms have an AI slope larger by
    ``slope_gap``. Firms never change group or province."""
    rng = np.random.default_rng(seed)
    firm = np.repeat(np.arange(n_firms), n_years)
    year = np.tile(np.arange(2015, 2015 + n_years), n_firms)
    province = rng.integers(0, 12, n_firms)[firm]
    group = (rng.random(n_firms) < 0.4).astype(int)[firm]
    x = rng.normal(size=(len(firm), len(REGRESSORS)))
    x[:, 2] += 22.0  # size in logs: a large mean relative to its spread
    slopes = np.array([0.2, -0.5, 0.1, 0.3])
    outcome = (
        x @ slopes
        + slope_gap * group * x[:, 0]
        + 0.05 * (year - 2015)
        + 0.1 * province
        + rng.normal(size=len(firm))
    )
    return pd.DataFrame(x, columns=REGRESSORS).assign(
        npro=outcome, stock_code=[f"{f:06d}" for f in firm], fiscal_year=year, province=province, heavy=group
    )


@pytest.fixture(scope="module")
def panel() -> pd.DataFrame:
    return simulate_panel(300, 6, seed=1)


def run(data: pd.DataFrame, fixed_effects=("fiscal_year",), n_draws: int = 30, seed: int = 0, **options):
    """The test of the AI coefficient between heavy polluters (1) and the rest (0)."""
    rng = np.random.default_rng(seed)
    return permutation_coefficient_difference(
        data, "heavy", "npro", REGRESSORS, "ai", list(fixed_effects), n_draws=n_draws, rng=rng, **options
    )


def reconstructed_labels(sample: pd.DataFrame, permute_by: str | None, n_draws: int, seed: int) -> np.ndarray:
    """Observation-level group labels of each draw, per the scheme documented in the module."""
    groups = sample["heavy"].to_numpy()
    if permute_by is None:
        units, unit_labels = np.arange(len(sample)), groups
    else:
        units = pd.factorize(sample[permute_by])[0]
        unit_labels = np.zeros(units.max() + 1, dtype=int)
        unit_labels[units] = groups
    draws = np.random.default_rng(seed).permuted(np.broadcast_to(unit_labels, (n_draws, len(unit_labels))), axis=1)
    return draws[:, units]


def refit_difference(sample: pd.DataFrame, labels: np.ndarray, fixed_effects: list[str]) -> float:
    b0 = fit_ols(sample[labels == 0], "npro", REGRESSORS, fixed_effects).params["ai"]
    b1 = fit_ols(sample[labels == 1], "npro", REGRESSORS, fixed_effects).params["ai"]
    return b0 - b1


@pytest.mark.parametrize(
    ("fixed_effects", "permute_by"),
    [
        (["fiscal_year", "province"], None),
        (["fiscal_year", "province"], "stock_code"),
        (["province"], None),
        ([], "stock_code"),
    ],
)
def test_draws_equal_refits_on_permuted_data(panel, fixed_effects, permute_by):
    result = run(panel, fixed_effects, n_draws=4, seed=17, permute_by=permute_by)
    observed = refit_difference(panel, panel["heavy"].to_numpy(), fixed_effects)
    assert result.observed_difference == pytest.approx(observed, rel=EXACT_RTOL)
    labels = reconstructed_labels(panel, permute_by, 4, seed=17)
    for draw in range(4):
        assert result.draws[draw] == pytest.approx(refit_difference(panel, labels[draw], fixed_effects), rel=EXACT_RTOL)


def test_firm_permutation_counts_firms(panel):
    # That whole firms change group is checked by the refits with permute_by="stock_code" above.
    observed_group0 = (panel.groupby("stock_code")["heavy"].first() == 0).sum()
    result = run(panel, n_draws=2, permute_by="stock_code")
    assert result.stats["n_units_group0"] == observed_group0
    assert result.stats["n_units_group0"] + result.stats["n_units_group1"] == panel["stock_code"].nunique()


def test_firm_in_both_groups_is_refused(panel):
    straddling = panel.copy()
    straddling.loc[straddling.index[0], "heavy"] = 1 - straddling.loc[straddling.index[0], "heavy"]
    with pytest.raises(ValueError, match="000000"):
        run(straddling, permute_by="stock_code")


@pytest.mark.parametrize("gap", [0.3, -0.3])
def test_planted_difference_is_detected(gap):
    data = simulate_panel(300, 6, seed=4, slope_gap=gap)
    result = run(data, ["fiscal_year", "province"], n_draws=300, cluster="stock_code", permute_by="stock_code")
    # b0 - b1 = -gap; bdiff's p-value looks in the direction of the observed difference.
    assert result.observed_difference == pytest.approx(-gap, abs=PLANTED_GAP_ATOL)
    assert result.p_value == 0.0
    assert result.stats["p_value_two_sided"] == 0.0
    one_sided = result.stats["p_value_lower"] if gap > 0 else result.stats["p_value_upper"]
    assert one_sided == 0.0
    assert result.params["difference"] == pytest.approx(result.observed_difference)
    assert result.fit_group1.info["vce"] == "cluster"


def test_p_values_follow_bdiff(panel):
    result = run(panel, n_draws=500, seed=9)
    draws, observed = result.draws, result.observed_difference
    upper = np.mean(draws >= observed)
    # bdiff 1.04: p = share of draws >= observed; if p > 0.5 then p = 1 - p.
    assert result.p_value == pytest.approx(min(upper, 1 - upper))
    assert result.stats["p_value_upper"] == pytest.approx(upper)
    assert result.stats["p_value_lower"] == pytest.approx(np.mean(draws <= observed))
    assert result.stats["p_value_two_sided"] == pytest.approx(np.mean(np.abs(draws) >= abs(observed)))


def test_batches_do_not_change_the_draws(panel, monkeypatch):
    one_batch = run(panel, seed=5)
    monkeypatch.setattr(permutation, "MAX_BATCH_CELLS", 7 * len(panel))
    several = run(panel, seed=5)
    np.testing.assert_allclose(one_batch.draws, several.draws, rtol=BATCH_RTOL)


def test_tidy_and_immutability(panel):
    before = panel.copy()
    result = run(panel, fixed_effects=(), n_draws=10)
    pd.testing.assert_frame_equal(panel, before)
    tidy = result.tidy()
    assert list(tidy["term"]) == ["b0", "b1", "difference"]
    assert tidy.loc[2, "p_value"] == result.p_value
    assert result.nobs == len(panel)
    with pytest.raises(ValueError):
        result.draws[0] = 1.0


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"term": "nope"}, "term 'nope'"),
        ({"group": "ai"}, "group column 'ai'"),
        ({"group": "province"}, "0 and 1"),
        ({"fixed_effects": ["stock_code", "fiscal_year"]}, "at most"),
        ({"n_draws": 0}, "n_draws"),
    ],
)
def test_invalid_arguments_are_named(panel, kwargs, message):
    arguments = {"group": "heavy", "term": "ai", "fixed_effects": (), "n_draws": 5} | kwargs
    with pytest.raises(ValueError, match=message):
        permutation_coefficient_difference(
            panel, arguments["group"], "npro", REGRESSORS, arguments["term"], arguments["fixed_effects"],
            n_draws=arguments["n_draws"], rng=np.random.default_rng(0),
        )


@pytest.mark.slow
def test_null_rejection_rate_is_nominal():
    rejections_two_sided = 0
    rejections_bdiff = 0
    for seed in range(SIZE_DATA_SETS):
        data = simulate_panel(60, 5, seed=1000 + seed)
        result = run(data, n_draws=SIZE_DRAWS, seed=seed)
        rejections_two_sided += result.stats["p_value_two_sided"] <= 0.05
        rejections_bdiff += result.p_value <= 0.05
    band = SIZE_BAND_Z * np.sqrt(0.05 * 0.95 / SIZE_DATA_SETS)
    assert abs(rejections_two_sided / SIZE_DATA_SETS - 0.05) <= band
    # bdiff's p is one-sided in the observed direction, min(U, 1 - U): P(p <= 0.05) is about 10%.
    band_bdiff = SIZE_BAND_Z * np.sqrt(0.10 * 0.90 / SIZE_DATA_SETS)
    assert abs(rejections_bdiff / SIZE_DATA_SETS - 0.10) <= band_bdiff


@pytest.mark.slow
@pytest.mark.parametrize("permute_by", [None, "stock_code"])
def test_thousand_draws_on_full_panel(permute_by):
    # Their time is measured by bench/estimator_bench.py (table10), not here.
    data = simulate_panel(2700, 9, seed=2).iloc[:24_000]
    extra = np.random.default_rng(3).normal(size=(len(data), 3))
    data = data.assign(top1=extra[:, 0], inde=extra[:, 1], age=extra[:, 2])
    result = permutation_coefficient_difference(
        data, "heavy", "npro", [*REGRESSORS, "top1", "inde", "age"], "ai", ["fiscal_year", "province"],
        cluster="stock_code", n_draws=1000, rng=np.random.default_rng(0), permute_by=permute_by,
    )
    assert result.n_draws == 1000 and np.isfinite(result.draws).all()


def test_progress_is_reported_without_changing_the_draws(panel):
    calls = []
    reported = run(panel, n_draws=40, seed=3, progress=lambda done, total: calls.append((done, total)))
    assert calls and calls[-1] == (40, 40) and all(total == 40 for _, total in calls)
    assert [done for done, _ in calls] == sorted(done for done, _ in calls)
    np.testing.assert_array_equal(reported.draws, run(panel, n_draws=40, seed=3).draws)
