"""Layouts of the spatial and dynamic tables (paper Tables 11-14) and of Figure 2.

Numbers come from ``results.moran``, ``results.moran_scatter``,
``results.specification_tests``, ``results.coefficients`` / ``results.model_stats``
(table13) and ``results.spatial_effects``; the paper's values are printed in notes for
comparison only. Parentheses hold standard errors in every table (the paper mixes
standard errors, p-values and z statistics there).
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from analysis.published import SOURCE, published_tables
from analysis.spatial_panel import EFFECT_KINDS, LAG_PREFIX
from analysis.tables import (
    CoefficientBody,
    PaperTable,
    StatRow,
    SYNTHETIC_BANNER,
    TableColumn,
    TableProvenance,
    TextRow,
    ValueBody,
    format_estimate,
)
from paper.layouts.core import yes_no
from paper.models import MATRIX_BLOCKS, SPATIAL_REGRESSORS, TABLE13_GMM, TABLE13_SDM, TERM_LABELS, WEIGHT_MATRICES
from paper.spatial import TABLE14_COLUMNS

SE_NOTE = "Standard errors in parentheses throughout (the paper prints p-values or z statistics in some cells)."
MORAN_COLUMNS = {  # column id -> (results.moran column, number format)
    "Moran's I": ("moran_i", ".3f"),
    "E[I]": ("expected", ".4f"),
    "Var[I]": ("variance_normal", ".5f"),
    "z": ("z_normal", ".3f"),
    "p-value": ("p_normal", ".3f"),
    "Permutation p": ("p_permutation", ".3f"),
}
TEST_LABELS = {  # results.specification_tests test -> the paper's row label
    "lm_error": "LM test no spatial error",
    "robust_lm_error": "Robust LM test no spatial error",
    "lm_lag": "LM test no spatial lag",
    "robust_lm_lag": "Robust LM test no spatial lag",
    "lr_lag": "LR Lag",
    "lr_error": "LR Err",
    "wald_lag": "Wald Lag",
    "wald_error": "Wald Err",
    "hausman": "Hausman",
}
MATRIX_HEADINGS = {"adjacency": "0-1 adjacency", "distance": "Distance"}
SDM_HEADERS = {  # Table 13 SDM column id -> header lines
    spec.column_id: ("SDM", MATRIX_HEADINGS[spec.matrix], "Lee-Yu" if spec.lee_yu else "direct") for spec in TABLE13_SDM
}
EFFECT_LABELS = {"direct": "Direct effect", "indirect": "Indirect effect", "total": "Total effect"}


def _matrix_panels(frame: pd.DataFrame, label_column: str) -> pd.DataFrame:
    """One block of rows per weights matrix, each under a "Panel A: ..." heading row."""
    value_columns = [c for c in frame.columns if c not in ("matrix_name", label_column)]
    blocks = []
    for letter, (matrix, label) in zip("AB", WEIGHT_MATRICES.items()):
        blocks.append(pd.DataFrame([[""] * len(value_columns)], index=[f"Panel {letter}: {label}"],
                                   columns=value_columns))
        blocks.append(frame[frame["matrix_name"] == matrix].set_index(label_column)[value_columns])
    return pd.concat(blocks)


def table11(moran: pd.DataFrame, provenance: TableProvenance) -> PaperTable:
    moran = moran.sort_values("fiscal_year")
    cells = pd.DataFrame({column_id: moran[source] for column_id, (source, _) in MORAN_COLUMNS.items()})
    cells["Moran's I"] = [format_estimate(i, p) for i, p in zip(moran["moran_i"], moran["p_normal"])]
    cells["year"] = moran["fiscal_year"].astype(str)
    cells["matrix_name"] = moran["matrix_name"]
    values = _matrix_panels(cells, "year")
    paper = published_tables()["table11"]
    permutations = int(moran["permutations"].iloc[0])
    return PaperTable(
        table_id="table11",
        title="Table 11. Global Moran's I index of provincial new quality productivity",
        columns=tuple(TableColumn(column_id) for column_id in MORAN_COLUMNS),
        body=ValueBody(values, formats={column_id: fmt for column_id, (_, fmt) in MORAN_COLUMNS.items()}),
        provenance=provenance,
        stub_header="Year",
        notes=(
            "Npro: mean over the province's sample firms (marts.fct_province_years); row-standardised weights.",
            "E[I] = -1/(n-1); Var[I], z and the two-sided p-value under normality (esda); permutation p-value: "
            f"{permutations} seeded random permutations (esda's folded pseudo p-value). "
            "Stars on I from the normal p-value: *** p<0.01, ** p<0.05, * p<0.1.",
            "Paper (0-1 adjacency, all p<0.05): " + ", ".join(f"{y} {v:.3f}" for y, v in paper.items())
            + f" ({SOURCE}).",
        ),
    )


def table12(tests: pd.DataFrame, provenance: TableProvenance) -> PaperTable:
    rows = []
    for matrix in WEIGHT_MATRICES:
        block = tests[tests["column_id"] == MATRIX_BLOCKS[matrix]].set_index("test")
        rows.append(pd.DataFrame({
            f"{matrix}:statistic": [format_estimate(block.loc[t, "statistic"], block.loc[t, "p_value"])
                                    for t in TEST_LABELS],
            f"{matrix}:df": [block.loc[t, "df"] for t in TEST_LABELS],
            f"{matrix}:p": [block.loc[t, "p_value"] for t in TEST_LABELS],
        }, index=list(TEST_LABELS.values())))
    values = pd.concat(rows, axis=1)
    headers = {f"{matrix}:{part}": (label, heading) for matrix, label in WEIGHT_MATRICES.items()
               for part, heading in (("statistic", "Statistic"), ("df", "df"), ("p", "p-value"))}
    numbered = {key: f"({k})" for k, key in enumerate(headers, start=1)}
    values = values.rename(columns=numbered)
    columns = [TableColumn(numbered[key], lines) for key, lines in headers.items()]
    df_columns = {numbered[key] for key in headers if key.endswith(":df")}
    paper = published_tables()["table12"]
    return PaperTable(
        table_id="table12",
        title="Table 12. Model selection test results",
        columns=tuple(columns),
        body=ValueBody(values, formats={c.column_id: (",.0f" if c.column_id in df_columns else ".3f")
                                        for c in columns}),
        provenance=provenance,
        stub_header="Test",
        notes=(
            "LM tests (Anselin; robust forms Elhorst 2014) on pooled OLS with an intercept, sigma^2 = e'e/NT. "
            "LR and Wald tests of the SDM against SAR (theta = 0) and SEM (theta + rho beta = 0), two-way fixed "
            "effects, Lee-Yu corrected ML. Hausman: fixed vs random province effects (year effects in both) "
            "on X and WX. Chi-square statistics; *** p<0.01, ** p<0.05, * p<0.1.",
            "Paper (statistic, p-value): " + "; ".join(
                f"{TEST_LABELS[t]} {v[0]:.3f} ({v[1]:.3f})" for t, v in paper.items()) + f" ({SOURCE}).",
        ),
    )


def _spatial_terms() -> dict[str, str]:
    terms = {"L1.npro": TERM_LABELS["L1.npro"]}
    terms.update({term: TERM_LABELS[term] for term in SPATIAL_REGRESSORS})
    terms.update({LAG_PREFIX + term: f"W x {TERM_LABELS[term]}" for term in SPATIAL_REGRESSORS})
    terms.update({"rho": "rho", "sigma2": TERM_LABELS["sigma2"], "_cons": TERM_LABELS["_cons"]})
    return terms


def table13(coefficients: pd.DataFrame, model_stats: pd.DataFrame, provenance: TableProvenance) -> PaperTable:
    gmm_headers = {spec.column_id: ("System GMM" if spec.system else "Difference GMM",
                                    "firm-year", "two-step" if spec.two_step else "one-step")
                   for spec in TABLE13_GMM}
    headers = {**SDM_HEADERS, **gmm_headers}
    columns = tuple(TableColumn(column_id, headers[column_id]) for column_id in sorted(headers))
    sdm, gmm = list(SDM_HEADERS), list(gmm_headers)
    paper = published_tables()["table13"]
    return PaperTable(
        table_id="table13",
        title="Table 13. Spatial Durbin model and dynamic panel GMM estimates",
        columns=columns,
        body=CoefficientBody(terms=_spatial_terms(), coefficients=coefficients),
        footer=(
            TextRow("Province FE", {c: "Yes" for c in sdm}),
            TextRow("Year FE", {c: "Yes" for c in [*sdm, *gmm]}),
            TextRow("Firm FE", {c: yes_no(True) for c in gmm}),
            StatRow("Observations", "nobs", ",.0f"),
            StatRow("Firms", "n_groups", ",.0f"),
            StatRow("R-squared", "r2"),
            StatRow("Log-likelihood", "log_likelihood", ".2f"),
            StatRow("Instruments", "n_instruments", ",.0f"),
            StatRow("AR(1) p-value", "ar1_p"),
            StatRow("AR(2) p-value", "ar2_p"),
            StatRow("Hansen J p-value", "hansen_p"),
            StatRow("Sargan p-value", "sargan_p"),
        ),
        model_stats=model_stats,
        provenance=provenance,
        notes=(
            SE_NOTE,
            "SDM (1), (2), (4), (5): province-year panel, province and year fixed effects, concentrated ML; "
            "(1), (2) with the Lee-Yu (2010) transformation (bias-corrected rho, beta, sigma^2), (4), (5) the "
            "direct approach (Stata xsmle type(both) without leeyu). SEs from the inverse information matrix. "
            "R-squared: 1 - SSR/TSS with the fixed effects (Elhorst).",
            "GMM (3), (6), (7): equation (4) on firm-years; AI endogenous (lags 2-4), controls predetermined "
            "(lags 1-3), Npro lags 2-4, instruments collapsed, year dummies; (3) and (6) two-step with "
            "Windmeijer-corrected SEs, (7) one-step cluster-robust. Year dummies not shown.",
            f"Paper: SDM AI {paper['sdm_adjacency']['AI']:.3f} (0-1) and {paper['sdm_distance']['AI']:.3f} "
            f"(distance), rho {paper['sdm_adjacency']['rho'][0]:.3f} and {paper['sdm_distance']['rho'][0]:.3f}; "
            f"GMM AI {paper['gmm']['AI'][0]:.3f} ({paper['gmm']['AI'][1]:.3f}) ({SOURCE}).",
        ),
    )


def effects_coefficients(effects: pd.DataFrame, method: str = "simulation") -> pd.DataFrame:
    """results.spatial_effects rows of one inference method as a tidy coefficient frame
    with the printed column ids of Table 14."""
    rows = effects[effects["method"] == method]
    column_ids = [TABLE14_COLUMNS[key] for key in zip(rows["matrix_name"], rows["effect"])]
    return rows.assign(column_id=column_ids)[
        ["column_id", "term", "estimate", "std_error", "p_value"]]


def table14(effects: pd.DataFrame, model_stats: pd.DataFrame, provenance: TableProvenance) -> PaperTable:
    columns = tuple(TableColumn(TABLE14_COLUMNS[(matrix, effect)], (label, EFFECT_LABELS[effect]))
                    for matrix, label in WEIGHT_MATRICES.items() for effect in EFFECT_KINDS)
    delta = effects_coefficients(effects, "delta").set_index(["column_id", "term"])["std_error"]
    draws = int(model_stats.loc[model_stats["stat"] == "n_draws", "value"].iloc[0])
    paper = published_tables()["table14"]["adjacency"]
    return PaperTable(
        table_id="table14",
        title="Table 14. Direct, indirect and total effects of AI on new quality productivity",
        columns=columns,
        body=CoefficientBody(terms={t: TERM_LABELS[t] for t in SPATIAL_REGRESSORS},
                             coefficients=effects_coefficients(effects)),
        footer=(StatRow("Observations", "nobs", ",.0f"), StatRow("R-squared", "r2")),
        model_stats=model_stats,
        provenance=provenance,
        notes=(
            SE_NOTE,
            "LeSage-Pace effects of the Table 13 SDM columns (1) and (2) at the ML estimates; standard errors "
            f"from {draws:,} seeded draws of (beta, theta, rho) from their estimated asymptotic normal "
            "distribution. Delta-method SEs of AI: " + ", ".join(
                f"{column.column_id} {delta[(column.column_id, 'ai')]:.3f}" for column in columns)
            + " (all effects: results.spatial_effects, method 'delta').",
            f"Paper, AI, 0-1 adjacency: direct {paper['AI_direct'][0]:.3f} ({paper['AI_direct'][1]:.3f}), "
            f"indirect {paper['AI_indirect'][0]:.3f} ({paper['AI_indirect'][1]:.3f}), total "
            f"{paper['AI_total'][0]:.3f} ({paper['AI_total'][1]:.3f}) ({SOURCE}).",
        ),
    )


FIGURE_FORMATS = (".png", ".pdf", ".svg")  # the PNG for screens and the reports, PDF/SVG for papers
QUADRANT_CORNERS = {"HH": (0.97, 0.97, "right", "top"), "LH": (0.03, 0.97, "left", "top"),
                    "LL": (0.03, 0.03, "left", "bottom"), "HL": (0.97, 0.03, "right", "bottom")}


def figure02(scatter: pd.DataFrame, moran_i: dict[int, float], provenance: TableProvenance, path: Path) -> Path:
    """Figure 2: local Moran scatter plots (standardised Npro against its spatial lag) of the
    first and last year, one panel each, provinces labelled without overlaps, written as a PNG
    to ``path`` and as PDF and SVG beside it."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from adjustText import adjust_text

    years = sorted(scatter["fiscal_year"].unique())
    labels = []
    figure, axes = plt.subplots(1, len(years), figsize=(7 * len(years), 6.8), squeeze=False)
    for axis, letter, year in zip(axes[0], "abcdefgh", years):
        points = scatter[scatter["fiscal_year"] == year]
        axis.axhline(0, color="grey", linewidth=0.8)
        axis.axvline(0, color="grey", linewidth=0.8)
        axis.scatter(points["z"], points["spatial_lag"], s=22, color="tab:blue", zorder=3)
        # room at the edges: the quadrant counts sit in the corners, clear of the extreme points
        axis.margins(x=0.14, y=0.16)
        span = pd.Series([points["z"].min(), points["z"].max()])
        axis.plot(span, moran_i[year] * span, color="tab:red", linewidth=1.2,
                  label=f"slope = Moran's I = {moran_i[year]:.3f}")
        corners = []
        for quadrant, (x, y, ha, va) in QUADRANT_CORNERS.items():
            count = int((points["quadrant"] == quadrant).sum())
            corners.append(axis.text(x, y, f"{quadrant} ({count})", transform=axis.transAxes, ha=ha, va=va,
                                     fontsize=10, fontweight="bold", color="dimgrey"))
        axis.set_xlabel("Standardised Npro (z)")
        axis.set_ylabel("Spatial lag W z (0-1 adjacency)")
        axis.set_title(f"({letter}) Local Moran's I scatter plot of Npro, {year}")
        legend = axis.legend(loc="lower center", fontsize=8)
        labels.append((axis, points, [*corners, legend]))
    banner = f"{SYNTHETIC_BANNER} - " if provenance.is_synthetic else ""
    figure.suptitle(f"Figure 2. Moran scatter plots of provincial new quality productivity\n{banner}"
                    f"{provenance.line()}", fontsize=10)
    figure.tight_layout()
    # Province labels placed once the layout is final (adjustText works in display coordinates):
    # away from each other, the points, the quadrant counts and the legend, with a leader line.
    for axis, points, fixed in labels:
        texts = [axis.text(row.z, row.spatial_lag, row.province_name_en, fontsize=7)
                 for row in points.itertuples()]
        adjust_text(texts, x=points["z"].to_numpy(), y=points["spatial_lag"].to_numpy(), objects=fixed, ax=axis,
                    arrowprops={"arrowstyle": "-", "color": "grey", "linewidth": 0.5})
    path.parent.mkdir(parents=True, exist_ok=True)
    for suffix in FIGURE_FORMATS:
        figure.savefig(path.with_suffix(suffix), dpi=120)
    plt.close(figure)
    return path
