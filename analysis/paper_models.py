"""The models behind each paper table: outcome, regressors, fixed effects, clustering.

Variable names are the columns of ``marts.fct_firm_years`` (plus ``npro`` from the
index). Labels are how the paper prints them.
"""

from __future__ import annotations

from dataclasses import dataclass

CONTROLS: tuple[str, ...] = ("roa", "size", "top1", "lev", "inde", "age")
YEAR_PROVINCE_FE: tuple[str, ...] = ("fiscal_year", "province_code")
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
}

DESCRIPTIVE_VARIABLES: tuple[str, ...] = ("npro", "ai", *CONTROLS)
"""Table 3 rows, in the paper's order."""


@dataclass(frozen=True)
class ModelSpec:
    column_id: str
    depvar: str
    regressors: tuple[str, ...]
    fixed_effects: tuple[str, ...] = ()
    cluster: str = FIRM_CLUSTER

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


# Tables 11-14 (docs/spatial_dynamic_tables.md): the province-year panel of
# marts.fct_province_years and the firm-level dynamic panel of equation (4).
SPATIAL_UNIT, SPATIAL_TIME = "province_code", "fiscal_year"
SPATIAL_REGRESSORS: tuple[str, ...] = ("ai", *CONTROLS)
WEIGHT_MATRICES: dict[str, str] = {"adjacency": "0-1 adjacency matrix", "distance": "Geographic distance matrix"}
"""analysis.spatial_weights matrix_name -> how the paper heads its columns."""


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


# Tables 5-10 (docs/firm_level_tables.md): firm-level robustness, 2SLS, PSM, mechanisms and
# heterogeneity. Column ids say what each column is; the layouts number them as the paper.
FIRM_YEAR_PROVINCE_FE: tuple[str, ...] = ("stock_code", "fiscal_year", "province_code")

TABLE05: tuple[ModelSpec, ...] = (
    ModelSpec("firm_fe", "npro", ("ai", *CONTROLS), FIRM_YEAR_PROVINCE_FE),
    ModelSpec("add_both", "npro", ("ai", *CONTROLS, "both"), YEAR_PROVINCE_FE),
    ModelSpec("tfp_lp_outcome", "tfp_lp", ("ai", *CONTROLS), YEAR_PROVINCE_FE),
    ModelSpec("ai_patent_regressor", "npro", ("ai_patent", *CONTROLS), YEAR_PROVINCE_FE),
    ModelSpec("psm_matched_sample", "npro", ("ai_did", *CONTROLS), YEAR_PROVINCE_FE),
)
"""Table 5; ``psm_matched_sample`` is fitted on the Table 7 matched sample."""

TABLE06_INSTRUMENTS: dict[str, str] = {"l1_ai": "L.AI", "l2_ai": "L2.AI", "mean_ai": "Mean_AI"}
"""Table 6: instrument column -> the paper's column heading (each instruments AI alone)."""
TABLE06_LEAVE_ONE_OUT_COLUMN: dict[str, str] = {"mean_ai_loo": "Mean_AI (leave-one-out)"}
"""Table 6's optional extra column: the industry-year mean of AI without the firm itself."""

TABLE07_TREATMENT = "ai_did"
TABLE07_COVARIATES: tuple[str, ...] = CONTROLS

TABLE08_MEDIATORS: dict[str, str] = {"green": "Green", "sa_abs": "SA_abs", "human_capital": "HumanCapital"}

TABLE09_REGIONS: tuple[str, ...] = ("east", "central", "west")

TABLE10_SPLITS: dict[str, tuple[str, str, str]] = {
    "pollution": ("heavy_polluting", "non_heavy_polluting", "heavy_polluting"),
    "tech": ("high_tech", "low_tech", "high_tech"),
}
"""Table 10: split -> (0/1 flag column, column id of group 0, column id of group 1). The
permutation difference is b0 - b1 as Stata's bdiff reports it: non-heavy minus heavy
polluting (paper 0.276) and low-tech minus high-tech (paper -0.180)."""

TERM_LABELS.update({"tfp_lp": "Tfp_lp", "iv": "IV", "ln_labour": "ln Labour", "ln_capital": "ln Capital"})
