"""Descriptive statistics in the conventions of Stata's ``summarize, detail`` (Table 3)."""

from __future__ import annotations

from typing import Sequence

import numpy as np
import pandas as pd

DESCRIPTIVE_COLUMNS: tuple[str, ...] = ("n", "mean", "sd", "min", "p50", "max")


def describe(data: pd.DataFrame, variables: Sequence[str]) -> pd.DataFrame:
    """N, mean, sd, min, median and max of each variable, one row per variable (index = name).

    Missing values are left out variable by variable, as ``summarize`` does; ``sd`` uses
    N - 1; ``p50`` is the middle value, or the average of the two middle values when N is
    even (Stata's percentile rule at p = 50). A variable with no value gives n = 0 and NaN.
    """
    if not isinstance(data, pd.DataFrame):
        raise ValueError(f"data must be a pandas DataFrame, got {type(data).__name__}")
    variables = list(variables)
    if not variables:
        raise ValueError("variables must name at least one column")
    missing = [name for name in variables if name not in data.columns]
    if missing:
        raise ValueError(f"data lacks column(s): {', '.join(map(str, missing))}")
    repeated = sorted({name for name in variables if variables.count(name) > 1})
    if repeated:
        raise ValueError(f"variable(s) listed more than once: {', '.join(repeated)}")

    rows = {}
    for name in variables:
        column = data[name]
        if not (pd.api.types.is_numeric_dtype(column) or pd.api.types.is_bool_dtype(column)):
            raise ValueError(f"column {name!r} is not numeric (dtype {column.dtype})")
        values = column.to_numpy(dtype=float, na_value=np.nan)
        if np.isinf(values).any():
            raise ValueError(f"column {name!r} has infinite value(s)")
        values = values[~np.isnan(values)]
        if values.size == 0:
            rows[name] = (0, np.nan, np.nan, np.nan, np.nan, np.nan)
            continue
        sd = float(np.std(values, ddof=1)) if values.size > 1 else np.nan
        rows[name] = (values.size, values.mean(), sd, values.min(), float(np.median(values)), values.max())

    table = pd.DataFrame.from_dict(rows, orient="index", columns=list(DESCRIPTIVE_COLUMNS))
    return table.astype({"n": "int64"})
