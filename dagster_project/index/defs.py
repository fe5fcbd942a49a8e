from dagster import Definitions

from dagster_project.index.assets import npro_index
from dagster_project.resources import SHARED_RESOURCES

defs = Definitions(assets=[npro_index], resources=SHARED_RESOURCES)
