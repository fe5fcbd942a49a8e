"""The analysis frame every estimation asset starts from: the firm-year mart joined to Npro."""

from __future__ import annotations

import duckdb
import pandas as pd


def load_firm_year_frame(conn: duckdb.DuckDBPyConnection, vintage_id: str) -> pd.DataFrame:
    frame = conn.execute(
        """
        select f.*, n.npro
        from marts.fct_firm_years as f
        join analysis.firm_year_npro as n
          on n.stock_code = f.stock_code and n.fiscal_year = f.fiscal_year and n.vintage_id = f.vintage_id
        where f.vintage_id = ?
        order by f.stock_code, f.fiscal_year
        """,
        [vintage_id],
    ).df()
    if frame.empty:
        raise ValueError(f"no firm-year with Npro for vintage {vintage_id}: materialize analysis/firm_year_npro first")
    return frame
