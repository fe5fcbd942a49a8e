from dagster import Definitions

from dagster_project.exports.assets import analysis_panel_export

defs = Definitions(assets=[analysis_panel_export])
