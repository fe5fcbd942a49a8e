from dagster import Definitions

from dagster_project.defs.reporting.assets import REPORT_ASSETS
from dagster_project.defs.reporting.replication import TAKEAWAY_REPORTS
from dagster_project.defs.common.resources import SHARED_RESOURCES

defs = Definitions(
    assets=[*REPORT_ASSETS, *TAKEAWAY_REPORTS],
    resources=SHARED_RESOURCES,
)
