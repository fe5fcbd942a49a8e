from dagster import Definitions

from dagster_project.defs.common.resources import SHARED_RESOURCES
from dagster_project.defs.exports.assets import analysis_panel_export

defs = Definitions(assets=[analysis_panel_export], resources=SHARED_RESOURCES)
