from dagster import Definitions

from dagster_project.defs.estimation.assets import ESTIMATION_ASSETS
from dagster_project.defs.estimation.spatial_weights import SPATIAL_WEIGHTS_ASSETS, SPATIAL_WEIGHTS_CHECKS
from dagster_project.defs.common.resources import SHARED_RESOURCES

defs = Definitions(
    assets=[*SPATIAL_WEIGHTS_ASSETS, *ESTIMATION_ASSETS],
    asset_checks=SPATIAL_WEIGHTS_CHECKS,
    resources=SHARED_RESOURCES,
)
