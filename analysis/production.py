"""Levinsohn-Petrin (2003) production function estimates and log TFP (value-added model),
with the conventions of Stata's ``levpet`` (Petrin, Poi & Levinsohn 2004, Stata Journal
4(2): 113-123) -- the outcome ``Tfp_lp`` of paper Table 5, column 3.

Model (logs): y_it = b_free'free_it + b_state'state_it + omega_it + eta_it, where omega is
productivity, known to the firm, following a first-order Markov process, and eta is noise.
The state inputs (capital) are chosen a period ahead, the free inputs (labour) after omega is
seen, and the proxy (intermediate input) demand is strictly increasing in omega, so that
omega = h(state, proxy).

1. Stage 1 (levpet ``lp_srch``): OLS of y on a constant, the free inputs and the complete
   polynomial of degree ``poly_degree`` in (state, proxy). It gives b_free and
   phi = fitted - b_free'free = b_state'state + omega + constant.
2. Stage 2: for candidate b_state, omega_t = phi_t - b_state'state_t. The law of motion
   g = E[omega_t | omega_t-1] is an OLS fit of omega_t on a constant and omega_t-1, its
   square and cube (levpet ``lp_bs_ss``), over firm-years whose previous year is observed.
   With e_t = y_t - b_free'free_t - b_state'state_t - g(omega_t-1), ``criterion="levpet"``
   minimises sum(e_t^2), as levpet (value added) and R prodest's ``prodestLP`` do;
   ``criterion="moment"`` minimises the squared sample moment mean(e_t * state_t), the
   condition E[(xi_t + eta_t) k_t] = 0 written in Levinsohn & Petrin (2003, section 4).
3. Standard errors: levpet's firm-block bootstrap (``bsample, cluster(i)`` with new firm
   ids), repeating both stages on every draw; the covariance is that of the draws
   (denominator draws - 1).

Only the value-added model is offered. levpet's gross-revenue variant also estimates the
proxy elasticity in stage 2 from E[e_t m_t-1] = 0, but when the proxy is chosen flexibly on
(state, omega) that moment does not identify it (Ackerberg, Caves & Frazer 2015; Gandhi,
Navarro & Rivers 2020), so its estimates would not be trustworthy. See docs/tfp_method.md.

Why by hand: no maintained Python implementation exists (PyPI has no Levinsohn-Petrin,
Olley-Pakes or prodest package; prodest is R/Stata, levpet Stata only).
tests/reference checks this code against R prodest 0.1.1 (its published vignette table on
its Chilean data, and its code run on plm's RiceFarms panel); tests/unit recovers planted
elasticities.

Numerics: the polynomials are formed in standardised variables. A complete polynomial spans
the same space in (a + b*x) as in x, so the fitted values, b_free and the law of motion are
those of levpet's raw powers, only better conditioned. Stage 1 regresses on an orthonormal
basis of its design (one QR decomposition per fit), so each bootstrap draw solves small,
well-conditioned normal equations and maps back with the triangular factor.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from itertools import combinations_with_replacement
from typing import Mapping

import numpy as np
import pandas as pd
from scipy import linalg, optimize, stats
from threadpoolctl import threadpool_limits

from analysis.validation import require_columns, require_finite_numeric
from analysis.results import DelegatesToRegression, FrozenFields, RegressionResult

CRITERIA: tuple[str, ...] = ("levpet", "moment")

LAW_OF_MOTION_DEGREE = 3
"""levpet and prodest approximate E[omega_t | omega_t-1] by a cubic with a constant."""

COEFFICIENT_TOLERANCE = 1e-9
"""The optimiser stops when the state coefficients are known to about this precision (Brent:
relative to their size; Nelder-Mead: the simplex spans less in every coefficient), far below
any reported digit."""

CRITERION_TOLERANCE = 1e-15
"""Nelder-Mead also needs the criterion to differ by less than this across the simplex (the
criteria are means of squares of order 1e-2, so a relative precision of about 1e-13)."""

GRID_STEP = 0.05
GRID_POINTS_EACH_SIDE = 10
"""With one state input the criterion is first evaluated on start +- 0.5 in steps of 0.05, and
Brent refines the lowest grid point: the criterion can have two valleys (seen in bootstrap
draws of prodest's Chilean data, 0.14 apart), where a line search from the start, as
levpet's, may stop in the higher one."""

MAX_CRITERION_EVALUATIONS = 2_000

MAX_CONDITION = 1e12
"""Normal matrices (of orthonormalised or standardised regressors) more ill-conditioned than
this are treated as singular: the draw fails rather than report noise."""

TFP_NAME = "tfp_lp"


@dataclass(frozen=True)
class ProductionResult(FrozenFields, DelegatesToRegression):
    """Elasticities of the free and state inputs, their bootstrap inference and log TFP.

    ``tfp`` is aligned on the caller's index: log TFP = y - b_free'free - b_state'state (no
    constant), NaN on rows left out for missing values. levpet's ``predict, omega`` returns
    its exponential; prodest's ``predict, residuals`` returns it as is.
    ``bootstrap_draws`` holds one row of estimates per draw (columns in ``params`` order;
    NaN where a draw failed). ``stats`` holds ``n_firms``, ``n_second_stage`` (firm-years
    with the previous year observed), ``criterion_value`` (the minimised mean of e_t^2, or
    squared moment), ``n_boot``, ``n_boot_failed`` and
    levpet's Wald test of constant returns ``wald_crs`` / ``wald_crs_p`` (sum of the
    elasticities = 1, bootstrap covariance; NaN without at least two draws).
    """

    estimates: RegressionResult
    tfp: pd.Series
    bootstrap_draws: np.ndarray

    _frozen = {"bootstrap_draws": "array"}

    def __post_init__(self) -> None:
        super().__post_init__()
        tfp = self.tfp.astype(float).copy()
        tfp.name = TFP_NAME
        object.__setattr__(self, "tfp", tfp)

    # params, std_errors, vcov, stats, nobs, tidy(), model_stats(), conf_int() and
    # wald_test() are those of the elasticities (bootstrap covariance).
    _regression = "estimates"

    @property
    def info(self) -> Mapping[str, str]:
        return self.estimates.info


@dataclass(frozen=True)
class _Panel:
    """The estimation sample sorted by firm and year, as arrays."""

    output: np.ndarray
    free: np.ndarray
    state: np.ndarray
    stage1_basis: np.ndarray
    """Orthonormal basis Q of the stage-1 design X = Q R (constant, free inputs, polynomial)..."""
    stage1_triangle: np.ndarray
    """...and R: regressing on Q is well conditioned, and R^-1 maps back to X's coefficients."""
    current: np.ndarray
    """Rows whose previous year is in the sample (it is the row just before: rows are sorted)."""
    firm: np.ndarray
    index: pd.Index

    @property
    def n_firms(self) -> int:
        return int(self.firm.max()) + 1


class _EstimationFailure(Exception):
    """A sample on which the two stages cannot be computed (rank deficiency, no optimum)."""


def fit_levinsohn_petrin(
    data: pd.DataFrame,
    entity: str,
    time: str,
    output: str,
    free: Sequence[str] = ("ln_labour",),
    state: Sequence[str] = ("ln_capital",),
    proxy: str = "ln_intermediate",
    *,
    poly_degree: int = 3,
    n_boot: int = 200,
    rng: np.random.Generator | None = None,
    cluster_bootstrap: bool = True,
    criterion: str = "levpet",
    progress: Callable[[int, int], None] | None = None,
) -> ProductionResult:
    """Levinsohn-Petrin value-added production function (levpet ``valueadded``).

    ``output`` is log value added; ``free``, ``state`` and ``proxy`` are log inputs (levpet's
    ``free()``, ``capital()`` and ``proxy()``); ``time`` holds integer periods, and a firm's
    lag is its row for ``time`` - 1 (a gap leaves no lag, as Stata's ``L.``). Rows missing
    any of these are dropped first. ``poly_degree`` is the stage-1 polynomial degree (levpet
    3, R prodest 2). ``n_boot`` draws (0 for none; ``rng`` required otherwise) resample
    firms (``cluster_bootstrap``) or single firm-years, each carrying its previous year.

    Resampling scheme (reproducible): firms are numbered in sorted order of their ``entity``
    labels and firm-years in (entity, time) order; with U units, each draw takes
    ``rng.integers(0, U, size=U)`` and equals the estimate on the data with every unit
    repeated as often as it was drawn (repeated firms count as distinct firms). Draws start
    the optimiser at the full-sample estimate. ``progress(done, n_boot)`` is called after
    each draw (for a log; it does not change the draws).
    """
    free, state = _as_names(free, "free"), _as_names(state, "state")
    _validate(data, entity, time, output, free, state, proxy, poly_degree, n_boot, rng, criterion)
    panel = _build_panel(data, entity, time, output, free, state, proxy, poly_degree)

    # The criterion is evaluated some 40 times per draw on vectors of a few thousand elements:
    # too small for BLAS threads to pay, and on a busy 2-core machine waking them made 50
    # draws on 24,000 firm-years take 47 s instead of 2.6 s (measured). So one thread here.
    with threadpool_limits(limits=1, user_api="blas"):
        start = _ols_state_coefficients(panel)
        try:
            estimate, criterion_value = _estimate(panel, np.ones(len(panel.output)), start, criterion)
        except _EstimationFailure as failure:
            raise ValueError(f"Levinsohn-Petrin estimation failed: {failure}") from None
        draws = _bootstrap(panel, estimate, n_boot, rng, cluster_bootstrap, criterion, progress)
    terms = [*free, *state]
    params = pd.Series(estimate, index=terms)
    successful = draws[np.isfinite(draws).all(axis=1)]
    if len(successful) >= 2:
        covariance = np.atleast_2d(np.cov(successful, rowvar=False, ddof=1))
        std_errors = pd.Series(np.sqrt(np.diag(covariance)), index=terms)
        ones = np.ones(len(terms))
        wald_crs = float((estimate.sum() - 1) ** 2 / (ones @ covariance @ ones))
        wald_crs_p = float(stats.chi2.sf(wald_crs, 1))
    else:
        covariance = np.full((len(terms), len(terms)), np.nan)
        std_errors = pd.Series(np.nan, index=terms)
        wald_crs = wald_crs_p = np.nan
    z = params / std_errors

    tfp = pd.Series(
        panel.output - panel.free @ estimate[: len(free)] - panel.state @ estimate[len(free) :],
        index=panel.index,
    ).reindex(data.index)
    result_stats = {
        "n_firms": panel.n_firms,
        "n_second_stage": len(panel.current),
        "criterion_value": criterion_value,
        "n_boot": n_boot,
        "n_boot_failed": n_boot - len(successful),
        "wald_crs": wald_crs,
        "wald_crs_p": wald_crs_p,
    }
    estimates = RegressionResult(
        params=params,
        std_errors=std_errors,
        statistic=z,
        p_value=pd.Series(2 * stats.norm.sf(np.abs(z.to_numpy())), index=terms),
        nobs=len(panel.output),
        stat_kind="z",
        stats=result_stats,
        covariance=covariance,
        info={
            "estimator": "Levinsohn-Petrin (value added)",
            "criterion": criterion,
            "proxy": proxy,
            "poly_degree": poly_degree,
            "vce": "bootstrap, firm blocks" if cluster_bootstrap else "bootstrap, firm-years",
            "tfp": "log TFP = y - b_free'free - b_state'state (no constant)",
        },
    )
    return ProductionResult(estimates=estimates, tfp=tfp, bootstrap_draws=draws)


def _as_names(names: Sequence[str] | str, role: str) -> tuple[str, ...]:
    names = (names,) if isinstance(names, str) else tuple(names)
    if not names or not all(isinstance(name, str) for name in names):
        raise ValueError(f"{role} must name at least one column, got {names!r}")
    return names


def _validate(
    data: pd.DataFrame,
    entity: str,
    time: str,
    output: str,
    free: tuple[str, ...],
    state: tuple[str, ...],
    proxy: str,
    poly_degree: int,
    n_boot: int,
    rng: np.random.Generator | None,
    criterion: str,
) -> None:
    if not isinstance(data, pd.DataFrame):
        raise ValueError(f"data must be a pandas DataFrame, got {type(data).__name__}")
    roles = [entity, time, output, *free, *state, proxy]
    repeated = sorted({name for name in roles if roles.count(name) > 1})
    if repeated:
        raise ValueError(f"column(s) used in more than one role (entity/time/output/free/state/proxy): {repeated}")
    require_columns(data, roles)
    require_finite_numeric(data, [time, output, *free, *state, proxy])
    if not isinstance(poly_degree, (int, np.integer)) or poly_degree < 1:
        raise ValueError(f"poly_degree must be a positive integer, got {poly_degree!r}")
    if not isinstance(n_boot, (int, np.integer)) or n_boot < 0:
        raise ValueError(f"n_boot must be a non-negative integer, got {n_boot!r}")
    if n_boot > 0 and not isinstance(rng, np.random.Generator):
        raise ValueError("rng must be a numpy.random.Generator when n_boot > 0")
    if criterion not in CRITERIA:
        raise ValueError(f"criterion must be one of {CRITERIA}, got {criterion!r}")


def _standardised(values: np.ndarray) -> np.ndarray:
    spread = values.std(axis=0)
    return (values - values.mean(axis=0)) / np.where(spread > 0, spread, 1.0)


def _complete_polynomial(variables: np.ndarray, degree: int) -> np.ndarray:
    """All monomials of total degree 1..``degree`` in the columns (levpet's x10 x01 x20 ...)."""
    columns = [
        np.prod(variables[:, list(powers)], axis=1)
        for order in range(1, degree + 1)
        for powers in combinations_with_replacement(range(variables.shape[1]), order)
    ]
    return np.column_stack(columns)


def _build_panel(
    data: pd.DataFrame,
    entity: str,
    time: str,
    output: str,
    free: tuple[str, ...],
    state: tuple[str, ...],
    proxy: str,
    poly_degree: int,
) -> _Panel:
    sample = data[[entity, time, output, *free, *state, proxy]].dropna()
    periods = sample[time].to_numpy(dtype=float)
    if not np.array_equal(periods, np.round(periods)):
        raise ValueError(f"column {time!r} must hold integer periods (years)")
    firm, _ = pd.factorize(sample[entity], sort=True)
    order = np.lexsort((periods, firm))
    sample, firm, periods = sample.iloc[order], firm[order], periods[order]
    same_firm = firm[1:] == firm[:-1]
    if np.any(same_firm & (periods[1:] == periods[:-1])):
        firm_label, period = sample.loc[sample.duplicated([entity, time]), [entity, time]].iloc[0]
        raise ValueError(f"({entity}, {time}) must identify rows; repeated e.g. {entity}={firm_label}, {time}={period}")
    current = np.flatnonzero(same_firm & (periods[1:] == periods[:-1] + 1)) + 1

    free_values = sample[list(free)].to_numpy(dtype=float)
    state_values = sample[list(state)].to_numpy(dtype=float)
    polynomial = _complete_polynomial(
        _standardised(np.column_stack([state_values, sample[proxy].to_numpy(dtype=float)])), poly_degree
    )
    design = np.column_stack([np.ones(len(sample)), free_values, polynomial])
    minimum_stage2 = LAW_OF_MOTION_DEGREE + 2 + len(state)
    if len(sample) <= design.shape[1] or len(current) < minimum_stage2:
        raise ValueError(
            f"too few observations: {len(sample)} complete firm-years for {design.shape[1]} stage-1 "
            f"terms and {len(current)} with the previous year observed (at least {minimum_stage2} needed)"
        )
    if np.linalg.matrix_rank(_standardised(design[:, 1:])) < design.shape[1] - 1:
        raise ValueError(
            f"the free inputs {list(free)} are collinear with the polynomial in {list(state)} and "
            f"{proxy!r} (or a column is constant): stage 1 cannot separate them"
        )
    basis, triangle = np.linalg.qr(design)
    return _Panel(
        output=sample[output].to_numpy(dtype=float),
        free=free_values,
        state=state_values,
        stage1_basis=basis,
        stage1_triangle=triangle,
        current=current,
        firm=firm,
        index=sample.index,
    )


def _ols_state_coefficients(panel: _Panel) -> np.ndarray:
    """Pooled OLS of y on a constant, free and state inputs: a start near the optimum."""
    design = np.column_stack([np.ones(len(panel.output)), panel.free, panel.state])
    coefficients = np.linalg.lstsq(design, panel.output, rcond=None)[0]
    return coefficients[1 + panel.free.shape[1] :]


def _solve_normal_equations(gram: np.ndarray, right_hand_side: np.ndarray, problem: str) -> np.ndarray:
    eigenvalues = np.linalg.eigvalsh(gram)
    if not eigenvalues[0] > eigenvalues[-1] / MAX_CONDITION:
        raise _EstimationFailure(problem)
    return np.linalg.solve(gram, right_hand_side)


def _estimate(panel: _Panel, weights: np.ndarray, start: np.ndarray, criterion: str) -> tuple[np.ndarray, float]:
    """Both stages with frequency weights; returns (b_free, b_state) and the criterion value."""
    used = weights > 0
    weighted_basis = panel.stage1_basis[used] * weights[used, None]
    basis_coefficients = _solve_normal_equations(
        weighted_basis.T @ panel.stage1_basis[used],
        weighted_basis.T @ panel.output[used],
        "the stage-1 regressors are collinear in this sample",
    )
    n_free = panel.free.shape[1]
    b_free = linalg.solve_triangular(panel.stage1_triangle, basis_coefficients)[1 : 1 + n_free]
    free_part = panel.free @ b_free
    phi = panel.stage1_basis @ basis_coefficients - free_part
    net_output = panel.output - free_part

    current = panel.current[weights[panel.current] > 0]
    if len(current) <= LAW_OF_MOTION_DEGREE + len(start):
        raise _EstimationFailure("too few firm-years with the previous year observed")
    pair_weights = weights[current] / weights[current].sum()
    state_now, phi_now, net_now = panel.state[current], phi[current], net_output[current]
    # omega_t-1 enters the law of motion only through a complete polynomial, so it may be
    # shifted and scaled: centre phi and the state inputs, scale both by sd(phi).
    phi_before, state_before = phi[current - 1], panel.state[current - 1]
    scale = phi_before.std() or 1.0
    phi_before = (phi_before - phi_before.mean()) / scale
    state_before = (state_before - state_before.mean(axis=0)) / scale
    degree = LAW_OF_MOTION_DEGREE

    # The criterion is evaluated some 40 times per draw: the constant power (ones) and its
    # weighted version (the weights themselves, exactly) are formed once, not per evaluation.
    ones = np.ones(len(current))

    def residuals(b_state: np.ndarray) -> np.ndarray:
        lagged = phi_before - state_before @ b_state
        powers = [ones]
        for _ in range(degree):
            powers.append(powers[-1] * lagged)
        weighted_powers = [pair_weights, *(pair_weights * power for power in powers[1:])]
        # Entry (j, k) of the weighted Gram matrix is the mean of lagged**(j + k): 2 * degree + 1 sums.
        power_means = [weighted_powers[min(m, degree)] @ powers[m - min(m, degree)] for m in range(2 * degree + 1)]
        gram = np.array([[power_means[j + k] for k in range(degree + 1)] for j in range(degree + 1)])
        state_effect = state_now @ b_state
        omega_now = phi_now - state_effect
        law = _solve_normal_equations(
            gram,
            np.array([weighted @ omega_now for weighted in weighted_powers]),
            "omega_t-1 takes too few distinct values for a cubic law of motion",
        )
        # law[0] + law[1] x + law[2] x^2 + ..., accumulated in place in that order (the same
        # roundings as summing the terms one by one).
        expected = np.full_like(lagged, law[0])
        for coefficient, power in zip(law[1:], powers[1:]):
            expected += coefficient * power
        return net_now - state_effect - expected

    def objective(b_state: np.ndarray) -> float:
        errors = residuals(b_state)
        if criterion == "levpet":
            return float(pair_weights @ errors**2)
        moments = (pair_weights * errors) @ state_now
        return float(moments @ moments)

    b_state, value = _minimise(objective, start)
    return np.concatenate([b_free, b_state]), value


def _minimise(objective: Callable[[np.ndarray], float], start: np.ndarray) -> tuple[np.ndarray, float]:
    """Brent's line search for one state input (levpet's ``_linemax`` is a line search too),
    Nelder-Mead for several; both without derivatives, which the criteria lack in closed form."""
    if len(start) == 1:
        line = lambda b: objective(np.array([b]))  # noqa: E731
        grid = start[0] + GRID_STEP * np.arange(-GRID_POINTS_EACH_SIDE, GRID_POINTS_EACH_SIDE + 1)
        values = [line(b) for b in grid]
        best = int(np.argmin(values))
        if 0 < best < len(grid) - 1:
            bracket = (grid[best - 1], grid[best], grid[best + 1])
        else:  # the lowest point is an end of the grid: Brent's bracket search walks on downhill
            bracket = (grid[best], grid[best] + (-GRID_STEP if best == 0 else GRID_STEP))
        solution = optimize.minimize_scalar(
            line,
            bracket=bracket,
            method="brent",
            options={"xtol": COEFFICIENT_TOLERANCE, "maxiter": MAX_CRITERION_EVALUATIONS},
        )
        b_state = np.array([solution.x])
    else:
        solution = optimize.minimize(
            objective,
            start,
            method="Nelder-Mead",
            options={
                "xatol": COEFFICIENT_TOLERANCE,
                "fatol": CRITERION_TOLERANCE,
                "maxfev": MAX_CRITERION_EVALUATIONS,
            },
        )
        b_state = solution.x
    if not solution.success or not np.all(np.isfinite(b_state)):
        raise _EstimationFailure(f"the stage-2 optimiser did not converge ({solution.message})")
    return b_state, float(solution.fun)


def _bootstrap(
    panel: _Panel,
    estimate: np.ndarray,
    n_boot: int,
    rng: np.random.Generator | None,
    cluster_bootstrap: bool,
    criterion: str,
    progress: Callable[[int, int], None] | None = None,
) -> np.ndarray:
    draws = np.full((n_boot, len(estimate)), np.nan)
    n_free = panel.free.shape[1]
    n_units = panel.n_firms if cluster_bootstrap else len(panel.output)
    for draw in range(n_boot):
        counts = np.bincount(rng.integers(0, n_units, size=n_units), minlength=n_units).astype(float)
        weights = counts[panel.firm] if cluster_bootstrap else counts
        try:
            draws[draw] = _estimate(panel, weights, estimate[n_free:], criterion)[0]
        except _EstimationFailure:
            pass  # left NaN and counted in n_boot_failed, as levpet posts a missing draw
        if progress is not None:
            progress(draw + 1, n_boot)
    return draws
