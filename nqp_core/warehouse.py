"""Tables that Python assets own in the warehouse (schemas ``analysis`` and ``results``), and the
warehouse table helpers every layer shares.

Rows of every vintage are kept side by side, keyed by ``vintage_id``, so analysts can
compare vintages with SQL; a rerun for the same vintage replaces that vintage's rows.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import duckdb

from nqp_core.data_dictionary import comment_on
from nqp_core.provenance import Provenance

if TYPE_CHECKING:  # importing pandas costs a second; the ops store and the sensor need none of it
    import pandas as pd

PROVENANCE_COLUMNS = "vintage_id varchar, is_synthetic boolean, code_version varchar, computed_at timestamp"

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


TABLE_DESCRIPTIONS: dict[str, str] = {
    "analysis.entropy_weights": "Entropy weight of each Table 1 indicator per vintage, beside the paper's weight.",
    "analysis.firm_year_npro": "Npro, the new quality productivity index, per firm-year of marts.fct_firm_years.",
    "results.coefficients": "Tidy coefficients of every paper table: one row per table, column and term.",
    "results.model_stats": "Model statistics of every estimated column (N, R-squared, tests, options as text).",
    "results.vcov": "Coefficient covariance of every fitted model (lower triangle), keyed as results.coefficients.",
    "results.descriptives": "Table 3 descriptive statistics.",
    "analysis.spatial_weights": "The two province weight matrices of Tables 11-14, long format (row-standardised).",
    "results.moran": "Table 11: global Moran's I of province Npro per year and weight matrix.",
    "results.moran_scatter": "Figure 2: standardised Npro, its spatial lag and local Moran's I per province-year.",
    "results.specification_tests": "Table 12: LM, LR, Wald and Hausman tests of the spatial model.",
    "results.spatial_effects": "Table 14: direct, indirect and total effects of the SDM (LeSage-Pace).",
    "analysis.firm_year_tfp": "Levinsohn-Petrin TFP per firm-year (docs/tfp_method.md).",
    "analysis.psm_matched": "Propensity scores and 1:1 caliper match weights of the Table 7 matching.",
    "results.balance": "Table 7: covariate balance before and after matching.",
}
# Descriptions by column name, shared by every table that has the column; TABLE_COLUMN_DESCRIPTIONS
# overrides one where a name means something else in that table.
COLUMN_DESCRIPTIONS: dict[str, str] = {
    "vintage_id": "Vintage the row was computed from.",
    "is_synthetic": "Whether that vintage is synthetic (planted effects, not real firms).",
    "code_version": "Code version (git describe) that computed the row.",
    "computed_at": "When the row was written (UTC).",
    "table_id": "Paper table the row belongs to ('table04'; 'tfp_lp', 'figure02' for inputs of tables).",
    "column_id": "Column of that table, named by what it estimates ('(3)', 'firm_fe', 'l1_ai_stage2').",
    "term": "Regressor ('ai', 'roa', 'const', 'rho', 'W_ai', 'L1.npro').",
    "estimate": "Point estimate.",
    "std_error": "Standard error (the table's variance estimator; see results.model_stats vce).",
    "statistic": "Estimate / standard error (t or z).",
    "p_value": "Two-sided p-value.",
    "stat": "Name of the statistic ('nobs', 'r2', 'vce', 'first_stage_f[ai]').",
    "value": "Numeric value of the statistic; NULL when it is text.",
    "text": "Text value of the statistic (estimator, options); NULL when numeric.",
    "row_term": "Term of the covariance's row (as results.coefficients.term).",
    "column_term": "Term of the covariance's column (as results.coefficients.term).",
    "covariance": "Covariance of the two terms' estimates (the variance on the diagonal).",
    "variable": "Variable (mart column name).",
    "n": "Number of non-missing observations.",
    "mean": "Mean.",
    "sd": "Standard deviation.",
    "min": "Minimum.",
    "p50": "Median.",
    "max": "Maximum.",
    "indicator": "Table 1 indicator (mart column name).",
    "direction": "Whether the indicator enters positively or negatively (min-max direction).",
    "entropy": "Information entropy of the indicator across firm-years.",
    "redundancy": "1 - entropy (the degree of divergence).",
    "weight": "Entropy weight: redundancy / sum of redundancies.",
    "paper_weight": "The paper's Table 1 weight, for comparison only.",
    "stock_code": "Six-digit A-share stock code.",
    "fiscal_year": "Fiscal year.",
    "npro": "New quality productivity index: 10 x entropy-weighted sum of min-max scaled indicators.",
    "matrix_name": "Weight matrix: 'adjacency' (0-1 contiguity) or 'distance' (inverse distance).",
    "i": "Province code of the row unit.",
    "j": "Province code of the column unit.",
    "raw_weight": "Weight before row standardisation.",
    "moran_i": "Global Moran's I.",
    "expected": "E[I] under the null, -1/(n-1).",
    "variance_normal": "Var[I] under normality.",
    "z_normal": "z of I under normality.",
    "p_normal": "Two-sided p-value under normality.",
    "p_permutation": "Pseudo p-value from random permutations (one-sided, as esda).",
    "mean_permutation": "Mean of I over the permutations.",
    "variance_permutation": "Variance of I over the permutations.",
    "permutations": "Number of random permutations.",
    "nobs": "Number of units (provinces).",
    "province_code": "GB/T 2260 province code.",
    "province_name_en": "Province name in English.",
    "z": "Standardised Npro of the province-year.",
    "spatial_lag": "Spatial lag W z of the standardised Npro.",
    "quadrant": "Moran scatter quadrant: HH, LH, LL or HL.",
    "local_i": "Local Moran's I of the province.",
    "test": "Test name ('lm_lag', 'robust_lm_error', 'lr_lag', 'wald_error', 'hausman').",
    "df": "Degrees of freedom of the test.",
    "effect": "Effect: direct, indirect (spillover) or total.",
    "method": "Inference: 'simulation' (LeSage-Pace draws) or 'delta' (delta method).",
    "tfp_lp": "Levinsohn-Petrin total factor productivity (log, value added).",
    "treated": "AI_Did: 1 if AI is above its sample mean (treated), else 0.",
    "propensity_score": "Estimated propensity score (logit of AI_Did on the controls).",
    "on_support": "Whether the firm-year lies on the common support.",
    "match_weight": "psmatch2 weight: 1 for matched treated, the number of uses for controls, 0 unused.",
    "sample": "'unmatched' (before matching) or 'matched' (after).",
    "mean_treated": "Mean among treated firm-years.",
    "mean_control": "Mean among control firm-years.",
    "bias_pct": "Standardised bias, percent.",
    "bias_reduction_pct": "Reduction of |bias| by matching, percent (matched rows only).",
    "t": "t statistic of the difference in means.",
    "p": "p-value of that t test.",
}
TABLE_COLUMN_DESCRIPTIONS: dict[str, str] = {
    "analysis.spatial_weights.weight": "Row-standardised spatial weight w_ij.",
    "results.specification_tests.statistic": "Test statistic.",
    "results.specification_tests.column_id": "Weight matrix of the test ('adjacency' or 'distance').",
    "results.balance.variable": "Covariate (mart column name).",
    "results.moran.nobs": "Number of provinces.",
}


def table_exists(conn: duckdb.DuckDBPyConnection, qualified: str) -> bool:
    """Whether ``schema.table`` exists in the connection's current database."""
    schema, name = qualified.split(".")
    return bool(conn.execute(
        "select count(*) from information_schema.tables where table_schema = ? and table_name = ?", [schema, name]
    ).fetchone()[0])


def column_descriptions(table: str) -> dict[str, str]:
    """Every column of ``table`` (its own and the provenance columns) with its description."""
    names = [*_column_names(table), *(part.split()[0] for part in PROVENANCE_COLUMNS.split(", "))]
    return {name: TABLE_COLUMN_DESCRIPTIONS.get(f"{table}.{name}", COLUMN_DESCRIPTIONS.get(name, ""))
            for name in names}


def _column_names(table: str) -> list[str]:
    return [part.strip().split()[0] for part in TABLE_COLUMNS[table].split(",")]


def ensure_tables(conn: duckdb.DuckDBPyConnection) -> None:
    for table, columns in TABLE_COLUMNS.items():
        conn.execute(f"create schema if not exists {table.split('.')[0]}")
        conn.execute(f"create table if not exists {table} ({columns}, {PROVENANCE_COLUMNS})")
        comment_on(conn, table, TABLE_DESCRIPTIONS[table], column_descriptions(table))


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
