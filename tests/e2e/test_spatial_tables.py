"""End to end: the province-year panel, the spatial weights, Tables 11-14 and Figure 2.

Reads the warehouse and reports of the session's ``pipeline_run`` (a scale 0.1 synthetic
vintage through ``nqp run``). Numbers are checked against independent recomputations
on the stored inputs (pandas group means, esda's Moran's I, the seeds). The last test
removes one province-year from a copy of the warehouse and runs the real dbt build of
the province mart: it must fail on the named test, and the Python loader must refuse.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import duckdb
import esda
import numpy as np
import pandas as pd
import pytest

from nqp_core import settings
from dagster_project.defs.estimation.frames import load_province_panel, load_spatial_weights
from paper.models import SPATIAL_REGRESSORS

pytestmark = pytest.mark.e2e

N_PROVINCES, N_YEARS = 31, 9  # the province seed; sample years 2015-2023
MEAN_RTOL = 1e-12  # DuckDB's avg and pandas' mean of the same doubles: summation order only
ESDA_ATOL = 1e-12  # the same closed form on the same stored inputs
WEIGHT_ATOL = 1e-12  # row sums and symmetry hold up to rounding
MIN_PNG_BYTES = 20_000  # two labelled scatter panels; an empty figure is a few kB
TABLES = ("table11", "table12", "table13", "table14")


def _frame(run, sql: str, params=()) -> pd.DataFrame:
    with duckdb.connect(str(run.warehouse), read_only=True) as conn:
        return conn.execute(sql, list(params)).df()


@pytest.fixture(scope="module")
def province_years(pipeline_run) -> pd.DataFrame:
    return _frame(pipeline_run, "select * from marts.fct_province_years order by province_code, fiscal_year")


def test_province_panel_is_the_full_grid_with_firms_in_every_cell(pipeline_run, province_years):
    assert len(province_years) == N_PROVINCES * N_YEARS == 279
    assert province_years["province_code"].nunique() == N_PROVINCES
    assert sorted(province_years["fiscal_year"].unique()) == list(range(2015, 2024))
    assert (province_years["n_firms"] >= 1).all()
    assert (province_years["vintage_id"] == pipeline_run.vintage_id).all()
    (firm_years,) = _frame(pipeline_run, "select count(*) from marts.fct_firm_years").iloc[0]
    assert province_years["n_firms"].sum() == firm_years


def test_province_means_equal_pandas_means_of_the_firm_years(pipeline_run, province_years):
    firms = _frame(pipeline_run, """
        select f.province_code, f.fiscal_year, n.npro, f.ai, f.roa, f.size, f.top1, f.lev, f.inde, f.age
        from marts.fct_firm_years f join analysis.firm_year_npro n
          on n.stock_code = f.stock_code and n.fiscal_year = f.fiscal_year and n.vintage_id = f.vintage_id""")
    expected = firms.groupby(["province_code", "fiscal_year"]).mean().sort_index()
    stored = province_years.set_index(["province_code", "fiscal_year"]).sort_index()
    for column in ["npro", *SPATIAL_REGRESSORS]:
        np.testing.assert_allclose(stored[column], expected[column], rtol=MEAN_RTOL, err_msg=column)


def test_weights_are_stored_long_with_unit_row_sums_and_symmetric_raw_weights(pipeline_run):
    weights = _frame(pipeline_run, "select * from analysis.spatial_weights where vintage_id = ?",
                     [pipeline_run.vintage_id])
    adjacency_pairs = pd.read_csv(settings.SEEDS_DIR / "province_adjacency.csv")
    counts = weights.groupby("matrix_name").size().to_dict()
    assert counts == {"adjacency": 2 * len(adjacency_pairs), "distance": N_PROVINCES * (N_PROVINCES - 1)}
    row_sums = weights.groupby(["matrix_name", "i"])["weight"].sum()
    assert len(row_sums) == 2 * N_PROVINCES
    np.testing.assert_allclose(row_sums, 1.0, atol=WEIGHT_ATOL)
    mirrored = weights.merge(weights, left_on=["matrix_name", "i", "j"], right_on=["matrix_name", "j", "i"])
    assert len(mirrored) == len(weights)
    np.testing.assert_allclose(mirrored["raw_weight_x"], mirrored["raw_weight_y"], atol=WEIGHT_ATOL)
    assert set(weights.loc[weights["matrix_name"] == "adjacency", "raw_weight"]) == {1.0}


def test_table11_moran_equals_esda_on_the_stored_panel_and_weights(pipeline_run, province_years):
    moran = _frame(pipeline_run, "select * from results.moran where table_id = 'table11'")
    assert len(moran) == 2 * N_YEARS
    with duckdb.connect(str(pipeline_run.warehouse), read_only=True) as conn:
        weights = load_spatial_weights(conn, pipeline_run.vintage_id)
    for row in moran.itertuples():
        values = province_years[province_years["fiscal_year"] == row.fiscal_year].set_index("province_code")["npro"]
        w = weights[row.matrix_name]
        reference = esda.Moran(values.loc[list(w.codes)].to_numpy(), w.to_libpysal(), permutations=0)
        assert row.moran_i == pytest.approx(reference.I, abs=ESDA_ATOL)
        assert row.variance_normal == pytest.approx(reference.VI_norm, abs=ESDA_ATOL)
        assert row.p_normal == pytest.approx(reference.p_norm, abs=ESDA_ATOL)
        assert 0 < row.p_permutation <= 1 and row.permutations == 999
    # The permutations' seed is stored beside them.
    seeds = _frame(pipeline_run, "select stat, value from results.model_stats where table_id = 'table11' "
                                 "and column_id = 'permutation'").set_index("stat")["value"]
    assert seeds["seed"] > 0 and seeds["permutations"] == 999


def test_every_table_is_stored_and_rendered_with_provenance(pipeline_run):
    stored = {
        "table11": "select vintage_id, is_synthetic, code_version from results.moran where table_id = 'table11'",
        "table12": "select vintage_id, is_synthetic, code_version from results.specification_tests "
                   "where table_id = 'table12'",
        "table13": "select vintage_id, is_synthetic, code_version from results.coefficients where table_id = 'table13'",
        "table14": "select vintage_id, is_synthetic, code_version from results.spatial_effects "
                   "where table_id = 'table14'",
    }
    for table_id, sql in stored.items():
        rows = _frame(pipeline_run, sql)
        assert len(rows) > 0, table_id
        assert (rows["vintage_id"] == pipeline_run.vintage_id).all() and rows["is_synthetic"].all(), table_id
        assert rows["code_version"].str.len().min() > 0, table_id
    for table_id in TABLES:
        for suffix in (".md", ".html", ".tex"):
            text = (pipeline_run.reports_dir / f"{table_id}{suffix}").read_text(encoding="utf-8")
            assert pipeline_run.vintage_id in text and "SYNTHETIC" in text and "code version" in text, (
                table_id, suffix)
    table13 = (pipeline_run.reports_dir / "table13.md").read_text(encoding="utf-8")
    assert "Standard errors in parentheses" in table13 and "W x AI" in table13 and "L.Npro" in table13


def test_table12_has_every_test_for_both_matrices(pipeline_run):
    tests = _frame(pipeline_run, "select * from results.specification_tests where table_id = 'table12'")
    names = {"lm_lag", "lm_error", "robust_lm_lag", "robust_lm_error", "lr_lag", "lr_error", "wald_lag",
             "wald_error", "hausman"}
    # Each matrix's tests fill three printed columns: statistic, df, p-value.
    for block in ("(1)-(3)", "(4)-(6)"):
        rows = tests[tests["column_id"] == block].set_index("test")
        assert set(rows.index) == names
        assert (rows["statistic"] >= 0).all() and rows["p_value"].between(0, 1).all()
        assert rows.loc["lr_lag", "df"] == len(SPATIAL_REGRESSORS)


def test_table13_holds_sdm_and_gmm_columns_with_their_statistics(pipeline_run):
    coefficients = _frame(pipeline_run, "select * from results.coefficients where table_id = 'table13'")
    stats = _frame(pipeline_run, "select * from results.model_stats where table_id = 'table13'")
    by_column = coefficients.groupby("column_id")["term"].apply(set)
    for column_id in ("(1)", "(2)", "(4)", "(5)"):
        assert {"ai", "W_ai", "rho", "sigma2"} <= by_column[column_id]
        nobs = stats[(stats["column_id"] == column_id) & (stats["stat"] == "nobs")]["value"].item()
        assert nobs == N_PROVINCES * N_YEARS
    for column_id in ("(3)", "(6)", "(7)"):
        assert {"L1.npro", "ai"} <= by_column[column_id]
        column_stats = set(stats.loc[stats["column_id"] == column_id, "stat"])
        assert {"ar1_p", "ar2_p", "hansen_chi2", "sargan_chi2", "n_instruments"} <= column_stats
    assert coefficients["std_error"].gt(0).all()


def test_table14_effects_have_both_matrices_methods_and_add_up(pipeline_run):
    effects = _frame(pipeline_run, "select * from results.spatial_effects where table_id = 'table14'")
    assert len(effects) == 2 * len(SPATIAL_REGRESSORS) * 3 * 2  # matrices x terms x effects x methods
    assert set(effects["method"]) == {"simulation", "delta"} and set(effects["term"]) == set(SPATIAL_REGRESSORS)
    wide = effects.pivot_table(index=["matrix_name", "term", "method"], columns="effect", values="estimate")
    np.testing.assert_allclose(wide["direct"] + wide["indirect"], wide["total"], atol=1e-12)
    assert effects["std_error"].gt(0).all()
    stats = _frame(pipeline_run, "select * from results.model_stats where table_id = 'table14'")
    seeds = stats[stats["stat"] == "seed"]
    assert set(seeds["column_id"]) == {f"({k})" for k in range(1, 7)} and seeds["value"].nunique() == 1


def test_figure02_is_a_png_of_the_first_and_last_year(pipeline_run):
    path = pipeline_run.reports_dir / "figures" / "figure02.png"
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > MIN_PNG_BYTES
    scatter = _frame(pipeline_run, "select * from results.moran_scatter where table_id = 'figure02'")
    assert sorted(scatter["fiscal_year"].unique()) == [2015, 2023]
    assert len(scatter) == 2 * N_PROVINCES and scatter["province_name_en"].notna().all()
    assert set(scatter["quadrant"]) <= {"HH", "LH", "LL", "HL"}


def test_a_province_year_without_firms_fails_the_dbt_build_and_the_loader(pipeline_run, tmp_path):
    warehouse = tmp_path / "warehouse.duckdb"
    shutil.copy(pipeline_run.warehouse, warehouse)
    with duckdb.connect(str(warehouse)) as conn:
        conn.execute("""
            delete from analysis.firm_year_npro where fiscal_year = 2019 and stock_code in
              (select stock_code from marts.fct_firm_years where province_code = '540000')""")
    env = dict(os.environ, NQP_WAREHOUSE_PATH=str(warehouse), DO_NOT_TRACK="1")
    command = [
        str(Path(sys.executable).parent / "dbt"), "build", "--select", "fct_province_years",
        "--vars", json.dumps({"vintage_id": pipeline_run.vintage_id}),
        "--project-dir", str(settings.DBT_PROJECT_DIR), "--profiles-dir", str(settings.DBT_PROJECT_DIR),
        "--target-path", str(tmp_path / "target"), "--log-path", str(tmp_path / "logs"),
    ]
    build = subprocess.run(command, capture_output=True, text=True, env=env, cwd=tmp_path, timeout=600)
    assert build.returncode != 0, build.stdout[-3000:]
    assert "FAIL 1 assert_every_province_year_has_firms" in build.stdout, build.stdout[-3000:]
    with duckdb.connect(str(warehouse), read_only=True) as conn:
        (empty,) = conn.execute("select count(*) from marts.fct_province_years where n_firms = 0").fetchone()
        assert empty == 1
        with pytest.raises(ValueError, match=r"Tibet \(540000\) 2019"):
            load_province_panel(conn, pipeline_run.vintage_id)
