"""The code location: one Definitions merged from the domains.

Executor: in-process on purpose. The default multiprocess executor starts a fresh
Python process per step, and each re-imports dagster, pandas, dbt and the estimators
(measured on these 2-core machines: a tiny pipeline took 58-65 s multiprocess against
28 s in-process). DuckDB admits a single writing process anyway, so the steps could
not run in parallel against the warehouse.
"""

from dagster import AssetSelection, Definitions, define_asset_job, in_process_executor

from dagster_project import estimation, index, ingest, reporting, transform

materialize_all = define_asset_job(
    "materialize_all",
    selection=AssetSelection.all(),
    description="Ingest every complete vintage, build the newest (or NQP_VINTAGE), estimate and render every table",
)

defs = Definitions.merge(
    ingest.defs,
    transform.defs,
    index.defs,
    estimation.defs,
    reporting.defs,
    Definitions(jobs=[materialize_all], executor=in_process_executor),
)
