"""Derived measures against the last published sample, pooled and per year: function level.

A small generated sample (two vintages in one real DuckDB file, with just the columns the
measures read) is judged by the real GX suite; the expected figures are recomputed with
pandas, independently of DERIVED_MEASURES_SQL.
"""

from __future__ import annotations

import duckdb
import numpy as np
import pandas as pd
import pytest

from expectations.config import DEFAULT_TOLERANCES
from expectations.marts import (
    DERIVED_KEY_COLUMNS,
    EXCLUSION_REASONS,
    derived_measure_frame,
    derived_measure_suite,
    derived_measures,
)
from expectations.runner import validate_frame

PREVIOUS, CURRENT = "2024-06", "2025-06"
YEARS = range(2015, 2024)
FIRM_YEARS_PER_YEAR = 400  # above derived_min_stratum_rows, so every year is judged


def _vintage(rng: np.random.Generator) -> dict[str, pd.DataFrame]:
    rows = len(YEARS) * FIRM_YEARS_PER_YEAR
    reasons = rng.choice([None, *EXCLUSION_REASONS], size=rows, p=[0.7, 0.1, 0.02, 0.05, 0.05, 0.03, 0.05])
    filtered = pd.DataFrame({
        "stock_code": [f"{i:06d}" for i in range(rows)],
        "fiscal_year": np.repeat(list(YEARS), FIRM_YEARS_PER_YEAR),
        "passes_sample_years": True,
        "exclusion_reason": reasons,
    })
    sample = filtered[filtered["exclusion_reason"].isna()][["stock_code", "fiscal_year"]].copy()
    sample["ai_patent"] = rng.poisson(0.8, len(sample)).astype(float)
    sample["ai"] = rng.poisson(1.0, len(sample)).astype(float)
    sample["green"] = rng.poisson(0.5, len(sample)).astype(float)
    patents = pd.DataFrame({
        "application_number": [f"CN{n}" for n in range(3000)],
        "application_date": pd.to_datetime(rng.choice([f"{y}-06-01" for y in YEARS], size=3000)),
        "applicants": [f"公司{rng.integers(0, 300)};大学{rng.integers(0, 5)}" for _ in range(3000)],
    })
    applicant_map = pd.DataFrame({"applicant_name": [f"公司{i}" for i in range(0, 300, 1) if i % 10]})
    return {"filtered": filtered, "sample": sample, "patents": patents, "map": applicant_map}


def _write(conn: duckdb.DuckDBPyConnection, vintage_id: str, tables: dict[str, pd.DataFrame]) -> None:
    targets = {"filtered": "intermediate.int_firm_years_filtered", "sample": "marts.fct_firm_years",
               "patents": "raw.patents", "map": "raw.applicant_firm_map"}
    for name, table in targets.items():
        frame = tables[name].assign(vintage_id=vintage_id)  # noqa: F841 (read by DuckDB's replacement scan)
        exists = conn.execute("select count(*) from information_schema.tables where table_schema || '.' || "
                              "table_name = ?", [table]).fetchone()[0]
        conn.execute(f"insert into {table} by name select * from frame" if exists
                     else f"create table {table} as select * from frame")


def _judge(tables_before, tables_after, tmp_path):
    with duckdb.connect(str(tmp_path / "warehouse.duckdb")) as conn:
        for schema in ("intermediate", "marts", "raw"):
            conn.execute(f"create schema {schema}")
        _write(conn, PREVIOUS, tables_before)
        _write(conn, CURRENT, tables_after)
        previous, current = derived_measures(conn, PREVIOUS), derived_measures(conn, CURRENT)
    frame = derived_measure_frame(previous, current, PREVIOUS)
    outcome = validate_frame(frame, "marts.fct_firm_years derived measures",
                             lambda: derived_measure_suite(PREVIOUS), DERIVED_KEY_COLUMNS)
    return previous, frame, outcome


@pytest.fixture
def tables():
    return _vintage(np.random.default_rng(11))


def test_measures_match_pandas_and_an_unchanged_sample_passes(tables, tmp_path):
    previous, frame, outcome = _judge(tables, {k: v.copy() for k, v in tables.items()}, tmp_path)
    assert outcome.failures == ()
    filtered, sample = tables["filtered"], tables["sample"]
    in_2019 = filtered[filtered["fiscal_year"] == 2019]
    assert previous[("dropped_insolvent_share", "fiscal_year=2019")] == pytest.approx(
        (in_2019["exclusion_reason"] == "insolvent").mean())
    assert previous[("sample_rows", "all")] == len(sample)
    assert previous[("ai_patent_mean", "fiscal_year=2016")] == pytest.approx(
        sample.loc[sample["fiscal_year"] == 2016, "ai_patent"].mean())
    names = tables["patents"]["applicants"].str.split(";")
    mapped = set(tables["map"]["applicant_name"])
    assert previous[("matched_applicant_share", "all")] == pytest.approx(
        names.map(lambda ns: any(n in mapped for n in ns)).mean())
    # every year is its own stratum, besides the pooled one
    assert {"all", *(f"fiscal_year={y}" for y in YEARS)} <= set(frame["stratum"])


def test_insolvency_surge_in_one_year_fails_naming_measure_year_and_both_shares(tables, tmp_path):
    after = {k: v.copy() for k, v in tables.items()}
    filtered = after["filtered"]
    # liabilities in the wrong unit for 2019: a quarter of that year's sample becomes insolvent
    hit = filtered.index[(filtered["fiscal_year"] == 2019) & filtered["exclusion_reason"].isna()][::4]
    filtered.loc[hit, "exclusion_reason"] = "insolvent"
    lost = set(filtered.loc[hit, "stock_code"])
    after["sample"] = after["sample"][~after["sample"]["stock_code"].isin(lost)]
    previous, _, outcome = _judge(tables, after, tmp_path)
    examples = [e for f in outcome.failures for e in f.examples]
    flagged = {(e["measure"], e["stratum"]) for e in examples}
    assert ("dropped_insolvent_share", "fiscal_year=2019") in flagged
    assert ("sample_rows", "fiscal_year=2019") in flagged
    assert not any(s.startswith("fiscal_year=") and s != "fiscal_year=2019" for _, s in flagged)
    (example,) = [e for e in examples if (e["measure"], e["stratum"]) == ("dropped_insolvent_share", "fiscal_year=2019")]
    assert example["previous"] == pytest.approx(previous[("dropped_insolvent_share", "fiscal_year=2019")])
    assert example["current"] - example["previous"] == pytest.approx(len(hit) / FIRM_YEARS_PER_YEAR)
    message = next(f for f in outcome.failures if example in f.examples).message("marts.fct_firm_years")
    assert "measure='dropped_insolvent_share', stratum='fiscal_year=2019'" in message
    assert f"against the published vintage {PREVIOUS}" in message


def test_a_mapping_file_that_lost_rows_fails_on_the_matched_applicant_share(tables, tmp_path):
    after = {k: v.copy() for k, v in tables.items()}
    after["map"] = after["map"].iloc[::2]
    _, _, outcome = _judge(tables, after, tmp_path)
    flagged = {(e["measure"], e["stratum"]) for f in outcome.failures for e in f.examples}
    assert ("matched_applicant_share", "all") in flagged or any(
        m == "matched_applicant_share" and s.startswith("application_year=") for m, s in flagged), flagged
    assert {m for m, _ in flagged} == {"matched_applicant_share"}
    assert DEFAULT_TOLERANCES.derived_min_stratum_rows < FIRM_YEARS_PER_YEAR


def test_sparse_application_years_are_judged_pooled_only(tables, tmp_path):
    """Application-year strata are sized by their patents: a year of a few dozen patents whose
    matched share jumps is not judged on its own, a year of hundreds is."""
    sparse_year, rng = 2015, np.random.default_rng(5)
    patents = tables["patents"]
    in_sparse = patents["application_date"].dt.year == sparse_year
    before = {**tables, "patents": pd.concat([patents[~in_sparse], patents[in_sparse].iloc[:40]], ignore_index=True)}
    assert DEFAULT_TOLERANCES.derived_min_stratum_rows > 40
    after = {k: v.copy() for k, v in before.items()}
    # every applicant of the sparse year becomes unmatched: its share falls by tenths
    in_sparse_after = after["patents"]["application_date"].dt.year == sparse_year
    after["patents"].loc[in_sparse_after, "applicants"] = [f"个人{rng.integers(0, 10**6)}"
                                                          for _ in range(in_sparse_after.sum())]
    previous, frame, outcome = _judge(before, after, tmp_path)
    assert previous[("patent_rows", f"application_year={sparse_year}")] == 40
    assert f"application_year={sparse_year}" not in set(frame["stratum"])
    assert "application_year=2016" in set(frame["stratum"])
    assert "patent_rows" not in set(frame["measure"])
    flagged = {(e["measure"], e["stratum"]) for f in outcome.failures for e in f.examples}
    assert not any(s.startswith("application_year=") for _, s in flagged), flagged
