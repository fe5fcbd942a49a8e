"""Frozen result objects shared by every estimator family.

Every estimator in ``analysis`` returns a ``RegressionResult`` (or a dataclass that
embeds one) so that Dagster assets, the tidy tables in DuckDB and the table renderer
can treat all of them alike.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from types import MappingProxyType
from typing import ClassVar, Mapping

import numpy as np
import pandas as pd

TIDY_COLUMNS = ("term", "estimate", "std_error", "statistic", "p_value")


def _frozen_series(values: pd.Series, name: str) -> pd.Series:
    copy = values.astype(float).copy()
    copy.name = name
    copy.flags.allows_duplicate_labels = False
    return copy


@dataclass(frozen=True)
class RegressionResult:
    """Point estimates with inference for one fitted model.

    ``statistic`` holds t or z statistics (``stat_kind`` says which), ``p_value`` the
    matching two-sided p-values. ``stats`` holds scalar model statistics (r2, F,
    diagnostics) and ``info`` descriptive facts (fixed effects, vce, cluster variable).
    """

    params: pd.Series
    std_errors: pd.Series
    statistic: pd.Series
    p_value: pd.Series
    nobs: int
    stat_kind: str = "t"
    stats: Mapping[str, float] = field(default_factory=dict)
    info: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        terms = list(self.params.index)
        for name in ("std_errors", "statistic", "p_value"):
            series = getattr(self, name)
            if list(series.index) != terms:
                raise ValueError(f"{name} index {list(series.index)} does not match params {terms}")
            object.__setattr__(self, name, _frozen_series(series, name))
        object.__setattr__(self, "params", _frozen_series(self.params, "params"))
        object.__setattr__(self, "stats", MappingProxyType(dict(self.stats)))
        object.__setattr__(self, "info", MappingProxyType({k: str(v) for k, v in self.info.items()}))
        if self.stat_kind not in ("t", "z"):
            raise ValueError("stat_kind must be 't' or 'z'")

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
        rows = [("nobs", float(self.nobs), None)]
        rows += [(k, float(v), None) for k, v in self.stats.items()]
        rows += [(k, np.nan, v) for k, v in self.info.items()]
        return pd.DataFrame(rows, columns=["stat", "value", "text"])


class DelegatesToRegression:
    """Mixin for a result object that embeds one ``RegressionResult`` and reports its
    coefficients, standard errors, statistics, ``nobs`` and ``tidy()`` as its own.

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
    def stats(self) -> Mapping[str, float]:
        return self._embedded_regression.stats

    @property
    def nobs(self) -> int:
        return self._embedded_regression.nobs

    def tidy(self) -> pd.DataFrame:
        """The embedded regression's coefficient table, one row per term."""
        return self._embedded_regression.tidy()
