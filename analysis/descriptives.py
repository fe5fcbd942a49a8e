"""Descriptive statistics in the conventions of Stata's ``summarize, detail`` (Table 3)."""

from __future__ import annotations

from typing import Sequence

import numpy as np
import pandas as pd

from analysis.validation import require_columns, require_dataframe, require_finite_numeric

DESCRIPTIVE_COLUMNS: tuple[str, ...] = ("n", "mean", "sd", "min", "p50", "max")


def describe(data: pd.DataFrame, variables: Sequence[str]) -> pd.DataFrame:
    """N, mean, sd, min, median and max of each variable, one row per variable (index = name).

    Missing values are left out variable by variable, as ``summarize`` does; ``sd`` uses
    N - 1; ``p50`` is the middle value, or the average of the two middle values when N is
    even (Stata's percentile rule at p = 50). A variable with no value gives n = 0 and NaN.
    """
    require_dataframe(data)
    variables = list(variables)
    if not variables:
        raise ValueError("variables must name at least one column")
    require_columns(data, variables)
    repeated = sorted({name for name in variables if variables.count(name) > 1})
    if repeated:
        raise ValueError(f"variable(s) listed more than once: {', '.join(repeated)}")
    require_finite_numeric(data, variables, allow_bool=True)

    rows = {}
    for name in variables:
        values = data[name].to_numpy(dtype=float, na_value=np.nan)
        values = values[~np.isnan(values)]
        if values.size == 0:
            rows[name] = (0, np.nan, np.nan, np.nan, np.nan, np.nan)
            continue
        sd = float(np.std(values, ddof=1)) if values.size > 1 else np.nan
        rows[name] = (values.size, values.mean(), sd, values.min(), float(np.median(values)), values.max())

    table = pd.DataFrame.from_dict(rows, orient="index", columns=list(DESCRIPTIVE_COLUMNS))
    return table.astype({"n": "int64"})
