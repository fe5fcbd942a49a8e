from dagster import Definitions

from dagster_project.estimation.assets import ESTIMATION_ASSETS
from dagster_project.estimation.spatial_dynamic import SPATIAL_WEIGHTS_ASSETS, SPATIAL_WEIGHTS_CHECKS
from dagster_project.resources import SHARED_RESOURCES

defs = Definitions(
    assets=[*SPATIAL_WEIGHTS_ASSETS, *ESTIMATION_ASSETS],
    asset_checks=SPATIAL_WEIGHTS_CHECKS,
    resources=SHARED_RESOURCES,
)
