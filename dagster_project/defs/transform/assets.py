"""Transform: the dbt project (staging -> intermediate -> marts) as Dagster assets.

dbt tests load as asset checks. The assets are declared from the prepared manifest
(``manifest.py``: nothing is parsed at import) by a cached factory. They build in the
step's own process (``runner.py``), with the run's working copy, the vintage and the
sample options passed as arguments of the dbt invocation.
"""


from collections.abc import Mapping
from functools import cache
from pathlib import Path
from typing import Any, Literal

from dagster import AssetExecutionContext, AssetKey, AssetsDefinition, Config
from dagster_dbt import DagsterDbtTranslator, DbtProject, dbt_assets
from pydantic import Field

from dagster_project.defs.common.resources import VintageSelection, WorkingWarehouse
from dagster_project.defs.transform.manifest import checked_manifest_path
from dagster_project.defs.transform.runner import dbt_build
from nqp_core import settings


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


def _build(context: AssetExecutionContext, vintage: VintageSelection, warehouse: WorkingWarehouse,
           options: SampleOptionsConfig | None = None):
    with warehouse.get_connection() as conn:
        vintage_id = vintage.resolve(conn)
    # The connection is closed before dbt opens the file: DuckDB admits one writer.
    context.log.info(f"dbt build for vintage {vintage_id} into {warehouse.database}")
    yield from dbt_build(context, Path(warehouse.database), dbt_vars(vintage_id, options))


@cache
def dbt_model_assets() -> tuple[AssetsDefinition, AssetsDefinition]:
    """The two dbt multi-assets, declared from the prepared manifest once per process."""
    manifest = checked_manifest_path()
    project = DbtProject(project_dir=settings.DBT_PROJECT_DIR, profiles_dir=settings.DBT_PROJECT_DIR)

    @dbt_assets(manifest=manifest, project=project, dagster_dbt_translator=WarehouseTranslator(),
                name="dbt_models", exclude=AFTER_PYTHON_ASSETS)
    def dbt_models(context: AssetExecutionContext, vintage: VintageSelection, warehouse: WorkingWarehouse,
                   config: SampleOptionsConfig):
        """Build seeds, staging views, intermediate models and marts for the selected vintage."""
        yield from _build(context, vintage, warehouse, config)

    @dbt_assets(manifest=manifest, project=project, dagster_dbt_translator=AfterIndexTranslator(),
                name="dbt_models_after_python", select=AFTER_PYTHON_ASSETS)
    def dbt_models_after_python(context: AssetExecutionContext, vintage: VintageSelection,
                                warehouse: WorkingWarehouse):
        """Build the marts that read Python-built tables (the province-year panel reads Npro)."""
        yield from _build(context, vintage, warehouse)

    return dbt_models, dbt_models_after_python
