from dagster import Definitions

from dagster_project.defs.common.resources import SHARED_RESOURCES
from dagster_project.defs.transform.assets import dbt_model_assets

defs = Definitions(assets=list(dbt_model_assets()), resources=SHARED_RESOURCES)
