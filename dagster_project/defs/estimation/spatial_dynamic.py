"""Spatial and dynamic evidence (paper Tables 11-14 and Figure 2) as assets.

Inputs: the province-year panel ``marts.fct_province_years`` (dbt, built after the Npro
index), the province seeds for the weights, and the firm-year frame for the dynamic GMM.
Every specification choice is documented in docs/spatial_dynamic_tables.md.
"""

import time
from typing import Optional

import numpy as np
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

from dagster_project.defs.common.resources import VintageSelection, WorkingWarehouse
from analysis.dynamic_panel import fit_dynamic_panel
from analysis.paper_models import (
    SPATIAL_REGRESSORS,
    SPATIAL_TIME,
    SPATIAL_UNIT,
    TABLE13_GMM,
    WEIGHT_MATRICES,
    DynamicSpec,
)
from analysis.spatial import moran_by_period, moran_scatter
from analysis.spatial_panel import (
    SpatialPanelResult,
    add_spatial_lags,
    fit_spatial_panel,
    hausman_fe_re,
    panel_lm_tests,
    sdm_specification_tests,
    spatial_effects,
)
from analysis.spatial_weights import SpatialWeights, contiguity_weights, inverse_distance_weights
from dagster_project.defs.estimation.assets import NPRO, tidy_rows, write_vcov
from dagster_project.defs.estimation.frames import load_firm_year_frame
from dagster_project.defs.estimation.headline import headline_metadata, provenance_metadata, provenance_tags
from dagster_project.defs.common.metadata import column_schema_metadata
from nqp_core.warehouse import replace_rows

PROVINCE_YEARS = AssetKey(["marts", "fct_province_years"])
SPATIAL_WEIGHTS = AssetKey(["analysis", "spatial_weights"])
PROVINCE_SEEDS = [AssetKey(["reference", "provinces"]), AssetKey(["reference", "province_adjacency"])]
SPATIAL_INPUTS = [PROVINCE_YEARS, SPATIAL_WEIGHTS]

DEPVAR = "npro"
WEIGHT_KINDS = {"adjacency": "contiguity", "distance": "inverse_distance"}
MORAN_SEED = 20250611  # fixed seeds: a rerun of the same vintage reproduces every p-value and SE
EFFECTS_SEED = 20250612
MORAN_PERMUTATIONS = 999
EFFECT_DRAWS = 1000
HEADLINE_LEE_YU = True
"""Columns (1)/(2), Table 12's LR/Wald tests and Table 14 use the Lee-Yu corrected SDM:
with N = 31 the direct approach's rho carries the O(1/N) bias of time effects and its
intervals under-cover (tests/unit/test_spatial_planted.py); the direct fits are columns (4)/(5)."""
SDM_COLUMNS = {  # column id -> (matrix, Lee-Yu)
    "(1)": ("adjacency", HEADLINE_LEE_YU),
    "(2)": ("distance", HEADLINE_LEE_YU),
    "(4)": ("adjacency", not HEADLINE_LEE_YU),
    "(5)": ("distance", not HEADLINE_LEE_YU),
}
SYMMETRY_ATOL = 1e-12  # raw contiguity and distance weights are exactly symmetric by construction
ROW_SUM_ATOL = 1e-12  # row-standardised weights sum to one up to rounding


# --------------------------------------------------------------------------- loading


def load_province_panel(conn, vintage_id: str) -> pd.DataFrame:
    """The balanced province-year panel of the vintage; refuses a province-year without firms."""
    panel = conn.execute(
        "select * from marts.fct_province_years where vintage_id = ? order by province_code, fiscal_year",
        [vintage_id],
    ).df()
    if panel.empty:
        raise ValueError(f"marts.fct_province_years holds no row for vintage {vintage_id}: materialize it first")
    empty = panel[panel["n_firms"] == 0]
    if not empty.empty:
        cells = ", ".join(f"{r.province_name_en} ({r.province_code}) {r.fiscal_year}" for r in empty.itertuples())
        raise ValueError(
            f"marts.fct_province_years has {len(empty)} province-year(s) without any sample firm: {cells}; "
            "the spatial panel must be balanced and a mean over no firm is not data"
        )
    return panel


def load_spatial_weights(conn, vintage_id: str) -> dict[str, SpatialWeights]:
    """The stored weights of the vintage, rebuilt from their raw (unstandardised) values."""
    codes = [row[0] for row in conn.execute("select gb_code from reference.provinces order by gb_code").fetchall()]
    links = conn.execute(
        "select matrix_name, i, j, raw_weight from analysis.spatial_weights where vintage_id = ?", [vintage_id]
    ).df()
    if links.empty:
        raise ValueError(f"analysis.spatial_weights holds no row for vintage {vintage_id}: materialize it first")
    position = {code: k for k, code in enumerate(codes)}
    weights = {}
    for name, group in links.groupby("matrix_name"):
        raw = np.zeros((len(codes), len(codes)))
        raw[group["i"].map(position).to_numpy(), group["j"].map(position).to_numpy()] = group["raw_weight"].to_numpy()
        weights[name] = SpatialWeights(codes=codes, raw=raw, kind=WEIGHT_KINDS[name])
    missing = sorted(set(WEIGHT_MATRICES) - set(weights))
    if missing:
        raise ValueError(f"analysis.spatial_weights lacks the matrices {missing} for vintage {vintage_id}")
    return weights


def _seconds_since(start: float) -> float:
    return round(time.perf_counter() - start, 3)


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
        "seconds": _seconds_since(start),
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


# --------------------------------------------------------------------------- Table 11 and Figure 2


@asset(key=["results", "table11_moran"], metadata=column_schema_metadata("results.moran"),
       deps=SPATIAL_INPUTS, group_name="estimation", kinds={"python", "duckdb"})
def table11_moran(context: AssetExecutionContext, warehouse: WorkingWarehouse, vintage: VintageSelection):
    """Table 11: global Moran's I of province Npro by year (normality and 999 seeded permutations),
    both matrices; Figure 2 data: the Moran scatter of the first and last year."""
    start = time.perf_counter()
    with vintage.session(warehouse) as (conn, provenance):
        panel = load_province_panel(conn, provenance.vintage_id)
        weights = load_spatial_weights(conn, provenance.vintage_id)
        rng = np.random.default_rng(MORAN_SEED)
        moran = pd.concat(
            [
                moran_by_period(panel, DEPVAR, w, SPATIAL_UNIT, SPATIAL_TIME, rng, MORAN_PERMUTATIONS)
                .assign(matrix_name=name)
                for name, w in weights.items()
            ],
            ignore_index=True,
        ).assign(table_id="table11")
        names = panel.drop_duplicates(SPATIAL_UNIT).set_index(SPATIAL_UNIT)["province_name_en"]
        years = sorted(panel[SPATIAL_TIME].unique())
        scatter = []
        for year in (years[0], years[-1]):
            cross_section = panel[panel[SPATIAL_TIME] == year].set_index(SPATIAL_UNIT)[DEPVAR]
            points = moran_scatter(cross_section, weights["adjacency"]).rename(columns={"code": "province_code"})
            scatter.append(points.assign(fiscal_year=year, matrix_name="adjacency",
                                         province_name_en=points["province_code"].map(names)))
        scatter = pd.concat(scatter, ignore_index=True).assign(table_id="figure02")
        replace_rows(conn, "results.moran", moran, provenance, table_id="table11")
        replace_rows(conn, "results.moran_scatter", scatter, provenance, table_id="figure02")
    adjacency = moran[moran["matrix_name"] == "adjacency"]
    return MaterializeResult(tags=provenance_tags(provenance), metadata={
        **provenance_metadata(provenance),
        "moran_i_adjacency_min": float(adjacency["moran_i"].min()),
        "moran_i_adjacency_max": float(adjacency["moran_i"].max()),
        "years_p_normal_below_0_05": int((adjacency["p_normal"] < 0.05).sum()),
        "table": MetadataValue.md(moran[["matrix_name", SPATIAL_TIME, "moran_i", "z_normal", "p_normal",
                                         "p_permutation"]].round(4).to_markdown(index=False)),
        "seconds": _seconds_since(start),
    })


# --------------------------------------------------------------------------- SDM fits shared by Tables 12-14


def _fit(panel: pd.DataFrame, weights: SpatialWeights, model: str, lee_yu: bool) -> SpatialPanelResult:
    return fit_spatial_panel(panel, DEPVAR, SPATIAL_REGRESSORS, weights, unit=SPATIAL_UNIT, time=SPATIAL_TIME,
                             model=model, fixed_effects="twoways", lee_yu=lee_yu)


def _model_selection(panel: pd.DataFrame, weights: SpatialWeights) -> pd.DataFrame:
    """LM tests on pooled OLS, LR / Wald of SDM against SAR and SEM, Hausman FE vs RE (SDM design)."""
    lm = panel_lm_tests(panel, DEPVAR, SPATIAL_REGRESSORS, weights, unit=SPATIAL_UNIT, time=SPATIAL_TIME,
                        fixed_effects="none", error_variance="ml")
    fits = {m: _fit(panel, weights, m, HEADLINE_LEE_YU) for m in ("sdm", "sar", "sem")}
    lr_wald = sdm_specification_tests(fits["sdm"], fits["sar"], fits["sem"])
    lagged = add_spatial_lags(panel, SPATIAL_REGRESSORS, weights, unit=SPATIAL_UNIT, time=SPATIAL_TIME)
    hausman = hausman_fe_re(lagged, DEPVAR, [*SPATIAL_REGRESSORS, *fits["sdm"].lagged_regressors],
                            unit=SPATIAL_UNIT, time=SPATIAL_TIME, time_effects=True)
    return pd.concat([lm.tidy(), lr_wald.tidy(), hausman.tidy()], ignore_index=True)


@asset(key=["results", "table12_model_selection"], metadata=column_schema_metadata("results.specification_tests"),
       deps=SPATIAL_INPUTS, group_name="estimation",
       kinds={"python", "duckdb"})
def table12_model_selection(context: AssetExecutionContext, warehouse: WorkingWarehouse, vintage: VintageSelection):
    """Table 12: LM lag / error and robust forms, LR and Wald of SDM vs SAR / SEM, Hausman; per matrix."""
    start = time.perf_counter()
    with vintage.session(warehouse) as (conn, provenance):
        panel = load_province_panel(conn, provenance.vintage_id)
        weights = load_spatial_weights(conn, provenance.vintage_id)
        tests = pd.concat(
            [_model_selection(panel, w).assign(column_id=name) for name, w in weights.items()], ignore_index=True
        ).assign(table_id="table12")
        replace_rows(conn, "results.specification_tests", tests, provenance, table_id="table12")
    return MaterializeResult(tags=provenance_tags(provenance), metadata={
        **provenance_metadata(provenance),
        "tests": MetadataValue.md(tests[["column_id", "test", "statistic", "df", "p_value"]].round(4)
                                  .to_markdown(index=False)),
        "seconds": _seconds_since(start),
    })


# --------------------------------------------------------------------------- Table 13


def _fit_gmm(frame: pd.DataFrame, spec: DynamicSpec):
    return fit_dynamic_panel(
        frame, "stock_code", "fiscal_year", spec.depvar, lags=1,
        predetermined=list(spec.predetermined), endog=list(spec.endogenous),
        gmm_lags=spec.gmm_lags, collapse=spec.collapse, system=spec.system,
        two_step=spec.two_step, robust=True, time_dummies=True,
    )


@asset(key=["results", "table13_sdm_gmm"], metadata=column_schema_metadata("results.coefficients"),
       deps=[*SPATIAL_INPUTS, NPRO], group_name="estimation",
       kinds={"python", "duckdb"})
def table13_sdm_gmm(context: AssetExecutionContext, warehouse: WorkingWarehouse, vintage: VintageSelection):
    """Table 13: SDM with province and year FE under both matrices, Lee-Yu corrected and direct
    (concentrated ML, information-matrix SEs); dynamic GMM of equation (4) on the firm-year panel."""
    start = time.perf_counter()
    with vintage.session(warehouse) as (conn, provenance):
        panel = load_province_panel(conn, provenance.vintage_id)
        weights = load_spatial_weights(conn, provenance.vintage_id)
        firm_years = load_firm_year_frame(conn, provenance.vintage_id)
        results = {column_id: _fit(panel, weights[matrix], "sdm", lee_yu).regression
                   for column_id, (matrix, lee_yu) in SDM_COLUMNS.items()}
        sdm_seconds = _seconds_since(start)
        results.update({spec.column_id: _fit_gmm(firm_years, spec).regression for spec in TABLE13_GMM})
        coefficients, model_stats = tidy_rows("table13", results)
        replace_rows(conn, "results.coefficients", coefficients, provenance, table_id="table13")
        replace_rows(conn, "results.model_stats", model_stats, provenance, table_id="table13")
        write_vcov(conn, provenance, "table13", results)
    headline = coefficients.set_index(["column_id", "term"])
    return MaterializeResult(tags=provenance_tags(provenance), metadata={
        **headline_metadata(coefficients, model_stats, "(3)", "ai", provenance),
        "rho_adjacency": float(headline.loc[("(1)", "rho"), "estimate"]),
        "rho_distance": float(headline.loc[("(2)", "rho"), "estimate"]),
        "ai_adjacency": float(headline.loc[("(1)", "ai"), "estimate"]),
        "gmm_lagged_npro": float(headline.loc[("(3)", "L1.npro"), "estimate"]),
        "gmm_ai": float(headline.loc[("(3)", "ai"), "estimate"]),
        "gmm_ai_se": float(headline.loc[("(3)", "ai"), "std_error"]),
        "sdm_seconds": sdm_seconds,
        "seconds": _seconds_since(start),
    })


# --------------------------------------------------------------------------- Table 14


@asset(key=["results", "table14_effects"], metadata=column_schema_metadata("results.spatial_effects"),
       deps=SPATIAL_INPUTS, group_name="estimation", kinds={"python", "duckdb"})
def table14_effects(context: AssetExecutionContext, warehouse: WorkingWarehouse, vintage: VintageSelection):
    """Table 14: LeSage-Pace direct / indirect / total effects of the Table 13 SDM (columns (1), (2)),
    inference by 1,000 seeded draws from the estimated distribution and by the delta method."""
    start = time.perf_counter()
    rng = np.random.default_rng(EFFECTS_SEED)
    with vintage.session(warehouse) as (conn, provenance):
        panel = load_province_panel(conn, provenance.vintage_id)
        weights = load_spatial_weights(conn, provenance.vintage_id)
        frames, stats, fitted = [], [], {}
        for matrix, w in weights.items():
            fit = _fit(panel, w, "sdm", HEADLINE_LEE_YU)
            effects = spatial_effects(fit, rng, n_draws=EFFECT_DRAWS)
            fitted |= {f"{matrix}:simulation": effects.simulation, f"{matrix}:delta": effects.delta}
            frames.append(effects.tidy().drop(columns="term").rename(columns={"variable": "term"})
                          .assign(matrix_name=matrix))
            for effect in ("direct", "indirect", "total"):
                stats.append(pd.DataFrame({
                    "column_id": f"{matrix}:{effect}",
                    "stat": ["nobs", "r2", "n_draws", "unstable_draws"],
                    "value": [fit.nobs, fit.stats["r2"], EFFECT_DRAWS, effects.simulation.stats["unstable_draws"]],
                    "text": None,
                }))
        tidy = pd.concat(frames, ignore_index=True).assign(table_id="table14")
        model_stats = pd.concat(stats, ignore_index=True).assign(table_id="table14")
        replace_rows(conn, "results.spatial_effects", tidy, provenance, table_id="table14")
        replace_rows(conn, "results.model_stats", model_stats, provenance, table_id="table14")
        write_vcov(conn, provenance, "table14", fitted)
    ai = tidy[(tidy["term"] == "ai") & (tidy["method"] == "simulation")].set_index(["matrix_name", "effect"])
    return MaterializeResult(tags=provenance_tags(provenance), metadata={
        **provenance_metadata(provenance),
        **{f"ai_{effect}_{matrix}": float(ai.loc[(matrix, effect), "estimate"])
           for matrix in weights for effect in ("direct", "indirect", "total")},
        "rows": len(tidy),
        "seconds": _seconds_since(start),
    })


SPATIAL_DYNAMIC_ASSETS = [spatial_weights, table11_moran, table12_model_selection, table13_sdm_gmm, table14_effects]
SPATIAL_DYNAMIC_CHECKS = [raw_weights_symmetric, weights_rows_sum_to_one]
