from dagster import Definitions

from dagster_project.defs.quality.checks import QUALITY_CHECKS
from dagster_project.defs.common.resources import SHARED_RESOURCES

defs = Definitions(asset_checks=QUALITY_CHECKS, resources=SHARED_RESOURCES)
