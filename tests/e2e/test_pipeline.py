"""End to end: a small synthetic vintage through generator, ingest, dbt, index and tables.

Everything is real: the generator writes Parquet files, `nqp run` materializes the
Dagster job in-process against a DuckDB file, dbt builds and tests the models.
"""

from __future__ import annotations

import duckdb
import numpy as np
import pytest

from paper.models import MATRIX_BLOCKS

pytestmark = pytest.mark.e2e

# The planted Table 4 column 3 AI coefficient is a population value (truth.json `derived`);
# a correct pipeline lands within 3 of its own standard errors of it (a 0.3% two-sided chance of a
# false failure under normality).
AI_TRUTH_TOLERANCE_SE = 3.0


def _query(run, sql, params=()):
    with duckdb.connect(str(run.warehouse), read_only=True) as conn:
        return conn.execute(sql, list(params)).fetchall()


def test_sample_size_equals_the_planted_count(pipeline_run):
    (count,) = _query(pipeline_run, "select count(*) from marts.fct_firm_years")[0]
    assert count == pipeline_run.truth["expected_sample_firm_years"]


def test_table04_ai_coefficient_is_near_the_planted_truth(pipeline_run):
    truth = pipeline_run.truth["derived"]["estimands"]["table04_col3_ai"]["value"]
    estimate, std_error, vintage, synthetic = _query(
        pipeline_run,
        "select estimate, std_error, vintage_id, is_synthetic from results.coefficients "
        "where table_id = 'table04' and column_id = '(3)' and term = 'ai'",
    )[0]
    assert vintage == pipeline_run.vintage_id and synthetic
    assert abs(estimate - truth) <= AI_TRUTH_TOLERANCE_SE * std_error, (estimate, std_error, truth)


def test_every_table04_column_and_table03_row_is_stored(pipeline_run):
    columns = _query(pipeline_run, "select distinct column_id from results.coefficients where table_id='table04' order by 1")
    assert [c for (c,) in columns] == ["(1)", "(2)", "(3)"]
    variables = _query(pipeline_run, "select variable from results.descriptives where table_id='table03'")
    assert {v for (v,) in variables} == {"npro", "ai", "roa", "size", "top1", "lev", "inde", "age"}
    (weight_sum,) = _query(pipeline_run, "select sum(weight) from analysis.entropy_weights")[0]
    assert weight_sum == pytest.approx(1.0, abs=1e-12)


def test_every_fitted_model_stores_its_covariance_with_provenance(pipeline_run):
    """results.vcov holds, for every (table, column) with coefficient rows, the lower triangle of
    that model's covariance over the same terms, its diagonal the squared standard errors."""
    with duckdb.connect(str(pipeline_run.warehouse), read_only=True) as conn:
        coefficients = conn.execute("select * from results.coefficients").df()
        vcov = conn.execute("select * from results.vcov").df()
        effects = conn.execute("select * from results.spatial_effects where table_id = 'table14'").df()
    assert set(vcov["vintage_id"]) == {pipeline_run.vintage_id} and vcov["is_synthetic"].all()
    assert set(vcov["code_version"]) == set(coefficients["code_version"])
    models = coefficients[["table_id", "column_id"]].drop_duplicates()
    stored = vcov[["table_id", "column_id"]].drop_duplicates()
    assert set(map(tuple, models.to_numpy())) <= set(map(tuple, stored.to_numpy()))
    assert {"table04", "table05", "table06", "table07", "table08", "table09", "table10", "table13",
            "tfp_lp"} <= set(models["table_id"])
    diagonal = vcov[vcov["row_term"] == vcov["column_term"]]
    merged = coefficients.merge(diagonal, left_on=["table_id", "column_id", "term"],
                                right_on=["table_id", "column_id", "row_term"], how="left", validate="one_to_one")
    # Only Table 8's alternative standard errors of the one indirect effect (Sobel, Aroian,
    # Goodman rows of the mediation column) are not parameters with a covariance of their own.
    uncovered = merged[merged["row_term"].isna()]
    assert set(uncovered["table_id"]) <= {"table08"}
    assert set(uncovered["term"]) <= {"indirect_sobel", "indirect_aroian", "indirect_goodman"}
    covered = merged[merged["row_term"].notna()]
    np.testing.assert_allclose(np.sqrt(covered["covariance"]), covered["std_error"], rtol=1e-12)
    for (table_id, column_id), block in vcov.groupby(["table_id", "column_id"]):
        n_terms = (block["row_term"] == block["column_term"]).sum()
        assert len(block) == n_terms * (n_terms + 1) // 2, (table_id, column_id)
    # Table 14's effects live in results.spatial_effects, one covariance per matrix and method.
    # Its column id is the matrix's block of printed columns, (1)-(3) or (4)-(6), and the method.
    effect_rows = effects.assign(column_id=effects["matrix_name"].map(MATRIX_BLOCKS) + ":" + effects["method"],
                                 row_term=effects["effect"] + ":" + effects["term"])
    effect_merged = effect_rows.merge(diagonal[diagonal["table_id"] == "table14"], on=["column_id", "row_term"],
                                      how="left", validate="one_to_one")
    np.testing.assert_allclose(np.sqrt(effect_merged["covariance"]), effect_merged["std_error"], rtol=1e-12)


def test_reports_are_headed_with_provenance(pipeline_run):
    for name in ("table03", "table04"):
        for suffix in (".md", ".html", ".tex"):
            text = (pipeline_run.reports_dir / f"{name}{suffix}").read_text(encoding="utf-8")
            assert pipeline_run.vintage_id in text and "SYNTHETIC" in text, (name, suffix)


def test_rerun_is_idempotent_and_leaves_the_raw_vintage_untouched(pipeline_run, digest):
    before = digest(pipeline_run.vintage_dir)
    counts_before = _query(pipeline_run, "select count(*) from raw.patents")
    rerun = pipeline_run.nqp("run")
    assert rerun.returncode == 0, rerun.stderr[-4000:]
    assert digest(pipeline_run.vintage_dir) == before
    assert _query(pipeline_run, "select count(*) from raw.patents") == counts_before
    (vintages,) = _query(pipeline_run, "select count(*) from raw.vintages")[0]
    assert vintages == 1


def test_take_away_reports_are_written(pipeline_run):
    import docx

    reports = pipeline_run.reports_dir
    page = (reports / "replication.html").read_text(encoding="utf-8")
    assert "SYNTHETIC DATA" in page and 'id="summary"' in page and "data:image/png;base64," in page
    assert "all tables:" in (reports / "replication.md").read_text(encoding="utf-8")
    document = docx.Document(str(reports / "tables.docx"))
    titles = [p.text for p in document.paragraphs if p.text.startswith("Table ")]
    assert len(document.tables) == 13 and titles[0].startswith("Table 1.") and titles[-1].startswith("Table 14.")


def test_analysis_panel_is_exported_with_its_labels(pipeline_run):
    import pandas as pd
    import pyreadstat

    exports = pipeline_run.exports_dir
    with duckdb.connect(str(pipeline_run.warehouse), read_only=True) as conn:
        firm_years = conn.execute("select count(*) from marts.fct_firm_years").fetchone()[0]
        comments = dict(conn.execute(
            "select column_name, comment from duckdb_columns() "
            "where schema_name = 'marts' and table_name = 'analysis_panel'").fetchall())
        npro_sum = conn.execute("select sum(npro) from analysis.firm_year_npro where vintage_id = ?",
                                [pipeline_run.vintage_id]).fetchone()[0]
    assert {"npro", "tfp_lp", "psm_matched", "roa"} <= set(comments)
    assert all(comments.values()), [name for name, text in comments.items() if not text]
    parquet = pd.read_parquet(exports / "analysis_panel.parquet")
    csv = pd.read_csv(exports / "analysis_panel.csv", dtype={"stock_code": str})
    assert len(parquet) == len(csv) == firm_years
    assert parquet["npro"].sum() == pytest.approx(npro_sum)
    frame, meta = pyreadstat.read_dta(str(exports / "analysis_panel.dta"))
    assert len(frame) == firm_years and list(frame.columns) == list(parquet.columns)
    assert meta.column_names_to_labels["roa"] == comments["roa"]
    with pd.read_stata(exports / "analysis_panel.dta", iterator=True) as reader:
        assert reader.variable_labels()["npro"].startswith("New quality productivity index")


def test_nqp_export_writes_any_table(pipeline_run, tmp_path):
    import pandas as pd

    out = tmp_path / "weights.csv"
    result = pipeline_run.nqp("export", "--table", "analysis.entropy_weights", "--format", "csv", "--output", str(out))
    assert result.returncode == 0, result.stderr
    assert len(pd.read_csv(out)) == 11
    refused = pipeline_run.nqp("export", "--table", "marts.fct_firm_years; drop table x", "--format", "csv")
    assert refused.returncode == 2 and "SCHEMA.NAME" in refused.stderr


def test_figures_come_as_png_pdf_and_svg(pipeline_run):
    figures = pipeline_run.reports_dir / "figures"
    for stem in ("figure01", "figure02"):
        assert (figures / f"{stem}.png").read_bytes().startswith(b"\x89PNG"), stem
        assert (figures / f"{stem}.pdf").read_bytes().startswith(b"%PDF"), stem
        assert b"<svg" in (figures / f"{stem}.svg").read_bytes()[:2000], stem


# The data dictionary in SQL: every column of the published warehouse and of the ops store
# carries a DuckDB comment, with no exemption, so a new column without a description fails
# here. dbt models and seeds get theirs by persist_docs (YAML, or the upstream column's
# comment: dbt_models/macros/persist_docs.sql), raw/analysis/results/ops tables from
# nqp_core.data_dictionary.
WAREHOUSE_SCHEMAS = {"raw", "reference", "staging", "intermediate", "marts", "analysis", "results"}


def _undescribed_columns(path, expected_schemas):
    with duckdb.connect(str(path), read_only=True) as conn:
        rows = conn.execute(
            "select schema_name, table_name, column_name, comment from duckdb_columns() "
            "where database_name = current_database() and schema_name <> 'information_schema' "
            "and not internal"
        ).fetchall()
    assert {row[0] for row in rows} == expected_schemas
    missing = [f"{schema}.{table}.{column}" for schema, table, column, comment in rows if not (comment or "").strip()]
    return missing, len(rows)


def test_every_column_of_the_warehouse_has_a_comment(pipeline_run):
    missing, total = _undescribed_columns(pipeline_run.warehouse, WAREHOUSE_SCHEMAS)
    assert not missing, f"{len(missing)} of {total} columns have no description: {missing[:40]}"


def test_every_column_of_the_ops_store_has_a_comment(pipeline_run):
    missing, total = _undescribed_columns(pipeline_run.data_dir / "ops.duckdb", {"ops"})
    assert not missing, f"{len(missing)} of {total} columns have no description: {missing}"
