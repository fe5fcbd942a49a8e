"""How the spatial and dynamic tables are estimated: Tables 11-14 and Figure 2's data.

Inputs: the balanced province-year panel (``marts.fct_province_years``), the stored spatial
weights (``analysis.spatial_weights``, rebuilt as ``analysis.spatial_weights.SpatialWeights``
by the reader, in matrix-name order) and, for the dynamic GMM, the firm-year frame. Every
seed is an option whose value is stored in ``results.model_stats``. Specification choices:
docs/spatial_dynamic_tables.md.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any, Mapping

import numpy as np
import pandas as pd

from analysis.dynamic_panel import fit_dynamic_panel
from analysis.spatial import moran_by_period, moran_scatter
from analysis.spatial_panel import (
    EFFECT_KINDS,
    SpatialPanelResult,
    add_spatial_lags,
    fit_spatial_panel,
    hausman_fe_re,
    panel_lm_tests,
    sdm_specification_tests,
    spatial_effects,
)
from analysis.spatial_weights import SpatialWeights
from analysis.tables import TableProvenance
from paper.models import (
    HEADLINE_LEE_YU,
    MATRIX_BLOCKS,
    SPATIAL_DEPVAR,
    SPATIAL_REGRESSORS,
    SPATIAL_TIME,
    SPATIAL_UNIT,
    TABLE11_PERMUTATIONS,
    TABLE13_GMM,
    TABLE13_SDM,
    WEIGHT_MATRICES,
    DynamicSpec,
)
from paper.options import EffectsOptions, MoranOptions
from paper.spec import Estimates, Progress, markdown_table, model_stat_rows, regression_estimates, stat_rows

FIGURE02_ID = "figure02"
FIGURE02_FILE = "figures/figure02.png"

TABLE14_COLUMNS: dict[tuple[str, str], str] = {
    (matrix, effect): f"({k})"
    for k, (matrix, effect) in enumerate(((m, e) for m in WEIGHT_MATRICES for e in EFFECT_KINDS), start=1)
}
"""Table 14's printed columns: (weights matrix, effect) -> "(1)".."(6)"."""


def _seconds(started: float) -> float:
    return round(time.perf_counter() - started, 3)


# --------------------------------------------------------------------------- Table 11 and Figure 2


def estimate_table11(inputs: Mapping[str, Any], options: MoranOptions, progress: Progress) -> Estimates:
    """Global Moran's I of province Npro by year (normality and seeded permutations), both
    matrices; Figure 2's data: the Moran scatter of the first and last year (0-1 adjacency)."""
    panel, weights = inputs["province_panel"], inputs["spatial_weights"]
    rng = np.random.default_rng(options.seed)
    moran = pd.concat(
        [moran_by_period(panel, SPATIAL_DEPVAR, w, SPATIAL_UNIT, SPATIAL_TIME, rng, options.permutations)
         .assign(matrix_name=name) for name, w in weights.items()],
        ignore_index=True,
    )
    names = panel.drop_duplicates(SPATIAL_UNIT).set_index(SPATIAL_UNIT)["province_name_en"]
    years = sorted(panel[SPATIAL_TIME].unique())
    scatter = []
    for year in (years[0], years[-1]):
        cross_section = panel[panel[SPATIAL_TIME] == year].set_index(SPATIAL_UNIT)[SPATIAL_DEPVAR]
        points = moran_scatter(cross_section, weights["adjacency"]).rename(columns={"code": "province_code"})
        scatter.append(points.assign(fiscal_year=year, matrix_name="adjacency",
                                     province_name_en=points["province_code"].map(names)))
    scatter = pd.concat(scatter, ignore_index=True).assign(table_id=FIGURE02_ID)
    adjacency = moran[moran["matrix_name"] == "adjacency"]
    return Estimates(
        results={"results.moran": moran, "results.moran_scatter": scatter,
                 "results.model_stats": stat_rows(TABLE11_PERMUTATIONS, {
                     "seed": options.seed, "permutations": options.permutations})},
        metadata={
            "moran_i_adjacency_min": float(adjacency["moran_i"].min()),
            "moran_i_adjacency_max": float(adjacency["moran_i"].max()),
            "years_p_normal_below_0_05": int((adjacency["p_normal"] < 0.05).sum()),
            "seed": options.seed,
            "table": markdown_table(moran[["matrix_name", SPATIAL_TIME, "moran_i", "z_normal", "p_normal",
                                           "p_permutation"]].round(4)),
        },
    )


def render_figure02(scatter: pd.DataFrame, moran: pd.DataFrame, provenance: TableProvenance, reports_dir: Path):
    """Moran scatter plots of the first and last year (PNG, PDF, SVG) from results.moran_scatter."""
    from paper.layouts import spatial as spatial_layouts

    adjacency = moran[moran["matrix_name"] == "adjacency"]
    moran_i = dict(zip(adjacency["fiscal_year"].astype(int), adjacency["moran_i"]))
    path = spatial_layouts.figure02(scatter, moran_i, provenance, reports_dir / FIGURE02_FILE)
    quadrants = scatter.groupby(["fiscal_year", "quadrant"]).size().unstack(fill_value=0)
    return ([path.with_suffix(suffix) for suffix in spatial_layouts.FIGURE_FORMATS],
            {"path": path, "quadrant_counts": markdown_table(quadrants, index=True)})


# --------------------------------------------------------------------------- SDM fits shared by Tables 12-14


def fit_sdm(panel: pd.DataFrame, weights: SpatialWeights, model: str, lee_yu: bool) -> SpatialPanelResult:
    return fit_spatial_panel(panel, SPATIAL_DEPVAR, SPATIAL_REGRESSORS, weights, unit=SPATIAL_UNIT,
                             time=SPATIAL_TIME, model=model, fixed_effects="twoways", lee_yu=lee_yu)


def model_selection(panel: pd.DataFrame, weights: SpatialWeights) -> pd.DataFrame:
    """LM tests on pooled OLS, LR / Wald of SDM against SAR and SEM, Hausman FE vs RE (SDM design)."""
    lm = panel_lm_tests(panel, SPATIAL_DEPVAR, SPATIAL_REGRESSORS, weights, unit=SPATIAL_UNIT, time=SPATIAL_TIME,
                        fixed_effects="none", error_variance="ml")
    fits = {m: fit_sdm(panel, weights, m, HEADLINE_LEE_YU) for m in ("sdm", "sar", "sem")}
    lr_wald = sdm_specification_tests(fits["sdm"], fits["sar"], fits["sem"])
    lagged = add_spatial_lags(panel, SPATIAL_REGRESSORS, weights, unit=SPATIAL_UNIT, time=SPATIAL_TIME)
    hausman = hausman_fe_re(lagged, SPATIAL_DEPVAR, [*SPATIAL_REGRESSORS, *fits["sdm"].lagged_regressors],
                            unit=SPATIAL_UNIT, time=SPATIAL_TIME, time_effects=True)
    return pd.concat([lm.tidy(), lr_wald.tidy(), hausman.tidy()], ignore_index=True)


def estimate_table12(inputs: Mapping[str, Any], options: None, progress: Progress) -> Estimates:
    """LM lag / error and robust forms, LR and Wald of SDM vs SAR / SEM, Hausman; per matrix
    (column ids: the matrix's block of printed columns)."""
    panel, weights = inputs["province_panel"], inputs["spatial_weights"]
    tests = pd.concat([model_selection(panel, w).assign(column_id=MATRIX_BLOCKS[name]) for name, w in weights.items()],
                      ignore_index=True)
    return Estimates(results={"results.specification_tests": tests}, metadata={
        "tests": markdown_table(tests[["column_id", "test", "statistic", "df", "p_value"]].round(4))})


# --------------------------------------------------------------------------- Table 13


def fit_gmm(frame: pd.DataFrame, spec: DynamicSpec):
    return fit_dynamic_panel(
        frame, "stock_code", "fiscal_year", spec.depvar, lags=1,
        predetermined=list(spec.predetermined), endog=list(spec.endogenous),
        gmm_lags=spec.gmm_lags, collapse=spec.collapse, system=spec.system,
        two_step=spec.two_step, robust=True, time_dummies=True,
    )


def estimate_table13(inputs: Mapping[str, Any], options: None, progress: Progress) -> Estimates:
    """SDM with province and year FE under both matrices, Lee-Yu corrected and direct
    (concentrated ML, information-matrix SEs); dynamic GMM of equation (4) on firm-years."""
    started = time.perf_counter()
    panel, weights = inputs["province_panel"], inputs["spatial_weights"]
    columns = {spec.column_id: fit_sdm(panel, weights[spec.matrix], "sdm", spec.lee_yu) for spec in TABLE13_SDM}
    sdm_seconds = _seconds(started)
    columns |= {spec.column_id: fit_gmm(inputs["firm_years"], spec) for spec in TABLE13_GMM}
    estimates = regression_estimates(columns)
    headline = estimates.results["results.coefficients"].set_index(["column_id", "term"])
    estimates.metadata = {
        "rho_adjacency": float(headline.loc[("(1)", "rho"), "estimate"]),
        "rho_distance": float(headline.loc[("(2)", "rho"), "estimate"]),
        "ai_adjacency": float(headline.loc[("(1)", "ai"), "estimate"]),
        "gmm_lagged_npro": float(headline.loc[("(3)", "L1.npro"), "estimate"]),
        "gmm_ai": float(headline.loc[("(3)", "ai"), "estimate"]),
        "gmm_ai_se": float(headline.loc[("(3)", "ai"), "std_error"]),
        "sdm_seconds": sdm_seconds,
    }
    return estimates


# --------------------------------------------------------------------------- Table 14


def estimate_table14(inputs: Mapping[str, Any], options: EffectsOptions, progress: Progress) -> Estimates:
    """LeSage-Pace direct / indirect / total effects of the Table 13 SDM (columns (1), (2)),
    inference by seeded draws from the estimated distribution and by the delta method."""
    panel, weights = inputs["province_panel"], inputs["spatial_weights"]
    rng = np.random.default_rng(options.seed)
    frames, stats, fitted = [], [], {}
    for matrix, w in weights.items():
        fit = fit_sdm(panel, w, "sdm", HEADLINE_LEE_YU)
        effects = spatial_effects(fit, rng, n_draws=options.n_draws)
        block = MATRIX_BLOCKS[matrix]
        # The joint covariance of a matrix's effects spans its three printed columns.
        fitted |= {f"{block}:simulation": effects.simulation, f"{block}:delta": effects.delta}
        frames.append(effects.tidy().drop(columns="term").rename(columns={"variable": "term"})
                      .assign(matrix_name=matrix))
        # Every effect column of a matrix reports the same statistics (N, R^2, the draws) and the seed.
        stats += [model_stat_rows(TABLE14_COLUMNS[(matrix, effect)], effects, {"seed": options.seed})
                  for effect in EFFECT_KINDS]
    tidy = pd.concat(frames, ignore_index=True)
    ai = tidy[(tidy["term"] == "ai") & (tidy["method"] == "simulation")].set_index(["matrix_name", "effect"])
    return Estimates(
        results={"results.spatial_effects": tidy, "results.model_stats": pd.concat(stats, ignore_index=True)},
        fitted=fitted,
        metadata={**{f"ai_{effect}_{matrix}": float(ai.loc[(matrix, effect), "estimate"])
                     for matrix in weights for effect in EFFECT_KINDS},
                  "rows": len(tidy), "seed": options.seed},
    )
