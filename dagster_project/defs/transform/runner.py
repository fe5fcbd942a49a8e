"""dbt inside the run's process (dbtRunner), on a manifest parsed once per process.

dagster-dbt's ``DbtCliResource`` starts a ``dbt`` process for each step. Each start imported
dbt-core again and re-parsed the project, since the vars and the profile path changed and
partial parsing was refused every time. dagster-dbt also set up an adapter of its own in
Dagster's process. Measured at scale 1 on 2 cores (bench/run_bench.py), the step after the
index cost 7.5-12 s for 0.9 s of dbt's work.

Here dbt runs in the step's process through its programmatic entry point. Every invocation
of the process reuses one parsed manifest, which is dbt's documented way to skip parsing
(https://docs.getdbt.com/reference/programmatic-invocations). dagster-dbt's own translation
(``DbtCoreCliEventMessage.to_default_asset_events``) turns dbt's events into the Outputs and
AssetCheckResults that ``DbtCliResource`` would yield, and its subset selection chooses the
nodes of a partial materialization.

The warehouse file is an argument of each invocation: the var ``warehouse_path``, which
profiles.yml reads. No process-wide environment variable is set. The vintage and the sample
options are vars of the build too. They are rendered when the models compile, so they never
invalidate the parsed manifest.
"""

from __future__ import annotations

import json
import queue
import threading
import uuid
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from dagster import AssetExecutionContext, Failure

from dagster_project.defs.transform.manifest import WAREHOUSE_PATH_VAR, dbt_project_args, process_manifest
from nqp_core import settings

# dbt's unit tests check model logic on fixed inputs: the same on every vintage. They run
# in the test suite (tests/unit/test_dbt_models.py builds with them) and not in production
# builds, as dbt recommends
# (https://docs.getdbt.com/docs/build/unit-tests#when-to-add-a-unit-test-to-your-model).
# Data tests run in every build.
PRODUCTION_EXCLUDED_RESOURCE_TYPES = ("unit_test",)

# The events that become Dagster events (materializations and asset checks), as in
# dagster-dbt's DbtCoreCliEventMessage.is_result_event. dbt prints its other events itself.
_RESULT_EVENTS = frozenset({"LogSeedResult", "LogModelResult", "LogSnapshotResult", "LogTestResult"})


def invocation_target(context: AssetExecutionContext) -> Path:
    """Where one invocation writes its artifacts (compiled SQL, run_results.json, dbt.log):
    a folder of its own under target/, as dagster-dbt does, so concurrent runs never share one."""
    return settings.DBT_PROJECT_DIR / "target" / f"{context.run_id[:8]}-{uuid.uuid4().hex[:8]}"


def build_args(database: Path, variables: Mapping[str, object], selection: list[str], target: Path) -> list[str]:
    """The arguments of one production ``dbt build``."""
    excluded_types = [arg for kind in PRODUCTION_EXCLUDED_RESOURCE_TYPES for arg in ("--exclude-resource-type", kind)]
    return [
        "build", *dbt_project_args(), "--target-path", str(target), "--log-path", str(target),
        "--vars", json.dumps({**variables, WAREHOUSE_PATH_VAR: str(database)}),
        *excluded_types, *selection,
    ]


def _selection(context: AssetExecutionContext, manifest: Mapping[str, Any], translator) -> list[str]:
    """--select/--exclude for the assets and checks this step materializes (dagster-dbt's rule)."""
    # Internal helpers of dagster-dbt: DbtCliResource.cli makes the same two calls; no
    # public API exposes the selection without starting a dbt process.
    from dagster_dbt.asset_utils import (
        DAGSTER_DBT_EXCLUDE_METADATA_KEY,
        DAGSTER_DBT_SELECT_METADATA_KEY,
        DAGSTER_DBT_SELECTOR_METADATA_KEY,
        get_subset_selection_for_context,
    )

    selection, indirect_selection = get_subset_selection_for_context(
        context=context,
        manifest=manifest,
        select=context.op_execution_context.op.tags.get(DAGSTER_DBT_SELECT_METADATA_KEY),
        exclude=context.op_execution_context.op.tags.get(DAGSTER_DBT_EXCLUDE_METADATA_KEY),
        selector=context.op_execution_context.op.tags.get(DAGSTER_DBT_SELECTOR_METADATA_KEY),
        dagster_dbt_translator=translator,
        current_dbt_indirect_selection_env=None,
    )
    return [*selection, *(["--indirect-selection", indirect_selection] if indirect_selection else [])]


def close_warehouse() -> None:
    """Close the DuckDB file dbt-duckdb keeps open for the process.

    dbt-duckdb holds its database between nodes (``keep_open``, on by default). Reopening the
    file for each node instead cost 3 s of a 4 s build at scale 0.05. It also holds the file
    after the invocation. Then the next steps could not open it read-only, a later run of the
    process would find the old working copy, and the publication would rename an open file.
    """
    from dbt.adapters.duckdb.connections import DuckDBConnectionManager

    try:
        environment = DuckDBConnectionManager.env()
    except Exception:  # dbt-duckdb raises a bare Exception when no invocation opened a database
        return
    environment.close()
    DuckDBConnectionManager.close_all_connections()


def dbt_build(context: AssetExecutionContext, database: Path, variables: Mapping[str, object]) -> Iterator:
    """Run ``dbt build`` for this step's selection on ``database`` and yield its Dagster events.

    Raises ``Failure`` after the events when a node errored or a data test failed, as
    ``DbtCliResource`` does, so the step fails and its descendants are skipped.
    """
    from dagster_dbt.asset_utils import get_manifest_and_translator_from_dbt_assets
    from dagster_dbt.core.dbt_cli_event import DbtCoreCliEventMessage
    from dbt.cli.main import dbtRunner
    from dbt_common.events.functions import msg_to_dict

    manifest, translator, project = get_manifest_and_translator_from_dbt_assets([context.assets_def])
    target = invocation_target(context)
    args = build_args(database, variables, _selection(context, manifest, translator), target)
    context.log.info(f"dbt {' '.join(args)}")

    events: queue.Queue = queue.Queue()
    finished = object()
    errors: list[str] = []
    outcome: dict[str, Any] = {}

    def on_event(message) -> None:
        if message.info.level == "error":
            errors.append(message.info.msg)
        if message.info.name in _RESULT_EVENTS:
            events.put(msg_to_dict(message))

    def invoke() -> None:
        try:
            outcome["result"] = dbtRunner(manifest=process_manifest(), callbacks=[on_event]).invoke(args)
            close_warehouse()
        except BaseException as error:  # re-raised in the step's thread below
            outcome["error"] = error
        finally:
            events.put(finished)

    # dbt runs in a thread so that its results reach Dagster (and the UI) while it builds.
    worker = threading.Thread(target=invoke, name="dbt-build", daemon=True)
    worker.start()
    while (raw_event := events.get()) is not finished:
        event = DbtCoreCliEventMessage(raw_event=raw_event, event_history_metadata={})
        yield from event.to_default_asset_events(
            manifest=manifest, dagster_dbt_translator=translator, context=context, target_path=target,
            project=project,
        )
    worker.join()
    if "error" in outcome:
        raise outcome["error"]
    result = outcome["result"]
    if result.exception is not None:
        raise result.exception
    if not result.success:
        raise Failure(
            description=f"dbt build failed (artifacts and dbt.log in {target})"
            + "".join(f"\n\n{message}" for message in errors)
        )
