"""One spec per paper table: the names, the column ids, and adding a table.

The walk-through of docs/architecture.md ("adding a paper-style table is one spec entry")
is run here for real: a new spec is registered beside the paper's, the estimation and
report assets appear under its one name, and materializing them with Dagster on a real
DuckDB file writes its rows and its report. The independent reference for the written
coefficient is statsmodels' OLS with the fixed effects as dummy variables (the
Frisch-Waugh-Lovell theorem makes the absorbed and the dummy estimates the same number).
"""

from __future__ import annotations

import dataclasses
import subprocess
import sys

import duckdb
import numpy as np
import pandas as pd
import pytest
import statsmodels.formula.api as smf
from dagster import AssetKey, materialize

from dagster_project.defs.common.resources import VintageSelection, WorkingWarehouse
from dagster_project.defs.estimation.assets import config_class, estimation_assets
from dagster_project.defs.reporting.assets import report_assets
from nqp_core.provenance import Provenance
from nqp_core.warehouse import ensure_tables, replace_rows
from paper.models import CONTROLS, YEAR_PROVINCE_FE, ModelSpec
from paper.spec import Lazy, TableSpec
from paper.specs import SPECS, paper_tables

FWL_RTOL = 1e-9
"""Absorbed fixed effects and explicit dummies give the same OLS slope up to the
demeaning's convergence and floating-point summation order."""
PLANTED_SLOPE, PLANTED_TOLERANCE = 0.5, 0.05
"""The slope of ai_patent planted in the frame below; 2,000 firm-years with unit noise and a
regressor of sd 1 give an SE near 0.02, so 0.05 is 2.5 SEs."""

VINTAGE = "2024-06"

NEW_MODELS = (
    ModelSpec("(1)", "npro", ("ai_patent",)),
    ModelSpec("(2)", "npro", ("ai_patent", *CONTROLS), YEAR_PROVINCE_FE),
)
TABLE15 = TableSpec(  # as docs/architecture.md writes it
    "table15", "Table 15: Npro on the IPC-based AI measure.",
    inputs=("firm_years",), estimate=Lazy("paper.firm:regressions", (NEW_MODELS,)),
    layout=Lazy("paper.layouts.core:regression_layout",
                ("table15", "Table 15. Npro on AI_Patent", NEW_MODELS, ("ai_patent", *CONTROLS, "const"))),
    headline=("(2)", "ai_patent"),
)


def test_one_name_per_table_everywhere():
    """Asset keys, table ids, spec keys and report files all say table04 ... table14."""
    assert [spec.table_id for spec in paper_tables()] == ["table01", *(f"table{n:02d}" for n in range(3, 15))]
    keys = {tuple(asset.key.path) for asset in estimation_assets()}
    assert {("results", f"table{n:02d}") for n in range(3, 15)} <= keys
    assert ("analysis", "firm_year_tfp") in keys  # the TFP outcome of Table 5 (3), not a paper table
    reports = {tuple(asset.key.path) for asset in report_assets()}
    assert reports == {spec.report_key for spec in paper_tables()} | {("reports", "figure01"), ("reports", "figure02")}
    for key, spec in SPECS.items():
        assert key == spec.table_id


def test_loading_the_specs_imports_no_estimator():
    """The specs name estimations and layouts lazily: the definitions load without SciPy or esda."""
    code = ("import sys, paper.specs; heavy = [m for m in ('scipy', 'esda', 'linearmodels', 'statsmodels', "
            "'pyfixest', 'spreg', 'matplotlib') if m in sys.modules]; print(heavy); sys.exit(bool(heavy))")
    assert subprocess.run([sys.executable, "-c", code], capture_output=True, text=True).returncode == 0


def test_every_seed_and_draw_count_is_a_run_option_with_its_default():
    """The seeds the paper's run uses are option defaults, and each becomes a Dagster config field."""
    seeds = {}
    for spec in SPECS.values():
        if spec.options is None:
            continue
        fields = {f.name: f for f in dataclasses.fields(spec.options)}
        config = config_class(spec.options)
        assert set(config.model_fields) == set(fields)
        for name, field in fields.items():
            assert config.model_fields[name].default == field.default, (spec.table_id, name)
        if "seed" in fields:
            seeds[spec.table_id] = fields["seed"].default
    assert set(seeds) == {"tfp_lp", "table07", "table08", "table10", "table11", "table14"}
    assert len(set(seeds.values())) == len(seeds)  # no two random steps share a stream


@pytest.fixture()
def tiny_warehouse(tmp_path):
    """A real DuckDB file with what the new table reads: one vintage, firm-years and their Npro."""
    rng = np.random.default_rng(2)
    n_firms, n_years = 250, 8
    firm_index = np.repeat(np.arange(n_firms), n_years)
    frame = pd.DataFrame(rng.normal(size=(firm_index.size, len(CONTROLS))), columns=list(CONTROLS)).assign(
        stock_code=[f"{f:06d}" for f in firm_index],
        fiscal_year=np.tile(np.arange(2015, 2015 + n_years), n_firms),
        province_code=rng.integers(11, 17, n_firms)[firm_index],
        ai_patent=rng.normal(size=firm_index.size),
        vintage_id=VINTAGE,
    )
    frame["npro"] = (PLANTED_SLOPE * frame["ai_patent"] + frame[list(CONTROLS)] @ np.linspace(0.1, 0.3, len(CONTROLS))
                     + 0.1 * (frame["fiscal_year"] - 2015) + rng.normal(size=len(frame)))
    path = tmp_path / "warehouse.duckdb"
    with duckdb.connect(str(path)) as conn:
        for schema in ("raw", "marts"):
            conn.execute(f"create schema {schema}")
        conn.execute("create table raw.vintages as select ? as vintage_id, true as is_synthetic", [VINTAGE])
        marts = frame.drop(columns="npro")
        conn.execute("create table marts.fct_firm_years as select * from marts")
        ensure_tables(conn)
        replace_rows(conn, "analysis.firm_year_npro", frame, Provenance(VINTAGE, True, "test"))
    return path, frame


def test_a_new_table_is_one_spec_entry(tiny_warehouse, tmp_path, monkeypatch):
    path, frame = tiny_warehouse
    monkeypatch.setenv("NQP_REPORTS_DIR", str(tmp_path / "reports"))
    specs = {**SPECS, TABLE15.table_id: TABLE15}
    estimations = {tuple(a.key.path): a for a in estimation_assets(specs)}
    reports = {tuple(a.key.path): a for a in report_assets(specs)}
    # The paper's assets are still there, and the new table's two appear under its one name.
    assert set(estimations) == {tuple(a.key.path) for a in estimation_assets()} | {("results", "table15")}
    assert set(reports) == {tuple(a.key.path) for a in report_assets()} | {("reports", "table15")}
    estimate, report = estimations[("results", "table15")], reports[("reports", "table15")]
    assert AssetKey(["analysis", "firm_year_npro"]) in estimate.dependency_keys
    assert AssetKey(["results", "table15"]) in report.dependency_keys

    result = materialize([estimate, report], resources={
        "warehouse": WorkingWarehouse(database=str(path)), "vintage": VintageSelection(vintage_id=VINTAGE)})
    assert result.success

    with duckdb.connect(str(path), read_only=True) as conn:
        coefficients = conn.execute("select * from results.coefficients where table_id = 'table15'").df()
        stats = conn.execute("select * from results.model_stats where table_id = 'table15'").df()
        vcov = conn.execute("select * from results.vcov where table_id = 'table15'").df()
    assert set(coefficients["column_id"]) == set(stats["column_id"]) == set(vcov["column_id"]) == {"(1)", "(2)"}
    assert (coefficients["vintage_id"] == VINTAGE).all() and coefficients["is_synthetic"].all()
    ours = coefficients.set_index(["column_id", "term"])["estimate"]
    dummies = smf.ols(f"npro ~ ai_patent + {' + '.join(CONTROLS)} + C(fiscal_year) + C(province_code)",
                      data=frame).fit()
    assert ours[("(2)", "ai_patent")] == pytest.approx(dummies.params["ai_patent"], rel=FWL_RTOL)
    assert ours[("(2)", "ai_patent")] == pytest.approx(PLANTED_SLOPE, abs=PLANTED_TOLERANCE)
    nobs = stats[(stats["column_id"] == "(2)") & (stats["stat"] == "nobs")]["value"].item()
    assert nobs == len(frame)

    page = (tmp_path / "reports" / "table15.md").read_text(encoding="utf-8")
    assert "Table 15. Npro on AI_Patent" in page and "SYNTHETIC DATA" in page and VINTAGE in page
    assert "| AI_Patent |" in page and "| Year FE | No | Yes |" in page
    headline = result.asset_materializations_for_node("results__table15")[0].metadata["headline"].value
    assert headline.startswith("ai_patent in (2):")
