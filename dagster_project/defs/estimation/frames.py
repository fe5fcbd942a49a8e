"""What an estimation reads, by the input names of ``paper.specs``: each name's loader (one
vintage's rows from the warehouse) and the asset that produces them."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Callable

import duckdb
import numpy as np
import pandas as pd
from dagster import AssetKey

from paper.models import WEIGHT_MATRICES
from paper.specs import TABLE07, TFP

if TYPE_CHECKING:
    from analysis.spatial_weights import SpatialWeights

NPRO = AssetKey(["analysis", "firm_year_npro"])
FIRM_YEARS = AssetKey(["marts", "fct_firm_years"])
PROVINCE_YEARS = AssetKey(["marts", "fct_province_years"])
SPATIAL_WEIGHTS = AssetKey(["analysis", "spatial_weights"])
WEIGHT_KINDS = {"adjacency": "contiguity", "distance": "inverse_distance"}


def load_firm_year_frame(conn: duckdb.DuckDBPyConnection, vintage_id: str) -> pd.DataFrame:
    """The analysis frame of the firm-level tables: the firm-year mart joined to Npro."""
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


def load_firm_year_mart(conn: duckdb.DuckDBPyConnection, vintage_id: str) -> pd.DataFrame:
    """Every firm-year of the mart (with or without Npro), in stock-code and year order."""
    return conn.execute("select * from marts.fct_firm_years where vintage_id = ? order by stock_code, fiscal_year",
                        [vintage_id]).df()


def load_tfp(conn: duckdb.DuckDBPyConnection, vintage_id: str) -> pd.DataFrame:
    return conn.execute("select stock_code, fiscal_year, tfp_lp from analysis.firm_year_tfp where vintage_id = ?",
                        [vintage_id]).df()


def load_psm_matched(conn: duckdb.DuckDBPyConnection, vintage_id: str) -> pd.DataFrame:
    # Imported here, as in every loader: loading the definitions does not import the estimators.
    from analysis.matching import MATCH_WEIGHT_COLUMN

    return conn.execute(f"select stock_code, fiscal_year, {MATCH_WEIGHT_COLUMN} from analysis.psm_matched "
                        "where vintage_id = ?", [vintage_id]).df()


def load_province_panel(conn: duckdb.DuckDBPyConnection, vintage_id: str) -> pd.DataFrame:
    """The balanced province-year panel of the vintage; refuses a province-year without firms."""
    panel = conn.execute(
        "select * from marts.fct_province_years where vintage_id = ? order by province_code, fiscal_year",
        [vintage_id],
    ).df()
    if panel.empty:
        raise ValueError(f"marts.fct_province_years holds no row for vintage {vintage_id}: materialize it first")
    empty = panel[panel["n_firms"] == 0]
    if not empty.empty:
        cells = ", ".join(f"{r.province_name_en} ({r.province_code}) {r.fiscal_year}" for r in empty.itertuples())
        raise ValueError(
            f"marts.fct_province_years has {len(empty)} province-year(s) without any sample firm: {cells}; "
            "the spatial panel must be balanced and a mean over no firm is not data"
        )
    return panel


def load_spatial_weights(conn: duckdb.DuckDBPyConnection, vintage_id: str) -> dict[str, SpatialWeights]:
    """The stored weights of the vintage, rebuilt from their raw (unstandardised) values, by matrix name."""
    from analysis.spatial_weights import SpatialWeights

    codes = [row[0] for row in conn.execute("select gb_code from reference.provinces order by gb_code").fetchall()]
    links = conn.execute(
        "select matrix_name, i, j, raw_weight from analysis.spatial_weights where vintage_id = ?", [vintage_id]
    ).df()
    if links.empty:
        raise ValueError(f"analysis.spatial_weights holds no row for vintage {vintage_id}: materialize it first")
    position = {code: k for k, code in enumerate(codes)}
    weights = {}
    for name, group in links.groupby("matrix_name"):
        raw = np.zeros((len(codes), len(codes)))
        raw[group["i"].map(position).to_numpy(), group["j"].map(position).to_numpy()] = group["raw_weight"].to_numpy()
        weights[name] = SpatialWeights(codes=codes, raw=raw, kind=WEIGHT_KINDS[name])
    missing = sorted(set(WEIGHT_MATRICES) - set(weights))
    if missing:
        raise ValueError(f"analysis.spatial_weights lacks the matrices {missing} for vintage {vintage_id}")
    return weights


@dataclass(frozen=True)
class Input:
    load: Callable[[duckdb.DuckDBPyConnection, str], Any]
    asset: AssetKey


INPUTS: dict[str, Input] = {
    "firm_years": Input(load_firm_year_frame, NPRO),
    "firm_year_mart": Input(load_firm_year_mart, FIRM_YEARS),
    "tfp": Input(load_tfp, AssetKey(list(TFP.results_key))),
    "psm_matched": Input(load_psm_matched, AssetKey(list(TABLE07.results_key))),
    "province_panel": Input(load_province_panel, PROVINCE_YEARS),
    "spatial_weights": Input(load_spatial_weights, SPATIAL_WEIGHTS),
}
"""Input name of ``paper.specs`` -> how it is read and which asset writes it."""
