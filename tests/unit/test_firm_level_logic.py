"""Pure logic behind Tables 5-10: true lags, (leave-one-out) group means, the tidy rows of
Table 10 and of the model statistics, and Figure 1's densities from stored arrays.

References are independent brute-force loops over the rows (lags, means) and direct
fit_ols fits on each subsample (Table 10), written here without the code under test.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from analysis.fixed_effects import fit_ols
from analysis.iv import group_mean, lagged
from analysis.matching import match_nearest_neighbour, score_densities, score_densities_of
from paper.firm import add_instruments, table10_estimates
from paper.models import CONTROLS, TABLE10_SPLITS
from paper.spec import no_progress, stat_rows

EXACT = 1e-12
"""Same arithmetic on the same numbers, in another order."""
PLANTED_DIFFERENCE_TOLERANCE = 0.1
"""Planted between-group gap 0.5 with ~1,200 firm-years per group and unit noise: the estimated
difference has a standard error of about 0.04, so 0.1 is 2.5 sd."""


def _brute_force_lag(data: pd.DataFrame, periods: int) -> list[float]:
    values = {(f, t): x for f, t, x in zip(data["firm"], data["year"], data["x"])}
    return [values.get((f, t - periods), np.nan) for f, t in zip(data["firm"], data["year"])]


@pytest.fixture()
def unbalanced() -> pd.DataFrame:
    # Firm b has a gap (2016 missing), firm c appears once, rows are shuffled, index is not 0..n-1.
    data = pd.DataFrame(
        {
            "firm": ["a", "a", "a", "a", "b", "b", "b", "c"],
            "year": [2015, 2016, 2017, 2018, 2015, 2017, 2018, 2016],
            "x": [1.0, 2.0, 3.0, np.nan, 10.0, 30.0, 40.0, 7.0],
            "cell": [1, 1, 2, 2, 1, 2, 2, 1],
        }
    )
    return data.sample(frac=1.0, random_state=3).set_axis([f"r{i}" for i in range(8)])


@pytest.mark.parametrize("periods", [1, 2])
def test_lag_is_the_same_firm_exactly_periods_earlier(unbalanced, periods):
    result = lagged(unbalanced, "x", "firm", "year", periods)
    expected = _brute_force_lag(unbalanced, periods)
    np.testing.assert_array_equal(result.to_numpy(), np.array(expected))
    assert list(result.index) == list(unbalanced.index)


def test_lag_across_a_gap_is_missing_not_the_previous_row(unbalanced):
    lag = lagged(unbalanced, "x", "firm", "year", 1)
    row_2017_b = unbalanced.index[(unbalanced["firm"] == "b") & (unbalanced["year"] == 2017)][0]
    assert np.isnan(lag[row_2017_b])  # the previous row of firm b is 2015, two years earlier
    lag2 = lagged(unbalanced, "x", "firm", "year", 2)
    assert lag2[row_2017_b] == 10.0


def test_lag_refuses_duplicate_firm_years_and_non_integer_periods(unbalanced):
    with pytest.raises(ValueError, match="occurs more than once"):
        lagged(pd.concat([unbalanced, unbalanced.iloc[[0]]]).reset_index(drop=True), "x", "firm", "year")
    with pytest.raises(ValueError, match="integer periods"):
        lagged(unbalanced.assign(year=unbalanced["year"] + 0.5), "x", "firm", "year")
    with pytest.raises(ValueError, match="periods must be a positive integer"):
        lagged(unbalanced, "x", "firm", "year", 0)
    with pytest.raises(ValueError, match="lacks column"):
        lagged(unbalanced, "nope", "firm", "year")


@pytest.mark.parametrize("leave_one_out", [False, True])
def test_group_mean_matches_a_loop_over_cells(unbalanced, leave_one_out):
    result = group_mean(unbalanced, "x", ["cell", "year"], leave_one_out=leave_one_out)
    expected = []
    for label, row in unbalanced.iterrows():
        same = unbalanced[(unbalanced["cell"] == row["cell"]) & (unbalanced["year"] == row["year"])]
        if leave_one_out:
            same = same.drop(index=label)
        present = same["x"].dropna()
        expected.append(present.mean() if len(present) else np.nan)
    np.testing.assert_allclose(result.to_numpy(), np.array(expected), rtol=EXACT)
    assert list(result.index) == list(unbalanced.index)


def test_add_instruments_leaves_the_frame_alone(unbalanced):
    frame = unbalanced.rename(columns={"firm": "stock_code", "year": "fiscal_year", "x": "ai", "cell": "industry_code"})
    before = frame.copy()
    with_instruments = add_instruments(frame, leave_one_out=True)
    pd.testing.assert_frame_equal(frame, before)
    assert {"l1_ai", "l2_ai", "mean_ai"} <= set(with_instruments.columns)
    np.testing.assert_array_equal(with_instruments["l1_ai"], lagged(frame, "ai", "stock_code", "fiscal_year"))


def test_leave_one_out_column_is_added_beside_the_papers_mean_ai(unbalanced):
    frame = unbalanced.rename(columns={"firm": "stock_code", "year": "fiscal_year", "x": "ai", "cell": "industry_code"})
    default = add_instruments(frame, leave_one_out=False)
    assert "mean_ai_loo" not in default.columns
    with_column = add_instruments(frame, leave_one_out=False, leave_one_out_column=True)
    pd.testing.assert_series_equal(with_column["mean_ai"], default["mean_ai"])
    expected = group_mean(frame, "ai", ["industry_code", "fiscal_year"], leave_one_out=True)
    np.testing.assert_array_equal(with_column["mean_ai_loo"], expected)
    # Firm a, 2015 (cell 1) shares its cell-year with firm b only: its leave-one-out mean is b's 10.
    row = with_column[(with_column.stock_code == "a") & (with_column.fiscal_year == 2015)].iloc[0]
    assert row["mean_ai_loo"] == 10.0 and row["mean_ai"] == 5.5


def test_stat_rows_put_numbers_in_value_and_the_rest_in_text():
    rows = stat_rows("(1):difference", {"p_value": 0.25, "n_draws": 1000, "unit": "stock_code", "flag": True})
    assert list(rows.columns) == ["column_id", "stat", "value", "text"]
    by_stat = rows.set_index("stat")
    assert by_stat.loc["p_value", "value"] == 0.25 and by_stat.loc["n_draws", "value"] == 1000.0
    assert by_stat.loc["unit", "text"] == "stock_code" and np.isnan(by_stat.loc["unit", "value"])
    assert by_stat.loc["flag", "text"] == "True"


@pytest.fixture(scope="module")
def split_panel() -> pd.DataFrame:
    # 300 firms x 8 years; heavy polluters (1/3 of firms) have an AI slope 0.5 lower; high-tech
    # firms are drawn independently and change nothing.
    rng = np.random.default_rng(11)
    n_firms, n_years = 300, 8
    firm = np.repeat(np.arange(n_firms), n_years)
    heavy = (rng.random(n_firms) < 1 / 3).astype(int)[firm]
    high_tech = (rng.random(n_firms) < 0.5).astype(int)[firm]
    province = rng.integers(0, 6, n_firms)[firm]
    year = np.tile(np.arange(2015, 2015 + n_years), n_firms)
    controls = rng.normal(size=(firm.size, len(CONTROLS)))
    ai = rng.normal(size=firm.size)
    npro = (0.4 - 0.5 * heavy) * ai + controls @ np.linspace(0.1, 0.3, len(CONTROLS)) + rng.normal(size=firm.size)
    frame = pd.DataFrame(controls, columns=list(CONTROLS))
    return frame.assign(
        stock_code=[f"{f:06d}" for f in firm], fiscal_year=year, province_code=province,
        heavy_polluting=heavy, high_tech=high_tech, ai=ai, npro=npro,
    )


def _table10_rows(frame, n_draws, rng, permute_by, seed):
    estimates, tests = table10_estimates(frame, n_draws, rng, permute_by, seed, no_progress)
    return estimates.results["results.coefficients"], estimates.results["results.model_stats"], tests, estimates


def test_table10_rows_hold_both_groups_and_bdiff_difference(split_panel):
    coefficients, model_stats, tests, estimates = _table10_rows(
        split_panel, n_draws=200, rng=np.random.default_rng(5), permute_by=None, seed=5
    )
    # The paper's columns: (1) heavy, (2) non-heavy polluting, (3) high-tech, (4) low-tech.
    assert set(coefficients["column_id"]) == {"(1)", "(2)", "(3)", "(4)"}
    assert set(estimates.fitted) == {"(1)", "(2)", "(3)", "(4)"}
    assert {f"seconds_permutation_test_{split}" for split in TABLE10_SPLITS} <= set(estimates.metadata)
    for split, columns in TABLE10_SPLITS.items():
        flag, group0, group1 = columns.flag, columns.group0_column, columns.group1_column
        # Independent fits of each subsample.
        fits = {
            value: fit_ols(split_panel[split_panel[flag] == value], "npro", ["ai", *CONTROLS],
                           ["fiscal_year", "province_code"], cluster="stock_code")
            for value in (0, 1)
        }
        for column_id, value in ((group0, 0), (group1, 1)):
            row = coefficients[(coefficients["column_id"] == column_id) & (coefficients["term"] == "ai")].iloc[0]
            assert row["estimate"] == pytest.approx(fits[value].params["ai"], rel=EXACT)
            assert row["std_error"] == pytest.approx(fits[value].std_errors["ai"], rel=EXACT)
        difference = model_stats[model_stats["column_id"] == columns.difference_column].set_index("stat")
        assert difference.loc["observed_difference", "value"] == pytest.approx(
            fits[0].params["ai"] - fits[1].params["ai"], rel=EXACT
        )
        assert difference.loc["n_draws", "value"] == 200 and difference.loc["seed", "value"] == 5
        assert difference.loc["permutation_unit", "text"] == "observation"
    pollution = model_stats[model_stats["column_id"] == "(1):difference"].set_index("stat")["value"]
    # b0 - b1 = non-heavy minus heavy = +0.5 planted; clearly rejected.
    assert pollution["observed_difference"] == pytest.approx(0.5, abs=PLANTED_DIFFERENCE_TOLERANCE)
    assert pollution["p_value"] < 0.01
    # The tech split has no planted difference.
    assert model_stats.set_index(["column_id", "stat"]).loc[("(3):difference", "p_value_two_sided"), "value"] > 0.01


def test_table10_firm_permutation_and_seed_reproducibility(split_panel):
    def run(seed):
        _, stats, tests, _ = _table10_rows(split_panel, 100, np.random.default_rng(seed), "stock_code", seed)
        return stats, tests

    first, first_tests = run(1)
    again, again_tests = run(1)
    pd.testing.assert_frame_equal(first, again)
    np.testing.assert_array_equal(first_tests["tech"].draws, again_tests["tech"].draws)
    other, other_tests = run(2)
    assert not np.array_equal(first_tests["tech"].draws, other_tests["tech"].draws)
    by_stat = first.set_index(["column_id", "stat"])
    assert by_stat.loc[("(1):difference", "permutation_unit"), "text"] == "stock_code"
    assert by_stat.loc[("(1):difference", "n_units_group1"), "value"] == split_panel.loc[
        split_panel["heavy_polluting"] == 1, "stock_code"].nunique()


def test_figure_densities_from_stored_arrays_equal_those_of_the_match(split_panel):
    frame = split_panel.assign(treated=(split_panel["ai"] > 0).astype(int))
    match = match_nearest_neighbour(frame, "treated", covariates=["roa", "size"], rng=np.random.default_rng(0))
    stored = score_densities_of(match.scores.to_numpy(), match.treated.astype(int).to_numpy(), match.weights.to_numpy())
    pd.testing.assert_frame_equal(stored, score_densities(match))
    with pytest.raises(ValueError, match="same length"):
        score_densities_of(np.zeros(3), np.zeros(2), np.zeros(3))


def _table06_rows(instruments: list[str]) -> tuple[pd.DataFrame, pd.DataFrame]:
    coefficients, stats = [], []
    for position, instrument in enumerate(instruments):
        for stage in (1, 2):
            column = f"({2 * position + stage})"
            term = instrument if stage == 1 else "ai"
            coefficients.append(("table06", column, term, 0.1 * (position + 1), 0.01, 10.0, 0.0))
            stats.append(("table06", column, "nobs", 100.0 + position, None))
    return (pd.DataFrame(coefficients, columns=["table_id", "column_id", "term", "estimate", "std_error",
                                                "statistic", "p_value"]),
            pd.DataFrame(stats, columns=["table_id", "column_id", "stat", "value", "text"]))


def test_table06_layout_shows_the_leave_one_out_column_only_when_it_was_estimated():
    from analysis.tables import TableProvenance
    from paper.layouts.firm import table06
    from paper.models import TABLE06_INSTRUMENTS

    provenance = TableProvenance("2024-06", is_synthetic=True, code_version="abc1234",
                                 generated_at="2025-01-01T00:00:00Z")
    default = table06(*_table06_rows(list(TABLE06_INSTRUMENTS)), provenance)
    assert len(default.columns) == 6 and not any("leave-one-out" in note for note in default.notes[-1:])
    extended = table06(*_table06_rows([*TABLE06_INSTRUMENTS, "mean_ai_loo"]), provenance)
    assert len(extended.columns) == 8
    assert extended.columns[-1].header_lines[0] == "Mean_AI (leave-one-out)"
    iv_rows = extended.body.coefficients[extended.body.coefficients["term"] == "iv"]
    assert set(iv_rows["column_id"]) == {"(1)", "(3)", "(5)", "(7)"}
    assert "leave-one-out" in extended.notes[-1]


def test_table06_prints_the_stock_wright_s_statistic_on_the_papers_sw_s_row():
    from analysis.tables import TableProvenance
    from paper.layouts.firm import table06
    from paper.models import TABLE06_INSTRUMENTS

    provenance = TableProvenance("2024-06", is_synthetic=True, code_version="abc1234",
                                 generated_at="2025-01-01T00:00:00Z")
    coefficients, stats = _table06_rows(list(TABLE06_INSTRUMENTS))
    s_rows = pd.DataFrame([("table06", column, "stock_wright_s", 500.0 + position, None)
                           for position, column in enumerate(stats["column_id"])], columns=stats.columns)
    table = table06(coefficients, pd.concat([stats, s_rows], ignore_index=True), provenance)
    sw_rows = [row for row in table.footer if getattr(row, "label", None) == "SW S stat."]
    assert len(sw_rows) == 1 and sw_rows[0].stat == "stock_wright_s"
    shown = table.model_stats[table.model_stats["stat"] == "stock_wright_s"]
    # A second-stage statistic: the first-stage columns (1), (3), (5) leave the row empty.
    assert set(shown["column_id"]) == {"(2)", "(4)", "(6)"}
    assert any("Stock-Wright LM S" in note for note in table.notes)
