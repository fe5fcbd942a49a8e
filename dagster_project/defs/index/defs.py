from dagster import Definitions

from dagster_project.defs.index.assets import npro_index
from dagster_project.defs.common.resources import SHARED_RESOURCES

defs = Definitions(assets=[npro_index], resources=SHARED_RESOURCES)
