"""Mediation by the product of coefficients: Sobel, Aroian and Goodman tests and a
(cluster) bootstrap of the indirect effect (paper Table 8, Jiang 2022's two-step method).

Three regressions on one common sample, each by :func:`analysis.fixed_effects.fit_ols`
(reghdfe conventions, same fixed effects and covariance):

* path a: mediator on treatment + controls;
* path b and the direct effect c': outcome on treatment + mediator + controls;
* total effect c: outcome on treatment + controls.

The indirect effect is a*b. Its standard errors follow Stata's ``sgmediation`` (UCLA):
Sobel sqrt(b^2 Va + a^2 Vb), Aroian (sgmediation's "Goodman-1") adds Va*Vb, Goodman
(sgmediation's "Goodman-2") subtracts it; z = ab / se with normal p-values.

The bootstrap resamples whole clusters (or observations) with replacement and re-estimates
a and b on each draw, fixed effects included. A draw is a frequency-weighted regression, so
the code forms per-cluster cross-product matrices of [outcome, mediator, treatment,
controls, fixed-effect dummies] once and obtains every draw's normal equations as a
count-weighted sum of them (one matrix product for all draws). Fixed effects whose levels
each lie inside one resampling unit (firm effects with firm clusters) are absorbed once
beforehand: their weighted and unweighted projections coincide because a draw's weight is
constant within a unit. The others enter as dummies, so the draws' estimates are exact,
not iterated.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import sparse, stats

from analysis.absorption import absorb_fixed_effects, is_nested
from analysis.cross_products import first_coefficient
from analysis.fixed_effects import fit_ols
from analysis.results import (
    TIDY_COLUMNS,
    CovarianceInference,
    FrozenFields,
    RegressionResult,
    labelled_covariance,
    model_stats_frame,
)
from analysis.validation import require_columns, require_dataframe

MAX_COUNT_CELLS = 5_000_000
"""Draws are processed in batches whose resampling-count matrix has at most this many cells
(40 MB), so observation-level resampling of a large sample stays within memory."""

MAX_DENSE_CELLS = 10_000_000
"""Per-unit cross products are kept dense (one BLAS product for all draws) up to this many
cells (80 MB), e.g. 1,500 clusters x 55^2; observation-level resampling keeps them sparse."""

MAX_DUMMY_COLUMNS = 300
"""Fixed effects not nested in the resampling units enter the bootstrap as dummies; the
cost grows with the square of the column count, so more levels than this are refused."""

POINT_ESTIMATE_RTOL = 1e-6
"""The bootstrap solver, applied to the original sample, must reproduce fit_ols's a and b to
this relative precision; otherwise the draws are not trusted (ill-conditioned design)."""


@dataclass(frozen=True)
class MediationResult(FrozenFields, CovarianceInference):
    """Paths a, b, c' and c, the indirect effect a*b with its three normal-theory tests and
    its bootstrap confidence intervals.

    ``params``/``std_errors`` hold ``a``, ``b``, ``direct`` (c'), ``total`` (c) and
    ``indirect`` (a*b, with the Sobel standard error). ``stats`` holds ``sobel_se``,
    ``sobel_z``, ``sobel_p`` and likewise ``aroian_*`` and ``goodman_*``,
    ``proportion_mediated`` (indirect / total), the bootstrap intervals
    ``ci_percentile_low/high`` and ``ci_bias_corrected_low/high`` (NaN without draws),
    ``n_boot``, ``n_resampling_units`` and ``level``.
    """

    path_a: RegressionResult
    path_b: RegressionResult
    path_c: RegressionResult
    treatment: str
    mediator: str
    bootstrap_draws: np.ndarray
    stats: Mapping[str, float] = field(default_factory=dict)
    info: Mapping[str, str] = field(default_factory=dict)

    _frozen = {"bootstrap_draws": "array", "stats": "floats", "info": "texts"}

    @property
    def nobs(self) -> int:
        return self.path_b.nobs

    @property
    def params(self) -> pd.Series:
        a = self.path_a.params[self.treatment]
        b = self.path_b.params[self.mediator]
        return pd.Series(
            {
                "a": a,
                "b": b,
                "direct": self.path_b.params[self.treatment],
                "total": self.path_c.params[self.treatment],
                "indirect": a * b,
            },
            name="params",
        )

    @property
    def std_errors(self) -> pd.Series:
        return pd.Series(
            {
                "a": self.path_a.std_errors[self.treatment],
                "b": self.path_b.std_errors[self.mediator],
                "direct": self.path_b.std_errors[self.treatment],
                "total": self.path_c.std_errors[self.treatment],
                "indirect": self.stats["sobel_se"],
            },
            name="std_errors",
        )

    @property
    def vcov(self) -> pd.DataFrame:
        """Covariance of (a, b, direct, total, indirect) under Sobel's assumptions.

        b and direct share path b's covariance block; the indirect effect a*b gets the
        first-order delta-method (Sobel) variance b^2 V(a) + a^2 V(b) and covariances
        b V(a), a V(b), a C(b, direct). Covariances between the separately fitted
        regressions (a with b and direct; total with everything) are set to zero, Sobel's
        independence assumption; they are not estimated, so joint tests involving ``total``
        together with another path are not offered by this matrix. Intervals and tests use
        the normal / chi2 distribution, as the Sobel test does.
        """
        a, b = self.params["a"], self.params["b"]
        var_a = float(self.path_a.vcov.loc[self.treatment, self.treatment])
        block_b = self.path_b.vcov.loc[[self.mediator, self.treatment], [self.mediator, self.treatment]].to_numpy()
        var_total = float(self.path_c.vcov.loc[self.treatment, self.treatment])
        matrix = np.zeros((5, 5))
        matrix[0, 0] = var_a
        matrix[1:3, 1:3] = block_b
        matrix[3, 3] = var_total
        matrix[4, 4] = self.stats["sobel_se"] ** 2
        matrix[0, 4] = matrix[4, 0] = b * var_a
        matrix[1, 4] = matrix[4, 1] = a * block_b[0, 0]
        matrix[2, 4] = matrix[4, 2] = a * block_b[0, 1]
        return labelled_covariance(matrix, list(self.params.index))

    def model_stats(self) -> pd.DataFrame:
        """Long frame of (stat, value, text): nobs, then ``stats`` and ``info``."""
        return model_stats_frame(self.nobs, self.stats, self.info)

    def tidy(self) -> pd.DataFrame:
        """Rows a, b, direct, total (from their regressions) and indirect_sobel,
        indirect_aroian, indirect_goodman (z statistics, normal p-values)."""
        paths = [
            ("a", self.path_a, self.treatment),
            ("b", self.path_b, self.mediator),
            ("direct", self.path_b, self.treatment),
            ("total", self.path_c, self.treatment),
        ]
        rows = [
            (name, fit.params[term], fit.std_errors[term], fit.statistic[term], fit.p_value[term])
            for name, fit, term in paths
        ]
        indirect = self.params["indirect"]
        for test in ("sobel", "aroian", "goodman"):
            rows.append(
                (
                    f"indirect_{test}",
                    indirect,
                    self.stats[f"{test}_se"],
                    self.stats[f"{test}_z"],
                    self.stats[f"{test}_p"],
                )
            )
        return pd.DataFrame(rows, columns=list(TIDY_COLUMNS))


def fit_mediation(
    data: pd.DataFrame,
    outcome: str,
    treatment: str,
    mediator: str,
    controls: Sequence[str] = (),
    fixed_effects: Sequence[str] = (),
    cluster: str | None = None,
    n_boot: int = 1000,
    *,
    rng: np.random.Generator | None = None,
    cluster_bootstrap: bool = True,
    level: float = 0.95,
    progress: Callable[[int, int], None] | None = None,
    vce: str | None = None,
) -> MediationResult:
    """Product-of-coefficients mediation of ``treatment`` -> ``mediator`` -> ``outcome``.

    ``vce`` is passed to :func:`~analysis.fixed_effects.fit_ols` (default: "cluster" when
    ``cluster`` is given, else "robust"). ``n_boot`` draws (0 for none) resample whole
    clusters when ``cluster_bootstrap`` and ``cluster`` are both given, else observations;
    ``rng`` is required when ``n_boot`` > 0. Rows missing any used variable are dropped
    first, so the three regressions and the bootstrap share one sample.

    Resampling scheme (reproducible): units are numbered in order of first appearance in that
    sample (observations: in row order); with U units, draw d takes its counts from row d of
    ``rng.multinomial(U, [1/U] * U, size=...)``, requested in consecutive batches of
    max(1, MAX_COUNT_CELLS // U) draws. Each draw equals the regressions on the data with
    every unit repeated ``count`` times. ``progress(done, n_boot)`` is called after each batch
    (for a log; it does not change the draws).
    """
    controls = list(controls)
    fixed_effects = list(fixed_effects)
    _validate(data, outcome, treatment, mediator, controls, fixed_effects, cluster, n_boot, rng, level)

    used = list(dict.fromkeys([outcome, treatment, mediator, *controls, *fixed_effects, *filter(None, [cluster])]))
    sample = data[used].dropna()
    shared = {"fixed_effects": fixed_effects, "cluster": cluster, "vce": vce}
    path_a = fit_ols(sample, mediator, [treatment, *controls], **shared)
    path_b = fit_ols(sample, outcome, [treatment, mediator, *controls], **shared)
    path_c = fit_ols(sample, outcome, [treatment, *controls], **shared)

    a, b = path_a.params[treatment], path_b.params[mediator]
    var_a, var_b = path_a.std_errors[treatment] ** 2, path_b.std_errors[mediator] ** 2
    indirect = a * b
    result_stats: dict[str, float] = {}
    for test, extra in (("sobel", 0.0), ("aroian", var_a * var_b), ("goodman", -var_a * var_b)):
        # Goodman's variance subtracts Va*Vb and is negative when both paths are imprecise
        # next to their size; its test is then undefined (sgmediation prints a missing value).
        variance = b**2 * var_a + a**2 * var_b + extra
        se = float(np.sqrt(variance)) if variance > 0 else np.nan
        result_stats[f"{test}_se"] = se
        result_stats[f"{test}_z"] = indirect / se
        result_stats[f"{test}_p"] = float(2 * stats.norm.sf(abs(indirect / se)))
    result_stats["proportion_mediated"] = indirect / path_c.params[treatment]

    resample_clusters = cluster_bootstrap and cluster is not None
    units = pd.factorize(sample[cluster])[0] if resample_clusters else np.arange(len(sample))
    draws = np.empty(0)
    if n_boot > 0:
        bootstrap = _BootstrapDesign.build(sample, outcome, treatment, mediator, controls, fixed_effects, units)
        bootstrap.check_against(a, b)
        draws = bootstrap.indirect_effects(n_boot, rng, progress)
    result_stats.update(_confidence_intervals(draws, indirect, level))
    result_stats.update(
        {"n_boot": float(n_boot), "n_resampling_units": float(units.max() + 1), "level": level}
    )
    return MediationResult(
        path_a=path_a,
        path_b=path_b,
        path_c=path_c,
        treatment=treatment,
        mediator=mediator,
        bootstrap_draws=draws,
        stats=result_stats,
        info={
            "resampling_unit": f"cluster ({cluster})" if resample_clusters else "observation",
            "fixed_effects": ", ".join(fixed_effects) or "none",
            "vce": path_b.info["vce"],
        },
    )


def _validate(
    data: pd.DataFrame,
    outcome: str,
    treatment: str,
    mediator: str,
    controls: list[str],
    fixed_effects: list[str],
    cluster: str | None,
    n_boot: int,
    rng: np.random.Generator | None,
    level: float,
) -> None:
    require_dataframe(data)
    roles = [outcome, treatment, mediator, *controls]
    repeated = sorted({name for name in roles if roles.count(name) > 1})
    if repeated:
        raise ValueError(f"column(s) used in more than one role (outcome/treatment/mediator/controls): {repeated}")
    require_columns(data, [*roles, *fixed_effects, *filter(None, [cluster])])
    if not isinstance(n_boot, (int, np.integer)) or n_boot < 0:
        raise ValueError(f"n_boot must be a non-negative integer, got {n_boot!r}")
    if n_boot > 0 and not isinstance(rng, np.random.Generator):
        raise ValueError("rng must be a numpy.random.Generator when n_boot > 0")
    if not 0 < level < 1:
        raise ValueError(f"level must lie strictly between 0 and 1, got {level!r}")


def _confidence_intervals(draws: np.ndarray, estimate: float, level: float) -> dict[str, float]:
    """Percentile and bias-corrected (Efron) intervals, as Stata's ``estat bootstrap``.

    Quantiles use Stata's ``_pctile`` definition (inverted empirical distribution,
    averaging at ties: numpy's "averaged_inverted_cdf"); the bias correction is
    z0 = Phi^-1(share of draws <= estimate).
    """
    if draws.size == 0:
        return {
            "ci_percentile_low": np.nan,
            "ci_percentile_high": np.nan,
            "ci_bias_corrected_low": np.nan,
            "ci_bias_corrected_high": np.nan,
        }
    alpha = 1 - level
    tails = np.array([alpha / 2, 1 - alpha / 2])
    percentile = np.quantile(draws, tails, method="averaged_inverted_cdf")
    z0 = stats.norm.ppf(np.mean(draws <= estimate))
    corrected_tails = stats.norm.cdf(2 * z0 + stats.norm.ppf(tails))
    bias_corrected = np.quantile(draws, corrected_tails, method="averaged_inverted_cdf")
    return {
        "ci_percentile_low": percentile[0],
        "ci_percentile_high": percentile[1],
        "ci_bias_corrected_low": bias_corrected[0],
        "ci_bias_corrected_high": bias_corrected[1],
    }


@dataclass(frozen=True)
class _BootstrapDesign:
    """Each resampling unit's cross-product matrix X_u'X_u of the columns [outcome, mediator,
    treatment, controls..., constant or fixed-effect dummies], flattened to one row.

    Continuous columns are scaled to unit root mean square for the solver; dummies stay 0/1.
    The first set of dummies keeps all its levels (it spans the constant); later sets lose
    their first level (its column stays, all zero). When fixed effects nested in the units
    are absorbed, the remaining dummies are demeaned on them and are dense.
    """

    unit_cross_products: sparse.csr_matrix | np.ndarray
    scale: np.ndarray

    @property
    def n_units(self) -> int:
        return self.unit_cross_products.shape[0]

    @property
    def n_columns(self) -> int:
        return len(self.scale)

    @classmethod
    def build(
        cls,
        sample: pd.DataFrame,
        outcome: str,
        treatment: str,
        mediator: str,
        controls: list[str],
        fixed_effects: list[str],
        units: np.ndarray,
    ) -> _BootstrapDesign:
        n = len(sample)
        dense = sample[[outcome, mediator, treatment, *controls]].to_numpy(dtype=float)
        codes = {name: pd.factorize(sample[name], sort=True)[0] for name in fixed_effects}
        within_units = [name for name in fixed_effects if is_nested(codes[name], units)]
        across_units = [name for name in fixed_effects if name not in within_units]
        levels = np.array([int(codes[name].max()) + 1 for name in across_units], dtype=int)
        if levels.sum() > MAX_DUMMY_COLUMNS:
            raise ValueError(
                f"fixed effects {across_units} are not nested in the resampling units and need "
                f"{levels.sum()} dummy columns in the bootstrap; at most {MAX_DUMMY_COLUMNS} are supported"
            )
        if not fixed_effects:
            dense = np.column_stack([dense, np.ones(n)])
        # Each observation's dummy in every set: its column among the dummies and its value,
        # 0 for a set's dropped first level. The first set keeps that level when no absorbed
        # fixed effect has taken out the constant.
        offsets = np.cumsum([0, *levels[:-1]], dtype=int)
        dummy_index = np.zeros((n, len(across_units)), dtype=int)
        dummy_value = np.zeros((n, len(across_units)))
        for position, name in enumerate(across_units):
            dummy_index[:, position] = offsets[position] + codes[name]
            dummy_value[:, position] = (codes[name] != 0) | (position == 0 and not within_units)
        if within_units:
            expanded = np.zeros((n, int(levels.sum())))
            expanded[np.arange(n)[:, None], dummy_index] = dummy_value
            dense, _ = absorb_fixed_effects(np.column_stack([dense, expanded]), sample[within_units])
            dummy_index, dummy_value = dummy_index[:, :0], dummy_value[:, :0]
        n_dense = dense.shape[1]
        n_columns = n_dense + (0 if within_units else int(levels.sum()))

        scale = np.ones(n_columns)
        scale[:n_dense] = np.sqrt(np.mean(dense**2, axis=0))
        scale[scale == 0] = 1.0
        index = np.column_stack([np.broadcast_to(np.arange(n_dense), (n, n_dense)), n_dense + dummy_index])
        value = np.column_stack([dense / scale[:n_dense], dummy_value])
        width = index.shape[1]
        row_products = sparse.csr_matrix(
            (
                (value[:, :, None] * value[:, None, :]).ravel(),
                (np.repeat(np.arange(n), width * width), (index[:, :, None] * n_columns + index[:, None, :]).ravel()),
            ),
            shape=(n, n_columns * n_columns),
        )
        membership = sparse.csr_matrix((np.ones(n), (units, np.arange(n))), shape=(int(units.max()) + 1, n))
        unit_products = (membership @ row_products).tocsr()
        if np.prod(unit_products.shape) <= MAX_DENSE_CELLS:
            unit_products = unit_products.toarray()
        return cls(unit_products, scale)

    def indirect_effects(self, n_boot: int, rng: np.random.Generator,
                         progress: Callable[[int, int], None] | None = None) -> np.ndarray:
        """a*b on ``n_boot`` samples of the resampling units drawn with replacement;
        ``progress(done, n_boot)`` after each batch."""
        batch = max(1, MAX_COUNT_CELLS // self.n_units)
        draws = []
        uniform = np.full(self.n_units, 1.0 / self.n_units)
        for start in range(0, n_boot, batch):
            counts = rng.multinomial(self.n_units, uniform, size=min(batch, n_boot - start)).astype(float)
            a, b = self._paths(self._weighted_cross_products(counts))
            draws.append(a * b)
            if progress is not None:
                progress(start + len(counts), n_boot)
        return np.concatenate(draws)

    def check_against(self, a: float, b: float) -> None:
        """Refuse to bootstrap if the solver does not reproduce the point estimates."""
        a_check, b_check = self._paths(self._weighted_cross_products(np.ones((1, self.n_units))))
        if not (
            np.isclose(a_check[0], a, rtol=POINT_ESTIMATE_RTOL, atol=0)
            and np.isclose(b_check[0], b, rtol=POINT_ESTIMATE_RTOL, atol=0)
        ):
            raise RuntimeError(
                f"the bootstrap solver gives a={a_check[0]!r}, b={b_check[0]!r} on the original sample "
                f"but the regressions give a={a!r}, b={b!r}; the design is too ill-conditioned to bootstrap"
            )

    def _weighted_cross_products(self, counts: np.ndarray) -> np.ndarray:
        """sum_u counts[d, u] * X_u'X_u for every draw d."""
        if isinstance(self.unit_cross_products, np.ndarray):
            weighted = counts @ self.unit_cross_products
        else:
            weighted = np.asarray(self.unit_cross_products.T @ counts.T).T
        return weighted.reshape(counts.shape[0], self.n_columns, self.n_columns)

    def _paths(self, cross_products: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """a (mediator on treatment + rest) and b (outcome on mediator, treatment + rest)."""
        outcome, mediator, treatment = 0, 1, 2
        rest = list(range(3, self.n_columns))
        a = first_coefficient(cross_products, mediator, [treatment, *rest])
        b = first_coefficient(cross_products, outcome, [mediator, treatment, *rest])
        return (
            a * self.scale[mediator] / self.scale[treatment],
            b * self.scale[outcome] / self.scale[mediator],
        )
