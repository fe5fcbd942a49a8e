from dagster import Definitions

from dagster_project.resources import SHARED_RESOURCES
from dagster_project.transform.assets import dbt_model_assets

defs = Definitions(assets=list(dbt_model_assets()), resources=SHARED_RESOURCES)
