from dagster import Definitions

from dagster_project.quality.checks import gx_fct_firm_years
from dagster_project.resources import SHARED_RESOURCES

defs = Definitions(asset_checks=[gx_fct_firm_years], resources=SHARED_RESOURCES)
