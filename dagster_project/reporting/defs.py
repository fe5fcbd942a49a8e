from dagster import Definitions

from dagster_project.reporting.assets import REPORT_ASSETS
from dagster_project.reporting.replication import TAKEAWAY_REPORTS
from dagster_project.resources import SHARED_RESOURCES

defs = Definitions(
    assets=[*REPORT_ASSETS, *TAKEAWAY_REPORTS],
    resources=SHARED_RESOURCES,
)
