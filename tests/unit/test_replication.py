"""The replication comparison on planted results: frames built to equal the paper's printed
numbers must agree everywhere; planted departures (a flipped sign, a lost row, a planted
population value) must show up exactly where they were planted."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from analysis.published import published_tables
from analysis.replication import (
    Locator,
    PaperCell,
    _checked_stars,
    compare,
    implied_stars,
    paper_cells,
    render_html,
    render_markdown,
    summary_lines,
)
from analysis.tables import TableProvenance

SYNTHETIC = TableProvenance("2024-06", is_synthetic=True, code_version="abc1234", generated_at="2025-01-01T00:00:00Z")
REAL = TableProvenance("2025-03", is_synthetic=False, code_version="def5678", generated_at="2025-04-01T08:00:00Z")
# p-values inside each star band of *** p<0.01, ** p<0.05, * p<0.1
P_FOR_STARS = {3: 0.001, 2: 0.03, 1: 0.07, 0: 0.5}


def frames_equal_to_the_paper() -> dict[str, pd.DataFrame]:
    """One row per locator, holding the paper's own value (and SE, and a p-value in its star band)."""
    rows: dict[tuple, dict] = {}
    for cell in paper_cells(published_tables()):
        locator = cell.locator
        row = rows.setdefault((locator.frame, locator.where), dict(locator.where))
        row[locator.value] = cell.value
        if locator.std_error is not None:
            row[locator.std_error] = cell.paren if cell.paren_kind == "se" else abs(cell.value / cell.paren)
        p_value = P_FOR_STARS.get(cell.stars, np.nan)
        if locator.p_value is not None and locator.frame == "model_stats":
            stat_row = rows.setdefault((locator.frame, (*locator.where[:-1], ("stat", locator.p_value))),
                                       {**dict(locator.where), "stat": locator.p_value})
            stat_row["value"] = p_value
        elif locator.p_value is not None:
            row[locator.p_value] = p_value
    frames: dict[str, list[dict]] = {}
    for (frame, _), row in rows.items():
        frames.setdefault(frame, []).append(row)
    return {name: pd.DataFrame(records) for name, records in frames.items()}


def test_results_equal_to_the_paper_agree_in_every_counted_cell():
    frames = frames_equal_to_the_paper()
    replication = compare(published_tables(), frames, REAL)
    overall = replication.overall
    assert overall.unmappable == 0
    assert overall.compared + overall.inconsistent == overall.cells
    assert overall.sign_agree == overall.sign_total > 50
    assert overall.star_agree == overall.star_total > 50
    assert overall.median_ratio == pytest.approx(1.0)
    # Table 9's three subsample counts are flagged (they do not add up to the paper's sample)
    flagged = [(c.cell.table_id, c.cell.row) for c in replication.comparisons if c.inconsistency]
    assert flagged == [("table09", "N")] * 3
    assert not replication.has_truth and "Planted" not in render_html(replication)


def test_inputs_are_not_modified():
    frames = frames_equal_to_the_paper()
    before = {name: frame.copy() for name, frame in frames.items()}
    compare(published_tables(), frames, REAL)
    for name, frame in frames.items():
        pd.testing.assert_frame_equal(frame, before[name])


def test_a_flipped_sign_a_lost_row_and_wrong_stars_are_found_where_planted():
    frames = frames_equal_to_the_paper()
    coefficients = frames["coefficients"]
    is_table4_ai = (coefficients["table_id"] == "table04") & (coefficients["column_id"] == "(3)") & (
        coefficients["term"] == "ai")
    coefficients.loc[is_table4_ai, "estimate"] *= -1
    is_lost = (coefficients["table_id"] == "table05") & (coefficients["term"] == "both")
    frames["coefficients"] = coefficients[~is_lost]
    is_roa = (frames["coefficients"]["table_id"] == "table04") & (frames["coefficients"]["term"] == "roa")
    frames["coefficients"].loc[is_roa, "p_value"] = 0.5
    replication = compare(published_tables(), frames, REAL)
    by_cell = {(c.cell.table_id, c.cell.row, c.cell.column): c for c in replication.comparisons}
    assert by_cell[("table04", "AI", "(3)")].sign_agrees is False
    assert by_cell[("table04", "Roa", "(3)")].stars_agree is False
    lost = by_cell[("table05", "Both", "(2)")]
    assert lost.ours is None and "0 rows of coefficients" in lost.unmappable and "'both'" in lost.unmappable
    table04 = next(s for s in replication.summaries if s.table_id == "table04")
    assert (table04.sign_agree, table04.sign_total) == (table04.sign_total - 1, 12)
    assert (table04.star_agree, table04.star_total) == (11, 12)
    markdown = render_markdown(replication)
    assert "Table 5. Robustness Both / (2): 0 rows of coefficients" in markdown
    assert "sign differs" in markdown


def test_planted_values_give_z_scores_and_those_without_a_paper_cell_are_listed():
    frames = frames_equal_to_the_paper()
    estimands = {
        "table04_col3_ai": {"table_id": "table04", "column_id": "(3)", "term": "ai", "value": 0.145, "std_error": 0.01},
        "table07_att": {"table_id": "table07", "column_id": "att_npro", "term": "ATT", "value": 0.4, "std_error": 0.01},
    }
    frames["coefficients"] = pd.concat([frames["coefficients"], pd.DataFrame(
        [{"table_id": "table07", "column_id": "att_npro", "term": "ATT", "estimate": 0.43, "std_error": 0.02,
          "p_value": 0.0}])], ignore_index=True)
    replication = compare(published_tables(), frames, SYNTHETIC, estimands)
    cell = next(c for c in replication.comparisons
                if (c.cell.table_id, c.cell.row, c.cell.column) == ("table04", "AI", "(3)"))
    # ours is the paper's 0.175 (0.014): z = (0.175 - 0.145) / hypot(0.014, 0.01)
    assert cell.truth_z == pytest.approx(0.03 / math.hypot(0.014, 0.01))
    [(truth, ours, z)] = replication.truths_without_cell
    assert truth.name == "table07_att" and z == pytest.approx(0.03 / math.hypot(0.02, 0.01))
    page = render_html(replication)
    assert "SYNTHETIC DATA" in page and "<th class=\"num\">Planted</th>" in page and "table07_att" in page
    assert any("planted values within |z|<3: 1/1" in line for line in summary_lines(replication))


def test_printed_stars_that_the_estimate_and_se_cannot_give_are_flagged():
    # 0.010 (0.004): |t| between 2.0 and 3.0 after rounding -> ** or ***, never none or *
    assert implied_stars(0.010, 0.004) == (2, 3)
    locator = Locator("coefficients", (("term", "x"),))
    one_star = PaperCell("tableXX", "x", "(1)", 0.010, locator, paren=0.004, stars=1, is_coefficient=True)
    assert "contradict" in _checked_stars(one_star).inconsistency
    two_stars = PaperCell("tableXX", "x", "(1)", 0.010, locator, paren=0.004, stars=2, is_coefficient=True)
    assert _checked_stars(two_stars).inconsistency is None


def test_a_planted_value_without_a_paper_cell_and_without_an_se_renders_without_brackets():
    """A NULL SE in the results (NaN in the frame, None once looked up) leaves the brackets out."""
    frames = frames_equal_to_the_paper()
    estimands = {"table07_att": {"table_id": "table07", "column_id": "att_npro", "term": "ATT", "value": 0.4,
                                 "std_error": 0.01}}
    frames["coefficients"] = pd.concat([frames["coefficients"], pd.DataFrame(
        [{"table_id": "table07", "column_id": "att_npro", "term": "ATT", "estimate": 0.43, "std_error": 0.02,
          "p_value": 0.0}])], ignore_index=True)
    frames["coefficients"].loc[frames["coefficients"]["term"] == "ATT", "std_error"] = np.nan
    replication = compare(published_tables(), frames, SYNTHETIC, estimands)
    markdown = render_markdown(replication)
    assert "| table07_att | 0.400 | 0.430 |" in markdown
    page = render_html(replication)
    assert '<td class="num">0.430<span class="mark"></span></td>' in page
    assert "0.430 (" not in markdown + page
