"""The models behind the paper's tables: outcome, regressors, fixed effects, clustering.

Variable names are the columns of ``marts.fct_firm_years`` (plus ``npro`` from the index)
or of ``marts.fct_province_years``; labels are how the paper prints them. Each table's
entry in ``paper.specs`` picks its models from here.

Column ids, one convention for every table (docs/architecture.md):

- a model whose estimates fill the printed column k is ``"(k)"``;
- a model reported in the footer of column k is ``"(k):<role>"`` (Table 8's path b and
  mediation tests, Table 10's permutation difference); one spanning the printed columns
  k..m is ``"(k)-(m)"`` (a weights matrix's block in Tables 12 and 14);
- a model no printed column shows (Table 7's propensity model and ATT, the TFP
  elasticities, Table 11's permutation draws) keeps a descriptive snake_case id.
"""

from __future__ import annotations

from dataclasses import dataclass

CONTROLS: tuple[str, ...] = ("roa", "size", "top1", "lev", "inde", "age")
YEAR_PROVINCE_FE: tuple[str, ...] = ("fiscal_year", "province_code")
FIRM_YEAR_PROVINCE_FE: tuple[str, ...] = ("stock_code", "fiscal_year", "province_code")
FIRM_CLUSTER = "stock_code"

TERM_LABELS: dict[str, str] = {
    "npro": "Npro",
    "ai": "AI",
    "ai_patent": "AI_Patent",
    "ai_did": "AI_Did",
    "roa": "Roa",
    "size": "Size",
    "top1": "Top1",
    "lev": "Lev",
    "inde": "Inde",
    "age": "Age",
    "both": "Both",
    "green": "Green",
    "sa_abs": "SA_abs",
    "human_capital": "HumanCapital",
    "const": "Constant",
    "L1.npro": "L.Npro",
    "_cons": "Constant",
    "rho": "rho",
    "sigma2": "Sigma2_e",
    "tfp_lp": "Tfp_lp",
    "iv": "IV",
    "ln_labour": "ln Labour",
    "ln_capital": "ln Capital",
}

DESCRIPTIVE_VARIABLES: tuple[str, ...] = ("npro", "ai", *CONTROLS)
"""Table 3 rows, in the paper's order."""


@dataclass(frozen=True)
class ModelSpec:
    """One linear model with absorbed fixed effects and cluster-robust SEs (``analysis.fixed_effects.fit_ols``).

    ``sample`` names the frame it is fitted on (``firm_years``, or ``psm_matched`` for the
    Table 7 matched sample); ``where`` keeps the rows whose columns equal the given values
    (Table 9's regions)."""

    column_id: str
    depvar: str
    regressors: tuple[str, ...]
    fixed_effects: tuple[str, ...] = ()
    cluster: str = FIRM_CLUSTER
    sample: str = "firm_years"
    where: tuple[tuple[str, object], ...] = ()

    @property
    def variables(self) -> tuple[str, ...]:
        return (self.depvar, *self.regressors, *self.fixed_effects, self.cluster)


# Table 4: the text says firm-clustered standard errors (section 4.1.1); the table note's
# "robust" is read as cluster-robust by firm.
TABLE04: tuple[ModelSpec, ...] = (
    ModelSpec("(1)", "npro", ("ai",)),
    ModelSpec("(2)", "npro", ("ai",), YEAR_PROVINCE_FE),
    ModelSpec("(3)", "npro", ("ai", *CONTROLS), YEAR_PROVINCE_FE),
)
BENCHMARK = TABLE04[-1]
"""Table 4 column (3): the model Tables 9 and 10 refit in subsamples."""

# Tables 5-10 (docs/firm_level_tables.md): firm-level robustness, 2SLS, PSM, mechanisms and
# heterogeneity.
TABLE05: tuple[ModelSpec, ...] = (
    ModelSpec("(1)", "npro", ("ai", *CONTROLS), FIRM_YEAR_PROVINCE_FE),
    ModelSpec("(2)", "npro", ("ai", *CONTROLS, "both"), YEAR_PROVINCE_FE),
    ModelSpec("(3)", "tfp_lp", ("ai", *CONTROLS), YEAR_PROVINCE_FE),
    ModelSpec("(4)", "npro", ("ai_patent", *CONTROLS), YEAR_PROVINCE_FE),
    ModelSpec("(5)", "npro", ("ai_did", *CONTROLS), YEAR_PROVINCE_FE, sample="psm_matched"),
)
"""Table 5; (3) takes its outcome from analysis.firm_year_tfp, (5) is fitted on the Table 7 matched sample."""
TABLE05_HEADERS: tuple[str, ...] = ("Add individual FE", "Add control variables", "Replace the explained variable",
                                    "Replace the explanatory variable", "PSM")

TABLE06_INSTRUMENTS: dict[str, str] = {"l1_ai": "L.AI", "l2_ai": "L2.AI", "mean_ai": "Mean_AI"}
"""Table 6: instrument column -> the paper's column heading (each instruments AI alone)."""
TABLE06_LEAVE_ONE_OUT_COLUMN: dict[str, str] = {"mean_ai_loo": "Mean_AI (leave-one-out)"}
"""Table 6's optional extra columns (7)-(8): the industry-year mean of AI without the firm itself."""


def table06_columns(instruments) -> dict[str, tuple[str, str]]:
    """Instrument -> (first-stage column id, second-stage column id): (1)/(2), (3)/(4), ..."""
    return {instrument: (f"({2 * k + 1})", f"({2 * k + 2})") for k, instrument in enumerate(instruments)}


TABLE07_TREATMENT = "ai_did"
TABLE07_COVARIATES: tuple[str, ...] = CONTROLS
TABLE07_PROPENSITY, TABLE07_ATT = "propensity_model", "att_npro"
"""Table 7 prints balance statistics, not models: its propensity model and ATT keep descriptive ids."""

TABLE08_MEDIATORS: dict[str, str] = {"green": "Green", "sa_abs": "SA_abs", "human_capital": "HumanCapital"}


def table08_columns(mediator: str) -> dict[str, str]:
    """The column ids of one mediator: path a (printed column), path b and the mediation tests (its footer)."""
    column = f"({list(TABLE08_MEDIATORS).index(mediator) + 1})"
    return {"path_a": column, "path_b": f"{column}:path_b", "mediation": f"{column}:mediation"}


TABLE09_REGIONS: dict[str, str] = {"(1)": "east", "(2)": "central", "(3)": "west"}
TABLE09: tuple[ModelSpec, ...] = tuple(
    ModelSpec(column_id, BENCHMARK.depvar, BENCHMARK.regressors, BENCHMARK.fixed_effects, where=(("region", region),))
    for column_id, region in TABLE09_REGIONS.items()
)
"""Table 9: the benchmark model in the east, central and west subsamples."""


@dataclass(frozen=True)
class GroupSplit:
    """Table 10: one 0/1 flag splitting the sample; the printed columns of its groups and
    of the permutation difference (under the pair's first column). The difference is
    b0 - b1 as Stata's bdiff reports it (group 0 minus group 1)."""

    flag: str
    group1_column: str
    group0_column: str
    group1_label: str
    group0_label: str

    @property
    def difference_column(self) -> str:
        return f"{min(self.group0_column, self.group1_column)}:difference"


TABLE10_SPLITS: dict[str, GroupSplit] = {
    # non-heavy minus heavy polluting (paper 0.276), low-tech minus high-tech (paper -0.180)
    "pollution": GroupSplit("heavy_polluting", "(1)", "(2)", "Heavy polluting", "Non-heavy polluting"),
    "tech": GroupSplit("high_tech", "(3)", "(4)", "High-tech", "Low-tech"),
}

# Tables 11-14 (docs/spatial_dynamic_tables.md): the province-year panel of
# marts.fct_province_years and the firm-level dynamic panel of equation (4).
SPATIAL_UNIT, SPATIAL_TIME = "province_code", "fiscal_year"
SPATIAL_DEPVAR = "npro"
SPATIAL_REGRESSORS: tuple[str, ...] = ("ai", *CONTROLS)
WEIGHT_MATRICES: dict[str, str] = {"adjacency": "0-1 adjacency matrix", "distance": "Geographic distance matrix"}
"""analysis.spatial_weights matrix_name -> how the paper heads its columns."""
MATRIX_BLOCKS: dict[str, str] = {"adjacency": "(1)-(3)", "distance": "(4)-(6)"}
"""Tables 12 and 14 print three columns per weights matrix: the block's column id."""
TABLE11_PERMUTATIONS = "permutation"
"""Table 11's seeded permutation draws (its "Permutation p" column) in results.model_stats."""

HEADLINE_LEE_YU = True
"""Columns (1)/(2), Table 12's LR/Wald tests and Table 14 use the Lee-Yu corrected SDM:
with N = 31 the direct approach's rho carries the O(1/N) bias of time effects and its
intervals under-cover (tests/planted/test_spatial_planted.py); the direct fits are columns (4)/(5)."""


@dataclass(frozen=True)
class SdmSpec:
    """A spatial Durbin model with province and year effects by concentrated ML."""

    column_id: str
    matrix: str
    lee_yu: bool


TABLE13_SDM: tuple[SdmSpec, ...] = (
    SdmSpec("(1)", "adjacency", HEADLINE_LEE_YU),
    SdmSpec("(2)", "distance", HEADLINE_LEE_YU),
    SdmSpec("(4)", "adjacency", not HEADLINE_LEE_YU),
    SdmSpec("(5)", "distance", not HEADLINE_LEE_YU),
)


@dataclass(frozen=True)
class DynamicSpec:
    """Equation (4) by GMM: Npro on its first lag, AI and the controls, year effects.

    AI is endogenous (GMM-style lags ``gmm_lags`` of its level); the controls are
    predetermined (one lag closer), never iv-style in levels: in system GMM an iv-style
    regressor must be uncorrelated with the firm effect, which firm size, leverage or
    age are not. ``collapse`` keeps the instrument count far below the number of firms.
    """

    column_id: str
    system: bool
    two_step: bool
    depvar: str = "npro"
    endogenous: tuple[str, ...] = ("ai",)
    predetermined: tuple[str, ...] = CONTROLS
    gmm_lags: tuple[int, int] = (2, 4)
    collapse: bool = True


TABLE13_GMM: tuple[DynamicSpec, ...] = (
    DynamicSpec("(3)", system=True, two_step=True),
    DynamicSpec("(6)", system=False, two_step=True),
    DynamicSpec("(7)", system=True, two_step=False),
)
