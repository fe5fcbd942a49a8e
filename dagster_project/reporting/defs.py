from dagster import Definitions

from dagster_project.reporting.assets import table03_report, table04_report
from dagster_project.resources import SHARED_RESOURCES

defs = Definitions(assets=[table03_report, table04_report], resources=SHARED_RESOURCES)
