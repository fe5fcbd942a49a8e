from dagster import Definitions

from dagster_project.defs.ingest.assets import raw_vintages
from dagster_project.defs.common.resources import SHARED_RESOURCES

defs = Definitions(assets=[raw_vintages], resources=SHARED_RESOURCES)
