"""dbt inside the step's process: nothing at import, the warehouse as an argument, dbt's verdict kept.

The dbt assets are materialized for real (dbtRunner on the project's manifest, a real DuckDB
file loaded by the real loader), without the rest of the pipeline.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest
from dagster import AssetKey, materialize

from dagster_project.defs.common.resources import VintageSelection, WorkingWarehouse
from dagster_project.defs.transform.assets import dbt_model_assets
from dagster_project.defs.transform.manifest import MANIFEST_PATH, WAREHOUSE_PATH_VAR
from dagster_project.defs.transform.runner import build_args
from nqp_core.loader import load_vintage
from nqp_core.settings import PROJECT_ROOT
from synthetic import generate_vintage

VINTAGE_ID = "2024-06"
# The smallest vintage where every model has rows; the dbt build then takes a few seconds.
GENERATOR_SCALE = 0.02

IMPORT_PROBE = """
import json, os, sys
from pathlib import Path
manifest = Path(sys.argv[1])
WATCHED = ("PATH", "NQP_", "DBT_")  # (OpenMP runtimes set KMP_* when numba or sklearn load)
before = (dict(os.environ), manifest.stat().st_mtime_ns)
import dagster_project.definitions
print(json.dumps({
    "environ_changed": sorted(k for k in set(before[0]) | set(os.environ)
                              if before[0].get(k) != os.environ.get(k) and k.startswith(WATCHED)),
    "manifest_rewritten": manifest.stat().st_mtime_ns != before[1],
    "dbt_parser_loaded": "dbt.parser.manifest" in sys.modules,
}))
"""


def test_importing_the_definitions_parses_nothing_and_changes_no_environment_variable():
    probe = subprocess.run([sys.executable, "-c", IMPORT_PROBE, str(MANIFEST_PATH)], cwd=PROJECT_ROOT,
                           capture_output=True, text=True, check=True)
    assert json.loads(probe.stdout.splitlines()[-1]) == {
        "environ_changed": [], "manifest_rewritten": False, "dbt_parser_loaded": False,
    }


def test_a_production_build_names_its_warehouse_and_leaves_the_unit_tests_to_the_test_suite(tmp_path):
    args = build_args(tmp_path / "warehouse.duckdb", {"vintage_id": VINTAGE_ID}, ["--select", "fqn:*"],
                      tmp_path / "target")
    variables = json.loads(args[args.index("--vars") + 1])
    assert variables == {"vintage_id": VINTAGE_ID, WAREHOUSE_PATH_VAR: str(tmp_path / "warehouse.duckdb")}
    assert args[args.index("--exclude-resource-type") + 1] == "unit_test"
    assert args[-2:] == ["--select", "fqn:*"]


@pytest.fixture(scope="module")
def raw_warehouse(tmp_path_factory) -> Path:
    work = tmp_path_factory.mktemp("dbt_in_process")
    vintage_dir = generate_vintage(work / "landing", VINTAGE_ID, seed=7, scale=GENERATOR_SCALE)
    warehouse = work / "warehouse.duckdb"  # the compiled SQL names the catalog 'warehouse'
    with duckdb.connect(str(warehouse)) as conn:
        load_vintage(conn, vintage_dir)
    return warehouse


def _resources(warehouse: Path) -> dict:
    return {"warehouse": WorkingWarehouse(database=str(warehouse)), "vintage": VintageSelection(vintage_id=VINTAGE_ID)}


def test_the_dbt_step_builds_the_given_warehouse_and_reports_every_model_and_data_test(raw_warehouse):
    models, _ = dbt_model_assets()
    environ = {k: v for k, v in os.environ.items() if k.startswith(("PATH", "NQP_", "DBT_"))}
    result = materialize([models], resources=_resources(raw_warehouse), raise_on_error=False)
    assert result.success
    assert {k: v for k, v in os.environ.items() if k.startswith(("PATH", "NQP_", "DBT_"))} == environ
    materialized = {event.asset_key for event in result.get_asset_materialization_events()}
    assert AssetKey(["marts", "fct_firm_years"]) in materialized
    assert materialized == set(models.keys)
    checks = [event.event_specific_data for event in result.all_events if event.event_type_value == "ASSET_CHECK_EVALUATION"]
    assert checks and all(check.passed for check in checks)
    assert len(checks) == len(models.check_keys)
    with duckdb.connect(str(raw_warehouse), read_only=True) as conn:
        assert conn.execute("select count(*) from marts.fct_firm_years where vintage_id = ?", [VINTAGE_ID]).fetchone()[0] > 0


def test_a_dbt_error_fails_the_step_with_dbt_s_message(tmp_path, raw_warehouse):
    # The models after the index read analysis.firm_year_npro, which this warehouse lacks.
    copy = tmp_path / "warehouse.duckdb"
    copy.write_bytes(raw_warehouse.read_bytes())
    _, after_index = dbt_model_assets()
    result = materialize([after_index], resources=_resources(copy), raise_on_error=False)
    assert not result.success
    failure = next(event for event in result.all_events if event.is_step_failure)
    message = failure.step_failure_data.error.to_string()
    assert "dbt build failed" in message and "firm_year_npro" in message
    assert not result.get_asset_materialization_events()
