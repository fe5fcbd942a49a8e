"""In-process runs that carry the code location's origin, so `nqp run` shows in the UI.

``JobDefinition.execute_in_process`` records runs without a code-location origin, and the
UI's Overview timeline skips every run whose ``repositoryOrigin`` is null
(dagster-ui ``runs/useRunsForTimeline.tsx``). Launching through the code location
(``dagster job launch``, a run launcher) would start a new process that imports the
definitions again. Instead the run is created here with the origin the webserver gives
the location of ``workspace.yaml`` (``CODE_LOCATION_NAME``) and executed in this process
with ``execute_run``, the call a run worker makes. The job keeps its own executor (the
in-process executor of ``definitions.py``), and its assets return ``MaterializeResult``,
so no IO manager is involved either way.

Dagster has no public API for this (``execute_job`` records only the Python origin), so
this module is the one place that imports Dagster internals: ``create_run_for_job``'s
``remote_job_origin`` argument and the origin classes.
"""

from __future__ import annotations

import sys
from collections.abc import Mapping

from dagster import DagsterInstance, JobDefinition
from dagster._core.definitions.job_base import InMemoryJob
from dagster._core.definitions.reconstruct import ReconstructableRepository
from dagster._core.definitions.repository_definition.valid_definitions import SINGLETON_REPOSITORY_NAME
from dagster._core.execution.api import create_execution_plan, execute_run
from dagster._core.execution.job_execution_result import JobExecutionResult
from dagster._core.remote_origin import (
    ManagedGrpcPythonEnvCodeLocationOrigin,
    RemoteJobOrigin,
    RemoteRepositoryOrigin,
)
from dagster._core.types.loadable_target_origin import LoadableTargetOrigin

from nqp_core import settings

# The location's name in workspace.yaml and pyproject.toml [tool.dagster] (a unit test
# keeps the three equal): runs are grouped under it on the timeline.
CODE_LOCATION_NAME = "nqp_warehouse"
DEFINITIONS_MODULE = "dagster_project.definitions"
DEFINITIONS_ATTRIBUTE = "defs"


def code_location_job_origin(job_name: str) -> RemoteJobOrigin:
    """The origin the webserver gives ``job_name`` of the workspace.yaml code location."""
    target = LoadableTargetOrigin(
        executable_path=sys.executable,
        module_name=DEFINITIONS_MODULE,
        working_directory=str(settings.PROJECT_ROOT),
    )
    location = ManagedGrpcPythonEnvCodeLocationOrigin(loadable_target_origin=target, location_name=CODE_LOCATION_NAME)
    return RemoteJobOrigin(RemoteRepositoryOrigin(location, SINGLETON_REPOSITORY_NAME), job_name)


def execute_in_process_with_origin(
    job: JobDefinition, *, instance: DagsterInstance, run_config: Mapping, tags: Mapping[str, str],
) -> JobExecutionResult:
    """Run ``job`` in this process, recorded as a run of the code location (never raises on a step failure)."""
    in_memory = InMemoryJob(job)
    plan = create_execution_plan(in_memory, run_config=run_config, instance_ref=instance.get_ref() if instance.is_persistent else None)
    python_origin = (
        ReconstructableRepository.for_module(
            DEFINITIONS_MODULE, DEFINITIONS_ATTRIBUTE, working_directory=str(settings.PROJECT_ROOT)
        )
        .get_reconstructable_job(job.name)
        .get_python_origin()
    )
    run = instance.create_run_for_job(
        job_def=job,
        run_config=run_config,
        tags={**job.run_tags, **tags},
        execution_plan=plan,
        remote_job_origin=code_location_job_origin(job.name),
        job_code_origin=python_origin,
    )
    return execute_run(in_memory, run, instance, raise_on_error=False)
