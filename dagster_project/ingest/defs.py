from dagster import Definitions

from dagster_project.ingest.assets import raw_vintages
from dagster_project.resources import SHARED_RESOURCES

defs = Definitions(assets=[raw_vintages], resources=SHARED_RESOURCES)
