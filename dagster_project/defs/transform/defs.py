from dagster import Definitions
from dagster_dbt import DbtCliResource

from dagster_project.defs.common.resources import SHARED_RESOURCES
from dagster_project.defs.transform.assets import DBT_PROJECT, dbt_models, dbt_models_after_python

defs = Definitions(
    assets=[dbt_models, dbt_models_after_python],
    resources={**SHARED_RESOURCES, "dbt": DbtCliResource(project_dir=DBT_PROJECT)},
)
