"""The code location: one Definitions merged from the domains.

Executor: in-process on purpose. The default multiprocess executor starts a fresh
Python process per step, and each re-imports dagster, pandas, dbt and the estimators
(measured on these 2-core machines: a tiny pipeline took 58-65 s multiprocess against
28 s in-process). DuckDB admits a single writing process anyway, so the steps could
not run in parallel against the warehouse.
"""

from dagster import AssetSelection, Definitions, define_asset_job, in_process_executor

from dagster_project.estimation.defs import defs as estimation_defs
from dagster_project.index.defs import defs as index_defs
from dagster_project.ingest.defs import defs as ingest_defs
from dagster_project.quality.defs import defs as quality_defs
from dagster_project.reporting.defs import defs as reporting_defs
from dagster_project.transform.defs import defs as transform_defs

materialize_all = define_asset_job(
    "materialize_all",
    selection=AssetSelection.all(),
    description="Ingest every complete vintage, build the newest (or NQP_VINTAGE), estimate and render every table",
)

defs = Definitions.merge(
    ingest_defs,
    transform_defs,
    quality_defs,
    index_defs,
    estimation_defs,
    reporting_defs,
    Definitions(jobs=[materialize_all], executor=in_process_executor),
)
