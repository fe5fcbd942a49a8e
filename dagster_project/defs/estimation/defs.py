from dagster import Definitions

from dagster_project.defs.estimation.assets import table03_descriptives, table04_benchmark
from dagster_project.defs.estimation.firm_level import FIRM_LEVEL_ASSETS
from dagster_project.defs.estimation.spatial_dynamic import SPATIAL_DYNAMIC_ASSETS, SPATIAL_DYNAMIC_CHECKS
from dagster_project.defs.common.resources import SHARED_RESOURCES

defs = Definitions(
    assets=[table03_descriptives, table04_benchmark, *SPATIAL_DYNAMIC_ASSETS, *FIRM_LEVEL_ASSETS],
    asset_checks=SPATIAL_DYNAMIC_CHECKS,
    resources=SHARED_RESOURCES,
)
