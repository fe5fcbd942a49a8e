"""The code location: one Definitions merged from the domains.

Executor: in-process on purpose. The default multiprocess executor starts a fresh
Python process per step, and each re-imports dagster, pandas, dbt and the estimators
(measured on these 2-core machines: a tiny pipeline took 58-65 s multiprocess against
28 s in-process). DuckDB admits a single writing process anyway, so the steps could
not run in parallel against the warehouse.

Write-audit-publish (docs/publishing.md): every asset writes into the run's working
copy; the publish domain's assets depend on the terminal assets, hence transitively on every
other asset, so they run only once every step and every blocking check succeeded, and the failure hook records a failed
run's vintage as rejected.
"""

from dagster import AssetKey, AssetSelection, Definitions, define_asset_job, in_process_executor

# Domain modules, not their Definitions objects: a code location module may hold only one
# Definitions object at module scope.
from dagster_project.defs.estimation import defs as estimation
from dagster_project.defs.exports import defs as exports
from dagster_project.defs.index import defs as index
from dagster_project.defs.ingest import defs as ingest
from dagster_project.defs.publish import defs as publish
from dagster_project.defs.publish.assets import reject_vintage_on_failure
from dagster_project.defs.publish.runs import JOB_NAME
from dagster_project.defs.quality import defs as quality
from dagster_project.defs.reporting import defs as reporting
from dagster_project.defs.transform import defs as transform

_DOMAINS = (ingest.defs, transform.defs, quality.defs, index.defs, estimation.defs, reporting.defs)


def _terminal_assets(domains: Definitions) -> list[AssetKey]:
    """The assets nothing else depends on. Every other asset is upstream of one of them, so a
    publication that waits for these waits for everything (a failed step or blocking check
    skips all of its descendants), while the lineage shows three edges into publish, not 60."""
    graph = domains.resolve_asset_graph()
    return sorted(key for key in graph.get_all_asset_keys() if not graph.get(key).child_keys)


materialize_all = define_asset_job(
    JOB_NAME,
    selection=AssetSelection.all(),
    description="Build one vintage (config `vintage`, else NQP_VINTAGE, else the newest) in a working copy, "
    "audit it and publish it when every blocking check passes",
    hooks={reject_vintage_on_failure},
)

defs = Definitions.merge(
    *_DOMAINS,
    publish.build_defs(upstream=_terminal_assets(Definitions.merge(*_DOMAINS))),
    # after publication, outside the publish domain's upstream (it reads the published file)
    exports.defs,
    Definitions(jobs=[materialize_all], executor=in_process_executor),
)


def vintage_job():
    """The job that builds, audits and publishes one vintage, with its resources bound."""
    return defs.resolve_job_def(JOB_NAME)
