"""Input checks shared by the estimators of ``analysis``: each raises a ValueError that
names the offending argument or column.

Light on purpose (pandas and numpy only), so that any estimator module can use it.

"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

VCE_TYPES: tuple[str, ...] = ("cluster", "robust", "iid")


def require_dataframe(data: object) -> None:
    """Raise unless ``data`` is a pandas DataFrame."""
    if not isinstance(data, pd.DataFrame):
        raise ValueError(f"data must be a pandas DataFrame, got {type(data).__name__}")


def require_columns(data: pd.DataFrame, columns: Sequence[str]) -> None:
    """Raise naming the ``columns`` that ``data`` lacks (each named once, in the given order)."""
    missing = [column for column in dict.fromkeys(columns) if column not in data.columns]
    if missing:
        raise ValueError(f"data lacks column(s) {missing}")


def require_finite_numeric(data: pd.DataFrame, columns: Sequence[str], *, allow_bool: bool = False) -> None:
    """Raise naming the first of ``columns`` that is not numeric or holds +-inf.

    Missing values (NaN, pd.NA) are allowed: the estimators drop such rows. Boolean columns
    count as 0/1 only with ``allow_bool``; otherwise they are refused, so that a flag is not
    taken for a measurement by mistake.
    """
    for column in columns:
        values = data[column]
        is_bool = pd.api.types.is_bool_dtype(values)
        if not pd.api.types.is_numeric_dtype(values) and not (allow_bool and is_bool):
            raise ValueError(f"column {column!r} is not numeric (dtype {values.dtype})")
        if is_bool and not allow_bool:
            raise ValueError(f"column {column!r} is boolean, not numeric: recode it as 0/1")
        infinite = np.isinf(values.to_numpy(dtype=float, na_value=np.nan))
        if infinite.any():
            raise ValueError(
                f"column {column!r} has infinite values in {int(infinite.sum())} row(s), "
                f"e.g. at index {values.index[np.argmax(infinite)]!r}; "
                "only NaN may mark a missing value"
            )


def resolve_vce(vce: str | None, cluster: str | None) -> str:
    """The covariance type to use: ``vce`` checked against ``cluster``, or by default
    "cluster" when a cluster column is given and "robust" otherwise."""
    if vce is None:
        return "cluster" if cluster is not None else "robust"
    if vce not in VCE_TYPES:
        raise ValueError(f"vce must be one of {', '.join(VCE_TYPES)}, got {vce!r}")
    if vce == "cluster" and cluster is None:
        raise ValueError("vce='cluster' needs the name of a cluster column")
    if vce != "cluster" and cluster is not None:
        raise ValueError(f"cluster={cluster!r} was given but vce={vce!r}; use vce='cluster' or drop cluster")
    return vce
