"""The spatial weights the province tables (11-14) read: 0-1 contiguity and inverse distance
between the 31 provinces, with the checks that guard them. The tables themselves are
generated from ``paper.specs`` (docs/spatial_dynamic_tables.md)."""

import time
from typing import Optional

import pandas as pd
from dagster import (
    AssetCheckResult,
    AssetCheckSeverity,
    AssetExecutionContext,
    AssetKey,
    Config,
    MaterializeResult,
    MetadataValue,
    asset,
    asset_check,
)
from pydantic import Field

from dagster_project.defs.common.metadata import column_schema_metadata
from dagster_project.defs.common.resources import VintageSelection, WorkingWarehouse
from dagster_project.defs.estimation.frames import SPATIAL_WEIGHTS
from dagster_project.defs.estimation.headline import provenance_metadata, provenance_tags
from nqp_core.warehouse import replace_rows
from paper.models import WEIGHT_MATRICES

PROVINCE_SEEDS = [AssetKey(["reference", "provinces"]), AssetKey(["reference", "province_adjacency"])]
SYMMETRY_ATOL = 1e-12  # raw contiguity and distance weights are exactly symmetric by construction
ROW_SUM_ATOL = 1e-12  # row-standardised weights sum to one up to rounding


# --------------------------------------------------------------------------- weights


class SpatialWeightsConfig(Config):
    include_hainan_link: bool = Field(
        default=True,
        description="Link Hainan to Guangdong (the island has no land border; without it Hainan is isolated)",
    )
    # Power 2 (gravity decay), not 1: with d^-1 every province weighs on every other almost
    # equally, W y_t is nearly the cross-section mean that the year effects absorb, and the
    # Lee-Yu SDM likelihood has its maximum beyond rho = 1 (measured on the scale-0.1
    # vintage: the largest eigenvalue of W after the unit one is 0.34 for d^-1, 0.72 for d^-2).
    distance_power: float = Field(default=2.0, description="w_ij = d_ij^-power between provincial capitals (km)")
    distance_cutoff_km: Optional[float] = Field(
        default=None, description="Links longer than this get weight zero; none: every pair is linked"
    )


@asset(key=["analysis", "spatial_weights"], metadata=column_schema_metadata("analysis.spatial_weights"),
       deps=PROVINCE_SEEDS, group_name="estimation", kinds={"python", "duckdb"})
def spatial_weights(
    context: AssetExecutionContext, config: SpatialWeightsConfig, warehouse: WorkingWarehouse, vintage: VintageSelection
):
    """0-1 contiguity and inverse great-circle distance between the 31 provinces, row-standardised
    (long format: matrix_name, i, j, weight, raw_weight)."""
    # Imported here: loading the definitions does not import the estimators.
    from analysis.spatial_weights import contiguity_weights, inverse_distance_weights

    start = time.perf_counter()
    with vintage.session(warehouse) as (conn, provenance):
        provinces = conn.execute(
            "select gb_code, capital_lat, capital_lon from reference.provinces order by gb_code"
        ).df()
        adjacency = conn.execute("select gb_code_a, gb_code_b, kind from reference.province_adjacency").df()
        kinds = ("land", "hainan_link") if config.include_hainan_link else ("land",)
        weights = {
            "adjacency": contiguity_weights(provinces["gb_code"], adjacency, include_kinds=kinds),
            "distance": inverse_distance_weights(
                provinces["gb_code"], provinces["capital_lat"], provinces["capital_lon"],
                power=config.distance_power, cutoff_km=config.distance_cutoff_km,
            ),
        }
        frame = pd.concat([w.tidy().assign(matrix_name=name) for name, w in weights.items()], ignore_index=True)
        replace_rows(conn, "analysis.spatial_weights", frame, provenance)
    neighbours = {name: (w.raw > 0).sum(axis=1) for name, w in weights.items()}
    return MaterializeResult(tags=provenance_tags(provenance), metadata={
        **provenance_metadata(provenance),
        "rows": len(frame),
        "provinces": weights["adjacency"].n,
        "adjacency_links": int(neighbours["adjacency"].sum()),
        "adjacency_neighbours_min_max": f"{neighbours['adjacency'].min()}-{neighbours['adjacency'].max()}",
        "contiguity_kinds": ", ".join(kinds),
        "distance_power": config.distance_power,
        "distance_cutoff_km": MetadataValue.text(str(config.distance_cutoff_km)),
        "seconds": round(time.perf_counter() - start, 3),
    })


@asset_check(asset=SPATIAL_WEIGHTS, name="raw_weights_symmetric", blocking=True,
             description="Every stored link i->j has the same raw weight as j->i (contiguity, distance: symmetric)")
def raw_weights_symmetric(warehouse: WorkingWarehouse, vintage: VintageSelection):
    with vintage.session(warehouse) as (conn, provenance):
        rows = conn.execute(
            """
            select a.matrix_name, count(*) as links,
                   count(*) filter (where b.i is null or abs(a.raw_weight - b.raw_weight) > ?) as asymmetric
            from analysis.spatial_weights as a
            left join analysis.spatial_weights as b
              on b.vintage_id = a.vintage_id and b.matrix_name = a.matrix_name and b.i = a.j and b.j = a.i
            where a.vintage_id = ?
            group by a.matrix_name order by a.matrix_name
            """,
            [SYMMETRY_ATOL, provenance.vintage_id],
        ).df()
    passed = not rows.empty and bool((rows["asymmetric"] == 0).all())
    return AssetCheckResult(passed=passed, severity=AssetCheckSeverity.ERROR,
                            metadata={"vintage_id": provenance.vintage_id,
                                      "by_matrix": MetadataValue.md(rows.to_markdown(index=False))})


@asset_check(asset=SPATIAL_WEIGHTS, name="weights_rows_sum_to_one", blocking=True,
             description="Every province has a row in each matrix and its row-standardised weights sum to 1")
def weights_rows_sum_to_one(warehouse: WorkingWarehouse, vintage: VintageSelection):
    with vintage.session(warehouse) as (conn, provenance):
        rows = conn.execute(
            """
            select matrix_name, count(*) as provinces_with_links, max(abs(row_sum - 1)) as max_deviation
            from (select matrix_name, i, sum(weight) as row_sum from analysis.spatial_weights
                  where vintage_id = ? group by matrix_name, i)
            group by matrix_name order by matrix_name
            """,
            [provenance.vintage_id],
        ).df()
        (n_provinces,) = conn.execute("select count(*) from reference.provinces").fetchone()
    passed = (
        set(rows["matrix_name"]) == set(WEIGHT_MATRICES)
        and bool((rows["provinces_with_links"] == n_provinces).all())
        and bool((rows["max_deviation"] <= ROW_SUM_ATOL).all())
    )
    return AssetCheckResult(passed=passed, severity=AssetCheckSeverity.ERROR,
                            metadata={"vintage_id": provenance.vintage_id, "provinces": int(n_provinces),
                                      "by_matrix": MetadataValue.md(rows.to_markdown(index=False))})


SPATIAL_WEIGHTS_ASSETS = [spatial_weights]
SPATIAL_WEIGHTS_CHECKS = [raw_weights_symmetric, weights_rows_sum_to_one]
