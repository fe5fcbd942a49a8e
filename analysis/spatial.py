"""Exploratory spatial statistics for one cross-section: global Moran's I (paper Table 11)
and the Moran scatter with local Moran's I (paper Figure 2).

The analytic moments (I, E[I], Var[I] under normality) and local Moran's I come from
esda. Permutation inference is done here because ``esda.Moran`` draws from NumPy's
global random state and cannot take a ``numpy.random.Generator``; the permutation
p-value follows esda's folded one-tailed definition so both agree in distribution.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import esda
import numpy as np
import pandas as pd
from scipy import stats

from analysis.results import confidence_interval, labelled_covariance, model_stats_frame
from analysis.spatial_weights import SpatialWeights

QUADRANTS = {1: "HH", 2: "LH", 3: "LL", 4: "HL"}
"""esda's quadrant numbers: (value, spatial lag) above/below the mean."""


def aligned_values(values: pd.Series | np.ndarray, weights: SpatialWeights, name: str = "y") -> np.ndarray:
    """``values`` as a float array in ``weights.codes`` order.

    A Series is aligned on its index (codes); a plain array must already be in code order.
    """
    if isinstance(values, pd.Series):
        index = values.index.astype(str)
        if index.has_duplicates:
            raise ValueError(f"{name} has duplicated codes in its index")
        missing = sorted(set(weights.codes) - set(index))
        extra = sorted(set(index) - set(weights.codes))
        if missing or extra:
            raise ValueError(f"{name} index does not match the weights codes (missing {missing}, extra {extra})")
        array = pd.Series(values.to_numpy(), index=index).reindex(list(weights.codes)).to_numpy(dtype=float)
    else:
        array = np.asarray(values, dtype=float)
        if array.shape != (weights.n,):
            raise ValueError(f"{name} must have one value per weights code ({weights.n}), got shape {array.shape}")
    if not np.all(np.isfinite(array)):
        raise ValueError(f"{name} contains missing or infinite values")
    if np.ptp(array) == 0:
        raise ValueError(f"{name} is constant; Moran's I is undefined")
    return array


@dataclass(frozen=True)
class MoranResult:
    """Global Moran's I with normal-approximation and permutation inference.

    ``p_normal`` is two-sided; ``p_permutation`` is esda's folded one-tailed
    pseudo p-value (extremes counted on the side of the observed statistic);
    ``mean_permutation`` / ``variance_permutation`` describe the permutation distribution.
    """

    moran_i: float
    expected: float
    variance_normal: float
    z_normal: float
    p_normal: float
    p_permutation: float
    mean_permutation: float
    variance_permutation: float
    permutations: int
    nobs: int

    @property
    def params(self) -> pd.Series:
        return pd.Series({"moran_i": self.moran_i}, name="params")

    @property
    def std_errors(self) -> pd.Series:
        """The standard deviation of I under the normality assumption."""
        return pd.Series({"moran_i": float(np.sqrt(self.variance_normal))}, name="std_errors")

    @property
    def vcov(self) -> pd.DataFrame:
        return labelled_covariance(np.array([[self.variance_normal]]), ["moran_i"])

    def conf_int(self, level: float = 0.95) -> pd.DataFrame:
        """Normal-approximation interval of I (its test is against ``expected``, not zero, so
        no ``wald_test`` of the protocol is offered)."""
        return confidence_interval(self.params, self.std_errors, level, None)

    def model_stats(self) -> pd.DataFrame:
        """nobs, then every other field of the result."""
        values = {k: v for k, v in asdict(self).items() if k not in ("nobs", "moran_i")}
        return model_stats_frame(self.nobs, values, {})

    def tidy(self) -> pd.DataFrame:
        """One row holding every field (the ``results.moran`` layout)."""
        return pd.DataFrame([asdict(self)])


def global_moran(
    y: pd.Series | np.ndarray,
    weights: SpatialWeights,
    rng: np.random.Generator,
    permutations: int = 999,
) -> MoranResult:
    """Global Moran's I of ``y`` under the row-standardised ``weights``."""
    if not isinstance(rng, np.random.Generator):
        raise ValueError("rng must be a numpy.random.Generator")
    if permutations < 2:
        raise ValueError("permutations must be an integer of at least 2")
    values = aligned_values(y, weights)
    moran = esda.Moran(values, weights.to_libpysal(), transformation="r", permutations=0, two_tailed=True)
    simulated = _permuted_moran(values, weights.matrix, permutations, rng)
    larger = int(np.sum(simulated >= moran.I))
    larger = min(larger, permutations - larger)
    return MoranResult(
        moran_i=float(moran.I),
        expected=float(moran.EI),
        variance_normal=float(moran.VI_norm),
        z_normal=float(moran.z_norm),
        p_normal=float(2.0 * stats.norm.sf(abs(moran.z_norm))),
        p_permutation=(larger + 1.0) / (permutations + 1.0),
        mean_permutation=float(simulated.mean()),
        variance_permutation=float(simulated.var(ddof=1)),
        permutations=permutations,
        nobs=weights.n,
    )


def _permuted_moran(values: np.ndarray, matrix: np.ndarray, permutations: int, rng: np.random.Generator) -> np.ndarray:
    z = values - values.mean()
    shuffled = rng.permuted(np.tile(z, (permutations, 1)), axis=1)
    # row-standardised W has S0 = n, so I = z'Wz / z'z
    return np.einsum("pi,pi->p", shuffled, shuffled @ matrix.T) / (z @ z)


def moran_by_period(
    data: pd.DataFrame,
    value: str,
    weights: SpatialWeights,
    unit: str,
    time: str,
    rng: np.random.Generator,
    permutations: int = 999,
) -> pd.DataFrame:
    """Global Moran's I of ``value`` for every period (paper Table 11), one row per period."""
    for column in (value, unit, time):
        if column not in data.columns:
            raise ValueError(f"data has no column {column!r}")
    rows = []
    for period, cross_section in data.groupby(time, sort=True):
        series = pd.Series(cross_section[value].to_numpy(), index=cross_section[unit].astype(str))
        result = global_moran(series, weights, rng, permutations)
        rows.append({time: period, **asdict(result)})
    return pd.DataFrame(rows)


def moran_scatter(y: pd.Series | np.ndarray, weights: SpatialWeights) -> pd.DataFrame:
    """Moran scatter data (paper Figure 2): standardised value, its spatial lag, the
    quadrant (HH, LH, LL, HL) and local Moran's I, one row per code.

    The slope of ``spatial_lag`` on ``z`` is the global Moran's I.
    """
    values = aligned_values(y, weights)
    local = esda.Moran_Local(values, weights.to_libpysal(), transformation="r", permutations=0)
    return pd.DataFrame(
        {
            "code": list(weights.codes),
            "z": local.z,
            "spatial_lag": weights.matrix @ local.z,
            "quadrant": [QUADRANTS[int(q)] for q in local.q],
            "local_i": local.Is,
        }
    )
