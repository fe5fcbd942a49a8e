"""Transform: the dbt project (staging -> intermediate -> marts) as Dagster assets.

dbt tests load as asset checks. dagster-dbt needs ``target/manifest.json`` at import
time; :func:`ensure_manifest` runs ``dbt parse`` when it is missing or older than any
file of the dbt project (dagster-dbt's own ``prepare_if_dev`` only runs under
``dagster dev``, not for command-line or test materializations).
"""

import json
import os
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

from dagster import AssetExecutionContext, AssetKey, Config
from dagster_dbt import DagsterDbtTranslator, DbtCliResource, DbtProject, dbt_assets
from pydantic import Field

from dagster_project.defs.common.resources import VintageSelection, WorkingWarehouse
from nqp_core import settings

# dbt is installed in this interpreter's environment, which need not be activated (the
# Makefile calls .venv/bin/nqp directly); dagster-dbt looks the executable up on PATH.
_ENV_BIN = str(Path(sys.executable).parent)
if _ENV_BIN not in os.environ.get("PATH", "").split(os.pathsep):
    os.environ["PATH"] = _ENV_BIN + os.pathsep + os.environ.get("PATH", "")

DBT_PROJECT = DbtProject(project_dir=settings.DBT_PROJECT_DIR, profiles_dir=settings.DBT_PROJECT_DIR)
_GENERATED_DIRS = {"target", "logs", "dbt_packages"}


def _newest_project_file_mtime(project_dir: Path) -> float:
    newest = 0.0
    for path in project_dir.rglob("*"):
        relative = path.relative_to(project_dir)
        if relative.parts and relative.parts[0] in _GENERATED_DIRS:
            continue
        if path.is_file():
            newest = max(newest, path.stat().st_mtime)
    return newest


def ensure_manifest() -> Path:
    """Return the dbt manifest path, parsing the project first if it is stale."""
    manifest = DBT_PROJECT.manifest_path
    if not manifest.exists() or manifest.stat().st_mtime < _newest_project_file_mtime(DBT_PROJECT.project_dir):
        # Parsing renders profiles.yml, which reads the warehouse path from the environment.
        os.environ.setdefault("NQP_WAREHOUSE_PATH", str(settings.warehouse_path()))
        DBT_PROJECT.preparer.prepare(DBT_PROJECT)
    return manifest


class WarehouseTranslator(DagsterDbtTranslator):
    """Asset keys are warehouse addresses: <schema>/<table> for sources (raw/<table> for the
    ingested vintage, analysis/firm_year_npro for the Python-built Npro that the province
    mart reads back), <schema>/<model> otherwise."""

    def get_asset_key(self, dbt_resource_props: Mapping[str, Any]) -> AssetKey:
        if dbt_resource_props["resource_type"] == "source":
            return AssetKey([dbt_resource_props["schema"], dbt_resource_props["identifier"]])
        return AssetKey([dbt_resource_props["schema"], dbt_resource_props["name"]])

    def get_group_name(self, dbt_resource_props: Mapping[str, Any]) -> str | None:
        return "transform"


class AfterIndexTranslator(WarehouseTranslator):
    """Models that read the Npro index are shown, and run by group (bench), with the index."""

    def get_group_name(self, dbt_resource_props: Mapping[str, Any]) -> str | None:
        return "index"


# Models downstream of a Python asset (source('analysis', ...): marts.fct_province_years
# reads analysis.firm_year_npro) are a second dbt step. Left in one multi-asset, the graph
# dbt -> Npro -> dbt has a cycle that Dagster resolves by splitting the op into subsets in
# an order of its choosing: the seeds subset ran before ingest had created the warehouse.
# Two definitions make the order explicit: everything else first, these after Npro.
AFTER_PYTHON_ASSETS = "source:analysis+"


class SampleOptionsConfig(Config):
    """Variable-construction options that depart from the paper, off by default
    (docs/firm_level_tables.md); passed to dbt as vars."""

    sa_hadlock_pierce_caps: bool = Field(
        default=False, description="SA index with Hadlock-Pierce's caps: assets at USD 4.5 billion, age at 37 years"
    )
    st_exclusion: Literal["firm_year", "firm"] = Field(
        default="firm_year", description="Drop ST/*ST/PT firm-years (the paper) or every year of an ever-ST firm"
    )


def _dbt_build(context: AssetExecutionContext, dbt: DbtCliResource, vintage: VintageSelection,
               warehouse: WorkingWarehouse, options: SampleOptionsConfig | None = None):
    with warehouse.get_connection() as conn:
        vintage_id = vintage.resolve(conn)
    # The connection is closed before dbt starts: DuckDB admits one writing process.
    os.environ["NQP_WAREHOUSE_PATH"] = warehouse.database
    context.log.info(f"dbt build for vintage {vintage_id} into {warehouse.database}")
    yield from dbt.cli(["build", "--vars", json.dumps(dbt_vars(vintage_id, options))], context=context).stream()


def dbt_vars(vintage_id: str, options: SampleOptionsConfig | None) -> dict[str, object]:
    """The dbt vars of a build: the vintage and the options that differ from the
    dbt_project.yml defaults (so that a default run issues the very same command as before
    the options existed)."""
    variables: dict[str, object] = {"vintage_id": vintage_id}
    if options is not None and options.sa_hadlock_pierce_caps:
        variables["sa_hadlock_pierce_caps"] = True
    if options is not None and options.st_exclusion != "firm_year":
        variables["st_exclusion"] = options.st_exclusion
    return variables


@dbt_assets(
    manifest=ensure_manifest(),
    project=DBT_PROJECT,
    dagster_dbt_translator=WarehouseTranslator(),
    name="dbt_models",
    exclude=AFTER_PYTHON_ASSETS,
)
def dbt_models(
    context: AssetExecutionContext, dbt: DbtCliResource, vintage: VintageSelection, warehouse: WorkingWarehouse,
    config: SampleOptionsConfig,
):
    """Build seeds, staging views, intermediate models and marts for the selected vintage."""
    yield from _dbt_build(context, dbt, vintage, warehouse, config)


@dbt_assets(
    manifest=ensure_manifest(),
    project=DBT_PROJECT,
    dagster_dbt_translator=AfterIndexTranslator(),
    name="dbt_models_after_python",
    select=AFTER_PYTHON_ASSETS,
)
def dbt_models_after_python(
    context: AssetExecutionContext, dbt: DbtCliResource, vintage: VintageSelection, warehouse: WorkingWarehouse
):
    """Build the marts that read Python-built tables (the province-year panel reads Npro)."""
    yield from _dbt_build(context, dbt, vintage, warehouse)
