"""Layouts of Tables 1, 3 and 4: titles, column headers, footers and notes (the firm-level
Tables 5-10 are in ``paper.layouts.firm``, the spatial and dynamic 11-14 in ``paper.layouts.spatial``).

The numbers come from the tidy ``results`` tables of the warehouse, as frames; the renderer is
``analysis.tables``. The paper's own value of the headline coefficient is printed in a
note for comparison, never used in any computation.
"""

from __future__ import annotations

from typing import Sequence

import pandas as pd

from analysis.published import SOURCE, published_tables
from analysis.tables import (
    CoefficientBody,
    PaperTable,
    StatRow,
    TableColumn,
    TableProvenance,
    TextRow,
    ValueBody,
)
from paper.models import CONTROLS, DESCRIPTIVE_VARIABLES, TABLE04, TERM_LABELS, ModelSpec

DESCRIPTIVE_COLUMNS = {"n": ("N", ",.0f"), "mean": ("Mean", ".3f"), "sd": ("Sd", ".3f"),
                       "min": ("Min", ".3f"), "p50": ("P50", ".3f"), "max": ("Max", ".3f")}


def yes_no(flag: bool) -> str:
    return "Yes" if flag else "No"


TABLE01_DIMENSIONS = {"labor_force": "Labour force", "objects_of_labor": "Objects of labour",
                      "hard_technology": "Hard technology", "soft_technology": "Soft technology"}


def table01(weights: pd.DataFrame, provenance: TableProvenance) -> PaperTable:
    """The indicator system: dimension, definition, direction, our entropy weight and the paper's."""
    ours = weights.set_index("indicator")
    rows = {}
    for dimension, indicators in published_tables()["table01"].items():
        for indicator, spec in indicators.items():
            rows[indicator] = {
                "Dimension": TABLE01_DIMENSIONS[dimension],
                "Definition": spec["definition"],
                "Direction": str(ours.at[indicator, "direction"]) if indicator in ours.index else "",
                "Weight": float(ours.at[indicator, "weight"]) if indicator in ours.index else float("nan"),
                "Paper weight": float(spec["weight"]),
            }
    frame = pd.DataFrame.from_dict(rows, orient="index")
    return PaperTable(
        table_id="table01",
        title="Table 1. New quality productivity indicator system and entropy weights",
        columns=tuple(TableColumn(label) for label in frame.columns),
        body=ValueBody(frame, formats={"Weight": ".3f", "Paper weight": ".3f"}),
        provenance=provenance,
        stub_header="Indicator",
        notes=(
            "Weight: entropy weight computed on this vintage's firm-years (analysis.entropy_weights; "
            "docs/index_method.md). Paper weight: Cheng & Xu (2025) Table 1, for comparison only "
            f"({SOURCE}).",
        ),
    )


def table03(descriptives: pd.DataFrame, provenance: TableProvenance) -> PaperTable:
    frame = descriptives.set_index("variable").loc[list(DESCRIPTIVE_VARIABLES), list(DESCRIPTIVE_COLUMNS)]
    frame.index = [TERM_LABELS[v] for v in frame.index]
    frame.columns = [label for label, _ in DESCRIPTIVE_COLUMNS.values()]
    return PaperTable(
        table_id="table03",
        title="Table 3. Descriptive statistics of variables",
        columns=tuple(TableColumn(label) for label in frame.columns),
        body=ValueBody(frame, formats={label: fmt for label, fmt in DESCRIPTIVE_COLUMNS.values()}),
        provenance=provenance,
        stub_header="Variable",
        notes=(
            "Analysis sample after the filters, continuous variables winsorized at the pooled 1st/99th percentiles; "
            "Npro = 10 x entropy-weighted index (docs/index_method.md).",
        ),
    )


CLUSTER_NOTE = "Standard errors clustered by firm in parentheses (reghdfe small-sample conventions)."
FIXED_EFFECT_ROWS = {"stock_code": "Id FE", "fiscal_year": "Year FE", "province_code": "Province FE"}


def regression_table(table_id: str, title: str, models: Sequence[ModelSpec], terms: Sequence[str],
                     coefficients: pd.DataFrame, model_stats: pd.DataFrame, provenance: TableProvenance,
                     notes: Sequence[str] = ()) -> PaperTable:
    """A table whose printed columns are ``models`` (one ``ModelSpec`` each): the outcome as
    header, ``terms`` as rows, a Yes/No row per fixed effect any model absorbs, N and R-squared."""
    absorbed = [fe for fe in FIXED_EFFECT_ROWS if any(fe in spec.fixed_effects for spec in models)]
    return PaperTable(
        table_id=table_id,
        title=title,
        columns=tuple(TableColumn(spec.column_id, (TERM_LABELS[spec.depvar],)) for spec in models),
        body=CoefficientBody(terms={term: TERM_LABELS[term] for term in terms}, coefficients=coefficients),
        footer=(
            *(TextRow(FIXED_EFFECT_ROWS[fe], {s.column_id: yes_no(fe in s.fixed_effects) for s in models})
              for fe in absorbed),
            StatRow("Observations", "nobs", ",.0f"),
            StatRow("R-squared", "r2"),
        ),
        model_stats=model_stats,
        provenance=provenance,
        notes=(CLUSTER_NOTE, *notes),
    )


def regression_layout(table_id: str, title: str, models: Sequence[ModelSpec], terms: Sequence[str],
                      notes: Sequence[str] = ()):
    """The layout of a new table of ``models`` (``regression_table``), for a spec's ``layout``."""

    def layout(coefficients: pd.DataFrame, model_stats: pd.DataFrame, provenance: TableProvenance) -> PaperTable:
        return regression_table(table_id, title, models, terms, coefficients, model_stats, provenance, notes)

    return layout


def table04(coefficients: pd.DataFrame, model_stats: pd.DataFrame, provenance: TableProvenance) -> PaperTable:
    paper = published_tables()["table04"]
    paper_ai = ", ".join(
        f"({i}) {paper[f'col{i}']['AI'][0]:.3f} ({paper[f'col{i}']['AI'][1]:.3f})" for i in (1, 2, 3)
    )
    return regression_table(
        "table04", "Table 4. Benchmark regression results", TABLE04, ("ai", *CONTROLS, "const"),
        coefficients, model_stats, provenance,
        notes=(f"Paper's AI coefficients for comparison: {paper_ai} ({SOURCE}).",),
    )
