"""Cell-by-cell comparison of our results with the paper's published numbers.

Every number the paper prints (``analysis/published/tables.yaml``) becomes a ``PaperCell``
that says where its counterpart lives in the tidy results (a ``Locator``). ``compare``
looks each one up in the frames of one vintage and, on a synthetic vintage, beside the
planted population value of the estimand (truth.json ``derived.estimands``) with a
z-score. Per table it summarises sign agreement, star agreement and the median magnitude
ratio of the coefficient cells. Cells where the paper contradicts itself (stars that its
own coefficient and standard error cannot give, subsample counts that do not add up) are
flagged and left out of the agreement counts; cells with no counterpart are listed with
the reason. The renderers write one self-contained HTML page and its Markdown twin.

Pure Python: the frames come from the caller (the reporting asset reads the warehouse).
"""

from __future__ import annotations

import base64
import html
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping, Sequence

import numpy as np
import pandas as pd
from scipy import stats as scipy_stats

from analysis.tables import STAR_NOTE, STYLESHEET, TableProvenance, stars

# The paper's numbers are printed to 3 decimals (a few standard errors to 4); an interval of
# half a unit in the 3rd decimal around both estimate and SE is what the printed values allow.
PAPER_ROUNDING = 0.0005
# Its stars are judged with normal critical values: every regression has thousands of residual
# degrees of freedom, where t and normal quantiles agree to the 3rd decimal.
STAR_CRITICAL_Z = ((3, scipy_stats.norm.ppf(0.995)), (2, scipy_stats.norm.ppf(0.975)), (1, scipy_stats.norm.ppf(0.95)))
# |z| above which an estimate is reported as away from its planted population value.
TRUTH_Z_LIMIT = 3.0

SOURCE_FRAMES = ("coefficients", "model_stats", "descriptives", "balance", "moran", "specification_tests",
                 "spatial_effects", "entropy_weights")
TERMS = {"AI": "ai", "AI_Patent": "ai_patent", "AI_Did": "ai_did", "Both": "both", "const": "const",
         "Roa": "roa", "Size": "size", "Top1": "top1", "Lev": "lev", "Inde": "inde", "Age": "age"}
TABLE_TITLES = {
    "table01": "Table 1. Entropy weights", "table03": "Table 3. Descriptive statistics",
    "table04": "Table 4. Benchmark regression", "table05": "Table 5. Robustness",
    "table06": "Table 6. IV 2SLS", "table07": "Table 7. PSM balance", "table08": "Table 8. Mechanism",
    "table09": "Table 9. Regions", "table10": "Table 10. Industries", "table11": "Table 11. Moran's I",
    "table12": "Table 12. Model selection", "table13": "Table 13. SDM and GMM", "table14": "Table 14. Spatial effects",
}


@dataclass(frozen=True)
class Locator:
    """Where a paper cell's counterpart lives: ``frame`` is one of SOURCE_FRAMES and ``where``
    selects exactly one row of it; ``value``/``std_error``/``p_value`` name that row's columns
    (for model_stats, ``where`` includes the stat and the value column is ``value``)."""

    frame: str
    where: tuple[tuple[str, Any], ...]
    value: str = "estimate"
    std_error: str | None = None
    p_value: str | None = None


def coefficient(table_id: str, column_id: str, term: str) -> Locator:
    return Locator("coefficients", (("table_id", table_id), ("column_id", column_id), ("term", term)),
                   std_error="std_error", p_value="p_value")


def model_stat(table_id: str, column_id: str, stat: str, p_stat: str | None = None) -> Locator:
    return Locator("model_stats", (("table_id", table_id), ("column_id", column_id), ("stat", stat)),
                   value="value", p_value=p_stat)


@dataclass(frozen=True)
class PaperCell:
    """One printed number of the paper. ``paren`` is the number printed in parentheses and
    ``paren_kind`` what it is ("se", "z" or "p"); ``stars`` is None where the paper prints none.
    Coefficient cells (``is_coefficient``) enter sign, star and magnitude agreement."""

    table_id: str
    row: str
    column: str
    value: float
    locator: Locator | None
    paren: float | None = None
    paren_kind: str = "se"
    stars: int | None = None
    is_coefficient: bool = False
    number_format: str = ".3f"
    unmappable: str | None = None
    inconsistency: str | None = None


@dataclass(frozen=True)
class Ours:
    value: float
    std_error: float | None = None
    p_value: float | None = None

    @property
    def stars(self) -> int | None:
        return None if self.p_value is None or pd.isna(self.p_value) else len(stars(self.p_value))


@dataclass(frozen=True)
class Truth:
    name: str
    value: float
    std_error: float


@dataclass(frozen=True)
class Comparison:
    cell: PaperCell
    ours: Ours | None
    truth: Truth | None = None
    unmappable: str | None = None
    inconsistency: str | None = None

    @property
    def counted(self) -> bool:
        return self.ours is not None and self.unmappable is None and self.inconsistency is None

    @property
    def sign_agrees(self) -> bool | None:
        if not (self.counted and self.cell.is_coefficient) or self.cell.value == 0 or self.ours.value == 0:
            return None
        return bool(np.sign(self.cell.value) == np.sign(self.ours.value))

    @property
    def stars_agree(self) -> bool | None:
        if not (self.counted and self.cell.is_coefficient) or self.cell.stars is None or self.ours.stars is None:
            return None
        return self.cell.stars == self.ours.stars

    @property
    def ratio(self) -> float | None:
        if not self.counted or self.cell.value == 0:
            return None
        return self.ours.value / self.cell.value

    @property
    def truth_z(self) -> float | None:
        if self.truth is None or self.ours is None or self.ours.std_error is None:
            return None
        return (self.ours.value - self.truth.value) / math.hypot(self.ours.std_error, self.truth.std_error)


@dataclass(frozen=True)
class TableSummary:
    table_id: str
    cells: int
    compared: int
    sign_agree: int
    sign_total: int
    star_agree: int
    star_total: int
    median_ratio: float | None
    inconsistent: int
    unmappable: int
    truth_total: int = 0
    truth_within: int = 0

    def line(self) -> str:
        ratio = "n/a" if self.median_ratio is None else f"{self.median_ratio:.2f}"
        text = (f"{TABLE_TITLES.get(self.table_id, self.table_id)}: {self.compared}/{self.cells} cells compared; "
                f"sign {self.sign_agree}/{self.sign_total}; stars {self.star_agree}/{self.star_total}; "
                f"median ratio ours/paper {ratio}; paper inconsistencies {self.inconsistent}; "
                f"unmappable {self.unmappable}")
        if self.truth_total:
            text += f"; planted values within |z|<{TRUTH_Z_LIMIT:g}: {self.truth_within}/{self.truth_total}"
        return text


@dataclass(frozen=True)
class Replication:
    comparisons: tuple[Comparison, ...]
    summaries: tuple[TableSummary, ...]
    overall: TableSummary
    truths_without_cell: tuple[tuple[Truth, Ours | None, float | None], ...]
    provenance: TableProvenance
    has_truth: bool
    paper_notes: tuple[str, ...] = field(default=())


# --- the paper's cells ---------------------------------------------------------------

def _entry(table_id: str, row: str, column: str, entry: Sequence, locator: Locator | None, **kwargs) -> PaperCell:
    """A [value, paren, stars] triple of the YAML as a coefficient cell."""
    return PaperCell(table_id, row, column, float(entry[0]), locator, paren=float(entry[1]),
                     stars=int(entry[2]), is_coefficient=True, **kwargs)


def _regression_cells(table_id: str, column: str, spec: Mapping, column_id: str) -> list[PaperCell]:
    cells = []
    for name, entry in spec.items():
        if name in TERMS and isinstance(entry, list):
            cells.append(_entry(table_id, name, column, entry, coefficient(table_id, column_id, TERMS[name])))
    if "N" in spec:
        cells.append(PaperCell(table_id, "N", column, float(spec["N"]), model_stat(table_id, column_id, "nobs"),
                               number_format=",.0f"))
    if "r2" in spec:
        cells.append(PaperCell(table_id, "R-squared", column, float(spec["r2"]), model_stat(table_id, column_id, "r2")))
    return cells


# The paper's keys in tables.yaml -> our column ids (the printed column numbers; a footer model
# of column k is "(k):<role>", see paper.models).
TABLE05_COLUMNS = {"col1_firm_fe": "(1)", "col2_add_both": "(2)", "col3_tfp_lp_outcome": "(3)",
                   "col4_ai_patent": "(4)", "col5_psm_sample": "(5)"}
TABLE06_INSTRUMENTS = {"L.AI": ("l1_ai", "(1)", "(2)"), "L2.AI": ("l2_ai", "(3)", "(4)"),
                       "Mean_AI": ("mean_ai", "(5)", "(6)")}
# paper key -> (stage, our stat). tables.yaml's "sanderson_windmeijer_stat" is the row the paper
# prints as "SW S stat.": the Stock-Wright S statistic, which its numbers support
# (docs/firm_level_tables.md, Table 6).
TABLE06_STATS = {
    "F_stage1": (1, "first_stage_f[ai]"), "F_stage2": (2, "model_f"),
    "cragg_donald_wald_F": (2, "cragg_donald_f"), "sanderson_windmeijer_stat": (2, "stock_wright_s"),
}
TABLE08_MEDIATORS = {"green_innovation": "(1)", "sa_index_abs": "(2)", "human_capital": "(3)"}
TABLE09_REGIONS = {"east": "(1)", "central": "(2)", "west": "(3)"}
TABLE10_GROUPS = {"heavy_polluting": "(1)", "non_heavy_polluting": "(2)", "high_tech": "(3)", "low_tech": "(4)",
                  "difference_pollution": "(1):difference", "difference_tech": "(3):difference"}
TABLE07_FIELDS = {"U": ("unmatched", ("mean_treated", "mean_control", "bias_pct", "t", "p")),
                  "M": ("matched", ("mean_treated", "mean_control", "bias_pct", "bias_reduction_pct", "t", "p"))}
DESCRIPTIVE_STATS = ("n", "mean", "sd", "min", "p50", "max")
TABLE14_EFFECTS = {"AI_direct": "direct", "AI_indirect": "indirect", "AI_total": "total"}
TABLE09_SUM_NOTE = "the paper's Table 9 subsamples sum to 24,209 firm-years, not its 24,302"
SDM_COLUMNS = {"sdm_adjacency": ("(1)", "adjacency"), "sdm_distance": ("(2)", "distance")}
TABLE12_ADJACENCY = "(1)-(3)"  # the tests under the 0-1 adjacency matrix, the block the paper prints


def paper_cells(paper: Mapping[str, Any]) -> list[PaperCell]:
    """Every number of the paper's Tables 1 and 3-14 with the locator of its counterpart."""
    cells: list[PaperCell] = []
    for block in paper["table01"].values():
        for indicator, spec in block.items():
            cells.append(PaperCell("table01", indicator, "weight", float(spec["weight"]),
                                   Locator("entropy_weights", (("indicator", indicator),), value="weight")))
    for variable, values in paper["table03"].items():
        for stat, value in zip(DESCRIPTIVE_STATS, values):
            cells.append(PaperCell("table03", variable, stat, float(value),
                                   Locator("descriptives", (("variable", variable.lower()),), value=stat),
                                   number_format=",.0f" if stat == "n" else ".3f"))
    for i in (1, 2, 3):
        cells += _regression_cells("table04", f"({i})", paper["table04"][f"col{i}"], f"({i})")
    for i, (key, column_id) in enumerate(TABLE05_COLUMNS.items(), start=1):
        cells += _regression_cells("table05", f"({i})", paper["table05"][key], column_id)
    for label, (instrument, stage1, stage2) in TABLE06_INSTRUMENTS.items():
        spec = paper["table06"][label]
        cells.append(_entry("table06", "IV (first stage)", label, spec["stage1_iv"],
                            coefficient("table06", stage1, instrument)))
        cells.append(_entry("table06", "AI (second stage)", label, spec["stage2_AI"],
                            coefficient("table06", stage2, "ai")))
        for stage, column_id in ((1, stage1), (2, stage2)):
            for name, entry in spec[f"controls_stage{stage}"].items():
                cells.append(_entry("table06", f"{name} (stage {stage})", label, entry,
                                    coefficient("table06", column_id, TERMS[name])))
        cells.append(PaperCell("table06", "N", label, float(spec["N"]), model_stat("table06", stage2, "nobs"),
                               number_format=",.0f"))
        cells.append(PaperCell("table06", "R-squared", label, float(spec["r2"]), model_stat("table06", stage2, "r2")))
        for key, (stage, stat) in TABLE06_STATS.items():
            cells.append(PaperCell("table06", key, label, float(spec[key]),
                                   model_stat("table06", stage1 if stage == 1 else stage2, stat)))
    for variable, samples in paper["table07"].items():
        for key, (sample, fields) in TABLE07_FIELDS.items():
            for name, value in zip(fields, samples[key]):
                cells.append(PaperCell("table07", f"{variable} ({key})", name, float(value), Locator(
                    "balance", (("variable", variable.lower()), ("sample", sample)), value=name)))
    for key, column_id in TABLE08_MEDIATORS.items():
        spec = paper["table08"][key]
        cells += _regression_cells("table08", key, spec, column_id)
        z, z_stars = spec["sobel_z"]
        cells.append(PaperCell("table08", "Sobel Z", key, float(z),
                               model_stat("table08", f"{column_id}:mediation", "sobel_z", p_stat="sobel_p"),
                               stars=int(z_stars), paren=None, is_coefficient=True))
    for region, spec in paper["table09"].items():
        cells += [
            PaperCell(**{**cell.__dict__, "inconsistency": TABLE09_SUM_NOTE}) if cell.row == "N" else cell
            for cell in _regression_cells("table09", region, spec, TABLE09_REGIONS[region])
        ]
    industry = paper["table10"]
    for group, spec in industry.items():
        if isinstance(spec, dict):
            cells += _regression_cells("table10", group, spec, TABLE10_GROUPS[group])
    for key in ("difference_pollution", "difference_tech"):
        value, diff_stars = industry[key]
        cells.append(PaperCell("table10", "difference (permutation)", key, float(value),
                               model_stat("table10", TABLE10_GROUPS[key], "observed_difference",
                                          p_stat="p_value_two_sided"),
                               stars=int(diff_stars), paren=None, is_coefficient=True))
    for year, value in paper["table11"].items():
        cells.append(PaperCell("table11", "Moran's I (adjacency)", str(year), float(value), Locator(
            "moran", (("matrix_name", "adjacency"), ("fiscal_year", int(year))), value="moran_i", p_value="p_normal")))
    for test, (statistic, p_value) in paper["table12"].items():
        cells.append(PaperCell("table12", test, "statistic (adjacency)", float(statistic), Locator(
            "specification_tests", (("column_id", TABLE12_ADJACENCY), ("test", test)), value="statistic",
            p_value="p_value"), paren=float(p_value), paren_kind="p"))
    table13 = paper["table13"]
    for key, (column_id, matrix) in SDM_COLUMNS.items():
        spec = table13[key]
        # The paper prints no SE for the SDM AI coefficient, only a p-value or z in a note.
        cells.append(PaperCell("table13", "AI", key, float(spec["AI"]), coefficient("table13", column_id, "ai"),
                               is_coefficient=True))
        rho, rho_stars = spec["rho"]
        cells.append(PaperCell("table13", "rho", key, float(rho), coefficient("table13", column_id, "rho"),
                               stars=int(rho_stars), is_coefficient=True))
        cells.append(PaperCell("table13", "N", key, float(spec["N"]), model_stat("table13", column_id, "nobs"),
                               number_format=",.0f"))
        cells.append(PaperCell("table13", "R-squared", key, float(spec["r2"]), model_stat("table13", column_id, "r2")))
    for name, entry in table13["gmm"].items():
        if name == "N":
            cells.append(PaperCell("table13", "N", "gmm", float(entry), model_stat("table13", "(3)", "nobs"),
                                   number_format=",.0f"))
        else:
            cells.append(_entry("table13", name, "gmm", entry,
                                coefficient("table13", "(3)", "_cons" if name == "const" else TERMS[name])))
    for matrix, effects in paper["table14"].items():
        for name, entry in effects.items():
            locator = Locator("spatial_effects", (("matrix_name", matrix), ("term", "ai"),
                                                  ("effect", TABLE14_EFFECTS[name]), ("method", "simulation")),
                              std_error="std_error", p_value="p_value")
            # Table 14 prints standard errors for the adjacency matrix, z statistics for distance.
            cells.append(_entry("table14", name, matrix, entry, locator,
                                paren_kind="se" if matrix == "adjacency" else "z"))
    return [_checked_stars(cell) for cell in cells]


def implied_stars(value: float, std_error: float) -> tuple[int, int]:
    """The fewest and most stars a |value/SE| consistent with the printed (rounded) numbers gives."""
    t_low = max(abs(value) - PAPER_ROUNDING, 0.0) / (std_error + PAPER_ROUNDING)
    t_high = (abs(value) + PAPER_ROUNDING) / max(std_error - PAPER_ROUNDING, 1e-12)

    def count(t: float) -> int:
        return next((n for n, critical in STAR_CRITICAL_Z if t > critical), 0)

    return count(t_low), count(t_high)


def _checked_stars(cell: PaperCell) -> PaperCell:
    """Flag a coefficient whose printed stars its own estimate and SE cannot give."""
    if cell.inconsistency or cell.stars is None or cell.paren is None or cell.paren_kind != "se" or cell.paren <= 0:
        return cell
    low, high = implied_stars(cell.value, cell.paren)
    if low <= cell.stars <= high:
        return cell
    t = abs(cell.value) / cell.paren
    return PaperCell(**{**cell.__dict__, "inconsistency":
                        f"the paper's stars ({'*' * cell.stars or 'none'}) contradict its own estimate/SE (|t| = {t:.2f})"})


# --- looking up our numbers ------------------------------------------------------------

def _lookup(frames: Mapping[str, pd.DataFrame], locator: Locator) -> tuple[Ours | None, str | None]:
    frame = frames.get(locator.frame)
    if frame is None:
        return None, f"results frame {locator.frame!r} was not provided"
    mask = np.ones(len(frame), dtype=bool)
    for column, value in locator.where:
        mask &= (frame[column] == value).to_numpy()
    rows = frame[mask]
    selection = ", ".join(f"{column} = {value!r}" for column, value in locator.where)
    if len(rows) != 1:
        return None, f"{len(rows)} rows of {locator.frame} where {selection}"
    row = rows.iloc[0]
    value = row[locator.value]
    if value is None or pd.isna(value):
        return None, f"{locator.frame}.{locator.value} is missing where {selection}"
    p_value = None
    if locator.p_value is not None:
        if locator.frame == "model_stats":
            p_ours, _ = _lookup(frames, Locator("model_stats", (*locator.where[:-1], ("stat", locator.p_value)),
                                                value="value"))
            p_value = None if p_ours is None else p_ours.value
        else:
            p_value = row[locator.p_value]
    std_error = None if locator.std_error is None else row[locator.std_error]
    return Ours(float(value), None if std_error is None or pd.isna(std_error) else float(std_error),
                None if p_value is None or pd.isna(p_value) else float(p_value)), None


def _truth_index(estimands: Mapping[str, Mapping] | None) -> dict[tuple[str, str, str], Truth]:
    if not estimands:
        return {}
    return {(e["table_id"], e["column_id"], e["term"]): Truth(name, float(e["value"]), float(e["std_error"]))
            for name, e in estimands.items()}


def _summary(table_id: str, comparisons: Sequence[Comparison]) -> TableSummary:
    signs = [c.sign_agrees for c in comparisons if c.sign_agrees is not None]
    star_matches = [c.stars_agree for c in comparisons if c.stars_agree is not None]
    # magnitude of the coefficient cells; a table of statistics only (weights, descriptives,
    # Moran's I, tests) is summarised by the ratio of its statistics instead
    ratios = [abs(c.ratio) for c in comparisons if c.cell.is_coefficient and c.ratio is not None] or [
        abs(c.ratio) for c in comparisons if c.ratio is not None]
    zs = [c.truth_z for c in comparisons if c.truth_z is not None]
    return TableSummary(
        table_id=table_id,
        cells=len(comparisons),
        compared=sum(c.counted for c in comparisons),
        sign_agree=sum(signs), sign_total=len(signs),
        star_agree=sum(star_matches), star_total=len(star_matches),
        median_ratio=float(np.median(ratios)) if ratios else None,
        inconsistent=sum(c.inconsistency is not None for c in comparisons),
        unmappable=sum(c.unmappable is not None for c in comparisons),
        truth_total=len(zs), truth_within=sum(abs(z) < TRUTH_Z_LIMIT for z in zs),
    )


def compare(paper: Mapping[str, Any], frames: Mapping[str, pd.DataFrame], provenance: TableProvenance,
            estimands: Mapping[str, Mapping] | None = None) -> Replication:
    """Every paper cell beside ours (and, when ``estimands`` is given, the planted value).

    ``frames`` holds the vintage's rows of each results table named in SOURCE_FRAMES; the
    inputs are not modified.
    """
    truths = _truth_index(estimands)
    used: set[tuple[str, str, str]] = set()
    comparisons = []
    for cell in paper_cells(paper):
        if cell.locator is None:
            comparisons.append(Comparison(cell, None, unmappable=cell.unmappable))
            continue
        ours, reason = _lookup(frames, cell.locator)
        truth = None
        if cell.locator.frame == "coefficients":
            key = tuple(value for _, value in cell.locator.where)
            truth = truths.get(key)
            if truth is not None:
                used.add(key)
        comparisons.append(Comparison(cell, ours, truth, unmappable=reason, inconsistency=cell.inconsistency))
    by_table: dict[str, list[Comparison]] = {}
    for comparison in comparisons:
        by_table.setdefault(comparison.cell.table_id, []).append(comparison)
    leftover = []
    for key, truth in truths.items():
        if key in used:
            continue
        ours, _ = _lookup(frames, coefficient(*key))
        z = None
        if ours is not None and ours.std_error is not None:
            z = (ours.value - truth.value) / math.hypot(ours.std_error, truth.std_error)
        leftover.append((truth, ours, z))
    return Replication(
        comparisons=tuple(comparisons),
        summaries=tuple(_summary(table_id, rows) for table_id, rows in by_table.items()),
        overall=_summary("all tables", comparisons),
        truths_without_cell=tuple(leftover),
        provenance=provenance,
        has_truth=bool(truths),
        paper_notes=tuple(paper.get("paper_inconsistencies", ())),
    )


def summary_lines(replication: Replication) -> list[str]:
    """One line per table and one overall (``TableSummary.line``)."""
    return [summary.line() for summary in (*replication.summaries, replication.overall)]


# --- rendering -----------------------------------------------------------------------------

AGREEMENT_NOTE = (f"Paper value (SE) with stars; ours likewise. {STAR_NOTE} Agreement counts leave out cells "
                  "flagged as the paper's own inconsistencies and unmappable cells; the magnitude ratio is the median "
                  "|ours / paper| over coefficient cells (over all cells in tables of statistics).")

def _fmt(value: float | None, number_format: str) -> str:
    if value is None or pd.isna(value):
        return ""
    return format(value, number_format)


def _paper_text(cell: PaperCell) -> tuple[str, str]:
    text = _fmt(cell.value, cell.number_format)
    if cell.paren is not None:
        prefix = {"se": "", "z": "z=", "p": "p="}[cell.paren_kind]
        text += f" ({prefix}{_fmt(cell.paren, '.3f')})"
    return text, "*" * cell.stars if cell.stars else ""


def _ours_text(comparison: Comparison) -> tuple[str, str]:
    ours, cell = comparison.ours, comparison.cell
    if ours is None:
        return "", ""
    text = _fmt(ours.value, cell.number_format)
    if cell.paren_kind == "z" and ours.std_error:
        text += f" (z={ours.value / ours.std_error:.3f})"
    elif cell.paren_kind == "p" and ours.p_value is not None:
        text += f" (p={ours.p_value:.3f})"
    elif ours.std_error is not None:
        text += f" ({ours.std_error:.3f})"
    return text, "*" * ours.stars if (ours.stars and cell.is_coefficient) else ""


def _status(comparison: Comparison) -> str:
    if comparison.unmappable:
        return "unmappable"
    if comparison.inconsistency:
        return "paper inconsistency"
    if comparison.sign_agrees is False:
        return "sign differs"
    if comparison.stars_agree is False:
        return "stars differ"
    return ""


def _row_values(comparison: Comparison, has_truth: bool) -> list[tuple[str, str]]:
    paper, ours = _paper_text(comparison.cell), _ours_text(comparison)
    ratio = comparison.ratio
    values = [(comparison.cell.row, ""), (comparison.cell.column, ""), paper, ours,
              (_fmt(ratio, ".2f") if ratio is not None else "", "")]
    if has_truth:
        truth = comparison.truth
        values += [(_fmt(truth.value, ".3f") if truth else "", ""), (_fmt(comparison.truth_z, ".2f"), "")]
    values.append((_status(comparison) + (f": {comparison.unmappable or comparison.inconsistency}"
                                          if comparison.unmappable or comparison.inconsistency else ""), ""))
    return values


def _planted_extra_rows(replication: Replication) -> list[tuple[str, str, str, str]]:
    """(estimand, planted, ours, z) texts of the planted values without a paper cell; ours
    without brackets when its SE is missing (NULL or NaN in the results)."""
    rows = []
    for truth, ours, z in replication.truths_without_cell:
        ours_text = ""
        if ours is not None:
            ours_text = _fmt(ours.value, ".3f")
            if _fmt(ours.std_error, ".3f"):
                ours_text += f" ({_fmt(ours.std_error, '.3f')})"
        rows.append((truth.name, _fmt(truth.value, ".3f"), ours_text, _fmt(z, ".2f")))
    return rows


def _headers(has_truth: bool) -> list[str]:
    return ["Row", "Column", "Paper", "Ours", "Ours/paper",
            *(["Planted", "z"] if has_truth else []), "Note"]


def render_markdown(replication: Replication, figures: Sequence[Path] = ()) -> str:
    p = replication.provenance
    lines = ["# Replication report: Cheng & Xu (2025) cell by cell", "", *p.markdown_banner()]
    lines += [p.line(), "", "## Summary", ""]
    lines += [f"- {line}" for line in summary_lines(replication)]
    lines += ["", AGREEMENT_NOTE]
    if replication.has_truth:
        lines += ["", "Planted: the population value of the estimand on this synthetic data-generating process "
                  "(truth.json `derived`); z = (ours - planted) / sqrt(SE_ours^2 + SE_planted^2)."]
    headers = _headers(replication.has_truth)
    for summary in replication.summaries:
        lines += ["", f"## {TABLE_TITLES.get(summary.table_id, summary.table_id)}", "", summary.line(), "",
                  "| " + " | ".join(headers) + " |", "|" + "|".join(["---"] * len(headers)) + "|"]
        for comparison in replication.comparisons:
            if comparison.cell.table_id == summary.table_id:
                cells = [text + marks for text, marks in _row_values(comparison, replication.has_truth)]
                lines.append("| " + " | ".join(cell.replace("|", "\\|") for cell in cells) + " |")
    if replication.truths_without_cell:
        lines += ["", "## Planted values without a paper cell", "", "| Estimand | Planted | Ours | z |",
                  "|---|---|---|---|"]
        lines += ["| " + " | ".join(cells) + " |" for cells in _planted_extra_rows(replication)]
    unmappable = [c for c in replication.comparisons if c.unmappable]
    lines += ["", "## Unmappable cells", ""]
    lines += [f"- {TABLE_TITLES.get(c.cell.table_id)} {c.cell.row} / {c.cell.column}: {c.unmappable}"
              for c in unmappable] or ["None: every paper cell has a counterpart in the results."]
    lines += ["", "## The paper's own inconsistencies (documented)", ""]
    lines += [f"- {note}" for note in replication.paper_notes]
    if figures:
        lines += ["", "## Figures", ""]
        lines += [f"![{path.stem}]({path.as_posix()})" for path in figures]
    return "\n".join(lines) + "\n"


def render_html(replication: Replication, figures: Sequence[Path] = ()) -> str:
    """A complete page with its stylesheet and figures inlined (no external files)."""
    escape = html.escape
    p = replication.provenance
    body = ["<h1>Replication report: Cheng &amp; Xu (2025) cell by cell</h1>", *p.html_banner("banner")]
    body.append(f'<p class="provenance">{escape(p.line())}</p>')
    body.append('<section id="summary"><h2>Summary</h2><ul class="summary">')
    body += [f"<li>{escape(line)}</li>" for line in summary_lines(replication)]
    body.append("</ul>")
    body.append(f'<p class="note">{escape(AGREEMENT_NOTE)}</p>')
    if replication.has_truth:
        body.append('<p class="note">Planted: the population value of the estimand on this synthetic process '
                    "(truth.json <code>derived</code>); z = (ours &minus; planted) / &radic;(SE<sub>ours</sub>&sup2; + "
                    "SE<sub>planted</sub>&sup2;).</p>")
    body.append("</section>")
    headers = _headers(replication.has_truth)
    numeric = {"Paper", "Ours", "Ours/paper", "Planted", "z"}
    for summary in replication.summaries:
        body.append(f'<section class="paper-table" id="{escape(summary.table_id)}">')
        body.append(f"<h2>{escape(TABLE_TITLES.get(summary.table_id, summary.table_id))}</h2>")
        body.append(f'<p class="table-summary">{escape(summary.line())}</p>')
        body.append("<table><thead><tr>" + "".join(
            f'<th class="{"num" if h in numeric else "label"}">{escape(h)}</th>' for h in headers) + "</tr></thead><tbody>")
        for comparison in replication.comparisons:
            if comparison.cell.table_id != summary.table_id:
                continue
            status = _status(comparison).replace(" ", "-")
            cells = []
            for header, (text, marks) in zip(headers, _row_values(comparison, replication.has_truth)):
                if header in numeric:  # stars in the fixed-width slot keep the decimal points aligned
                    sup = f"<sup>{escape(marks)}</sup>" if marks else ""
                    cells.append(f'<td class="num">{escape(text)}<span class="mark">{sup}</span></td>')
                else:
                    cells.append(f'<td class="label">{escape(text)}</td>')
            body.append(f'<tr class="{status}">' + "".join(cells) + "</tr>")
        body.append("</tbody></table></section>")
    if replication.truths_without_cell:
        body.append('<section id="planted-extra"><h2>Planted values without a paper cell</h2><table><thead><tr>'
                    '<th class="label">Estimand</th><th class="num">Planted</th><th class="num">Ours</th>'
                    '<th class="num">z</th></tr></thead><tbody>')
        slot = '<span class="mark"></span>'
        for name, *numbers in _planted_extra_rows(replication):
            body.append(f'<tr><td class="label">{escape(name)}</td>'
                        + "".join(f'<td class="num">{escape(text)}{slot}</td>' for text in numbers) + "</tr>")
        body.append("</tbody></table></section>")
    unmappable = [c for c in replication.comparisons if c.unmappable]
    body.append('<section id="unmappable"><h2>Unmappable cells</h2><ul>')
    body += [f"<li>{escape(str(TABLE_TITLES.get(c.cell.table_id)))} {escape(c.cell.row)} / {escape(c.cell.column)}: "
             f"{escape(c.unmappable)}</li>" for c in unmappable] or [
        "<li>None: every paper cell has a counterpart in the results.</li>"]
    body.append("</ul></section>")
    body.append("<section id=\"inconsistencies\"><h2>The paper's own inconsistencies (documented)</h2><ul>")
    body += [f"<li>{escape(note)}</li>" for note in replication.paper_notes]
    body.append("</ul></section>")
    if figures:
        body.append('<section id="figures"><h2>Figures</h2>')
        for path in figures:
            encoded = base64.b64encode(path.read_bytes()).decode("ascii")
            body.append(f'<figure><img alt="{escape(path.stem)}" src="data:image/png;base64,{encoded}">'
                        f"<figcaption>{escape(path.stem)}</figcaption></figure>")
        body.append("</section>")
    return ("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
            "<title>Replication report</title>\n"
            f"<style>\n{STYLESHEET}</style>\n</head>\n<body>\n" + "\n".join(body) + "\n</body>\n</html>\n")
