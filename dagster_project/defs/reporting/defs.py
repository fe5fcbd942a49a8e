from dagster import Definitions

from dagster_project.defs.reporting.assets import table01_report, table03_report, table04_report
from dagster_project.defs.reporting.firm_level import FIRM_LEVEL_REPORTS
from dagster_project.defs.reporting.replication import TAKEAWAY_REPORTS
from dagster_project.defs.reporting.spatial_dynamic import SPATIAL_DYNAMIC_REPORTS
from dagster_project.defs.common.resources import SHARED_RESOURCES

defs = Definitions(
    assets=[table01_report, table03_report, table04_report, *SPATIAL_DYNAMIC_REPORTS, *FIRM_LEVEL_REPORTS,
            *TAKEAWAY_REPORTS],
    resources=SHARED_RESOURCES,
)
