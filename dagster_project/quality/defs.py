from dagster import Definitions

from dagster_project.quality.checks import QUALITY_CHECKS
from dagster_project.resources import SHARED_RESOURCES

defs = Definitions(asset_checks=QUALITY_CHECKS, resources=SHARED_RESOURCES)
