"""Estimation: each paper table as an asset writing tidy rows to the ``results`` schema."""

from typing import Mapping

import pandas as pd
from dagster import AssetExecutionContext, AssetKey, MaterializeResult, MetadataValue, asset

from dagster_project.defs.common.resources import VintageSelection, WorkingWarehouse
from analysis.descriptives import describe
from analysis.fixed_effects import fit_ols
from analysis.paper_models import DESCRIPTIVE_VARIABLES, TABLE04
from analysis.results import EstimationResult
from dagster_project.defs.estimation.frames import load_firm_year_frame
from dagster_project.defs.estimation.headline import (
    coefficients_markdown,
    headline_metadata,
    provenance_metadata,
    provenance_tags,
)
from dagster_project.defs.common.metadata import column_schema_metadata
from nqp_core.warehouse import replace_rows

NPRO = AssetKey(["analysis", "firm_year_npro"])


@asset(key=["results", "table03_descriptives"], metadata=column_schema_metadata("results.descriptives"),
       deps=[NPRO], group_name="estimation", kinds={"python", "duckdb"})
def table03_descriptives(context: AssetExecutionContext, warehouse: WorkingWarehouse, vintage: VintageSelection):
    """Table 3: N, mean, sd, min, median, max of Npro, AI and the controls."""
    with vintage.session(warehouse) as (conn, provenance):
        frame = load_firm_year_frame(conn, provenance.vintage_id)
        stats = describe(frame, list(DESCRIPTIVE_VARIABLES)).reset_index(names="variable")
        stats.insert(0, "table_id", "table03")
        replace_rows(conn, "results.descriptives", stats, provenance, table_id="table03")
    return MaterializeResult(
        tags=provenance_tags(provenance),
        metadata={**provenance_metadata(provenance), "N": MetadataValue.int(int(stats["n"].max())),
                  "table": MetadataValue.md(stats.round(3).to_markdown(index=False))}
    )


def tidy_rows(table_id: str, results: dict[str, object]) -> tuple[pd.DataFrame, pd.DataFrame]:
    coefficients, model_stats = [], []
    for column_id, result in results.items():
        tidy = result.tidy()
        tidy.insert(0, "column_id", column_id)
        coefficients.append(tidy)
        stats = result.model_stats()
        stats.insert(0, "column_id", column_id)
        model_stats.append(stats)
    coefficients_frame = pd.concat(coefficients, ignore_index=True)
    stats_frame = pd.concat(model_stats, ignore_index=True)
    coefficients_frame.insert(0, "table_id", table_id)
    stats_frame.insert(0, "table_id", table_id)
    return coefficients_frame, stats_frame


def write_vcov(conn, provenance, table_id: str, fitted: Mapping[str, EstimationResult]) -> None:
    """Replace ``results.vcov`` rows of ``table_id`` by each fitted model's covariance (lower
    triangle), keyed by the same column ids as its ``results.coefficients`` rows."""
    frames = [result.vcov_rows().assign(table_id=table_id, column_id=column_id) for column_id, result in fitted.items()]
    replace_rows(conn, "results.vcov", pd.concat(frames, ignore_index=True), provenance, table_id=table_id)


@asset(key=["results", "table04_benchmark"], metadata=column_schema_metadata("results.coefficients"),
       deps=[NPRO], group_name="estimation", kinds={"python", "duckdb"})
def table04_benchmark(context: AssetExecutionContext, warehouse: WorkingWarehouse, vintage: VintageSelection):
    """Table 4: Npro on AI; (2) adds year and province FE; (3) adds controls. Firm-clustered SEs."""
    with vintage.session(warehouse) as (conn, provenance):
        frame = load_firm_year_frame(conn, provenance.vintage_id)
        results = {
            spec.column_id: fit_ols(
                frame,
                depvar=spec.depvar,
                regressors=list(spec.regressors),
                fixed_effects=list(spec.fixed_effects),
                cluster=spec.cluster,
            )
            for spec in TABLE04
        }
        coefficients, model_stats = tidy_rows("table04", results)
        replace_rows(conn, "results.coefficients", coefficients, provenance, table_id="table04")
        replace_rows(conn, "results.model_stats", model_stats, provenance, table_id="table04")
        write_vcov(conn, provenance, "table04", results)
    return MaterializeResult(
        tags=provenance_tags(provenance),
        metadata={
            **headline_metadata(coefficients, model_stats, "(3)", "ai", provenance),
            "coefficients": coefficients_markdown(coefficients),
        }
    )
