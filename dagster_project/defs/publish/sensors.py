"""The landing sensor: one run per new complete vintage in data/landing/.

A vintage folder is complete once its ``_READY`` marker exists (the supplier, or
``nqp synth``, writes it last; docs/publishing.md). Each evaluation lists the complete
vintages that still wait (:func:`~dagster_project.defs.publish.runs.waiting_vintages`: not
published, not rejected with the same files) and asks for one run per vintage, keyed
``<vintage id>:<fingerprint>`` so Dagster never starts the same delivery twice. It also
reports the vintage registry (ops.vintage_status) to the UI as an observation of the
asset ``ops/vintage_status`` whenever a status changed.

Evaluated every 30 s inside the daemon, this module imports only Dagster, DuckDB and the
light helpers of the ingest and publish packages: no pandas, dbt or estimators.
"""

import hashlib
import json

from dagster import (
    AssetKey,
    AssetObservation,
    AssetSpec,
    DefaultSensorStatus,
    MetadataValue,
    RunRequest,
    SensorEvaluationContext,
    SensorResult,
    sensor,
)

from dagster_project.defs.common.resources import OpsResource
from nqp_core import settings
from nqp_core.loader import complete_vintages
from dagster_project.defs.publish.runs import JOB_NAME, registry_markdown, run_config_for, waiting_vintages

SENSOR_INTERVAL_S = 30
VINTAGE_REGISTRY = AssetKey(["ops", "vintage_status"])

vintage_registry = AssetSpec(
    key=VINTAGE_REGISTRY,
    group_name="publish",
    description="Every vintage seen in data/landing/ and its status (loaded, validated, published, rejected): "
    "table ops.vintage_status in data/ops.duckdb, reported here by the landing sensor",
    kinds={"duckdb"},
)


def _cursor(context: SensorEvaluationContext) -> dict:
    return json.loads(context.cursor) if context.cursor else {}


@sensor(
    job_name=JOB_NAME,
    minimum_interval_seconds=SENSOR_INTERVAL_S,
    default_status=DefaultSensorStatus.RUNNING,
    description="Starts one run per new complete vintage (folder with _READY) under the landing folder",
)
def landing_sensor(context: SensorEvaluationContext, ops: OpsResource):
    landing = settings.landing_dir()
    waiting = waiting_vintages(ops, landing)
    registry = registry_markdown(ops)
    registry_digest = hashlib.sha256(registry.encode()).hexdigest()
    events = []
    if _cursor(context).get("registry") != registry_digest:
        events.append(AssetObservation(asset_key=VINTAGE_REGISTRY, metadata={"vintages": MetadataValue.md(registry)}))
    cursor = json.dumps({"registry": registry_digest})
    if not waiting:
        complete = {p.name for p in complete_vintages(landing)}
        incomplete = sorted(p.name for p in landing.glob("*")
                            if p.is_dir() and not p.name.startswith(".") and p.name not in complete)
        reason = f"no new complete vintage under {landing} ({len(complete)} complete, all published or rejected)"
        if incomplete:
            reason += f"; waiting for _READY in: {', '.join(incomplete)}"
        return SensorResult(skip_reason=reason, cursor=cursor, asset_events=events)
    return SensorResult(
        run_requests=[
            RunRequest(run_key=vintage.run_key, run_config=run_config_for(vintage.vintage_id),
                       tags={"nqp/vintage": vintage.vintage_id, "nqp/fingerprint": vintage.fingerprint[:16]})
            for vintage in waiting
        ],
        cursor=cursor,
        asset_events=events,
    )
