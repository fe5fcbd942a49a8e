from dagster import Definitions

from dagster_project.reporting.assets import table01_report, table03_report, table04_report
from dagster_project.reporting.firm_level import FIRM_LEVEL_REPORTS
from dagster_project.reporting.replication import TAKEAWAY_REPORTS
from dagster_project.reporting.spatial_dynamic import SPATIAL_DYNAMIC_REPORTS
from dagster_project.resources import SHARED_RESOURCES

defs = Definitions(
    assets=[table01_report, table03_report, table04_report, *SPATIAL_DYNAMIC_REPORTS, *FIRM_LEVEL_REPORTS,
            *TAKEAWAY_REPORTS],
    resources=SHARED_RESOURCES,
)
