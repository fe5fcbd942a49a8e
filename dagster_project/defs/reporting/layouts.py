"""How each paper table is laid out: titles, column headers, footers and notes.

The numbers come from the tidy ``results`` tables of the warehouse; the renderer is
``analysis.tables``. The paper's own value of the headline coefficient is printed in a
note for comparison, never used in any computation.
"""

from __future__ import annotations

import pandas as pd

from analysis.paper_models import CONTROLS, DESCRIPTIVE_VARIABLES, TABLE04, TERM_LABELS
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
    for dimension, indicators in published_tables()["table1_entropy_weights"].items():
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


def table04(coefficients: pd.DataFrame, model_stats: pd.DataFrame, provenance: TableProvenance) -> PaperTable:
    terms = {term: TERM_LABELS[term] for term in ("ai", *CONTROLS, "const")}
    paper = published_tables()["table4_benchmark"]
    paper_ai = ", ".join(
        f"({i}) {paper[f'col{i}']['AI'][0]:.3f} ({paper[f'col{i}']['AI'][1]:.3f})" for i in (1, 2, 3)
    )
    return PaperTable(
        table_id="table04",
        title="Table 4. Benchmark regression results",
        columns=tuple(TableColumn(spec.column_id, (TERM_LABELS[spec.depvar],)) for spec in TABLE04),
        body=CoefficientBody(terms=terms, coefficients=coefficients),
        footer=(
            TextRow("Year FE", {s.column_id: yes_no("fiscal_year" in s.fixed_effects) for s in TABLE04}),
            TextRow("Province FE", {s.column_id: yes_no("province_code" in s.fixed_effects) for s in TABLE04}),
            StatRow("Observations", "nobs", ",.0f"),
            StatRow("R-squared", "r2"),
        ),
        model_stats=model_stats,
        provenance=provenance,
        notes=(
            "Standard errors clustered by firm in parentheses (reghdfe small-sample conventions).",
            f"Paper's AI coefficients for comparison: {paper_ai} ({SOURCE}).",
        ),
    )
