"""Semantic checks through the real job: a warning publishes and is recorded, a dbt failure names its rows.

The base is a private copy of the session's published ``pipeline_run`` (vintage 2024-06);
the refused semantic faults themselves run end to end in test_faults_e2e.py (the corpus).
"""

from __future__ import annotations

import shutil

import duckdb
import pandas as pd
import pytest
from dagster import DagsterInstance

from nqp_core.ops_store import OpsStore
from nqp_core.working_copy import file_sha256
from dagster_project.defs.common.dbt_failures import failing_rows
from synthetic.next_vintage import generate_next_vintage
from expectations.config import DEFAULT_TOLERANCES
from expectations.marts import (
    DERIVED_KEY_COLUMNS,
    STRATUM_SIZE_ONLY,
    derived_measure_frame,
    derived_measure_suite,
    derived_measures,
)
from expectations.runner import validate_frame
from tests.faults.corpus import edit

pytestmark = [pytest.mark.e2e, pytest.mark.slow]


def _university_mapped(frame: pd.DataFrame) -> pd.DataFrame:
    extra = frame.iloc[:1].copy()
    extra["applicant_name"] = "华东理工大学"
    extra["relation"] = "subsidiary"
    return pd.concat([frame, extra], ignore_index=True)


def test_a_warning_is_published_alerted_and_its_acknowledgement_recorded(
        pipeline_run, copy_published, in_nqp_environment, tmp_path):
    from dagster_project.definitions import vintage_job
    from dagster_project.defs.publish.runs import ACKNOWLEDGEMENTS_FILE, execute_vintage_run

    home = copy_published(pipeline_run, tmp_path)
    with duckdb.connect(str(home.warehouse), read_only=True) as conn:
        measures_before = derived_measures(conn, home.vintage_id)
    following = generate_next_vintage(home.vintage_dir, home.data_dir / "landing")
    edit("applicant_firm_map", _university_mapped)(following)
    before = file_sha256(home.warehouse)
    (home.data_dir / ACKNOWLEDGEMENTS_FILE).write_text(
        f"'{following.name}': [applicant_map_non_subsidiary]\n", encoding="utf-8")
    with in_nqp_environment(home), DagsterInstance.ephemeral() as instance:
        outcome = execute_vintage_run(following.name, instance, vintage_job())  # as `nqp run` and the sensor build it
        assert outcome.success, outcome
        latest = OpsStore().latest_statuses()[following.name]
        with OpsStore().reader() as conn:
            alerts = conn.execute("select rule, severity, message from ops.alerts where run_id = ?",
                                  [outcome.run_id]).fetchall()
    assert latest.status == "published" and file_sha256(home.warehouse) != before
    assert [(rule, severity) for rule, severity, _ in alerts] == [("expect_column_values_to_not_match_regex", "warning")]
    assert alerts[0][2].startswith(f"WARNING (acknowledged for vintage {following.name})")
    assert "华东理工大学" in alerts[0][2]
    # The clean refresh leaves the derived measures where they were: the false-alarm margin
    # of derived_measure_drift (docs/data_quality.md) is measured here.
    with duckdb.connect(str(home.warehouse), read_only=True) as conn:
        measures_after = derived_measures(conn, following.name)
    shifts = derived_measure_frame(measures_before, measures_after, home.vintage_id)
    judged = [key for key in measures_before if key[0] not in STRATUM_SIZE_ONLY]  # every judged measure is compared
    assert len(shifts) == len(judged) and shifts["share_shift"].abs().max() < DEFAULT_TOLERANCES.derived_max_share_shift / 10
    assert shifts["relative_shift"].abs().max() < DEFAULT_TOLERANCES.derived_max_relative_shift / 10


def test_a_broken_ai_patent_measure_fails_the_derived_measure_check(pipeline_run, tmp_path):
    """ai_patent zeroed for most firm-years (an IPC match that broke): the shift names the measure and both values."""
    copy = tmp_path / "warehouse.duckdb"
    shutil.copy(pipeline_run.warehouse, copy)
    vintage = pipeline_run.vintage_id
    with duckdb.connect(str(pipeline_run.warehouse), read_only=True) as conn:
        previous = derived_measures(conn, vintage)
    with duckdb.connect(str(copy)) as conn:
        conn.execute("update marts.fct_firm_years set ai_patent = 0 where hash(stock_code) % 4 <> 0")
        current = derived_measures(conn, vintage)
    frame = derived_measure_frame(previous, current, vintage)
    outcome = validate_frame(frame, "marts.fct_firm_years derived measures",
                             lambda: derived_measure_suite(vintage), DERIVED_KEY_COLUMNS)
    assert outcome.failures and {f.check for f in outcome.failures} == {"derived_measure_drift"}
    measures = {example["measure"] for failure in outcome.failures for example in failure.examples}
    assert {"ai_patent_positive_share", "ai_patent_mean"} <= measures and "dropped_insolvent_share" not in measures
    assert f"against the published vintage {vintage}" in outcome.failures[0].message("marts.fct_firm_years")


def test_a_failed_dbt_test_alert_can_name_the_failing_province_years(pipeline_run, tmp_path):
    """The compiled test of the session's dbt run, rerun on a copy where one province-year lost its firms."""
    copy = tmp_path / "warehouse.duckdb"  # the compiled SQL names the catalog 'warehouse'
    shutil.copy(pipeline_run.warehouse, copy)
    with duckdb.connect(str(copy)) as conn:
        assert failing_rows("assert_every_province_year_has_firms", conn) == (0, [])
        conn.execute("update marts.fct_province_years set n_firms = 0 "
                     "where province_code = '460000' and fiscal_year in (2016, 2019)")
        count, rows = failing_rows("assert_every_province_year_has_firms", conn)
    assert count == 2
    assert {(row["province_code"], row["fiscal_year"]) for row in rows} == {("460000", 2016), ("460000", 2019)}
