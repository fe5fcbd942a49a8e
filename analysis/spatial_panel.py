"""Static spatial panel models with fixed effects (paper Tables 12-14).

Estimators (Elhorst 2014, *Spatial Econometrics: From Cross-Sectional Data to Spatial
Panels*, ch. 3; Lee and Yu 2010, *J. Econometrics* 154:165-185):

* SAR   y = rho W y + X b + FE + e
* SDM   y = rho W y + X b + W X theta + FE + e
* SEM   y = X b + FE + u,  u = lambda W u + e

fitted by concentrated maximum likelihood with unit, time or two-way fixed effects,
plus (robust) LM tests, LR / Wald tests of SDM against SAR and SEM, a Hausman test of
fixed against random effects, and LeSage-Pace direct / indirect / total effects.

Why this is written here rather than taken from spreg: spreg 1.9 ``ML_LagFE`` /
``ML_ErrorFE`` handle unit effects only, and its SDM impacts treat every W X term as a
pure spillover (see ``spatial_effects``). The unit-effects case reproduces spreg to
1e-6 (tests/reference/test_spatial_reference.py).

Two-way fixed effects, and what is and is not equivalent
--------------------------------------------------------
Data are stacked period by period (units in ``weights.codes`` order inside each
period); ``M`` is the within operator that removes the fixed effects. Unit demeaning
commutes with the block-diagonal ``I_T (x) W``; period demeaning does not:
``Q_N W = W - 1 1'W / N`` while ``W Q_N = W - W 1 1' / N = W - 1 1' / N`` (row-
stochastic W), and the two agree only if ``1'W = 1'`` (W also column-stochastic).
Demeaning y and X by period and then handing them to spreg therefore builds the lag as
``W (M y)`` when the model needs ``M (W y)``: the difference is, in every period, the
constant ``mean(y_t) - mean(W y_t)``, a time effect of ``W y`` that is left in the
residual, so spreg's likelihood is not the two-way likelihood. Here every spatial lag is
formed from the raw data first and demeaned afterwards (``M (I (x) W) y``, ``M (I (x) W) X``),
which equals concentrating the unit and period dummies out of the likelihood exactly:
spreg ``ML_LagFE`` / ``ML_ErrorFE`` given the raw data plus T - 1 period dummies produce
the same rho, beta, sigma^2 and log-likelihood (tested). For the same reason the data
part of the rho-rho information, ``(G X b)'(G X b)``, is taken after projecting
``G X b`` (G = W (I - rho W)^-1) off the fixed effects. Elhorst's MATLAB code
(``sar_panel_FE.m``) uses the unprojected vector, which overstates that element slightly
with time effects; the projected form is the Schur complement of the full information
matrix with the dummies, i.e. what spreg with explicit dummies reports (tested).

Lee-Yu (2010) bias correction (``lee_yu=True``)
-----------------------------------------------
The "direct" estimator above uses N T observations and T log|I - rho W|; with unit
effects its sigma^2 is biased by (T-1)/T, with time effects rho, beta and sigma^2 carry
an O(1/N) bias. ``lee_yu=True`` uses Lee and Yu's transformation approach instead: the
data are multiplied by orthonormal complements of the constant vector
(F_T' for unit effects, F_N' with W* = F_N' W F_N for time effects, which needs a
row-standardised W), leaving (T-1) or (N-1) effective periods / units and no fixed
effects, and the exact likelihood of the transformed data is maximised. With unit
effects only this leaves rho and beta unchanged and rescales sigma^2 by T/(T-1)
(Elhorst's ``bc`` option); with time effects it also moves rho and beta. Elhorst's code
applies a one-step analytic version of the same correction; the tests check the two
agree to a small fraction of the correction itself.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Callable, Mapping, Sequence

import numpy as np
import pandas as pd
import scipy.linalg
from linearmodels.panel import PanelOLS, RandomEffects
from scipy import optimize, stats

from analysis.results import DelegatesToRegression, FrozenFields, RegressionResult, model_stats_frame, stat_rows
from analysis.spatial_weights import SpatialWeights
from analysis.validation import require_columns, require_dataframe

FIXED_EFFECTS = ("none", "unit", "time", "twoways")
CONSTANT_TERM = "const"
MODELS = ("sar", "sdm", "sem")
LAG_PREFIX = "W_"
RHO = "rho"
LAMBDA = "lambda"
SIGMA2 = "sigma2"
EFFECT_KINDS = ("direct", "indirect", "total")

_BOUND_MARGIN = 1e-7
"""Distance kept from the edges of the stable parameter interval in the line search."""
_OPTIMISER_XATOL = 1e-11
"""Line-search tolerance on rho / lambda; far below any reported precision."""


# ---------------------------------------------------------------------------------------
# Panel arrays
# ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Panel:
    """Balanced panel stacked period by period, units in ``weights.codes`` order."""

    values: np.ndarray  # (N T) x (number of columns)
    columns: tuple[str, ...]
    row_order: np.ndarray  # positions in the caller's frame of the stacked rows
    n_units: int
    n_periods: int

    def column(self, name: str) -> np.ndarray:
        return self.values[:, self.columns.index(name)]

    def block(self, names: Sequence[str]) -> np.ndarray:
        return self.values[:, [self.columns.index(n) for n in names]]


def _panel(data: pd.DataFrame, columns: Sequence[str], weights: SpatialWeights, unit: str, time: str) -> _Panel:
    require_dataframe(data)
    if not isinstance(weights, SpatialWeights):
        raise ValueError("weights must be an analysis.spatial_weights.SpatialWeights")
    require_columns(data, [*columns, unit, time])
    units = data[unit].astype(str)
    unknown = sorted(set(units) - set(weights.codes))
    absent = sorted(set(weights.codes) - set(units))
    if unknown or absent:
        raise ValueError(f"{unit!r} does not match the weights codes (not in W: {unknown}, missing: {absent})")
    if pd.DataFrame({"unit": units, "time": data[time]}).duplicated().any():
        raise ValueError(f"data has duplicated ({unit}, {time}) rows")
    n_units, n_periods = weights.n, data[time].nunique()
    if len(data) != n_units * n_periods:
        raise ValueError(f"the panel is unbalanced: {len(data)} rows for {n_units} units x {n_periods} periods")
    unit_position = units.map({c: i for i, c in enumerate(weights.codes)}).to_numpy()
    period_position = data[time].rank(method="dense").to_numpy()
    row_order = np.lexsort((unit_position, period_position))
    values = np.empty((len(data), len(columns)))
    for j, column in enumerate(columns):
        series = pd.to_numeric(data[column], errors="coerce").to_numpy(dtype=float)[row_order]
        if not np.all(np.isfinite(series)):
            raise ValueError(f"column {column!r} has missing, non-numeric or infinite values")
        values[:, j] = series
    return _Panel(values, tuple(columns), row_order, n_units, n_periods)


def _per_period(matrix: np.ndarray, stacked: np.ndarray, n_units: int) -> np.ndarray:
    """Apply an n x n matrix within every period of period-stacked data: (I_T (x) A) a."""
    cube = stacked.reshape(-1, n_units, *stacked.shape[1:])
    return np.einsum("ij,tj...->ti...", matrix, cube).reshape(stacked.shape)


def _within(stacked: np.ndarray, n_units: int, fixed_effects: str) -> np.ndarray:
    """Remove the fixed effects by demeaning; "none" removes the intercept."""
    cube = stacked.reshape(-1, n_units, *stacked.shape[1:])
    unit_means = cube.mean(axis=0, keepdims=True)
    period_means = cube.mean(axis=1, keepdims=True)
    grand_mean = cube.mean(axis=(0, 1), keepdims=True)
    out = {
        "none": cube - grand_mean,
        "unit": cube - unit_means,
        "time": cube - period_means,
        "twoways": cube - unit_means - period_means + grand_mean,
    }[fixed_effects]
    return out.reshape(stacked.shape)


def add_spatial_lags(
    data: pd.DataFrame,
    columns: Sequence[str],
    weights: SpatialWeights,
    unit: str,
    time: str,
    prefix: str = LAG_PREFIX,
) -> pd.DataFrame:
    """A copy of ``data`` with a column ``prefix + c`` = W c (within each period) per column c."""
    if not columns:
        raise ValueError("columns must name at least one column")
    panel = _panel(data, columns, weights, unit, time)
    lagged = _per_period(weights.matrix, panel.values, panel.n_units)
    out = data.copy()
    for j, column in enumerate(columns):
        values = np.empty(len(data))
        values[panel.row_order] = lagged[:, j]
        out[prefix + column] = values
    return out


# ---------------------------------------------------------------------------------------
# Estimation space: within-transformed (direct approach) or Lee-Yu transformed data
# ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Design:
    """Everything the concentrated likelihood needs, in estimation space.

    Spatial lags are formed from the raw data and transformed afterwards (see module
    docstring). ``project`` removes whatever fixed effects remain in estimation space
    (the within operator for the direct approach, nothing after the Lee-Yu transform).
    """

    y: np.ndarray
    wy: np.ndarray
    x: np.ndarray
    wx: np.ndarray
    w: np.ndarray
    n_units: int
    n_periods: int
    stable_interval: tuple[float, float]
    project: Callable[[np.ndarray], np.ndarray]


def _orthonormal_complement(n: int) -> np.ndarray:
    """n x (n-1) matrix F with F'F = I and F'1 = 0 (Lee and Yu's F_{n,n-1})."""
    return scipy.linalg.null_space(np.ones((1, n)))


def _stable_interval(w: np.ndarray) -> tuple[float, float]:
    """(1 / smallest eigenvalue, 1 / largest eigenvalue) of a W with real spectrum."""
    eigenvalues = np.linalg.eigvals(w)
    if np.max(np.abs(eigenvalues.imag)) > 1e-8:
        raise ValueError("W has complex eigenvalues; the stable interval for rho is not an interval of the reals")
    real = eigenvalues.real
    return 1.0 / real.min(), 1.0 / real.max()


def _design(
    y: np.ndarray, x: np.ndarray, weights: SpatialWeights, n_periods: int, fixed_effects: str, lee_yu: bool
) -> _Design:
    w, n_units = weights.matrix, weights.n
    raw = {"y": y, "wy": _per_period(w, y, n_units), "x": x, "wx": _per_period(w, x, n_units)}
    interval = _stable_interval(w)
    if not lee_yu:
        def project(a: np.ndarray) -> np.ndarray:
            # Without fixed effects the intercept is a regressor of its own (a column of x).
            return a if fixed_effects == "none" else _within(a, n_units, fixed_effects)

        return _Design(**{k: project(v) for k, v in raw.items()}, w=w, n_units=n_units, n_periods=n_periods,
                       stable_interval=interval, project=project)
    unit_effects = fixed_effects in ("unit", "twoways")
    time_effects = fixed_effects in ("time", "twoways")
    f_periods = _orthonormal_complement(n_periods) if unit_effects else np.eye(n_periods)
    f_units = _orthonormal_complement(n_units) if time_effects else np.eye(n_units)

    def transform(a: np.ndarray) -> np.ndarray:
        cube = np.einsum("ts,tnk->snk", f_periods, a.reshape(n_periods, n_units, -1))
        return np.einsum("nm,snk->smk", f_units, cube).reshape(-1, *a.shape[1:])

    return _Design(
        **{k: transform(v) for k, v in raw.items()},
        w=f_units.T @ w @ f_units,
        n_units=f_units.shape[1],
        n_periods=f_periods.shape[1],
        stable_interval=interval,
        project=lambda a: a,
    )


def _log_det(coefficient: float, eigenvalues: np.ndarray) -> float:
    """log |I - c W| from the eigenvalues of W."""
    return float(np.sum(np.log(np.abs(1.0 - coefficient * eigenvalues))))


def _line_search(negative_loglik: Callable[[float], float], interval: tuple[float, float], what: str) -> float:
    low, high = interval[0] + _BOUND_MARGIN, interval[1] - _BOUND_MARGIN
    result = optimize.minimize_scalar(
        negative_loglik, bounds=(low, high), method="bounded", options={"xatol": _OPTIMISER_XATOL}
    )
    if not result.success:
        raise RuntimeError(f"the line search for {what} did not converge: {result.message}")
    if min(result.x - low, high - result.x) < 1e-6:
        raise RuntimeError(f"{what} = {result.x:.6f} is on the edge of the stable interval {interval}")
    return float(result.x)


@dataclass(frozen=True)
class _MLFit:
    coefficients: np.ndarray  # beta..., spatial coefficient, sigma2
    covariance: np.ndarray
    log_likelihood: float
    residual_lm: float = float("nan")  # lag models only (see _residual_lm_after_lag)


def _fit_lag(design: _Design) -> _MLFit:
    """SAR / SDM: concentrate beta and sigma^2 out, line-search rho (Elhorst 2014, ch. 3)."""
    x, n_units, n_periods = design.x, design.n_units, design.n_periods
    n_obs = design.y.size
    xtx = x.T @ x
    b0 = np.linalg.solve(xtx, x.T @ design.y)
    b1 = np.linalg.solve(xtx, x.T @ design.wy)
    e0, e1 = design.y - x @ b0, design.wy - x @ b1
    s00, s01, s11 = e0 @ e0, e0 @ e1, e1 @ e1
    eigenvalues = np.linalg.eigvals(design.w)

    def negative(rho: float) -> float:
        return 0.5 * n_obs * np.log(s00 - 2 * rho * s01 + rho * rho * s11) - n_periods * _log_det(rho, eigenvalues)

    rho = _line_search(negative, design.stable_interval, "rho")
    beta = b0 - rho * b1
    residual = e0 - rho * e1
    sigma2 = residual @ residual / n_obs
    g = design.w @ np.linalg.inv(np.eye(n_units) - rho * design.w)
    # data part of the rho information, projected off the fixed effects (module docstring)
    g_xb = design.project(_per_period(g, x @ beta, n_units))
    k = x.shape[1]
    info = np.zeros((k + 2, k + 2))
    info[:k, :k] = xtx / sigma2
    info[:k, k] = info[k, :k] = x.T @ g_xb / sigma2
    info[k, k] = n_periods * (np.trace(g @ g) + np.sum(g * g)) + g_xb @ g_xb / sigma2
    info[k, k + 1] = info[k + 1, k] = n_periods * np.trace(g) / sigma2
    info[k + 1, k + 1] = n_obs / (2 * sigma2**2)
    log_likelihood = -0.5 * n_obs * (np.log(2 * np.pi * sigma2) + 1) + n_periods * _log_det(rho, eigenvalues)
    covariance = np.linalg.inv(info)
    residual_lm = _residual_lm_after_lag(design, residual, rho, sigma2, covariance[k, k])
    return _MLFit(np.r_[beta, rho, sigma2], covariance, float(log_likelihood), residual_lm)


def _residual_lm_after_lag(
    design: _Design, residual: np.ndarray, rho: float, sigma2: float, rho_variance: float
) -> float:
    """Anselin's (1988, eq. 13.49) LM test for spatial error autocorrelation in the
    residuals of a fitted spatial lag model, chi2(1): (e'We / s2)^2 / (T22 - T21^2 var(rho))
    with T22 = tr(WW + W'W), T21 = tr((WW + W'W) A), A = (I - rho W)^-1 and var(rho) from
    the ML information matrix, as spatialreg's ``lagsarlm`` reports it ("LM test for
    residual autocorrelation"). Panels stack periods (I_T (x) W), so each trace is T times
    the cross-sectional one."""
    w, n_periods = design.w, design.n_periods
    score = residual @ _per_period(w, residual, design.n_units) / sigma2
    tw = w @ w + w.T @ w
    t22 = n_periods * np.trace(tw)
    t21 = n_periods * np.trace(tw @ np.linalg.inv(np.eye(design.n_units) - rho * w))
    return float(score**2 / (t22 - t21**2 * rho_variance))


def _fit_error(design: _Design) -> _MLFit:
    """SEM: for each lambda, GLS on the spatially filtered data; line-search lambda."""
    n_units, n_periods = design.n_units, design.n_periods
    n_obs = design.y.size
    eigenvalues = np.linalg.eigvals(design.w)

    def filtered_fit(lam: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        ys, xs = design.y - lam * design.wy, design.x - lam * design.wx
        beta = np.linalg.lstsq(xs, ys, rcond=None)[0]
        return beta, ys - xs @ beta, xs

    def negative(lam: float) -> float:
        residual = filtered_fit(lam)[1]
        return 0.5 * n_obs * np.log(residual @ residual) - n_periods * _log_det(lam, eigenvalues)

    lam = _line_search(negative, design.stable_interval, "lambda")
    beta, residual, xs = filtered_fit(lam)
    sigma2 = residual @ residual / n_obs
    b = design.w @ np.linalg.inv(np.eye(n_units) - lam * design.w)
    k = xs.shape[1]
    info = np.zeros((k + 2, k + 2))
    info[:k, :k] = xs.T @ xs / sigma2
    info[k, k] = n_periods * (np.trace(b @ b) + np.sum(b * b))
    info[k, k + 1] = info[k + 1, k] = n_periods * np.trace(b) / sigma2
    info[k + 1, k + 1] = n_obs / (2 * sigma2**2)
    log_likelihood = -0.5 * n_obs * (np.log(2 * np.pi * sigma2) + 1) + n_periods * _log_det(lam, eigenvalues)
    return _MLFit(np.r_[beta, lam, sigma2], np.linalg.inv(info), float(log_likelihood))


# ---------------------------------------------------------------------------------------
# Public estimator
# ---------------------------------------------------------------------------------------


def _spatial_term(model: str) -> str:
    return LAMBDA if model == "sem" else RHO


def _z_inference(params: pd.Series, std_errors: pd.Series) -> tuple[pd.Series, pd.Series]:
    z = params / std_errors
    return z, pd.Series(2 * stats.norm.sf(np.abs(z)), index=params.index)


@dataclass(frozen=True, eq=False)
class SpatialPanelResult(FrozenFields, DelegatesToRegression):
    """A fitted SAR / SDM / SEM panel model.

    ``regression.params`` holds the regressors, their spatial lags ``W_<x>`` (SDM), the
    spatial coefficient (``rho`` or ``lambda``) and ``sigma2``; standard errors come
    from the inverse of the analytic information matrix. ``residual_lm`` (SAR / SDM only,
    NaN for SEM) is the LM test for spatial autocorrelation left in the residuals,
    chi2(1), p-value ``residual_lm_p``. ``stats``: ``log_likelihood``,
    ``sigma2``, ``r2`` (1 - SSR / total SS of y, residuals net of the estimated fixed
    effects: Elhorst's ``rsqr``, the R^2 spatial panel software usually prints) and
    ``corr2`` (squared correlation of the demeaned y with its demeaned reduced-form
    prediction (I - rho W)^-1 X b, without the fixed effects).
    """

    regression: RegressionResult
    model: str
    fixed_effects: str
    lee_yu: bool
    regressors: tuple[str, ...]
    weights: SpatialWeights
    n_units: int
    n_periods: int
    covariance_matrix: np.ndarray = field(repr=False)
    residual_lm: float = float("nan")

    _regression = "regression"

    _frozen = {"covariance_matrix": "array"}

    @property
    def log_likelihood(self) -> float:
        return float(self.regression.stats["log_likelihood"])

    @property
    def spatial_term(self) -> str:
        return _spatial_term(self.model)

    @property
    def residual_lm_p(self) -> float:
        return float(stats.chi2.sf(self.residual_lm, 1))

    @property
    def lagged_regressors(self) -> tuple[str, ...]:
        return tuple(LAG_PREFIX + r for r in self.regressors) if self.model == "sdm" else ()

    def covariance(self) -> pd.DataFrame:
        terms = list(self.params.index)
        return pd.DataFrame(np.array(self.covariance_matrix), index=terms, columns=terms)


def fit_spatial_panel(
    data: pd.DataFrame,
    y: str,
    x: Sequence[str],
    weights: SpatialWeights,
    *,
    unit: str,
    time: str,
    model: str = "sdm",
    fixed_effects: str = "twoways",
    lee_yu: bool = False,
) -> SpatialPanelResult:
    """Fit a SAR, SDM or SEM panel model by concentrated maximum likelihood.

    ``data`` is a balanced panel with one row per (``unit``, ``time``); ``unit`` values are
    the ``weights`` codes. ``fixed_effects`` is "unit", "time", "twoways" or "none"
    (pooled, with an intercept ``const`` estimated with its standard error, listed after the
    regressors and their lags). ``lee_yu=True`` switches from
    the direct to Lee and Yu's (2010) transformation approach (module docstring).
    """
    if model not in MODELS:
        raise ValueError(f"model must be one of {MODELS}, got {model!r}")
    if fixed_effects not in FIXED_EFFECTS:
        raise ValueError(f"fixed_effects must be one of {FIXED_EFFECTS}, got {fixed_effects!r}")
    if lee_yu and fixed_effects == "none":
        raise ValueError("the Lee-Yu correction applies to fixed-effects models only")
    regressors = tuple(x)
    if not regressors or len(set(regressors)) != len(regressors) or y in regressors:
        raise ValueError(f"x must be non-empty, without duplicates and without the outcome {y!r}: {regressors}")
    panel = _panel(data, (y, *regressors), weights, unit, time)
    if fixed_effects in ("unit", "twoways") and panel.n_periods < 2:
        raise ValueError("unit fixed effects need at least two periods")
    design_x = panel.block(regressors)
    terms = list(regressors)
    if model == "sdm":
        design_x = np.hstack([design_x, _per_period(weights.matrix, design_x, weights.n)])
        terms += [LAG_PREFIX + r for r in regressors]
    if fixed_effects == "none":
        # The intercept is estimated (not concentrated out) so that it has a standard error.
        design_x = np.hstack([design_x, np.ones((design_x.shape[0], 1))])
        terms.append(CONSTANT_TERM)
    design = _design(panel.column(y), design_x, weights, panel.n_periods, fixed_effects, lee_yu)
    if np.linalg.matrix_rank(design.x) < design.x.shape[1]:
        raise ValueError(f"the regressors {terms} are collinear once the fixed effects are removed")
    fit = (_fit_error if model == "sem" else _fit_lag)(design)
    terms += [_spatial_term(model), SIGMA2]
    params = pd.Series(fit.coefficients, index=terms)
    std_errors = pd.Series(np.sqrt(np.diag(fit.covariance)), index=terms)
    statistic, p_value = _z_inference(params, std_errors)
    r2, corr2 = _goodness_of_fit(panel.column(y), design_x, weights, fixed_effects, params, model)
    regression = RegressionResult(
        params=params,
        std_errors=std_errors,
        statistic=statistic,
        p_value=p_value,
        nobs=panel.n_units * panel.n_periods,
        stat_kind="z",
        stats={"log_likelihood": fit.log_likelihood, "sigma2": params[SIGMA2], "r2": r2, "corr2": corr2,
               "n_units": panel.n_units, "n_periods": panel.n_periods},
        covariance=fit.covariance,
        info={"model": model, "fixed_effects": fixed_effects, "weights": weights.kind,
              "estimator": "ML, Lee-Yu transformation approach" if lee_yu else "ML, direct approach",
              "vce": "inverse analytic information matrix"},
    )
    return SpatialPanelResult(regression, model, fixed_effects, lee_yu, regressors, weights,
                              panel.n_units, panel.n_periods, fit.covariance, fit.residual_lm)


def _goodness_of_fit(
    y: np.ndarray, x: np.ndarray, weights: SpatialWeights, fixed_effects: str, params: pd.Series, model: str
) -> tuple[float, float]:
    n_units = weights.n
    beta = params.iloc[: x.shape[1]].to_numpy()
    y_within, xb_within = _within(y, n_units, fixed_effects), _within(x, n_units, fixed_effects) @ beta
    if model == "sem":
        residual, prediction = y_within - xb_within, xb_within
    else:
        rho = params[RHO]
        residual = y_within - rho * _within(_per_period(weights.matrix, y, n_units), n_units, fixed_effects) - xb_within
        prediction = _per_period(np.linalg.inv(np.eye(n_units) - rho * weights.matrix), xb_within, n_units)
    total = (y - y.mean()) @ (y - y.mean())
    return float(1 - residual @ residual / total), float(np.corrcoef(y_within, prediction)[0, 1] ** 2)


# ---------------------------------------------------------------------------------------
# LeSage-Pace effects
# ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SpatialEffectsResult(FrozenFields):
    """Direct, indirect and total effects; terms are ``"<kind>:<regressor>"``.

    Both embedded results share the point estimates (the effects evaluated at the ML
    estimates). ``simulation`` has standard errors from ``n_draws`` draws of the
    coefficients from their estimated asymptotic normal distribution (LeSage and Pace
    2009, ch. 2.7; Elhorst 2014, ch. 2), ``delta`` from the delta method with analytic
    gradients. ``simulation_mean`` is the mean over the draws (what LeSage-Pace print).
    """

    simulation: RegressionResult
    delta: RegressionResult
    simulation_mean: pd.Series
    n_draws: int
    fit_stats: Mapping[str, float] = field(default_factory=dict)
    """``nobs`` and ``r2`` of the spatial panel fit the effects come from (empty when the
    effects were computed from bare estimates)."""

    _frozen = {"fit_stats": "floats"}

    @property
    def params(self) -> pd.Series:
        """The effects at the estimates (shared by both methods)."""
        return self.simulation.params

    @property
    def std_errors(self) -> pd.Series:
        """The simulated standard errors (LeSage and Pace's method; ``delta`` has the others)."""
        return self.simulation.std_errors

    @property
    def vcov(self) -> pd.DataFrame:
        """The covariance of the simulated effects."""
        return self.simulation.vcov

    @property
    def nobs(self) -> int:
        """Observations of the fit (N x T), or the number of units without a fit."""
        return int(self.fit_stats.get("nobs", self.simulation.nobs))

    def model_stats(self) -> pd.DataFrame:
        """The statistics reported with every effect column: the fit's ``nobs`` and ``r2``,
        ``n_draws`` and ``unstable_draws`` (draws of rho outside the stable interval)."""
        values = {**self.fit_stats, "n_draws": self.n_draws,
                  "unstable_draws": self.simulation.stats["unstable_draws"]}
        return stat_rows({"nobs": self.nobs, **values})

    def tidy(self) -> pd.DataFrame:
        frames = []
        for method, result in (("simulation", self.simulation), ("delta", self.delta)):
            frame = result.tidy()
            frame[["effect", "variable"]] = frame["term"].str.split(":", n=1, expand=True)
            frames.append(frame.assign(method=method))
        return pd.concat(frames, ignore_index=True)


def _effect_multipliers(rho: np.ndarray, eigenvalues: np.ndarray) -> tuple[np.ndarray, ...]:
    """Averages of tr((I - rho W)^-1)/n, tr((I - rho W)^-1 W)/n and their rho-derivatives.

    Traces of analytic functions of W are sums over its eigenvalues, which makes
    thousands of simulation draws cheap.
    """
    denominator = 1.0 - np.multiply.outer(rho, eigenvalues)
    own = np.mean(1.0 / denominator, axis=-1).real
    neighbour = np.mean(eigenvalues / denominator, axis=-1).real
    own_slope = np.mean(eigenvalues / denominator**2, axis=-1).real
    neighbour_slope = np.mean(eigenvalues**2 / denominator**2, axis=-1).real
    return own, neighbour, own_slope, neighbour_slope


def _effects(beta: np.ndarray, theta: np.ndarray, rho: np.ndarray, eigenvalues: np.ndarray) -> np.ndarray:
    """(..., 3, k) direct / indirect / total effects for a row-standardised W.

    S_k = (I - rho W)^-1 (beta_k I + theta_k W); direct = tr(S_k)/n, total = 1'S_k 1/n
    = (beta_k + theta_k)/(1 - rho) because W 1 = 1.
    """
    own, neighbour = _effect_multipliers(rho, eigenvalues)[:2]
    direct = beta * own[..., None] + theta * neighbour[..., None]
    total = (beta + theta) / (1.0 - rho)[..., None]
    return np.stack([direct, total - direct, total], axis=-2)


def _effects_jacobian(
    beta: np.ndarray, theta: np.ndarray, rho: float, eigenvalues: np.ndarray, durbin: bool
) -> np.ndarray:
    """Gradient of the 3k effects with respect to (beta, theta if durbin, rho)."""
    own, neighbour, own_slope, neighbour_slope = (float(v) for v in _effect_multipliers(np.asarray(rho), eigenvalues))
    k = beta.size
    identity = np.eye(k)
    direct = np.hstack([own * identity, neighbour * identity, (beta * own_slope + theta * neighbour_slope)[:, None]])
    total = np.hstack([identity / (1 - rho), identity / (1 - rho), ((beta + theta) / (1 - rho) ** 2)[:, None]])
    jacobian = np.vstack([direct, total - direct, total])
    return jacobian if durbin else np.delete(jacobian, np.s_[k : 2 * k], axis=1)


def effects_from_estimates(
    coefficients: pd.Series,
    covariance: pd.DataFrame,
    regressors: Sequence[str],
    weights: SpatialWeights,
    rng: np.random.Generator,
    n_draws: int = 1000,
) -> SpatialEffectsResult:
    """LeSage-Pace effects from SAR or SDM estimates.

    ``coefficients`` must hold every regressor and ``rho``; it is an SDM when it also
    holds ``W_<regressor>`` for every regressor. ``covariance`` covers those terms.
    """
    if not isinstance(rng, np.random.Generator):
        raise ValueError("rng must be a numpy.random.Generator")
    if n_draws < 2:
        raise ValueError("n_draws must be at least 2")
    regressors = tuple(regressors)
    lagged = [LAG_PREFIX + r for r in regressors]
    present = [t in coefficients.index for t in lagged]
    if any(present) and not all(present):
        raise ValueError(f"coefficients hold spatial lags for some regressors only: {present}")
    durbin = all(present)
    terms = [*regressors, *(lagged if durbin else []), RHO]
    missing = [t for t in terms if t not in coefficients.index or t not in covariance.index]
    if missing:
        raise ValueError(f"coefficients or covariance lack the terms {missing}")
    mean = coefficients[terms].to_numpy(dtype=float)
    cov = covariance.loc[terms, terms].to_numpy(dtype=float)
    k = len(regressors)
    eigenvalues = np.linalg.eigvals(weights.matrix).astype(complex)
    low, high = _stable_interval(weights.matrix)

    def split(draws: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        theta = draws[..., k : 2 * k] if durbin else np.zeros_like(draws[..., :k])
        return draws[..., :k], theta, draws[..., -1]

    beta, theta, rho = split(mean)
    point = _effects(beta, theta, np.asarray(rho), eigenvalues).ravel()
    draws = rng.multivariate_normal(mean, cov, size=n_draws)
    stable = (draws[:, -1] > low) & (draws[:, -1] < high)
    simulated = _effects(*split(draws[stable]), eigenvalues).reshape(int(stable.sum()), -1)
    jacobian = _effects_jacobian(beta, theta, float(rho), eigenvalues, durbin)
    names = [f"{kind}:{r}" for kind in EFFECT_KINDS for r in regressors]
    params = pd.Series(point, index=names)

    def result(std_errors: np.ndarray, covariance: np.ndarray, method: str) -> RegressionResult:
        se = pd.Series(std_errors, index=names)
        statistic, p_value = _z_inference(params, se)
        return RegressionResult(params, se, statistic, p_value, nobs=weights.n, stat_kind="z",
                                stats={"n_draws": n_draws, "unstable_draws": int(n_draws - stable.sum())},
                                info={"method": method, "model": "sdm" if durbin else "sar"},
                                covariance=covariance)

    return SpatialEffectsResult(
        simulation=result(simulated.std(axis=0, ddof=1), np.atleast_2d(np.cov(simulated, rowvar=False, ddof=1)),
                          "simulation from the asymptotic distribution"),
        delta=result(np.sqrt(np.einsum("ij,jk,ik->i", jacobian, cov, jacobian)), jacobian @ cov @ jacobian.T,
                     "delta method"),
        simulation_mean=pd.Series(simulated.mean(axis=0), index=names),
        n_draws=n_draws,
    )


def spatial_effects(
    result: SpatialPanelResult, rng: np.random.Generator, n_draws: int = 1000
) -> SpatialEffectsResult:
    """LeSage-Pace direct / indirect / total effects of every regressor of a SAR or SDM fit.

    spreg 1.9 (``sputils._sp_effects``) computes the SDM direct effect as
    beta_k tr((I - rho W)^-1)/n and books every W X term as indirect; the textbook direct
    effect adds theta_k tr((I - rho W)^-1 W)/n (LeSage and Pace 2009, ch. 2.7). Totals
    agree; direct and indirect differ by that term (tested).
    """
    if result.model == "sem":
        raise ValueError("effects of a spatial error model are its coefficients (no spillovers); use sar or sdm")
    effects = effects_from_estimates(result.params, result.covariance(), result.regressors, result.weights, rng,
                                     n_draws)
    return dataclasses.replace(effects, fit_stats={"nobs": result.nobs, "r2": result.stats["r2"]})


# ---------------------------------------------------------------------------------------
# Specification tests
# ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ChiSquareTests(FrozenFields):
    """A set of chi-square tests: statistic and degrees of freedom by test name."""

    statistic: Mapping[str, float]
    df: Mapping[str, int]
    nobs: int
    info: Mapping[str, str] = field(default_factory=dict)

    _frozen = {"statistic": "floats", "df": "ints", "info": "texts"}

    def __post_init__(self) -> None:
        if set(self.statistic) != set(self.df):
            raise ValueError("statistic and df must name the same tests")
        super().__post_init__()

    @property
    def p_value(self) -> Mapping[str, float]:
        return MappingProxyType({k: float(stats.chi2.sf(v, self.df[k])) for k, v in self.statistic.items()})

    def model_stats(self) -> pd.DataFrame:
        """nobs and ``info`` (the tests themselves are the rows of ``tidy()``)."""
        return model_stats_frame(self.nobs, {}, self.info)

    def tidy(self) -> pd.DataFrame:
        p_value = self.p_value
        return pd.DataFrame(
            [(name, value, self.df[name], p_value[name]) for name, value in self.statistic.items()],
            columns=["test", "statistic", "df", "p_value"],
        )


def panel_lm_tests(
    data: pd.DataFrame,
    y: str,
    x: Sequence[str],
    weights: SpatialWeights,
    *,
    unit: str,
    time: str,
    fixed_effects: str = "none",
    error_variance: str = "ml",
) -> ChiSquareTests:
    """LM tests for a spatial lag / spatial error in the residuals of the non-spatial model
    (Anselin, Le Gallo and Jayet 2008; robust forms: Elhorst 2014, ch. 3; Elhorst's
    ``LMsarsem_panel.m``): ``lm_lag``, ``lm_error``, ``robust_lm_lag``, ``robust_lm_error``.

    ``fixed_effects="none"`` is pooled OLS with an intercept (the model of paper Table
    12). ``error_variance``: "ml" = e'e / NT (Anselin; Elhorst), "ols" = e'e / residual
    degrees of freedom (what spreg's ``panel_LM*`` use). With fixed effects the lagged
    fitted values are projected off the fixed effects as well as X, which is the exact
    score test; Elhorst's MATLAB code projects off X only.
    """
    if fixed_effects not in FIXED_EFFECTS:
        raise ValueError(f"fixed_effects must be one of {FIXED_EFFECTS}, got {fixed_effects!r}")
    if error_variance not in ("ml", "ols"):
        raise ValueError("error_variance must be 'ml' or 'ols'")
    regressors = tuple(x)
    if not regressors or y in regressors:
        raise ValueError("x must name at least one regressor other than the outcome")
    panel = _panel(data, (y, *regressors), weights, unit, time)
    n_units, n_periods, w = panel.n_units, panel.n_periods, weights.matrix
    outcome = panel.column(y)
    x_within = _within(panel.block(regressors), n_units, fixed_effects)
    if np.linalg.matrix_rank(x_within) < len(regressors):
        raise ValueError(f"the regressors {regressors} are collinear once the fixed effects are removed")
    y_within = _within(outcome, n_units, fixed_effects)
    residual = y_within - x_within @ np.linalg.lstsq(x_within, y_within, rcond=None)[0]
    n_obs = outcome.size
    absorbed = {"none": 1, "unit": n_units, "time": n_periods, "twoways": n_units + n_periods - 1}[fixed_effects]
    denominator = n_obs if error_variance == "ml" else n_obs - len(regressors) - absorbed
    sigma2 = residual @ residual / denominator
    trace_term = n_periods * (np.sum(w * w) + np.sum(w * w.T))  # T tr(W'W + WW)
    e_w_e = residual @ _per_period(w, residual, n_units) / sigma2
    e_w_y = residual @ _per_period(w, outcome, n_units) / sigma2
    lagged_fit = _within(_per_period(w, outcome - residual, n_units), n_units, fixed_effects)
    lagged_fit -= x_within @ np.linalg.lstsq(x_within, lagged_fit, rcond=None)[0]
    j = (lagged_fit @ lagged_fit / sigma2) + trace_term
    statistic = {
        "lm_lag": e_w_y**2 / j,
        "robust_lm_lag": (e_w_y - e_w_e) ** 2 / (j - trace_term),
        "lm_error": e_w_e**2 / trace_term,
        "robust_lm_error": (e_w_e - trace_term / j * e_w_y) ** 2 / (trace_term * (1 - trace_term / j)),
    }
    return ChiSquareTests(statistic, dict.fromkeys(statistic, 1), n_obs,
                          {"fixed_effects": fixed_effects, "error_variance": error_variance, "weights": weights.kind})


@dataclass(frozen=True)
class ResidualDiagnostics(FrozenFields):
    """Spatial diagnostics of the non-spatial (pooled or fixed-effects) OLS residuals.

    ``stats``: ``moran_i`` with ``moran_expectation``, ``moran_variance``, ``moran_z`` and
    ``moran_p`` (one-sided, "greater", as spdep's ``lm.morantest`` prints), ``lm_error``,
    ``lm_lag``, ``robust_lm_error``, ``robust_lm_lag``, ``sarma`` (LM error + robust LM lag,
    2 df) with their p-values, and the OLS fit's ``log_likelihood``, ``aic`` and ``schwarz``
    (ML error variance e'e / NT; k counts the regressors and the absorbed levels, with the
    intercept). The LM tests use the ML error variance (Anselin 1988; spdep, spreg).
    """

    stats: Mapping[str, float]
    nobs: int
    info: Mapping[str, str] = field(default_factory=dict)

    _frozen = {"stats": "floats", "info": "texts"}

    def model_stats(self) -> pd.DataFrame:
        """nobs, ``stats`` and ``info`` as a long (stat, value, text) frame."""
        return model_stats_frame(self.nobs, self.stats, self.info)

    def tidy(self) -> pd.DataFrame:
        """One row per statistic: stat, value."""
        return pd.DataFrame(list(self.stats.items()), columns=["stat", "value"])


def ols_residual_diagnostics(
    data: pd.DataFrame,
    y: str,
    x: Sequence[str],
    weights: SpatialWeights,
    *,
    unit: str,
    time: str,
    fixed_effects: str = "none",
) -> ResidualDiagnostics:
    """Moran's I of the OLS residuals with its exact moments under normality (Cliff and Ord
    1981, p. 203; spdep ``lm.morantest``), the LM tests with SARMA, and the OLS fit's
    log-likelihood and information criteria, on a balanced panel (one period: a cross-section).

    For residuals e = M u, M the (fixed effects and X) residual maker of rank r and W the
    block-diagonal I_T (x) W: I = e'We / e'e, E[I] = tr(MW) / r and
    V[I] = (tr(MWMW') + tr((MW)^2) + tr(MW)^2) / (r (r + 2)) - E[I]^2 (row-standardised W,
    so that n / S0 = 1). Dense NT x NT matrices: meant for the province panels of the paper.
    """
    if fixed_effects not in FIXED_EFFECTS:
        raise ValueError(f"fixed_effects must be one of {FIXED_EFFECTS}, got {fixed_effects!r}")
    regressors = tuple(x)
    if not regressors or y in regressors:
        raise ValueError("x must name at least one regressor other than the outcome")
    panel = _panel(data, (y, *regressors), weights, unit, time)
    n_units, n_periods = panel.n_units, panel.n_periods
    n_obs = n_units * n_periods
    identity = np.eye(n_obs)
    within = _within(identity, n_units, fixed_effects)  # the fixed-effects (or intercept) annihilator
    x_within = within @ panel.block(regressors)
    if np.linalg.matrix_rank(x_within) < len(regressors):
        raise ValueError(f"the regressors {regressors} are collinear once the fixed effects are removed")
    residual_maker = within - x_within @ np.linalg.pinv(x_within)
    outcome = panel.column(y)
    residual = residual_maker @ outcome
    big_w = np.kron(np.eye(n_periods), weights.matrix)
    absorbed = {"none": 1, "unit": n_units, "time": n_periods, "twoways": n_units + n_periods - 1}[fixed_effects]
    rank = n_obs - absorbed - len(regressors)

    mw = residual_maker @ big_w
    expectation = np.trace(mw) / rank
    wm = big_w @ residual_maker
    # tr(MWMW') = sum(MW * (MW')'), tr((MW)^2) = sum(MW * (MW)')
    variance = (np.sum(mw * wm) + np.sum(mw * mw.T) + np.trace(mw) ** 2) / (rank * (rank + 2)) - expectation**2
    moran = float(residual @ big_w @ residual / (residual @ residual))
    moran_z = (moran - expectation) / np.sqrt(variance)

    tests = panel_lm_tests(data, y, regressors, weights, unit=unit, time=time, fixed_effects=fixed_effects,
                           error_variance="ml").statistic
    sigma2 = residual @ residual / n_obs
    log_likelihood = -n_obs / 2 * (np.log(2 * np.pi) + np.log(sigma2) + 1)
    n_params = len(regressors) + absorbed
    out = {
        "moran_i": moran, "moran_expectation": expectation, "moran_variance": variance, "moran_z": moran_z,
        "moran_p": float(stats.norm.sf(moran_z)),
        **{name: tests[name] for name in ("lm_error", "lm_lag", "robust_lm_error", "robust_lm_lag")},
        "sarma": tests["lm_error"] + tests["robust_lm_lag"],
    }
    for name in ("lm_error", "lm_lag", "robust_lm_error", "robust_lm_lag"):
        out[f"{name}_p"] = float(stats.chi2.sf(out[name], 1))
    out["sarma_p"] = float(stats.chi2.sf(out["sarma"], 2))
    out |= {"log_likelihood": log_likelihood, "aic": -2 * log_likelihood + 2 * n_params,
            "schwarz": -2 * log_likelihood + n_params * np.log(n_obs)}
    return ResidualDiagnostics(out, n_obs, {"fixed_effects": fixed_effects, "weights": weights.kind})


def sdm_specification_tests(
    sdm: SpatialPanelResult, sar: SpatialPanelResult, sem: SpatialPanelResult
) -> ChiSquareTests:
    """Can the SDM be simplified to SAR (theta = 0) or SEM (theta + rho beta = 0)?

    ``lr_lag`` / ``lr_error`` compare log-likelihoods; ``wald_lag`` / ``wald_error`` use
    the SDM estimates only (the common-factor restriction by the delta method; Elhorst
    2014, ch. 3). All three fits must share data, weights and fixed effects.
    """
    for name, fit, model in (("sdm", sdm, "sdm"), ("sar", sar, "sar"), ("sem", sem, "sem")):
        if not isinstance(fit, SpatialPanelResult) or fit.model != model:
            raise ValueError(f"{name} must be a SpatialPanelResult of a {model} model")
    for fit in (sar, sem):
        same = (fit.regressors == sdm.regressors and fit.fixed_effects == sdm.fixed_effects and fit.lee_yu == sdm.lee_yu
                and fit.weights.same_as(sdm.weights) and fit.regression.nobs == sdm.regression.nobs)
        if not same:
            raise ValueError(
                f"the {fit.model} fit differs from the sdm fit in regressors, fixed effects, weights or sample"
            )
    regressors, lagged = list(sdm.regressors), list(sdm.lagged_regressors)
    k = len(regressors)
    beta, theta, rho = (sdm.params[regressors].to_numpy(), sdm.params[lagged].to_numpy(), float(sdm.params[RHO]))
    terms = [*regressors, *lagged, RHO]
    cov = sdm.covariance().loc[terms, terms].to_numpy()
    theta_cov = cov[k : 2 * k, k : 2 * k]
    common_factor = theta + rho * beta
    jacobian = np.hstack([rho * np.eye(k), np.eye(k), beta[:, None]])
    statistic = {
        "lr_lag": 2 * (sdm.log_likelihood - sar.log_likelihood),
        "lr_error": 2 * (sdm.log_likelihood - sem.log_likelihood),
        "wald_lag": theta @ np.linalg.solve(theta_cov, theta),
        "wald_error": common_factor @ np.linalg.solve(jacobian @ cov @ jacobian.T, common_factor),
    }
    return ChiSquareTests(statistic, dict.fromkeys(statistic, k), sdm.regression.nobs,
                          {"fixed_effects": sdm.fixed_effects, "weights": sdm.weights.kind})


def hausman_fe_re(
    data: pd.DataFrame, y: str, x: Sequence[str], *, unit: str, time: str, time_effects: bool = True
) -> ChiSquareTests:
    """Hausman test of fixed against random unit effects on the coefficients of ``x``.

    FE: within estimator (linearmodels ``PanelOLS``, unit effects plus period effects when
    ``time_effects``). RE: linearmodels ``RandomEffects`` (feasible GLS with Swamy-Arora
    variance components, as plm's default) with an intercept and, when ``time_effects``,
    period dummies. Both with classical covariance, H = d'(V_FE - V_RE)^-1 d, df = len(x)
    (plm ``phtest``; Stata ``hausman fe re``). For the spatial design pass the W_ columns
    from ``add_spatial_lags`` in ``x``.
    """
    regressors = list(x)
    if not regressors or y in regressors:
        raise ValueError("x must name at least one regressor other than the outcome")
    require_columns(data, [y, *regressors, unit, time])
    frame = data[[unit, time, y, *regressors]].copy()
    if frame.isna().any().any():
        raise ValueError("data has missing values in the model columns")
    frame = frame.set_index([unit, time]).sort_index()
    if frame.index.has_duplicates:
        raise ValueError(f"data has duplicated ({unit}, {time}) rows")
    fixed = PanelOLS(frame[y], frame[regressors], entity_effects=True, time_effects=time_effects).fit(
        cov_type="unadjusted"
    )
    random_exog = frame[regressors].assign(const=1.0)
    if time_effects:
        periods = frame.index.get_level_values(time)
        dummies = pd.get_dummies(periods, prefix="period", drop_first=True, dtype=float)
        random_exog = pd.concat([random_exog, dummies.set_index(frame.index)], axis=1)
    random = RandomEffects(frame[y], random_exog).fit(cov_type="unadjusted")
    difference = (fixed.params[regressors] - random.params[regressors]).to_numpy()
    variance = (fixed.cov.loc[regressors, regressors] - random.cov.loc[regressors, regressors]).to_numpy()
    statistic = float(difference @ np.linalg.solve(variance, difference))
    return ChiSquareTests({"hausman": statistic}, {"hausman": len(regressors)}, int(fixed.nobs),
                          {"fe": "PanelOLS within", "re": "linearmodels RandomEffects (Swamy-Arora)",
                           "time_effects": str(time_effects)})
