"""The job every vintage is built with, and the hook that rejects a vintage when a step fails.

``runs.py`` names the job (``JOB_NAME``) and loads the code location by module name when it
executes a run, so neither module imports the other's side: definitions.py -> job.py ->
runs.py, and runs.py -> (at run time, through Dagster) the code location.
"""

from dagster import AssetSelection, define_asset_job

from dagster_project.publish.assets import reject_vintage_on_failure
from dagster_project.publish.runs import JOB_NAME

materialize_all = define_asset_job(
    JOB_NAME,
    selection=AssetSelection.all(),
    description="Build one vintage (config `vintage`, else NQP_VINTAGE, else the newest) in a working copy, "
    "audit it and publish it when every blocking check passes",
    hooks={reject_vintage_on_failure},
)
