from collections.abc import Sequence

from dagster import AssetKey, Definitions

from dagster_project.defs.publish.assets import build_publish_assets
from dagster_project.defs.publish.sensors import landing_sensor, vintage_registry
from dagster_project.defs.common.resources import SHARED_RESOURCES


def build_defs(upstream: Sequence[AssetKey]) -> Definitions:
    """The publish domain; the publication waits for ``upstream`` and so for all their ancestors."""
    return Definitions(
        assets=[*build_publish_assets(upstream), vintage_registry],
        sensors=[landing_sensor],
        resources=SHARED_RESOURCES,
    )
