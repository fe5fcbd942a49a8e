"""Tables that Python assets own in the warehouse (schemas ``analysis`` and ``results``).

Rows of every vintage are kept side by side, keyed by ``vintage_id``, so analysts can
compare vintages with SQL; a rerun for the same vintage replaces that vintage's rows.
"""

from __future__ import annotations

import duckdb
import pandas as pd

from dagster_project.provenance import Provenance

_PROVENANCE_COLUMNS = "vintage_id varchar, is_synthetic boolean, code_version varchar, computed_at timestamp"

TABLE_COLUMNS: dict[str, str] = {
    "analysis.entropy_weights": "indicator varchar, direction varchar, entropy double, redundancy double, "
    "weight double, paper_weight double",
    "analysis.firm_year_npro": "stock_code varchar, fiscal_year integer, npro double",
    "results.coefficients": "table_id varchar, column_id varchar, term varchar, estimate double, "
    "std_error double, statistic double, p_value double",
    "results.model_stats": "table_id varchar, column_id varchar, stat varchar, value double, text varchar",
    # Lower triangle (diagonal included) of each fitted model's coefficient covariance.
    "results.vcov": "table_id varchar, column_id varchar, row_term varchar, column_term varchar, covariance double",
    "results.descriptives": "table_id varchar, variable varchar, n bigint, mean double, sd double, "
    "min double, p50 double, max double",
    # Tables 11-14 (docs/spatial_dynamic_tables.md)
    "analysis.spatial_weights": "matrix_name varchar, i varchar, j varchar, weight double, raw_weight double",
    "results.moran": "table_id varchar, matrix_name varchar, fiscal_year integer, moran_i double, expected double, "
    "variance_normal double, z_normal double, p_normal double, p_permutation double, mean_permutation double, "
    "variance_permutation double, permutations integer, nobs integer",
    "results.moran_scatter": "table_id varchar, matrix_name varchar, fiscal_year integer, province_code varchar, "
    "province_name_en varchar, z double, spatial_lag double, quadrant varchar, local_i double",
    "results.specification_tests": "table_id varchar, column_id varchar, test varchar, statistic double, df integer, "
    "p_value double",
    "results.spatial_effects": "table_id varchar, matrix_name varchar, term varchar, effect varchar, "
    "estimate double, std_error double, statistic double, p_value double, method varchar",
    # Tables 5-10 (docs/firm_level_tables.md)
    "analysis.firm_year_tfp": "stock_code varchar, fiscal_year integer, tfp_lp double",
    "analysis.psm_matched": "stock_code varchar, fiscal_year integer, treated integer, propensity_score double, "
    "on_support boolean, match_weight double",
    "results.balance": "table_id varchar, variable varchar, sample varchar, mean_treated double, mean_control double, "
    "bias_pct double, bias_reduction_pct double, t double, p double",
}


def _column_names(table: str) -> list[str]:
    return [part.strip().split()[0] for part in TABLE_COLUMNS[table].split(",")]


def ensure_tables(conn: duckdb.DuckDBPyConnection) -> None:
    for table, columns in TABLE_COLUMNS.items():
        conn.execute(f"create schema if not exists {table.split('.')[0]}")
        conn.execute(f"create table if not exists {table} ({columns}, {_PROVENANCE_COLUMNS})")


def replace_rows(
    conn: duckdb.DuckDBPyConnection,
    table: str,
    frame: pd.DataFrame,
    provenance: Provenance,
    **scope: str,
) -> int:
    """Replace the rows of ``table`` for this vintage (and ``scope``, e.g. table_id) by ``frame``."""
    columns = _column_names(table)
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise ValueError(f"frame for {table} lacks column(s) {', '.join(missing)}")
    unknown = [k for k in scope if k not in columns]
    if unknown:
        raise ValueError(f"{table} has no column(s) {', '.join(unknown)} to scope a replacement by")
    ensure_tables(conn)
    rows = frame[columns].copy()
    rows["vintage_id"] = provenance.vintage_id
    rows["is_synthetic"] = provenance.is_synthetic
    rows["code_version"] = provenance.code_version
    where = " and ".join(["vintage_id = ?"] + [f"{key} = ?" for key in scope])
    conn.execute("begin transaction")
    try:
        conn.execute(f"delete from {table} where {where}", [provenance.vintage_id, *scope.values()])
        conn.register("_incoming_rows", rows)
        conn.execute(
            f"insert into {table} select {', '.join(columns)}, vintage_id, is_synthetic, code_version, "
            f"current_timestamp from _incoming_rows"
        )
        conn.unregister("_incoming_rows")
        conn.execute("commit")
    except BaseException:
        conn.execute("rollback")
        raise
    return len(rows)
