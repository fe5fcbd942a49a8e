"""Index: entropy weights and the firm-year Npro index."""

import pandas as pd
from dagster import AssetExecutionContext, AssetKey, AssetSpec, MaterializeResult, MetadataValue, multi_asset

from dagster_project.defs.common.resources import VintageSelection, WorkingWarehouse
from analysis.npro import NPRO_DIRECTIONS, build_npro
from analysis.published import table1_weights
from dagster_project.defs.common.metadata import column_schema_metadata
from nqp_core.warehouse import replace_rows

FIRM_YEARS = AssetKey(["marts", "fct_firm_years"])


@multi_asset(
    specs=[
        AssetSpec(
            ["analysis", "entropy_weights"],
            deps=[FIRM_YEARS],
            group_name="index",
            description="Entropy weight of each Table 1 indicator, pooled over the firm-year sample",
            kinds={"python", "duckdb"},
            metadata=column_schema_metadata("analysis.entropy_weights"),
        ),
        AssetSpec(
            ["analysis", "firm_year_npro"],
            deps=[FIRM_YEARS],
            group_name="index",
            description="Npro per firm-year (10 x entropy-weighted sum of normalised indicators)",
            kinds={"python", "duckdb"},
            metadata=column_schema_metadata("analysis.firm_year_npro"),
        ),
    ],
    name="npro_index",
)
def npro_index(context: AssetExecutionContext, warehouse: WorkingWarehouse, vintage: VintageSelection):
    indicators = list(NPRO_DIRECTIONS)
    with vintage.session(warehouse) as (conn, provenance):
        vintage_id = provenance.vintage_id
        firm_years = conn.execute(
            f"select stock_code, fiscal_year, {', '.join(indicators)} from marts.fct_firm_years "
            "where vintage_id = ? order by stock_code, fiscal_year",
            [vintage_id],
        ).df()
        if firm_years.empty:
            raise ValueError(f"marts.fct_firm_years holds no row for vintage {vintage_id}")
        result = build_npro(firm_years[indicators])
        weights = result.tidy()
        weights["paper_weight"] = weights["indicator"].map(table1_weights())
        npro = pd.DataFrame(
            {
                "stock_code": firm_years["stock_code"],
                "fiscal_year": firm_years["fiscal_year"],
                "npro": result.scores.to_numpy(),
            }
        )
        replace_rows(conn, "analysis.entropy_weights", weights, provenance)
        replace_rows(conn, "analysis.firm_year_npro", npro, provenance)
    context.log.info(f"Npro for {len(npro)} firm-years of vintage {vintage_id}")
    yield MaterializeResult(
        asset_key=["analysis", "entropy_weights"],
        metadata={
            "vintage_id": vintage_id,
            "weights": MetadataValue.md(weights.round(4).to_markdown(index=False)),
        },
    )
    yield MaterializeResult(
        asset_key=["analysis", "firm_year_npro"],
        metadata={
            "vintage_id": vintage_id,
            "rows": len(npro),
            "npro_mean": float(npro["npro"].mean()),
            "npro_sd": float(npro["npro"].std()),
        },
    )
