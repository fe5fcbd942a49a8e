"""Fisher's permutation test of a between-group difference in one regression coefficient, as
Stata's ``bdiff`` (Lian Yujun, version 1.04, permutation method) computes it (paper Table 10).

bdiff fits the same model separately on group 0 and group 1 of a 0/1 variable and reports the
difference d = b0 - b1 (its column "b0-b1"); the paper's Table 10 differences have this form
(0.276 = 0.216 - (-0.060): non-heavy-polluting minus heavy-polluting, heavy polluters coded 1;
-0.180 = -0.017 - 0.164: low-tech minus high-tech). It then draws random group labels keeping
the size of group 0, refits both models and records each draw's difference. Its empirical
p-value is the share of draws with a difference >= d, replaced by one minus that share when
the share exceeds 0.5: a one-sided p-value in the direction of the observed difference. That
is the p-value the paper's Table 10 reports (``p_value``); both one-sided shares and the
two-sided share of draws with |difference| >= |d| are returned too. With ``permute_by``, whole
units (firms) change group together, as in bdiff's branch for ``xt`` commands, which keeps
the number of group-0 panel units.

Differences from bdiff: rows missing any variable are dropped before the group sizes are
counted (bdiff permutes all rows and counts group 0 by the regression's e(N), after reghdfe has
dropped singletons), and labels are drawn by ``rng`` (scheme below), not Stata's runiform.

Each draw needs only the two coefficients, and refitting with ``fit_ols`` twice per draw takes
minutes on a 24,000-row panel, so draws are computed from sufficient statistics. A group's
regression with absorbed fixed effects has the same slopes as OLS on the fixed-effect dummies
(singletons, dropped by fit_ols, are fitted exactly by their dummy and do not move the slopes).
Observations sharing a cell of the fixed effects (a year-province pair) share their dummies, so
the normal equations of any group are built from per-unit sums: z z' of z = [y, regressors]
and, per cell, the count and the sum of z. A draw's group-1 statistics are one matrix product
of its 0/1 unit labels with these sums and group 0's are the totals minus group 1's. Each
group's coefficient is then solved from its normal equations (minimum-norm, so absent or
redundant dummies do not matter). The solver must reproduce fit_ols's coefficients on the
observed groups, and the tests check draws against fit_ols on the permuted data to 1e-8.

Drawing scheme (reproducible): units are the complete-case rows in data order, or the levels of
``permute_by`` in order of first appearance; draw d's unit labels are row d of
``rng.permuted(np.broadcast_to(labels, (n_draws, n_units)), axis=1)`` with ``labels`` the
observed 0/1 group of each unit (requested in consecutive batches, which yields the same rows).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import sparse

from analysis.cross_products import first_coefficient
from analysis.fixed_effects import fit_ols
from analysis.results import TIDY_COLUMNS, FrozenFields, RegressionResult, labelled_covariance, stat_rows
from analysis.validation import require_columns, require_dataframe

MAX_DUMMY_COLUMNS = 300
"""Fixed effects enter the draws as dummies; the cost grows with the square of their count."""

MAX_BATCH_CELLS = 5_000_000
"""Draws are processed in batches whose largest work array has at most this many cells (40 MB)."""

POINT_ESTIMATE_RTOL = 1e-6
"""The draw solver, applied to the observed groups, must reproduce fit_ols's coefficients to
this relative precision; otherwise the design is too ill-conditioned for the draws to be trusted."""


@dataclass(frozen=True)
class PermutationTestResult(FrozenFields):
    """The two group regressions, the observed difference b0 - b1 and its permutation draws.

    ``stats``: ``observed_difference``, ``p_value`` (bdiff's: one-sided in the direction of the
    observed difference), ``p_value_upper`` (share of draws >= d), ``p_value_lower`` (share
    <= d), ``p_value_two_sided`` (share with |draw| >= |d|), ``n_draws``, ``n_units_group0`` and
    ``n_units_group1`` (observations, or ``permute_by`` levels, in each group).
    """

    fit_group0: RegressionResult
    fit_group1: RegressionResult
    term: str
    draws: np.ndarray
    stats: Mapping[str, float] = field(default_factory=dict)
    info: Mapping[str, str] = field(default_factory=dict)

    _frozen = {"draws": "array", "stats": "floats", "info": "texts"}

    @property
    def observed_difference(self) -> float:
        return self.stats["observed_difference"]

    @property
    def p_value(self) -> float:
        return self.stats["p_value"]

    @property
    def n_draws(self) -> int:
        return len(self.draws)

    @property
    def nobs(self) -> int:
        return self.fit_group0.nobs + self.fit_group1.nobs

    @property
    def params(self) -> pd.Series:
        """``b0`` and ``b1`` (the term in each group) and ``difference`` = b0 - b1."""
        b0, b1 = self.fit_group0.params[self.term], self.fit_group1.params[self.term]
        return pd.Series({"b0": b0, "b1": b1, "difference": b0 - b1}, name="params")

    @property
    def std_errors(self) -> pd.Series:
        """The groups' standard errors; the permutation test gives none for the difference."""
        return pd.Series(
            {
                "b0": self.fit_group0.std_errors[self.term],
                "b1": self.fit_group1.std_errors[self.term],
                "difference": np.nan,
            },
            name="std_errors",
        )

    @property
    def vcov(self) -> pd.DataFrame:
        """Covariance of (b0, b1, difference): the groups are fitted on disjoint samples, so b0
        and b1 are uncorrelated; the difference has no analytic variance here (its inference is
        the permutation distribution), so its row and column are NaN."""
        matrix = np.full((3, 3), np.nan)
        matrix[:2, :2] = np.diag([self.fit_group0.vcov.loc[self.term, self.term],
                                  self.fit_group1.vcov.loc[self.term, self.term]])
        return labelled_covariance(matrix, list(self.params.index))

    def model_stats(self) -> pd.DataFrame:
        """The difference column of a results table, as bdiff reports it: ``stats`` (the
        observed difference, the empirical p-values, the draws and group sizes) and the
        ``group``, ``difference`` and ``permutation_unit`` descriptions. No ``nobs``: the
        observations are those of the two group fits, each reported in its own column."""
        described = {name: self.info[name] for name in ("group", "difference", "permutation_unit")}
        return stat_rows({**self.stats, **described})

    def tidy(self) -> pd.DataFrame:
        """Rows b0 and b1 (with their regressions' t tests) and difference (bdiff's p-value)."""
        rows = [
            (name, fit.params[self.term], fit.std_errors[self.term], fit.statistic[self.term], fit.p_value[self.term])
            for name, fit in (("b0", self.fit_group0), ("b1", self.fit_group1))
        ]
        rows.append(("difference", self.observed_difference, np.nan, np.nan, self.p_value))
        return pd.DataFrame(rows, columns=list(TIDY_COLUMNS))


@dataclass(frozen=True)
class _SplitNormalEquations:
    """Per-unit sufficient statistics from which any split of the units into two groups yields
    each group's coefficient on the first regressor exactly.

    ``z`` holds [depvar, term, other regressors], each centred and scaled to unit standard
    deviation on the whole sample (slopes are unchanged, since each group's dummies span its
    constant; the normal equations are better conditioned). ``unit_products`` row u is the
    flattened sum of z z' over unit u; ``unit_cells`` row u holds, for every fixed-effect cell
    c, [count, sum of z] over the unit's observations in c; ``cell_dummies`` row c is the cell's
    dummy vector (every level of every fixed effect, or a constant without fixed effects).
    """

    unit_products: np.ndarray
    unit_cells: sparse.csr_matrix
    cell_dummies: np.ndarray
    scale: np.ndarray

    @property
    def n_units(self) -> int:
        return self.unit_products.shape[0]

    @property
    def n_dense(self) -> int:
        return len(self.scale)

    @classmethod
    def build(
        cls, sample: pd.DataFrame, columns: list[str], fixed_effects: list[str], units: np.ndarray
    ) -> _SplitNormalEquations:
        n_obs = len(sample)
        values = sample[columns].to_numpy(dtype=float)
        scale = values.std(axis=0)
        scale[scale == 0] = 1.0
        z = (values - values.mean(axis=0)) / scale
        n_dense = z.shape[1]

        if fixed_effects:
            codes = [pd.factorize(sample[name], sort=True)[0] for name in fixed_effects]
            levels = [int(code.max()) + 1 for code in codes]
            combined = np.zeros(n_obs, dtype=np.int64)
            for code, count in zip(codes, levels):
                combined = combined * count + code
            cell_codes = pd.factorize(combined)[0]
            first_in_cell = np.unique(cell_codes, return_index=True)[1]
            offsets = np.cumsum([0, *levels[:-1]])
            cell_dummies = np.zeros((len(first_in_cell), sum(levels)))
            for code, offset in zip(codes, offsets):
                cell_dummies[np.arange(len(first_in_cell)), offset + code[first_in_cell]] = 1.0
        else:
            cell_codes = np.zeros(n_obs, dtype=int)
            cell_dummies = np.ones((1, 1))
        n_cells = cell_dummies.shape[0]

        membership = sparse.csr_matrix((np.ones(n_obs), (units, np.arange(n_obs))), shape=(int(units.max()) + 1, n_obs))
        products = (z[:, :, None] * z[:, None, :]).reshape(n_obs, n_dense * n_dense)
        width = n_dense + 1
        per_cell = sparse.csr_matrix(
            (
                np.column_stack([np.ones(n_obs), z]).ravel(),
                (np.repeat(np.arange(n_obs), width), (cell_codes[:, None] * width + np.arange(width)).ravel()),
            ),
            shape=(n_obs, n_cells * width),
        )
        return cls(
            unit_products=np.asarray(membership @ products),
            unit_cells=(membership @ per_cell).tocsr(),
            cell_dummies=cell_dummies,
            scale=scale,
        )

    def batch_size(self) -> int:
        n_cells, n_dummies = self.cell_dummies.shape
        largest_per_draw = max(self.n_units, self.unit_cells.shape[1], n_cells * n_dummies)
        return max(1, MAX_BATCH_CELLS // largest_per_draw)

    def coefficients(self, group_one: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Coefficient on the term in group 0 and in group 1 for each row of 0/1 unit labels."""
        ones = np.ones((1, self.n_units))
        totals_dense = ones @ self.unit_products
        totals_cells = np.asarray(self.unit_cells.T @ ones.T).T
        dense_one = group_one @ self.unit_products
        cells_one = np.asarray(self.unit_cells.T @ group_one.T).T
        return (
            self._solve(totals_dense - dense_one, totals_cells - cells_one),
            self._solve(dense_one, cells_one),
        )

    def _solve(self, dense: np.ndarray, cells: np.ndarray) -> np.ndarray:
        n_draws, p = dense.shape[0], self.n_dense
        n_cells, n_dummies = self.cell_dummies.shape
        cells = cells.reshape(n_draws, n_cells, p + 1)
        counts, sums = cells[:, :, 0], cells[:, :, 1:]
        normal = np.empty((n_draws, p + n_dummies, p + n_dummies))
        normal[:, :p, :p] = dense.reshape(n_draws, p, p)
        dummy_by_z = self.cell_dummies.T @ sums
        normal[:, p:, :p] = dummy_by_z
        normal[:, :p, p:] = dummy_by_z.transpose(0, 2, 1)
        normal[:, p:, p:] = self.cell_dummies.T @ (counts[:, :, None] * self.cell_dummies)
        coefficient = first_coefficient(normal, 0, list(range(1, p + n_dummies)))
        return coefficient * self.scale[0] / self.scale[1]


def _validate(
    data: pd.DataFrame,
    group: str,
    depvar: str,
    regressors: list[str],
    term: str,
    fixed_effects: list[str],
    cluster: str | None,
    n_draws: int,
    rng: np.random.Generator,
    permute_by: str | None,
) -> None:
    require_dataframe(data)
    if term not in regressors:
        raise ValueError(f"term {term!r} is not among the regressors {regressors}")
    if group in [depvar, *regressors]:
        raise ValueError(f"group column {group!r} cannot also be the depvar or a regressor")
    require_columns(data, [group, depvar, *regressors, *fixed_effects, *filter(None, [cluster, permute_by])])
    if not isinstance(n_draws, (int, np.integer)) or n_draws < 1:
        raise ValueError(f"n_draws must be a positive integer, got {n_draws!r}")
    if not isinstance(rng, np.random.Generator):
        raise ValueError("rng must be a numpy.random.Generator")


def _unit_labels(sample: pd.DataFrame, group: str, permute_by: str | None) -> tuple[np.ndarray, np.ndarray]:
    """Each observation's unit and each unit's 0/1 group; a unit must lie in one group."""
    in_group_one = sample[group].to_numpy(dtype=int)
    if permute_by is None:
        return np.arange(len(sample)), in_group_one
    units = pd.factorize(sample[permute_by])[0]
    groups_per_unit = pd.Series(in_group_one).groupby(units).nunique()
    straddling = groups_per_unit.index[groups_per_unit.to_numpy() > 1]
    if len(straddling):
        example = sample[permute_by].iloc[int(np.flatnonzero(units == straddling[0])[0])]
        raise ValueError(
            f"permute_by={permute_by!r}: {len(straddling)} unit(s) have observations in both groups "
            f"(e.g. {example!r}); permute observations instead or fix the grouping"
        )
    labels = np.zeros(int(units.max()) + 1, dtype=int)
    labels[units] = in_group_one
    return units, labels


def permutation_coefficient_difference(
    data: pd.DataFrame,
    group: str,
    depvar: str,
    regressors: Sequence[str],
    term: str,
    fixed_effects: Sequence[str] = (),
    cluster: str | None = None,
    n_draws: int = 1000,
    *,
    rng: np.random.Generator,
    permute_by: str | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> PermutationTestResult:
    """bdiff's permutation test of b0 - b1, the coefficient on ``term`` in group 0 minus group 1.

    ``group`` is a 0/1 column. Each group's regression is :func:`fit_ols` of ``depvar`` on
    ``regressors`` absorbing ``fixed_effects`` (each group has its own fixed effects), with
    ``cluster``-robust errors when ``cluster`` is given and robust ones otherwise. ``permute_by``
    names a column (e.g. the firm) whose levels change group as a whole in the draws; by default
    observations are permuted. See the module docstring for the p-values and the drawing scheme.
    ``progress(done, n_draws)`` is called after each batch of draws (for a log).
    """
    regressors = list(regressors)
    fixed_effects = list(fixed_effects)
    _validate(data, group, depvar, regressors, term, fixed_effects, cluster, n_draws, rng, permute_by)
    used = list(dict.fromkeys([group, depvar, *regressors, *fixed_effects, *filter(None, [cluster, permute_by])]))
    sample = data[used].dropna()
    observed_groups = set(pd.unique(sample[group]).tolist())
    if observed_groups != {0, 1}:
        raise ValueError(
            f"group column {group!r} must take the values 0 and 1 (both present), has {sorted(observed_groups)}"
        )
    n_dummies = sum(sample[name].nunique() for name in fixed_effects)
    if n_dummies > MAX_DUMMY_COLUMNS:
        raise ValueError(
            f"fixed effects {fixed_effects} have {n_dummies} levels; the permutation draws support at most "
            f"{MAX_DUMMY_COLUMNS} (absorb high-dimensional effects such as firms before testing)"
        )

    in_group_one = sample[group].to_numpy(dtype=int) == 1
    shared = {"fixed_effects": fixed_effects, "cluster": cluster}
    fit_group0 = fit_ols(sample.loc[~in_group_one], depvar, regressors, **shared)
    fit_group1 = fit_ols(sample.loc[in_group_one], depvar, regressors, **shared)
    observed = fit_group0.params[term] - fit_group1.params[term]

    units, labels = _unit_labels(sample, group, permute_by)
    ordered = [depvar, term, *[name for name in regressors if name != term]]
    equations = _SplitNormalEquations.build(sample, ordered, fixed_effects, units)
    check0, check1 = equations.coefficients(labels[None, :].astype(float))
    if not (
        np.isclose(check0[0], fit_group0.params[term], rtol=POINT_ESTIMATE_RTOL, atol=0)
        and np.isclose(check1[0], fit_group1.params[term], rtol=POINT_ESTIMATE_RTOL, atol=0)
    ):
        raise RuntimeError(
            f"the draw solver gives b0={check0[0]!r}, b1={check1[0]!r} on the observed groups but the "
            f"regressions give b0={fit_group0.params[term]!r}, b1={fit_group1.params[term]!r}; the design "
            "is too ill-conditioned for permutation draws"
        )

    draws = []
    batch = equations.batch_size()
    # Shuffling the labels as floats draws the same permutations as shuffling them as integers
    # (the shuffle consumes the generator independently of the dtype) and saves a copy per batch.
    float_labels = labels.astype(float)
    for start in range(0, n_draws, batch):
        size = min(batch, n_draws - start)
        permuted = rng.permuted(np.broadcast_to(float_labels, (size, len(labels))), axis=1)
        b0, b1 = equations.coefficients(permuted)
        draws.append(b0 - b1)
        if progress is not None:
            progress(start + size, n_draws)
    draws = np.concatenate(draws)

    upper = float(np.mean(draws >= observed))
    return PermutationTestResult(
        fit_group0=fit_group0,
        fit_group1=fit_group1,
        term=term,
        draws=draws,
        stats={
            "observed_difference": observed,
            "p_value": upper if upper <= 0.5 else 1 - upper,
            "p_value_upper": upper,
            "p_value_lower": float(np.mean(draws <= observed)),
            "p_value_two_sided": float(np.mean(np.abs(draws) >= abs(observed))),
            "n_draws": n_draws,
            "n_units_group0": int(np.sum(labels == 0)),
            "n_units_group1": int(np.sum(labels == 1)),
        },
        info={
            "group": group,
            "term": term,
            "difference": "b0 - b1 (group 0 minus group 1, as bdiff)",
            "permutation_unit": permute_by or "observation",
            "fixed_effects": ", ".join(fixed_effects) or "none",
        },
    )
