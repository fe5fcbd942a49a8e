"""`nqp run`'s in-process runs carry the code location's origin (the UI's timeline needs it).

A real (temporary, SQLite-backed) Dagster instance runs a two-asset job both ways; the
webserver's GraphQL schema, executed in process against that instance, then answers
the Overview timeline's question: which code location a run belongs to.
"""

from __future__ import annotations

import tomllib

import yaml
from dagster import Definitions, MaterializeResult, asset, define_asset_job, in_process_executor, instance_for_test
from dagster._core.workspace.context import WorkspaceProcessContext
from dagster._core.workspace.load_target import EmptyWorkspaceTarget
from dagster_graphql.test.utils import execute_dagster_graphql

from nqp_core import settings
from dagster_project.defs.publish.run_origin import CODE_LOCATION_NAME, execute_in_process_with_origin

# The fields of the timeline's run fragment that place a run (dagster-ui
# runs/useRunsForTimeline.tsx, RunTimelineFragment): a null repositoryOrigin is skipped.
RUN_ORIGINS = """
query { runsOrError { ... on Runs { results { runId tags { key value } repositoryOrigin { repositoryName repositoryLocationName } } } } }
"""


@asset
def upstream() -> MaterializeResult:
    return MaterializeResult(metadata={"rows": 1})


@asset(deps=[upstream])
def downstream() -> MaterializeResult:
    return MaterializeResult()


JOB = Definitions(
    assets=[upstream, downstream], jobs=[define_asset_job("both")], executor=in_process_executor
).resolve_job_def("both")


def test_the_location_name_is_the_workspace_s_and_pyproject_s():
    workspace = yaml.safe_load((settings.PROJECT_ROOT / "workspace.yaml").read_text(encoding="utf-8"))
    pyproject = tomllib.loads((settings.PROJECT_ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    assert [entry["python_module"]["location_name"] for entry in workspace["load_from"]] == [CODE_LOCATION_NAME]
    assert pyproject["tool"]["dagster"]["code_location_name"] == CODE_LOCATION_NAME


def test_an_in_process_run_carries_the_code_location_origin():
    with instance_for_test() as instance:
        plain = JOB.execute_in_process(instance=instance)
        located = execute_in_process_with_origin(JOB, instance=instance, run_config={}, tags={"nqp/vintage": "v1"})
        assert plain.success and located.success
        assert located.all_events, "the result carries the run's events"
        materialized = {event.asset_key.path[-1] for event in located.all_events if event.is_step_materialization}
        assert materialized == {"upstream", "downstream"}
        with WorkspaceProcessContext(instance, EmptyWorkspaceTarget()) as workspace:
            result = execute_dagster_graphql(workspace.create_request_context(), RUN_ORIGINS)
    assert result.errors is None, result.errors
    origins = {run["runId"]: run for run in result.data["runsOrError"]["results"]}
    assert origins[plain.run_id]["repositoryOrigin"] is None  # why the timeline said "No runs"
    assert origins[located.run_id]["repositoryOrigin"] == {
        "repositoryName": "__repository__", "repositoryLocationName": CODE_LOCATION_NAME,
    }
    assert {"key": "nqp/vintage", "value": "v1"} in origins[located.run_id]["tags"]
