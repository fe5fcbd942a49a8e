"""Estimation: one asset per spec of ``paper.specs``, generated, writing tidy rows to the warehouse.

Every asset does the same: read the spec's inputs for the vintage, call its estimate with the
run's options (the spec's option defaults, changeable in the launchpad), write each results
table's rows of this table id (and the analysis tables it fills, and the covariances to
``results.vcov``), and show the headline coefficient, N and the provenance as metadata.
"""

# No ``from __future__ import annotations``: Dagster reads the config class from the
# annotation of the generated function's ``config`` parameter, which must be the class itself.
import dataclasses
import time
import typing

import pandas as pd
from dagster import AssetExecutionContext, Config, MaterializeResult, MetadataValue, asset
from pydantic import Field, create_model

from dagster_project.defs.common.metadata import column_schema_metadata
from dagster_project.defs.common.resources import VintageSelection, WorkingWarehouse
from dagster_project.defs.estimation.frames import INPUTS
from dagster_project.defs.estimation.headline import (
    coefficients_markdown,
    headline_metadata,
    provenance_metadata,
    provenance_tags,
)
from dagster_project.defs.estimation.progress import progress_logger
from nqp_core.warehouse import replace_rows
from paper.spec import Estimates, Markdown, TableSpec
from paper.specs import SPECS

VCOV = "results.vcov"


def config_class(options: type) -> type[Config]:
    """The Dagster config of a spec's options dataclass: same fields, defaults and descriptions."""
    hints = typing.get_type_hints(options)
    fields = {f.name: (hints[f.name], Field(default=f.default, description=f.metadata.get("description")))
              for f in dataclasses.fields(options)}
    return create_model(options.__name__.removesuffix("Options") + "Config", __base__=Config, **fields)


def write_estimates(conn, provenance, spec: TableSpec, estimates: Estimates) -> None:
    """Replace this vintage's rows of every table the estimation fills; refuses a table the
    spec does not declare in ``writes`` (or one it declares and did not fill)."""
    written = [*estimates.analysis, *estimates.results, *([VCOV] if estimates.fitted else [])]
    if sorted(written) != sorted(spec.writes):
        raise ValueError(f"{spec.table_id}: the estimation wrote {sorted(written)}, its spec declares "
                         f"{sorted(spec.writes)}")
    for table, rows in estimates.analysis.items():
        replace_rows(conn, table, rows, provenance)
    for table, rows in estimates.results.items():
        # Rows may belong to another id (Table 11 writes Figure 2's scatter as figure02).
        table_id = str(rows["table_id"].iloc[0]) if "table_id" in rows.columns else spec.table_id
        replace_rows(conn, table, rows.assign(table_id=table_id), provenance, table_id=table_id)
    if estimates.fitted:
        vcov = pd.concat([result.vcov_rows().assign(table_id=spec.table_id, column_id=column_id)
                          for column_id, result in estimates.fitted.items()], ignore_index=True)
        replace_rows(conn, VCOV, vcov, provenance, table_id=spec.table_id)


def _metadata_value(value):
    return MetadataValue.md(value) if isinstance(value, Markdown) else value


def estimation_asset(spec: TableSpec):
    """The asset ``spec.results_key`` that estimates ``spec`` and writes its rows."""

    def run(context: AssetExecutionContext, options, warehouse: WorkingWarehouse, vintage: VintageSelection):
        started = time.perf_counter()
        with vintage.session(warehouse) as (conn, provenance):
            inputs = {name: INPUTS[name].load(conn, provenance.vintage_id) for name in spec.inputs}
            estimates = spec.estimate(inputs, options, lambda what: progress_logger(context.log, what))
            write_estimates(conn, provenance, spec, estimates)
        metadata = provenance_metadata(provenance)
        coefficients = estimates.results.get("results.coefficients")
        if spec.headline is not None:
            metadata |= headline_metadata(coefficients, estimates.results["results.model_stats"], *spec.headline,
                                          provenance)
        if coefficients is not None:
            metadata["coefficients"] = coefficients_markdown(coefficients)
        metadata |= {name: _metadata_value(value) for name, value in estimates.metadata.items()}
        metadata["seconds"] = round(time.perf_counter() - started, 2)
        return MaterializeResult(tags=provenance_tags(provenance), metadata=metadata)

    decorate = asset(
        key=list(spec.results_key), description=spec.description, deps=[INPUTS[name].asset for name in spec.inputs],
        metadata=column_schema_metadata(spec.writes[0]), group_name="estimation", kinds={"python", "duckdb"},
    )
    if spec.options is None:
        def estimate(context: AssetExecutionContext, warehouse: WorkingWarehouse, vintage: VintageSelection):
            return run(context, None, warehouse, vintage)
    else:
        fields = [f.name for f in dataclasses.fields(spec.options)]

        def estimate(context: AssetExecutionContext, config: Config, warehouse: WorkingWarehouse,
                     vintage: VintageSelection):
            return run(context, spec.options(**{name: getattr(config, name) for name in fields}), warehouse, vintage)

        estimate.__annotations__["config"] = config_class(spec.options)
    estimate.__name__ = "_".join(spec.results_key)
    return decorate(estimate)


def estimation_assets(specs=SPECS) -> list:
    """One estimation asset per spec that estimates something."""
    return [estimation_asset(spec) for spec in specs.values() if spec.estimate is not None]


ESTIMATION_ASSETS = estimation_assets()
