"""The dbt project: its interface with the raw contract and the Python side, and its
numbers against an independent pandas implementation on a generated vintage.

The fast tests read the project's YAML only. The slow ones generate a small synthetic
vintage, load it with the real ingest step, run the real ``dbt build`` (which also runs
every dbt data test and unit test) and recompute the mart from the raw files with
pandas/numpy, written from the definitions in docs/transformations.md without reusing
any SQL.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pytest
import yaml

from analysis.npro import NPRO_DIRECTIONS
from analysis.published import table1_weights
from nqp_core import settings
from nqp_core.loader import LINEAGE_COLUMNS, load_vintage
from nqp_core.contract import PATENT_TYPES, RAW_TABLES, STATUSES
from synthetic import generate_vintage

# pandas and DuckDB evaluate the same double expressions in a different order (sums of
# four cash-flow items, averages); anything beyond a few ulps would be a logic error.
RELATIVE_TOLERANCE = 1e-9
# Small enough to keep the slow test near 40 s (mostly dbt's own start-up), large enough
# (about 1,200 sample firm-years, 50,000 patents) for every rule and flag to occur.
GENERATOR_SCALE = 0.05
GENERATOR_SEED = 7
VINTAGE_ID = "2024-06"

MODELS_DIR = settings.DBT_PROJECT_DIR / "models"

# The interface of marts.fct_firm_years agreed with the Python side, in order.
FCT_FIRM_YEARS_COLUMNS = [
    "stock_code", "fiscal_year", "province_code", "region", "industry_code", "heavy_polluting", "high_tech",
    "ai", "ai_patent", "ai_did", "ai_count", "ai_patent_count",
    "roa", "size", "top1", "lev", "inde", "age", "both", "green", "sa_abs", "human_capital",
    "rd_salary_share", "rd_staff_share", "high_edu_share", "high_edu_imputed", "fixed_asset_share",
    "manufacturing_cost_share",
    "rd_depreciation_share", "rd_lease_share", "rd_direct_input_share", "intangible_asset_share",
    "asset_turnover", "inverse_equity_multiplier",
    "ln_output", "ln_capital", "ln_labour", "ln_intermediate",
    "vintage_id",
]
WINSORIZED = [
    "ai", "ai_patent", "green",
    "roa", "size", "top1", "lev", "inde", "age", "sa_abs", "human_capital", *table1_weights(),
    "ln_output", "ln_capital", "ln_labour", "ln_intermediate",
]
# Built inside the mart (imputed, then winsorized), so absent from int_firm_years_filtered.
IMPUTED_IN_MART = ["high_edu_share"]
# Models that read Python-built tables (source('analysis', ...), e.g. the province mart reads
# Npro) are built by a second dbt step after the index (dagster_project/defs/transform/assets.py);
# this fixture has no Npro, so it builds everything else, as the first step does.
AFTER_PYTHON_SELECTOR = "source:analysis+"
# Task B2: one query per rule type and model keeps the build, and Dagster's asset checks,
# at this many data tests at most (183 when every column had its own tests): 50, plus a key
# and the relationships of each intermediate model and of dim_firms (15).
MAX_DATA_TESTS = 65


def _yaml(path: Path) -> dict:
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def _model(name: str) -> dict:
    for path in MODELS_DIR.rglob("*.yml"):
        for model in _yaml(path).get("models", []):
            if model["name"] == name:
                return model
    raise LookupError(name)


def _accepted_values(model: dict, column: str) -> list:
    for col in model["columns"]:
        if col["name"] == column:
            for test in col.get("data_tests", []):
                if isinstance(test, dict) and "accepted_values" in test:
                    return test["accepted_values"]["arguments"]["values"]
    raise LookupError(column)


# --------------------------------------------------------------------------- fast


def test_sources_mirror_the_raw_contract_column_by_column():
    tables = {}
    for path in sorted((MODELS_DIR / "staging").glob("*/_*__sources.yml")):
        for source in _yaml(path)["sources"]:
            assert source["schema"] == "raw"
            for table in source["tables"]:
                assert table["name"] not in tables, f"{table['name']} declared twice"
                tables[table["name"]] = [(c["name"], c["data_type"]) for c in table["columns"]]
    assert set(tables) == {t.name for t in RAW_TABLES}
    for table in RAW_TABLES:
        expected = [(c.name, c.dtype.lower()) for c in table.columns]
        expected += [(name, dtype.lower()) for name, dtype in LINEAGE_COLUMNS]
        assert tables[table.name] == expected, table.name


def test_staging_accepts_exactly_the_contract_codes():
    assert _accepted_values(_model("stg_wind__firm_statuses"), "trading_status") == list(STATUSES)
    assert _accepted_values(_model("stg_cnipa__patents"), "patent_type") == list(PATENT_TYPES)


def test_fct_firm_years_documents_the_agreed_interface():
    documented = [c["name"] for c in _model("fct_firm_years")["columns"]]
    assert documented == FCT_FIRM_YEARS_COLUMNS
    # The Npro builder reads the eleven Table 1 indicators by these names.
    assert set(NPRO_DIRECTIONS) <= set(documented)
    assert set(table1_weights()) <= set(documented)


# --------------------------------------------------------------------------- slow


def _dbt(project_dir: Path, work_dir: Path, warehouse: Path, *args: str) -> subprocess.CompletedProcess:
    env = dict(os.environ, NQP_WAREHOUSE_PATH=str(warehouse), DO_NOT_TRACK="1")
    command = [
        str(Path(sys.executable).parent / "dbt"), *args,
        "--project-dir", str(project_dir), "--profiles-dir", str(project_dir),
        "--target-path", str(work_dir / "target"), "--log-path", str(work_dir / "logs"),
    ]
    return subprocess.run(command, capture_output=True, text=True, env=env, cwd=work_dir)


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """A generated vintage loaded into a fresh warehouse and built by dbt."""
    work = tmp_path_factory.mktemp("dbt_build")
    vintage_dir = generate_vintage(work / "landing", VINTAGE_ID, seed=GENERATOR_SEED, scale=GENERATOR_SCALE)
    warehouse = work / "warehouse.duckdb"
    with duckdb.connect(str(warehouse)) as conn:
        load_vintage(conn, vintage_dir)
    result = _dbt(
        settings.DBT_PROJECT_DIR, work, warehouse,
        "build", "--exclude", AFTER_PYTHON_SELECTOR, "--vars", json.dumps({"vintage_id": VINTAGE_ID}),
    )
    assert result.returncode == 0, result.stdout[-6000:]
    with duckdb.connect(str(warehouse), read_only=True) as conn:
        mart = conn.execute("select * from marts.fct_firm_years order by stock_code, fiscal_year").df()
        filtered = conn.execute("select * from intermediate.int_firm_years_filtered").df()
    raw = {t.name: pd.read_parquet(vintage_dir / f"{t.name}.parquet") for t in RAW_TABLES}
    truth = json.loads((vintage_dir / "truth.json").read_text(encoding="utf-8"))
    run_results = json.loads((work / "target" / "run_results.json").read_text(encoding="utf-8"))
    return {
        "mart": mart, "filtered": filtered, "raw": raw, "truth": truth, "run_results": run_results,
        "work": work, "warehouse": warehouse,
    }


def _seed(name: str) -> pd.DataFrame:
    return pd.read_csv(settings.SEEDS_DIR / f"{name}.csv", dtype=str, keep_default_na=False)


def _reference_patent_counts(raw: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """Per firm and application year, by plain Python string tests on every patent."""
    keywords = [k.strip() for k in _seed("ai_keywords")["keyword_zh"] if k.strip()]
    ai_prefixes = tuple(_seed("ai_ipc_groups")["ipc_prefix"])
    green_prefixes = tuple(_seed("green_ipc_codes")["ipc_prefix"])
    firms_of = raw["applicant_firm_map"].groupby("applicant_name")["stock_code"].apply(set).to_dict()
    rows = []
    for patent in raw["patents"].itertuples(index=False):
        names = {n.strip() for n in patent.applicants.split(";") if n.strip()}
        codes = [c.strip() for c in patent.ipc_codes.split(";") if c.strip()]
        keyword_ai = any(k in patent.title or k in patent.abstract for k in keywords)
        ipc_ai = any(c.startswith(ai_prefixes) for c in codes)
        green = (
            any(c.startswith(green_prefixes) for c in codes)
            and len(names) == 1
            and patent.patent_type in ("invention", "utility_model")
        )
        for stock_code in set().union(*(firms_of.get(n, set()) for n in names)):
            rows.append((stock_code, pd.Timestamp(patent.application_date).year, keyword_ai, ipc_ai, green))
    frame = pd.DataFrame(rows, columns=["stock_code", "fiscal_year", "ai_count", "ai_patent_count", "green_count"])
    return frame.groupby(["stock_code", "fiscal_year"], as_index=False).sum()


def _reference_sample(raw: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """The analysis sample, unwinsorized, from the raw files and the written rules.

    The rule dropping firm-years with a missing model variable is left out on purpose:
    the generator plants no missing value, so the mart must drop none (the key
    comparison in the test would show it). high_edu_share is imputed over this sample
    as documented: the industry-year median of the disclosed shares, else the year's
    (pandas' median averages the middle pair, as DuckDB's does).
    """
    fin = raw["financials"].sort_values(["stock_code", "fiscal_year"]).copy()
    previous = fin.groupby("stock_code")[["fiscal_year", "total_assets"]].shift(1)
    fin["prior_total_assets"] = previous["total_assets"].where(previous["fiscal_year"] == fin["fiscal_year"] - 1)
    firms = raw["firms"]
    frame = (
        fin.merge(firms, on="stock_code", how="left")
        .merge(raw["governance"], on=["stock_code", "fiscal_year"], how="left")
        .merge(raw["firm_status"], on=["stock_code", "fiscal_year"], how="left")
        .merge(_reference_patent_counts(raw), on=["stock_code", "fiscal_year"], how="left")
    )
    for count in ("ai_count", "ai_patent_count", "green_count"):
        frame[count] = frame[count].fillna(0).astype(int)
    letter = frame["industry_code"].str[0]
    division = pd.to_numeric(frame["industry_code"].str[1:3], errors="coerce")
    year_start = pd.to_datetime(frame["fiscal_year"].astype(str) + "-01-01")
    year_end = pd.to_datetime(frame["fiscal_year"].astype(str) + "-12-31")
    listing = pd.to_datetime(frame["listing_date"])
    delisting = pd.to_datetime(frame["delisting_date"])
    keep = (
        frame["fiscal_year"].between(2015, 2023)
        & (letter == "C") & division.between(13, 43)
        & ~((letter == "J") & division.between(66, 69))
        & (frame["trading_status"] == "normal")
        & (frame["total_liabilities"] <= frame["total_assets"])
        & (listing <= year_end) & (delisting.isna() | (delisting >= year_start))
    )
    frame = frame[keep].copy()
    age_years = frame["fiscal_year"] - pd.to_datetime(frame["incorporation_date"]).dt.year
    size_million = np.log(frame["total_assets"] / 1e6)
    average_assets = ((frame["total_assets"] + frame["prior_total_assets"]) / 2).fillna(frame["total_assets"])
    human_capital = frame["bachelor_staff"] / frame["employees"]
    industry_year_median = human_capital.groupby([frame["industry_code"], frame["fiscal_year"]]).transform("median")
    year_median = human_capital.groupby(frame["fiscal_year"]).transform("median")
    return pd.DataFrame(
        {
            "stock_code": frame["stock_code"],
            "fiscal_year": frame["fiscal_year"],
            "ai_count": frame["ai_count"],
            "ai_patent_count": frame["ai_patent_count"],
            "green_count": frame["green_count"],
            "ai": np.log1p(frame["ai_count"]),
            "ai_patent": np.log1p(frame["ai_patent_count"]),
            "green": np.log1p(frame["green_count"]),
            "roa": frame["net_profit"] / frame["total_assets"],
            "lev": frame["total_liabilities"] / frame["total_assets"],
            "top1": frame["top1_share_pct"] / 100,
            "asset_turnover": frame["operating_income"] / average_assets,
            "high_edu_share": human_capital.fillna(industry_year_median).fillna(year_median),
            "high_edu_imputed": human_capital.isna().astype(int),
            "human_capital": human_capital,
            "sa_abs": (-0.737 * size_million + 0.043 * size_million**2 - 0.040 * age_years).abs(),
        }
    ).sort_values(["stock_code", "fiscal_year"], ignore_index=True)


@pytest.fixture(scope="module")
def reference(built) -> pd.DataFrame:
    return _reference_sample(built["raw"])


def _assert_close(actual: pd.Series, expected: pd.Series, name: str) -> None:
    np.testing.assert_allclose(
        actual.astype(float).to_numpy(), expected.astype(float).to_numpy(), rtol=RELATIVE_TOLERANCE, err_msg=name
    )


def _winsorized(values: pd.Series) -> pd.Series:
    # numpy's default percentile method 'linear' is Hyndman-Fan type 7, the documented
    # definition; nanpercentile ignores undisclosed values like the SQL aggregate does.
    lower, upper = np.nanpercentile(values.astype(float), [1, 99])
    return values.clip(lower, upper)


@pytest.mark.slow
def test_mart_rows_are_exactly_the_planted_sample(built):
    mart, truth = built["mart"], built["truth"]
    assert len(mart) == truth["expected_sample_firm_years"]
    planted = truth["planted_counts"]
    assert mart["ai_count"].sum() == planted["sample_keyword_ai_patents"]
    assert mart["ai_patent_count"].sum() == planted["sample_ai_ipc_patents"]
    sample = built["filtered"][built["filtered"]["is_in_sample"]]
    assert sample["green_count"].sum() == planted["sample_green_patents"]
    assert mart["human_capital"].notna().sum() == planted["sample_bachelor_disclosed"]
    assert mart["region"].value_counts().to_dict() == planted["sample_firm_years_by_region"]


@pytest.mark.slow
def test_mart_equals_an_independent_pandas_build(built, reference):
    mart = built["mart"]
    assert list(zip(mart["stock_code"], mart["fiscal_year"])) == list(
        zip(reference["stock_code"], reference["fiscal_year"])
    )
    for column in ("ai_count", "ai_patent_count", "high_edu_imputed"):
        assert mart[column].tolist() == reference[column].tolist(), column
    for column in (
        "ai", "ai_patent", "green", "roa", "lev", "top1", "asset_turnover", "high_edu_share", "human_capital", "sa_abs"
    ):
        _assert_close(mart[column], _winsorized(reference[column]), column)
    winsorized_ai = _winsorized(reference["ai"])
    assert mart["ai_did"].tolist() == (winsorized_ai > winsorized_ai.mean()).astype(int).tolist()


@pytest.mark.slow
def test_log_counts_are_clipped_and_high_edu_share_is_imputed_where_undisclosed(built, reference):
    """Guards the two B2 decisions against the data, beyond equality with the reference:
    winsorizing the log counts must actually bite at the top (else the test above could
    not tell), and imputation must fill exactly the undisclosed firm-years, leaving
    human_capital missing there."""
    mart = built["mart"]
    for column in ("ai", "ai_patent", "green"):
        assert mart[column].max() < reference[column].max(), column
    imputed = mart["high_edu_imputed"] == 1
    assert imputed.any() and (~imputed).any()
    assert mart.loc[imputed, "human_capital"].isna().all()
    assert mart.loc[~imputed, "human_capital"].notna().all()
    assert mart["high_edu_share"].notna().all()


@pytest.mark.slow
def test_mart_columns_are_the_documented_ones_and_every_variable_is_winsorized(built, reference):
    mart, filtered = built["mart"], built["filtered"]
    assert list(mart.columns) == FCT_FIRM_YEARS_COLUMNS
    sample = filtered[filtered["is_in_sample"]]
    unwinsorized = sample.merge(
        reference[["stock_code", "fiscal_year", *IMPUTED_IN_MART]], on=["stock_code", "fiscal_year"]
    )
    assert len(unwinsorized) == len(sample)
    for column in WINSORIZED:
        lower, upper = np.nanpercentile(unwinsorized[column].astype(float), [1, 99])
        assert mart[column].min() == pytest.approx(lower, rel=RELATIVE_TOLERANCE), column
        assert mart[column].max() == pytest.approx(upper, rel=RELATIVE_TOLERANCE), column


@pytest.mark.slow
def test_every_exclusion_is_counted_once(built):
    filtered = built["filtered"]
    assert filtered["is_in_sample"].sum() == len(built["mart"])
    assert (filtered["exclusion_reason"].isna() == filtered["is_in_sample"]).all()


@pytest.mark.slow
def test_build_runs_few_data_tests_and_every_unit_test(built):
    kinds = pd.Series([result["unique_id"].split(".")[0] for result in built["run_results"]["results"]])
    counts = kinds.value_counts().to_dict()
    assert 0 < counts["test"] <= MAX_DATA_TESTS
    after_python = {path.stem for path in MODELS_DIR.rglob("*.sql") if "source('analysis'" in path.read_text()}
    declared_unit_tests = [
        test for path in MODELS_DIR.rglob("*.yml") for test in _yaml(path).get("unit_tests", [])
        if test["model"] not in after_python
    ]
    assert after_python, "the province mart reads Npro through source('analysis', ...)"
    assert counts["unit_test"] == len(declared_unit_tests)


@pytest.mark.slow
def test_build_without_a_vintage_fails_with_a_clear_message(built):
    result = _dbt(settings.DBT_PROJECT_DIR, built["work"], built["warehouse"], "run", "--select", "stg_wind__firms")
    assert result.returncode != 0
    assert "The dbt var 'vintage_id' is required" in result.stdout
