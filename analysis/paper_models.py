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
