"""Frozen result objects shared by every estimator family, and the protocol they satisfy.

Every estimator in ``analysis`` returns a ``RegressionResult`` (or a dataclass that
embeds one) so that Dagster assets, the tidy tables in DuckDB and the table renderer
can treat all of them alike. Every result satisfies :class:`EstimationResult`: ``params``,
``std_errors``, the labelled covariance ``vcov``, ``conf_int(level)``, ``wald_test(R, q)``
(or ``wald_test("x1 = x2, x3 = 0")``), ``tidy()``, ``model_stats()``, ``vcov_rows()`` (the
covariance as long rows for the ``results.vcov`` table) and ``nobs``.

``tidy()`` and ``model_stats()`` are the rows a results table stores for the result's column
(``results.coefficients`` and ``results.model_stats``: (stat, value, text), numbers in value,
descriptions in text), so a writer needs nothing else from the result; ``ReportedColumn``
appends a column's own facts (a seed, an instrument) to them. Results that are tests rather
than fits (the permutation test of :mod:`analysis.permutation`, Moran's I, the spatial effects)
satisfy :class:`ReportedResult`: ``params``, ``std_errors``, ``vcov``, ``nobs``, ``tidy()`` and
``model_stats()``, without a ``wald_test()`` that would not mean anything for them. Every result is a frozen dataclass
whose arrays and mappings are read-only copies (:class:`FrozenFields`).

Inference follows Stata's ``test`` and ``lincom``: after an estimator reporting t
statistics (``stat_kind == "t"``) the Wald statistic is reported as F(r, df_resid) and
intervals use t(df_resid), ``df_resid`` being the estimator's own residual degrees of
freedom (``stats["df_resid"]``, clusters - 1 when clustered); after z statistics, chi2(r)
and the normal distribution.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Callable, ClassVar, Mapping, Protocol, Sequence, runtime_checkable

import numpy as np
import pandas as pd

CONSTANT_TERM = "const"
"""The name of the intercept in every result's terms (reghdfe and ivreg2 print ``_cons``)."""

TIDY_COLUMNS = ("term", "estimate", "std_error", "statistic", "p_value")
VCOV_COLUMNS = ("row_term", "column_term", "covariance")


@dataclass(frozen=True)
class WaldTest:
    """A joint Wald test of ``R b = q``: ``statistic`` is F(df, df_denom) after t-based
    estimators (Stata's ``test`` after regress/reghdfe/ivreg2, small) and chi2(df) after
    z-based ones (``df_denom`` is then NaN)."""

    statistic: float
    df: int
    df_denom: float
    p_value: float
    distribution: str


@runtime_checkable
class ReportedResult(Protocol):
    """What every result of ``analysis`` exposes, tests included: its estimates and the rows
    of its results column."""

    @property
    def params(self) -> pd.Series: ...

    @property
    def std_errors(self) -> pd.Series: ...

    @property
    def vcov(self) -> pd.DataFrame: ...

    @property
    def nobs(self) -> int: ...

    def tidy(self) -> pd.DataFrame: ...

    def model_stats(self) -> pd.DataFrame: ...


@runtime_checkable
class EstimationResult(ReportedResult, Protocol):
    """What every fitted model of ``analysis`` exposes (checked by one parametrised unit test):
    a :class:`ReportedResult` with intervals, Wald tests and its covariance as long rows."""

    @property
    def inference_df(self) -> float | None: ...

    def conf_int(self, level: float = 0.95) -> pd.DataFrame: ...

    def wald_test(self, restrictions: np.ndarray | str, q: np.ndarray | float | None = None) -> WaldTest: ...

    def vcov_rows(self) -> pd.DataFrame: ...


def labelled_covariance(matrix: np.ndarray, terms: Sequence[str]) -> pd.DataFrame:
    """A symmetric read-only covariance frame labelled by ``terms`` on both axes."""
    values = np.array(matrix, dtype=float, copy=True).reshape(len(terms), len(terms))
    frame = pd.DataFrame(values, index=list(terms), columns=list(terms))
    frame.index.name = "term"
    return frame


def confidence_interval(params: pd.Series, std_errors: pd.Series, level: float, df: float | None) -> pd.DataFrame:
    """Two-sided ``level`` intervals: t(df) quantiles when ``df`` is given, normal otherwise."""
    from scipy import stats as distributions  # here, so that importing results stays light

    if not 0 < level < 1:
        raise ValueError(f"level must lie strictly between 0 and 1, got {level!r}")
    tail = (1 + level) / 2
    critical = distributions.t.ppf(tail, df) if df is not None else distributions.norm.ppf(tail)
    half_width = critical * std_errors.to_numpy(dtype=float)
    estimate = params.to_numpy(dtype=float)
    return pd.DataFrame({"lower": estimate - half_width, "upper": estimate + half_width}, index=params.index)


def restriction_matrix(
    terms: Sequence[str], restrictions: np.ndarray | str, q: np.ndarray | float | None
) -> tuple[np.ndarray, np.ndarray]:
    """``(R, q)`` from a matrix (q defaults to zeros) or a constraint string such as
    ``"x1 = x2, x3 = 0"`` (parsed by patsy, which accepts any term name, e.g. ``L1.w``)."""
    if isinstance(restrictions, str):
        if q is not None:
            raise ValueError("q is part of the constraint string; do not pass it separately")
        from patsy import DesignInfo  # imported here: patsy is only needed for string constraints

        constraint = DesignInfo(list(terms)).linear_constraint(restrictions)
        return np.asarray(constraint.coefs, dtype=float), np.asarray(constraint.constants, dtype=float).ravel()
    matrix = np.atleast_2d(np.asarray(restrictions, dtype=float))
    if matrix.shape[1] != len(terms):
        raise ValueError(f"R has {matrix.shape[1]} column(s) for {len(terms)} term(s) {list(terms)}")
    target = np.zeros(matrix.shape[0]) if q is None else np.broadcast_to(np.asarray(q, dtype=float), (matrix.shape[0],))
    return matrix, np.array(target, dtype=float)


def wald_test(
    params: pd.Series, vcov: pd.DataFrame, restrictions: np.ndarray | str, q: np.ndarray | float | None, df: float | None
) -> WaldTest:
    """Wald test of ``R b = q`` with covariance ``vcov``; F(r, df) when ``df`` is given."""
    from scipy import stats as distributions  # here, so that importing results stays light

    matrix, target = restriction_matrix(list(params.index), restrictions, q)
    rank = int(np.linalg.matrix_rank(matrix))
    if rank < matrix.shape[0]:
        raise ValueError(f"the {matrix.shape[0]} restrictions are linearly dependent (rank {rank})")
    discrepancy = matrix @ params.to_numpy(dtype=float) - target
    middle = matrix @ vcov.loc[params.index, params.index].to_numpy(dtype=float) @ matrix.T
    chi2 = float(discrepancy @ np.linalg.solve(middle, discrepancy))
    if df is None:
        return WaldTest(chi2, rank, np.nan, float(distributions.chi2.sf(chi2, rank)), "chi2")
    f_stat = chi2 / rank
    return WaldTest(f_stat, rank, float(df), float(distributions.f.sf(f_stat, rank, df)), "F")


def vcov_rows(vcov: pd.DataFrame) -> pd.DataFrame:
    """The lower triangle of ``vcov`` (diagonal included) as long rows for a results table."""
    terms = list(vcov.index)
    rows = [(terms[i], terms[j], float(vcov.iat[i, j])) for i in range(len(terms)) for j in range(i + 1)]
    return pd.DataFrame(rows, columns=list(VCOV_COLUMNS))


MODEL_STATS_COLUMNS = ("stat", "value", "text")


def model_stats_frame(nobs: int, stats: Mapping[str, float], info: Mapping[str, str]) -> pd.DataFrame:
    """Long frame of (stat, value, text): nobs first, then ``stats``, then ``info`` as text."""
    rows = [("nobs", float(nobs), None)]
    rows += [(k, float(v), None) for k, v in stats.items()]
    rows += [(k, np.nan, v) for k, v in info.items()]
    return pd.DataFrame(rows, columns=list(MODEL_STATS_COLUMNS))


def stat_rows(values: Mapping[str, object]) -> pd.DataFrame:
    """Long frame of (stat, value, text) for any mapping: numbers in ``value``, anything else
    (booleans included, so that a flag is not read as a measurement) as text."""
    rows = []
    for stat, value in values.items():
        if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, float, np.integer, np.floating)):
            rows.append((stat, np.nan, str(value)))
        else:
            rows.append((stat, float(value), None))
    return pd.DataFrame(rows, columns=list(MODEL_STATS_COLUMNS))


class CovarianceInference:
    """``conf_int``, ``wald_test`` and ``vcov_rows`` for a result with ``params``, ``std_errors``,
    ``vcov`` and ``inference_df`` (None for z-based inference)."""

    @property
    def inference_df(self) -> float | None:
        """Degrees of freedom of t/F inference; None for normal / chi2 inference."""
        return None

    def conf_int(self, level: float = 0.95) -> pd.DataFrame:
        """Columns ``lower``/``upper``, one row per term."""
        return confidence_interval(self.params, self.std_errors, level, self.inference_df)

    def wald_test(self, restrictions: np.ndarray | str, q: np.ndarray | float | None = None) -> WaldTest:
        """Joint test of ``R params = q`` (F after t-based estimators, chi2 otherwise)."""
        return wald_test(self.params, self.vcov, restrictions, q, self.inference_df)

    def vcov_rows(self) -> pd.DataFrame:
        """The covariance as long rows (row_term, column_term, covariance), lower triangle."""
        return vcov_rows(self.vcov)


def _frozen_series(values: pd.Series, name: str) -> pd.Series:
    copy = values.astype(float).copy()
    copy.name = name
    copy.flags.allows_duplicate_labels = False
    return copy


def read_only_array(values: object) -> np.ndarray:
    """A float copy of ``values`` that cannot be written to."""
    copy = np.array(values, dtype=float, copy=True)
    copy.flags.writeable = False
    return copy


_FREEZERS: dict[str, Callable[[object], object]] = {
    "array": read_only_array,
    "mapping": lambda values: MappingProxyType(dict(values)),
    "floats": lambda values: MappingProxyType({k: float(v) for k, v in values.items()}),
    "ints": lambda values: MappingProxyType({k: int(v) for k, v in values.items()}),
    "texts": lambda values: MappingProxyType({k: str(v) for k, v in values.items()}),
}


class FrozenFields:
    """Mixin for the frozen result dataclasses: after ``__init__`` each field named in the
    class's ``_frozen`` (field -> kind) is replaced by a read-only copy, so that a result
    neither shares memory with the caller's inputs nor can be changed afterwards.

    Kinds: ``"array"`` (float array, not writeable), ``"mapping"`` (read-only view of a
    copy), ``"floats"`` / ``"ints"`` / ``"texts"`` (read-only mapping with every value
    converted by float / int / str). A class with its own ``__post_init__`` calls
    ``super().__post_init__()``.
    """

    _frozen: ClassVar[Mapping[str, str]] = {}

    def __post_init__(self) -> None:
        for name, kind in self._frozen.items():
            object.__setattr__(self, name, _FREEZERS[kind](getattr(self, name)))


@dataclass(frozen=True)
class RegressionResult(FrozenFields, CovarianceInference):
    """Point estimates with inference for one fitted model.

    ``statistic`` holds t or z statistics (``stat_kind`` says which), ``p_value`` the
    matching two-sided p-values. ``stats`` holds scalar model statistics (r2, F,
    diagnostics) and ``info`` descriptive facts (fixed effects, vce, cluster variable).
    ``covariance`` is the coefficient covariance (the matrix whose diagonal gives
    ``std_errors``), exposed labelled as ``vcov``; t-based inference takes its degrees of
    freedom from ``stats["df_resid"]``.
    """

    params: pd.Series
    std_errors: pd.Series
    statistic: pd.Series
    p_value: pd.Series
    nobs: int
    stat_kind: str = "t"
    stats: Mapping[str, float] = field(default_factory=dict)
    info: Mapping[str, str] = field(default_factory=dict)
    covariance: np.ndarray | pd.DataFrame | None = field(default=None, repr=False, compare=False)

    _frozen = {"stats": "mapping", "info": "texts"}

    def __post_init__(self) -> None:
        super().__post_init__()
        terms = list(self.params.index)
        if self.covariance is None:
            raise ValueError("covariance is required: every result exposes its full coefficient covariance")
        if isinstance(self.covariance, pd.DataFrame):
            if list(self.covariance.index) != terms or list(self.covariance.columns) != terms:
                raise ValueError("covariance labels do not match params")
        covariance = read_only_array(self.covariance)
        if covariance.shape != (len(terms), len(terms)):
            raise ValueError(f"covariance has shape {covariance.shape} for {len(terms)} term(s)")
        object.__setattr__(self, "covariance", covariance)
        for name in ("std_errors", "statistic", "p_value"):
            series = getattr(self, name)
            if list(series.index) != terms:
                raise ValueError(f"{name} index {list(series.index)} does not match params {terms}")
            object.__setattr__(self, name, _frozen_series(series, name))
        object.__setattr__(self, "params", _frozen_series(self.params, "params"))
        if self.stat_kind not in ("t", "z"):
            raise ValueError("stat_kind must be 't' or 'z'")
        if self.stat_kind == "t" and "df_resid" not in self.stats:
            raise ValueError("t-based results must report stats['df_resid'] for their tests and intervals")

    @property
    def vcov(self) -> pd.DataFrame:
        """The coefficient covariance, labelled by term on both axes (a fresh copy)."""
        return labelled_covariance(self.covariance, list(self.params.index))

    @property
    def inference_df(self) -> float | None:
        return float(self.stats["df_resid"]) if self.stat_kind == "t" else None

    def tidy(self) -> pd.DataFrame:
        """One row per term: term, estimate, std_error, statistic, p_value."""
        return pd.DataFrame(
            {
                "term": list(self.params.index),
                "estimate": self.params.to_numpy(),
                "std_error": self.std_errors.to_numpy(),
                "statistic": self.statistic.to_numpy(),
                "p_value": self.p_value.to_numpy(),
            },
            columns=list(TIDY_COLUMNS),
        )

    def model_stats(self) -> pd.DataFrame:
        """Long frame of (stat, value) with nobs first; info entries are stored as text."""
        return model_stats_frame(self.nobs, self.stats, self.info)


class DelegatesToRegression:
    """Mixin for a result object that embeds one ``RegressionResult`` and reports its
    coefficients, standard errors, covariance, statistics, ``nobs``, ``tidy()``,
    ``model_stats()``, ``conf_int()`` and ``wald_test()`` as its own.

    A subclass names the attribute that holds the embedded regression in ``_regression``
    (a plain class attribute, so that dataclasses do not take it for a field).
    """

    _regression: ClassVar[str]

    @property
    def _embedded_regression(self) -> RegressionResult:
        return getattr(self, self._regression)

    @property
    def params(self) -> pd.Series:
        return self._embedded_regression.params

    @property
    def std_errors(self) -> pd.Series:
        return self._embedded_regression.std_errors

    @property
    def vcov(self) -> pd.DataFrame:
        return self._embedded_regression.vcov

    @property
    def inference_df(self) -> float | None:
        return self._embedded_regression.inference_df

    @property
    def stats(self) -> Mapping[str, float]:
        return self._embedded_regression.stats

    def conf_int(self, level: float = 0.95) -> pd.DataFrame:
        """The embedded regression's confidence intervals."""
        return self._embedded_regression.conf_int(level)

    def wald_test(self, restrictions: np.ndarray | str, q: np.ndarray | float | None = None) -> WaldTest:
        """The embedded regression's Wald test of ``R params = q``."""
        return self._embedded_regression.wald_test(restrictions, q)

    def model_stats(self) -> pd.DataFrame:
        """The embedded regression's model statistics."""
        return self._embedded_regression.model_stats()

    def vcov_rows(self) -> pd.DataFrame:
        """The embedded regression's covariance as long rows."""
        return self._embedded_regression.vcov_rows()

    @property
    def nobs(self) -> int:
        return self._embedded_regression.nobs

    def tidy(self) -> pd.DataFrame:
        """The embedded regression's coefficient table, one row per term."""
        return self._embedded_regression.tidy()


@dataclass(frozen=True)
class ReportedColumn(FrozenFields, DelegatesToRegression):
    """One column of a results table: an embedded result reported with further statistics.

    Everything (params, covariance, tests, ``tidy()``, ``vcov_rows()``) is the embedded
    ``result``'s; ``model_stats()`` is its model statistics followed by ``extra_stats`` as
    :func:`stat_rows` writes them. E.g. the first stage of a 2SLS fit reported with the
    identification diagnostics of the fit (:meth:`analysis.iv.IVResult.first_stage_column`).
    """

    result: EstimationResult
    extra_stats: Mapping[str, object] = field(default_factory=dict)

    _regression = "result"
    _frozen = {"extra_stats": "mapping"}

    def model_stats(self) -> pd.DataFrame:
        """The embedded result's model statistics, then ``extra_stats``."""
        if not self.extra_stats:
            return self.result.model_stats()
        return pd.concat([self.result.model_stats(), stat_rows(self.extra_stats)], ignore_index=True)
