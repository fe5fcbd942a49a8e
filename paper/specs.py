"""Every paper table, one entry each, in paper order: the one place that says how a table
is estimated (inputs, models, seeds and draws as options, estimator), what it writes and
how it is printed. ``dagster_project.defs.estimation`` and ``dagster_project.defs.reporting``
generate the assets ``["results", table_id]`` and ``["reports", table_id]`` from ``SPECS``.

Estimations, layouts and figures are named as ``Lazy("module:function")``: importing the specs
(and the Dagster definitions) stays cheap, the estimators load when a table is computed.
Adding a paper-style table is one entry here (plus a layout when no existing one fits);
docs/architecture.md walks through it.
"""

from __future__ import annotations

from paper.models import TABLE04, TABLE05, TABLE09, TABLE10_SPLITS
from paper.options import (
    EffectsOptions,
    IvOptions,
    MediationOptions,
    MoranOptions,
    PermutationOptions,
    PsmOptions,
    TfpOptions,
)
from paper.spec import MODEL_STATS, Lazy, Source, TableSpec

REGRESSION_TABLES = ("results.coefficients", "results.model_stats", "results.vcov")

TFP = TableSpec(
    "tfp_lp", "Levinsohn-Petrin (value added) log TFP per firm-year; elasticities in results (table_id tfp_lp).",
    inputs=("firm_year_mart",), estimate=Lazy("paper.firm:estimate_tfp"), options=TfpOptions,
    writes=("analysis.firm_year_tfp", *REGRESSION_TABLES), sources=(), asset_key=("analysis", "firm_year_tfp"),
)
"""Not a paper table: the TFP outcome of Table 5 (3), under its own asset key."""

TABLE01 = TableSpec(
    "table01", "Table 1: the indicator system, definitions, our entropy weights and the paper's.",
    sources=(Source("analysis.entropy_weights", by_table_id=False),),
    layout=Lazy("paper.layouts.core:table01"),
    report_deps=(("analysis", "entropy_weights"),),
)
"""Table 1 has no estimation of its own: the entropy weights come from the index."""

TABLE03 = TableSpec(
    "table03", "Table 3: N, mean, sd, min, median, max of Npro, AI and the controls.",
    inputs=("firm_years",), estimate=Lazy("paper.firm:estimate_table03"), writes=("results.descriptives",),
    sources=(Source("results.descriptives"),), layout=Lazy("paper.layouts.core:table03"),
)

TABLE04 = TableSpec(
    "table04", "Table 4: Npro on AI; (2) adds year and province FE; (3) adds controls. Firm-clustered SEs.",
    inputs=("firm_years",), estimate=Lazy("paper.firm:regressions", (TABLE04,)),
    layout=Lazy("paper.layouts.core:table04"), headline=("(3)", "ai"),
)

TABLE05 = TableSpec(
    "table05", "Table 5: firm FE; + Both; LP TFP outcome; AI_Patent regressor; the PSM-matched sample.",
    inputs=("firm_years", "tfp", "psm_matched"), estimate=Lazy("paper.firm:estimate_table05", (TABLE05,)),
    layout=Lazy("paper.layouts.firm:table05"), headline=("(2)", "ai"),
)

TABLE06 = TableSpec(
    "table06", "Table 6: 2SLS of Npro on AI instrumented by L.AI, L2.AI or the industry-year mean of AI, with "
    "controls, year and province FE, firm-clustered SEs and ivreg2's diagnostics.",
    inputs=("firm_years",), estimate=Lazy("paper.firm:estimate_table06"), options=IvOptions,
    layout=Lazy("paper.layouts.firm:table06"), headline=("(2)", "ai"),
)

TABLE07 = TableSpec(
    "table07", "Table 7: 1:1 nearest-neighbour PSM of AI_Did on the controls; balance in pstest's convention.",
    inputs=("firm_years",), estimate=Lazy("paper.firm:estimate_table07"), options=PsmOptions,
    writes=("results.balance", "analysis.psm_matched", *REGRESSION_TABLES),
    sources=(Source("results.balance"), MODEL_STATS), layout=Lazy("paper.layouts.firm:table07"),
    headline=("att_npro", "ATT"),
)

TABLE08 = TableSpec(
    "table08", "Table 8: green innovation, |SA| and human capital as mediators of AI -> Npro (paths, Sobel, "
    "Aroian, Goodman, firm-cluster bootstrap CIs of the indirect effect).",
    inputs=("firm_years",), estimate=Lazy("paper.firm:estimate_table08"), options=MediationOptions,
    layout=Lazy("paper.layouts.firm:table08"), headline=("(1)", "ai"),
)

TABLE09 = TableSpec(
    "table09", "Table 9: the benchmark model (column 3 of Table 4) in the east, central and west subsamples.",
    inputs=("firm_years",), estimate=Lazy("paper.firm:regressions", (TABLE09,)),
    layout=Lazy("paper.layouts.firm:table09"), headline=("(1)", "ai"),
)

TABLE10 = TableSpec(
    "table10", "Table 10: heavy- vs non-heavy-polluting and high- vs low-tech subsamples, with the between-group "
    "difference of the AI coefficient by Fisher's permutation test (bdiff).",
    inputs=("firm_years",), estimate=Lazy("paper.firm:estimate_table10"), options=PermutationOptions,
    layout=Lazy("paper.layouts.firm:table10"), headline=(TABLE10_SPLITS["pollution"].group0_column, "ai"),
)

TABLE11 = TableSpec(
    "table11", "Table 11: global Moran's I of province Npro by year (normality and seeded permutations), both "
    "matrices; Figure 2 data: the Moran scatter of the first and last year.",
    inputs=("province_panel", "spatial_weights"), estimate=Lazy("paper.spatial:estimate_table11"),
    options=MoranOptions,
    writes=("results.moran", "results.moran_scatter", "results.model_stats"),
    sources=(Source("results.moran"),), layout=Lazy("paper.layouts.spatial:table11"),
)

TABLE12 = TableSpec(
    "table12", "Table 12: LM lag / error and robust forms, LR and Wald of SDM vs SAR / SEM, Hausman; per matrix.",
    inputs=("province_panel", "spatial_weights"), estimate=Lazy("paper.spatial:estimate_table12"),
    writes=("results.specification_tests",), sources=(Source("results.specification_tests"),),
    layout=Lazy("paper.layouts.spatial:table12"),
)

TABLE13 = TableSpec(
    "table13", "Table 13: SDM with province and year FE under both matrices, Lee-Yu corrected and direct "
    "(concentrated ML, information-matrix SEs); dynamic GMM of equation (4) on the firm-year panel.",
    inputs=("province_panel", "spatial_weights", "firm_years"), estimate=Lazy("paper.spatial:estimate_table13"),
    layout=Lazy("paper.layouts.spatial:table13"), headline=("(3)", "ai"),
)

TABLE14 = TableSpec(
    "table14", "Table 14: LeSage-Pace direct / indirect / total effects of the Table 13 SDM (columns (1), (2)), "
    "inference by seeded draws from the estimated distribution and by the delta method.",
    inputs=("province_panel", "spatial_weights"), estimate=Lazy("paper.spatial:estimate_table14"),
    options=EffectsOptions,
    writes=("results.spatial_effects", "results.model_stats", "results.vcov"),
    sources=(Source("results.spatial_effects"), MODEL_STATS), layout=Lazy("paper.layouts.spatial:table14"),
)

FIGURE01 = TableSpec(
    "figure01", "Figure 1: kernel densities of the propensity score by group, before and after matching "
    "(PNG, PDF and SVG under reports/figures/, with a Markdown page carrying the provenance).",
    sources=(Source("analysis.psm_matched", by_table_id=False),), render=Lazy("paper.firm:render_figure01"),
    report_deps=(TABLE07.results_key,),
)

FIGURE02 = TableSpec(
    "figure02", "Figure 2: Moran scatter plots of the first and last year (PNG) from results.moran_scatter.",
    sources=(Source("results.moran_scatter"), Source("results.moran", table_id="table11")),
    render=Lazy("paper.spatial:render_figure02"), report_deps=(TABLE11.results_key,),
)

SPECS: dict[str, TableSpec] = {spec.table_id: spec for spec in (
    TFP, TABLE01, TABLE03, TABLE04, TABLE05, TABLE06, TABLE07, TABLE08, TABLE09, TABLE10,
    TABLE11, TABLE12, TABLE13, TABLE14, FIGURE01, FIGURE02,
)}
"""Every spec by table id: estimations, paper tables and figures."""


def paper_tables() -> list[TableSpec]:
    """The printed tables (1, 3-14) in paper order."""
    return [spec for spec in SPECS.values() if spec.layout is not None]


def figures() -> list[TableSpec]:
    return [spec for spec in SPECS.values() if spec.is_figure]
