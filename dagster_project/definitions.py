"""The code location: one Definitions merged from the domains.

Executor: in-process on purpose. The default multiprocess executor starts a fresh
Python process per step, and each re-imports dagster, pandas, dbt and the estimators
(measured on these 2-core machines: a tiny pipeline took 58-65 s multiprocess against
28 s in-process). DuckDB admits a single writing process anyway, so the steps could
not run in parallel against the warehouse.
"""

from dagster import AssetSelection, Definitions, define_asset_job, in_process_executor

# Domain modules, not their Definitions objects: a code location module may hold only one
# Definitions object at module scope.
from dagster_project.estimation import defs as estimation
from dagster_project.index import defs as index
from dagster_project.ingest import defs as ingest
from dagster_project.quality import defs as quality
from dagster_project.reporting import defs as reporting
from dagster_project.transform import defs as transform

materialize_all = define_asset_job(
    "materialize_all",
    selection=AssetSelection.all(),
    description="Ingest every complete vintage, build the newest (or NQP_VINTAGE), estimate and render every table",
)

defs = Definitions.merge(
    ingest.defs,
    transform.defs,
    quality.defs,
    index.defs,
    estimation.defs,
    reporting.defs,
    Definitions(jobs=[materialize_all], executor=in_process_executor),
)
