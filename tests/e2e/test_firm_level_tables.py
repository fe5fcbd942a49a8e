"""End to end: Tables 5-10 and Figure 1 from the small synthetic vintage of `nqp run`.

At scale 0.1 some subgroups are small (the west has ~370 firm-years, human capital is
disclosed for ~600): every estimator must still run and store its rows.
"""

from __future__ import annotations

import duckdb
import pytest

from paper.models import CONTROLS, TABLE05, TABLE06_INSTRUMENTS, TABLE08_MEDIATORS, TABLE09_REGIONS, table06_columns

pytestmark = pytest.mark.e2e

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
REPORTS = ("table05", "table06", "table07", "table08", "table09", "table10")


def _frame(run, sql, params=()):
    with duckdb.connect(str(run.warehouse), read_only=True) as conn:
        return conn.execute(sql, list(params)).df()


def _coefficients(run, table_id):
    return _frame(run, "select * from results.coefficients where table_id = ?", [table_id])


def _stats(run, table_id):
    return _frame(run, "select * from results.model_stats where table_id = ?", [table_id])


def test_every_table_is_rendered_with_provenance(pipeline_run):
    code_version = _frame(pipeline_run, "select distinct code_version from results.coefficients "
                                        "where table_id = 'table05'")["code_version"].iloc[0]
    for name in REPORTS:
        for suffix in (".md", ".html", ".tex"):
            text = (pipeline_run.reports_dir / f"{name}{suffix}").read_text(encoding="utf-8")
            assert pipeline_run.vintage_id in text and "SYNTHETIC" in text and code_version in text, (name, suffix)


def test_figure01_is_a_png_with_a_provenance_page(pipeline_run):
    figures = pipeline_run.reports_dir / "figures"
    assert (figures / "figure01.png").read_bytes()[:8] == PNG_SIGNATURE
    page = (figures / "figure01.md").read_text(encoding="utf-8")
    assert pipeline_run.vintage_id in page and "SYNTHETIC" in page and "figure01.png" in page


def test_tfp_has_one_row_per_firm_year_and_its_elasticities_are_stored(pipeline_run):
    firm_years = _frame(pipeline_run, "select stock_code, fiscal_year from marts.fct_firm_years")
    tfp = _frame(pipeline_run, "select stock_code, fiscal_year, tfp_lp from analysis.firm_year_tfp")
    assert len(tfp) == len(firm_years) and not tfp.duplicated(["stock_code", "fiscal_year"]).any()
    assert tfp["tfp_lp"].notna().all()
    elasticities = _coefficients(pipeline_run, "tfp_lp").set_index("term")
    assert set(elasticities.index) == {"ln_labour", "ln_capital"}
    assert (elasticities["std_error"] > 0).all()
    stats = _stats(pipeline_run, "tfp_lp").set_index("stat")
    assert stats.loc["seed", "value"] > 0 and stats.loc["n_boot", "value"] > 0


def test_table05_has_five_columns_with_their_key_regressor(pipeline_run):
    coefficients = _coefficients(pipeline_run, "table05")
    for spec in TABLE05:
        terms = set(coefficients.loc[coefficients["column_id"] == spec.column_id, "term"])
        assert set(spec.regressors) | {"const"} == terms, spec.column_id
    stats = _stats(pipeline_run, "table05").set_index(["column_id", "stat"])
    matched = _frame(pipeline_run, "select count(*) as n from analysis.psm_matched where match_weight > 0")["n"][0]
    assert 0 < stats.loc[("(5)", "nobs"), "value"] <= matched  # (5): the PSM-matched sample
    assert stats.loc[("(1)", "fixed_effects"), "text"] == "stock_code, fiscal_year, province_code"


def test_table06_has_both_stages_and_the_diagnostics(pipeline_run):
    coefficients = _coefficients(pipeline_run, "table06")
    stats = _stats(pipeline_run, "table06").set_index(["column_id", "stat"])
    columns = table06_columns(TABLE06_INSTRUMENTS)
    assert columns == {"l1_ai": ("(1)", "(2)"), "l2_ai": ("(3)", "(4)"), "mean_ai": ("(5)", "(6)")}
    for instrument, (first, second) in columns.items():
        stage1 = set(coefficients.loc[coefficients["column_id"] == first, "term"])
        stage2 = set(coefficients.loc[coefficients["column_id"] == second, "term"])
        assert stage1 == {instrument, *CONTROLS} and stage2 == {"ai", *CONTROLS}
        assert stats.loc[(second, "instrument"), "text"] == instrument
        for stat in ("first_stage_f[ai]", "cragg_donald_f", "kleibergen_paap_f", "sanderson_windmeijer_f[ai]",
                     "underid_lm", "underid_lm_p", "stock_wright_s", "stock_wright_s_p"):
            assert stats.loc[(second, stat), "value"] >= 0, (instrument, stat)
    nobs = {instrument: stats.loc[(second, "nobs"), "value"] for instrument, (_, second) in columns.items()}
    assert nobs["l2_ai"] < nobs["l1_ai"] < nobs["mean_ai"]  # true lags lose each firm's first years


def test_table07_balance_and_matched_sample(pipeline_run):
    balance = _frame(pipeline_run, "select * from results.balance where table_id = 'table07'")
    assert len(balance) == 2 * len(CONTROLS)
    assert set(balance["variable"]) == set(CONTROLS) and set(balance["sample"]) == {"unmatched", "matched"}
    assert balance.loc[balance["sample"] == "unmatched", "bias_reduction_pct"].isna().all()
    assert balance.loc[balance["sample"] == "matched", "bias_reduction_pct"].notna().all()
    matched = _frame(pipeline_run, "select * from analysis.psm_matched")
    treated = matched[matched["treated"] == 1]
    controls_used = matched[(matched["treated"] == 0) & (matched["match_weight"] > 0)]
    # 1:1 without replacement: as many controls used as treated firm-years on support.
    assert len(controls_used) == int(treated["on_support"].sum()) > 0
    stats = _stats(pipeline_run, "table07").set_index(["column_id", "stat"])
    assert stats.loc[("propensity_model", "seed"), "value"] > 0
    assert stats.loc[("propensity_model", "caliper"), "text"] == "0.01"


def test_table08_has_each_mediator_with_bootstrap_intervals(pipeline_run):
    coefficients = _coefficients(pipeline_run, "table08")
    stats = _stats(pipeline_run, "table08").set_index(["column_id", "stat"])
    for k, mediator in enumerate(TABLE08_MEDIATORS, start=1):
        # Column (k) prints path a; its footer reads path b and the mediation tests.
        assert "ai" in set(coefficients.loc[coefficients["column_id"] == f"({k})", "term"])
        assert mediator in set(coefficients.loc[coefficients["column_id"] == f"({k}):path_b", "term"])
        mediation = set(coefficients.loc[coefficients["column_id"] == f"({k}):mediation", "term"])
        assert {"a", "b", "direct", "total", "indirect_sobel"} <= mediation
        low = stats.loc[(f"({k}):mediation", "ci_percentile_low"), "value"]
        high = stats.loc[(f"({k}):mediation", "ci_percentile_high"), "value"]
        assert low < high
        assert stats.loc[(f"({k}):mediation", "n_boot"), "value"] == 1000


def test_tables09_and_10_have_every_subgroup_and_the_differences(pipeline_run):
    regions = _coefficients(pipeline_run, "table09")
    assert set(regions["column_id"]) == set(TABLE09_REGIONS)
    groups = _coefficients(pipeline_run, "table10")
    # The paper's columns: (1) heavy, (2) non-heavy polluting, (3) high-tech, (4) low-tech.
    assert set(groups["column_id"]) == {"(1)", "(2)", "(3)", "(4)"}
    stats = _stats(pipeline_run, "table10").set_index(["column_id", "stat"])
    # bdiff's b0 - b1 under the pair's first column: non-heavy minus heavy, low-tech minus high-tech.
    for difference, (group0, group1) in {"(1):difference": ("(2)", "(1)"), "(3):difference": ("(4)", "(3)")}.items():
        ai = groups[groups["term"] == "ai"].set_index("column_id")["estimate"]
        assert stats.loc[(difference, "observed_difference"), "value"] == pytest.approx(
            ai[group0] - ai[group1], rel=1e-12
        )
        assert 0 <= stats.loc[(difference, "p_value"), "value"] <= 0.5
        assert stats.loc[(difference, "n_draws"), "value"] == 1000
