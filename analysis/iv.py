"""Two-stage least squares with the identification diagnostics of Stata's ``ivreg2``.

Paper Table 6 instruments AI with its lags and with the industry-year mean, absorbs year
and province fixed effects and clusters by firm. :func:`fit_iv` reproduces what
``ivreg2 y controls i.year i.province (ai = z), partial(i.year i.province) cluster(firm)
small first`` reports:

* The fixed effects (and the constant) are partialled out as ivreg2's ``partial()`` does:
  every variable is demeaned on them (the kernel of :mod:`analysis.absorption`) and their
  rank is charged to the small-sample degrees of freedom (ivreg2's ``sdofminus``). All
  absorbed levels are counted, also those nested in the cluster variable, as ivreg2 does and
  unlike reghdfe. Singleton groups are kept.
* Point estimates and the coefficient covariance come from linearmodels ``IV2SLS``; with
  ``debiased=True`` and ``extra_df`` = the absorbed rank its clustered covariance is scaled
  by (N-1)/(N-K) * G/(G-1) and its robust and homoskedastic ones by N/(N-K), K counting
  the absorbed levels: ivreg2's ``small`` option (checked against ivreg2 output in
  ``tests/reference/test_iv_reference.py``).
* linearmodels' ``IVResults.first_stage`` reports neither the Cragg-Donald, the
  Kleibergen-Paap nor the Sanderson-Windmeijer statistics, and its partial F statistics
  are not ivreg2's, so the diagnostics are computed here from the formulas of ivreg2.ado
  4.1.11 and ranktest (Kleibergen & Paap 2006; Sanderson & Windmeijer 2016), with
  ivreg2's small-sample conventions; the reference tests check them against ivreg2 output.

The identification statistics always use the small-sample F conversion, whatever ``small``
says, because ivreg2 reports them that way.

Beyond 2SLS (``estimator="2sls"``, the default), ``estimator="liml"`` and
``estimator="fuller"`` (with ``fuller_alpha``, ivreg2's ``fuller(#)``) fit the k-class
estimators with linearmodels ``IVLIML`` (k = LIML's lambda - alpha / (N - L), L counting
every instrument and absorbed level, as ivreg2). Every estimator reports the same
identification diagnostics (they do not depend on the second stage) and, computed here
from ivreg2.ado's formulas because linearmodels has no Stock-Wright statistic, no
C statistic for an instrument subset and no Hansen J after a k-class fit:

* ``sargan`` (iid: N e'P_Z e / e'e with the fit's residuals) and ``hansen_j`` (equal to
  ``sargan`` with ``vce="iid"``; robust or clustered, Hansen's J: the minimised two-step
  GMM criterion with the S of the chosen vce formed from the fit's residuals);
  after LIML also ``anderson_rubin_overid`` (N ln lambda) and ``anderson_rubin_overid_lin``
  (N (lambda - 1)), ivreg2's e(arubin) and e(arubin_lin);
* the weak-instrument-robust Anderson-Rubin test of H0: the endogenous coefficients are
  zero (``anderson_rubin_chi2``; ``anderson_rubin_f`` = chi2 / L1 * (N - L) / N, or ivreg2's
  cluster conversion; both computed with the vce) and the Stock-Wright LM S statistic
  (``stock_wright_s``: the LM form with the restricted residuals and the full instrument
  matrix, what ivreg2 prints as "Stock-Wright LM S statistic" and Table 6 as "SW S stat.";
  with a robust or clustered vce it is, unlike the others, not invariant to partialling out:
  absorbed fixed effects give ivreg2's ``partial()`` value, not that with explicit dummies);
* :meth:`IVResult.c_test` (after 2SLS) for a subset of excluded instruments (ivreg2's ``orthog()``):
  J of the full model minus J of the model without them, both with the full model's S
  (Hayashi 2000, p. 220), so the statistic is never negative.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import pandas as pd
from linearmodels.iv import IV2SLS, IVLIML
from scipy import linalg, stats

from analysis.absorption import absorb_fixed_effects
from analysis.clustering import cluster_codes, cluster_counts, inclusion_exclusion_terms, multiway_meat
from analysis.results import CONSTANT_TERM, DelegatesToRegression, FrozenFields, RegressionResult, ReportedColumn
from analysis.validation import require_columns, require_dataframe, require_finite_numeric, resolve_vce

Vce = Literal["iid", "robust", "cluster"]
Estimator = Literal["2sls", "liml", "fuller"]

_LINEARMODELS_COV_TYPE = {"iid": "unadjusted", "robust": "robust", "cluster": "clustered"}


@dataclass(frozen=True)
class IVResult(FrozenFields, DelegatesToRegression):
    """A 2SLS fit: the structural equation, one first-stage regression per endogenous
    regressor, and the identification diagnostics.

    ``diagnostics`` holds (names as ivreg2 prints them):

    * ``cragg_donald_f``: Cragg-Donald Wald F statistic;
    * ``kleibergen_paap_f``: Kleibergen-Paap rk Wald F statistic (NaN with ``vce="iid"``,
      where ivreg2 reports the Cragg-Donald F as the weak-identification statistic);
    * ``underid_lm``, ``underid_lm_df``, ``underid_lm_p``: the underidentification test,
      Kleibergen-Paap rk LM with robust or cluster vce, Anderson canonical correlation LM
      with ``vce="iid"`` (``info["underid_test"]`` of the second stage names it);
    * per endogenous regressor ``x``: ``first_stage_f[x]`` (F test of the excluded
      instruments, robust to the chosen vce) with ``first_stage_f_p[x]``,
      ``partial_r2[x]``, ``sanderson_windmeijer_f[x]``, ``sanderson_windmeijer_f_p[x]``,
      ``sanderson_windmeijer_chi2[x]``, ``sanderson_windmeijer_chi2_p[x]``;
    * the degrees of freedom ``first_stage_df1``, ``sanderson_windmeijer_df1`` and
      ``diagnostics_df2`` (denominator of all the F statistics above);
    * ``n_clusters`` (NaN without clustering) and ``absorbed_dof``;
    * the overidentification and weak-instrument-robust tests of the module docstring:
      ``sargan``, ``hansen_j`` (each with ``_df`` and ``_p``; NaN when exactly identified),
      ``anderson_rubin_f`` / ``_f_p`` / ``_chi2`` / ``_chi2_p`` / ``_df`` / ``_df2``,
      ``stock_wright_s`` / ``_p`` / ``_df``; with LIML or Fuller also ``kclass``,
      ``lambda`` and ``anderson_rubin_overid`` / ``_lin`` with their p-values.
    """

    second_stage: RegressionResult
    first_stage: Mapping[str, RegressionResult]
    diagnostics: Mapping[str, float]
    design: "_Design | None" = field(default=None, repr=False, compare=False)
    """The partialled estimation sample (for :meth:`c_test`)."""
    vce: str = "robust"

    # params, std_errors, vcov, stats, nobs and tidy() are those of the structural equation;
    # model_stats() adds the reported diagnostics.
    _regression = "second_stage"

    _frozen = {"first_stage": "mapping", "diagnostics": "floats"}

    def reported_diagnostics(self) -> dict[str, float]:
        """The diagnostics a 2SLS table reports beside both stages, in ivreg2's order (first-stage
        summary, weak- and under-identification, weak-instrument-robust inference): per
        endogenous regressor ``x`` ``first_stage_f[x]``, ``first_stage_f_p[x]``,
        ``partial_r2[x]``; ``cragg_donald_f``, ``kleibergen_paap_f``; per ``x``
        ``sanderson_windmeijer_f[x]``, ``sanderson_windmeijer_f_p[x]``; ``underid_lm`` with
        its ``_df`` and ``_p``; ``first_stage_df1``, ``diagnostics_df2``; ``stock_wright_s``
        with its ``_df`` and ``_p``."""
        endog = list(self.first_stage)
        names = [
            *(f"{stat}[{x}]" for x in endog for stat in ("first_stage_f", "first_stage_f_p", "partial_r2")),
            "cragg_donald_f", "kleibergen_paap_f",
            *(f"{stat}[{x}]" for x in endog for stat in ("sanderson_windmeijer_f", "sanderson_windmeijer_f_p")),
            "underid_lm", "underid_lm_df", "underid_lm_p", "first_stage_df1", "diagnostics_df2",
            "stock_wright_s", "stock_wright_s_df", "stock_wright_s_p",
        ]
        return {name: self.diagnostics[name] for name in names}

    def model_stats(self) -> pd.DataFrame:
        """The structural equation's model statistics, then :meth:`reported_diagnostics`."""
        return ReportedColumn(self.second_stage, self.reported_diagnostics()).model_stats()

    def first_stage_column(self, endog: str | None = None) -> ReportedColumn:
        """The first-stage regression of ``endog`` (the only endogenous regressor by default)
        as a results column: its coefficients and covariance, and its model statistics
        followed by :meth:`reported_diagnostics`."""
        if endog is None:
            if len(self.first_stage) != 1:
                raise ValueError(f"name the endogenous regressor: one of {list(self.first_stage)}")
            (endog,) = self.first_stage
        if endog not in self.first_stage:
            raise ValueError(f"{endog!r} is not an endogenous regressor of this fit: {list(self.first_stage)}")
        return ReportedColumn(self.first_stage[endog], self.reported_diagnostics())

    def c_test(self, instruments: Sequence[str]) -> dict[str, float]:
        """ivreg2's ``orthog()`` C (difference-in-Sargan/Hansen) test that the excluded
        ``instruments`` are valid, given that the others are: ``c_stat``, ``c_df``, ``c_p``.

        J is recomputed with and without them, both with the S matrix of the full model
        (from this fit's residuals, with its vce), so C >= 0. The model without them must
        remain identified."""
        if self.design is None:
            raise ValueError("this result carries no design to recompute J on")
        if self.second_stage.info["estimator"] != "2sls":
            raise ValueError("c_test is offered after 2SLS only (the ivreg2 reference covers 2SLS)")
        names = list(instruments)
        unknown = [name for name in names if name not in self.design.instrument_names]
        if unknown or not names:
            raise ValueError(f"c_test needs excluded instruments among {self.design.instrument_names}, got {names}")
        kept = [i for i, name in enumerate(self.design.instrument_names) if name not in names]
        n_endog = self.design.endog.shape[1]
        if len(kept) < n_endog:
            raise ValueError(f"without {names} the equation is not identified ({len(kept)} instrument(s))")
        residuals = _structural_residuals(self.design, self.second_stage.params.to_numpy())
        full = _instrument_matrix(self.design)
        moments = _moment_covariance(full, residuals, self.design.clusters, self.vce)
        j_full = _gmm_criterion(self.design, full, moments)
        columns = [*kept, *range(self.design.instruments.shape[1], full.shape[1])]
        j_kept = _gmm_criterion(self.design, full[:, columns], moments[np.ix_(columns, columns)])
        c_stat = j_full - j_kept
        return {"c_stat": c_stat, "c_df": float(len(names)), "c_p": float(stats.chi2.sf(c_stat, len(names)))}


@dataclass(frozen=True)
class _Design:
    """The estimation sample after listwise deletion, with the fixed effects partialled out."""

    y: np.ndarray
    endog: np.ndarray
    exog: np.ndarray
    instruments: np.ndarray
    exog_names: list[str]
    instrument_names: list[str]
    clusters: np.ndarray | None
    """Cluster codes: (n,) for one cluster variable, (n, Q) for multi-way clustering."""
    n_clusters: int
    """The number of clusters (the smallest count with multi-way clustering, as ivreg2)."""
    absorbed_dof: int
    centered_ss: np.ndarray
    """Centered sums of squares of the response and the endogenous regressors before the
    fixed effects were absorbed (the denominators of the full-model R2)."""

    @property
    def nobs(self) -> int:
        return self.y.shape[0]

    @property
    def n_instruments_total(self) -> int:
        """ivreg2's L + sdofminus: excluded and included instruments plus absorbed levels."""
        return self.instruments.shape[1] + self.exog.shape[1] + self.absorbed_dof


def fit_iv(
    data: pd.DataFrame,
    depvar: str,
    endog: str | Sequence[str],
    instruments: Sequence[str],
    exog: Sequence[str] = (),
    fixed_effects: Sequence[str] = (),
    cluster: str | Sequence[str] | None = None,
    vce: Vce | None = None,
    small: bool = True,
    estimator: Estimator = "2sls",
    fuller_alpha: float = 1.0,
) -> IVResult:
    """2SLS (or LIML, or Fuller's modified LIML) of ``depvar`` on ``endog`` (instrumented
    by ``instruments``) and ``exog``.

    ``fixed_effects`` are partialled out together with the constant; without them a
    ``const`` term is estimated. ``vce`` defaults to "cluster" when ``cluster`` is
    given and to "robust" otherwise; several cluster columns give multi-way clustering as
    ivreg2's ``cluster(a b)`` and reghdfe's ``vce(cluster a b c)`` compute it (the
    Cameron-Gelbach-Miller sum with G the smallest count, also in every diagnostic).
    ``small`` applies ivreg2's small-sample covariance scaling and reports t statistics
    (df = clusters - 1 or N - K); otherwise z statistics.
    Rows with a missing value in any used column are dropped (listwise, as Stata does).

    The second stage's (and each first stage's) ``stats``: ``r2`` (of the full model, fixed
    effects included), ``r2_within`` (of the partialled model, what ivreg2's partial()
    prints; only with fixed effects), ``rss``, ``rmse``, ``model_f`` with ``model_f_df1``,
    ``model_f_df2`` and ``model_f_p`` (ivreg2's e(F): all slopes, small-sample covariance;
    NaN when clustered with fewer clusters than slopes + 1), ``df_resid``,
    ``absorbed_dof`` and, when clustered, ``n_clusters``.

    ``estimator`` is "2sls", "liml" or "fuller" (k = lambda - ``fuller_alpha`` / (N - L),
    ivreg2's ``fuller(#)``); the first stages are the same OLS regressions for all three.
    """
    endog_names = [endog] if isinstance(endog, str) else list(endog)
    instrument_names = list(instruments)
    exog_names = list(exog)
    fe_names = list(fixed_effects)
    clusters = [] if cluster is None else [cluster] if isinstance(cluster, str) else list(cluster)
    vce = resolve_vce(vce, ", ".join(clusters) or None)
    _validate(data, depvar, endog_names, instrument_names, exog_names, fe_names, clusters)
    if estimator not in ("2sls", "liml", "fuller"):
        raise ValueError(f"estimator must be '2sls', 'liml' or 'fuller', got {estimator!r}")
    if estimator == "fuller" and not (np.isfinite(fuller_alpha) and fuller_alpha > 0):
        raise ValueError(f"fuller_alpha must be a positive number, got {fuller_alpha!r}")

    design = _build_design(data, depvar, endog_names, instrument_names, exog_names, fe_names,
                           clusters if vce == "cluster" else [])
    _check_rank(design, endog_names, instrument_names)

    second_stage = _fit_linearmodels(
        design,
        response=design.y,
        centered_ss=float(design.centered_ss[0]),
        exog=design.exog,
        exog_names=design.exog_names,
        endog=design.endog,
        endog_names=endog_names,
        vce=vce,
        small=small,
        kclass=(estimator, fuller_alpha),
        info={
            "estimator": estimator,
            "depvar": depvar,
            "instruments": " ".join(instrument_names),
            "fixed_effects": " ".join(fe_names),
            "vce": vce,
            "cluster": ", ".join(clusters),
            "small": str(small),
            "underid_test": "Anderson canon. corr. LM" if vce == "iid" else "Kleibergen-Paap rk LM",
        },
    )
    first_stage = {
        name: _fit_linearmodels(
            design,
            response=design.endog[:, j],
            centered_ss=float(design.centered_ss[1 + j]),
            exog=np.column_stack([design.instruments, design.exog]),
            exog_names=[*instrument_names, *design.exog_names],
            endog=None,
            endog_names=[],
            vce=vce,
            small=small,
            info={
                "estimator": "ols",
                "depvar": name,
                "fixed_effects": " ".join(fe_names),
                "vce": vce,
                "cluster": ", ".join(clusters),
                "small": str(small),
            },
        )
        for j, name in enumerate(endog_names)
    }
    diagnostics = _identification_diagnostics(design, endog_names, vce)
    diagnostics |= _overidentification_and_weak_iv_tests(design, second_stage, vce)
    return IVResult(second_stage=second_stage, first_stage=first_stage, diagnostics=diagnostics,
                    design=design, vce=vce)


# --------------------------------------------------------------------------- inputs


def _validate(
    data: pd.DataFrame,
    depvar: str,
    endog: list[str],
    instruments: list[str],
    exog: list[str],
    fixed_effects: list[str],
    clusters: list[str],
) -> None:
    require_dataframe(data)
    if len(set(clusters)) < len(clusters):
        raise ValueError(f"a cluster variable is listed more than once: {clusters}")
    if not endog:
        raise ValueError("at least one endogenous regressor is needed")
    if len(instruments) < len(endog):
        raise ValueError(
            f"order condition fails: {len(instruments)} excluded instrument(s) for "
            f"{len(endog)} endogenous regressor(s)"
        )
    if len(set(fixed_effects)) < len(fixed_effects):
        raise ValueError(f"a fixed effect is listed more than once: {fixed_effects}")
    if CONSTANT_TERM in exog:
        raise ValueError(f"{CONSTANT_TERM!r} is reserved for the constant, which is included unless absorbed")
    numeric_roles = {"depvar": [depvar], "endog": endog, "instruments": instruments, "exog": exog}
    grouping = [*fixed_effects, *clusters]
    require_columns(data, [*(c for cols in numeric_roles.values() for c in cols), *grouping])
    seen: dict[str, str] = {}
    for role, columns in numeric_roles.items():
        for column in columns:
            if column in seen:
                raise ValueError(f"column {column!r} is given both as {seen[column]} and as {role}")
            seen[column] = role
    require_finite_numeric(data, list(seen))


def _build_design(
    data: pd.DataFrame,
    depvar: str,
    endog: list[str],
    instruments: list[str],
    exog: list[str],
    fixed_effects: list[str],
    clusters: list[str],
) -> _Design:
    numeric = [depvar, *endog, *instruments, *exog]
    grouping = list(dict.fromkeys([*fixed_effects, *clusters]))
    sample = data[numeric + [g for g in grouping if g not in numeric]].dropna()
    n = len(sample)
    if n == 0:
        raise ValueError("no complete observations after dropping rows with missing values")
    values = sample[numeric].to_numpy(dtype=float)
    k1, l1 = len(endog), len(instruments)
    centered_ss = ((values[:, : 1 + k1] - values[:, : 1 + k1].mean(axis=0)) ** 2).sum(axis=0)

    if fixed_effects:
        values, absorbed_dof = absorb_fixed_effects(values, sample[fixed_effects])
        exog_names = list(exog)
    else:
        values = np.column_stack([values, np.ones(n)])
        absorbed_dof = 0
        exog_names = [*exog, CONSTANT_TERM]

    codes = None
    n_clusters = 0
    if len(clusters) == 1:
        codes = pd.factorize(sample[clusters[0]])[0]
        n_clusters = int(codes.max()) + 1
    elif clusters:
        codes = cluster_codes(sample[clusters])
        n_clusters = min(cluster_counts(codes))
    if clusters and n_clusters < 2:
        raise ValueError(f"a cluster column of {clusters} has fewer than two clusters in the sample")

    design = _Design(
        y=values[:, 0],
        endog=values[:, 1 : 1 + k1],
        instruments=values[:, 1 + k1 : 1 + k1 + l1],
        exog=values[:, 1 + k1 + l1 :],
        exog_names=exog_names,
        instrument_names=list(instruments),
        clusters=codes,
        n_clusters=n_clusters,
        absorbed_dof=absorbed_dof,
        centered_ss=centered_ss,
    )
    if design.nobs <= design.n_instruments_total:
        raise ValueError(
            f"{design.nobs} observations are too few for {design.n_instruments_total} instruments "
            "(including absorbed fixed-effect levels)"
        )
    return design


def _check_rank(design: _Design, endog: list[str], instruments: list[str]) -> None:
    instrument_matrix = np.column_stack([design.instruments, design.exog])
    if np.linalg.matrix_rank(instrument_matrix) < instrument_matrix.shape[1]:
        raise ValueError(
            f"the instruments {instruments} and exogenous regressors {design.exog_names} are "
            "collinear (after absorbing the fixed effects)"
        )
    regressors = np.column_stack([design.endog, design.exog])
    if np.linalg.matrix_rank(regressors) < regressors.shape[1]:
        raise ValueError(
            f"the regressors {[*endog, *design.exog_names]} are collinear "
            "(after absorbing the fixed effects)"
        )


# --------------------------------------------------------------------------- estimation


def _fit_linearmodels(
    design: _Design,
    *,
    response: np.ndarray,
    centered_ss: float,
    exog: np.ndarray,
    exog_names: list[str],
    endog: np.ndarray | None,
    endog_names: list[str],
    vce: Vce,
    small: bool,
    info: Mapping[str, str],
    kclass: tuple[str, float] = ("2sls", 0.0),
) -> RegressionResult:
    """2SLS (or OLS when ``endog`` is None) with ivreg2's small-sample conventions.

    linearmodels is always asked for the debiased covariance, which is ivreg2's ``small``
    one; ivreg2 computes its model F from it in both modes. Without ``small`` the
    covariance is rescaled to ivreg2's large-sample one (no degrees-of-freedom factors).
    """
    n = design.nobs
    exog_frame = pd.DataFrame(exog, columns=exog_names) if exog.shape[1] else None
    endog_frame = pd.DataFrame(endog, columns=endog_names) if endog is not None else None
    instrument_frame = (
        pd.DataFrame(design.instruments, columns=design.instrument_names) if endog is not None else None
    )
    cov_config: dict[str, object] = {"extra_df": design.absorbed_dof}
    multiway = vce == "cluster" and design.clusters.ndim == 2
    if vce == "cluster" and not multiway:
        cov_config["clusters"] = design.clusters
    estimator, fuller_alpha = kclass
    response_series = pd.Series(response, name=info["depvar"])
    model_class = IV2SLS if estimator == "2sls" or endog is None else IVLIML
    liml_lambda = np.nan
    model_options: dict[str, float] = {}
    if model_class is IVLIML:
        liml_lambda = float(IVLIML(response_series, exog_frame, endog_frame, instrument_frame).fit(
            cov_type="unadjusted").kappa)
        if estimator == "fuller":
            # ivreg2's L counts the absorbed levels too, which linearmodels' own ``fuller``
            # option (n - ninstr) cannot see, so k is passed explicitly.
            model_options["kappa"] = liml_lambda - fuller_alpha / (n - design.n_instruments_total)
    model = model_class(response_series, exog_frame, endog_frame, instrument_frame, **model_options)
    terms = [*endog_names, *exog_names]
    n_params_total = len(terms) + design.absorbed_dof
    if multiway:
        # linearmodels stops at two cluster variables and scales each term of its two-way
        # covariance by that term's own G / (G - 1); ivreg2 and reghdfe scale the
        # Cameron-Gelbach-Miller sum once, with G the smallest count. The sum is taken from
        # linearmodels' unscaled one-way covariances (every term has the same bread), so any
        # number of cluster variables works and every k-class estimator is covered.
        fits = [(sign, model.fit(cov_type="clustered", clusters=codes, debiased=False, **cov_config))
                for sign, codes in inclusion_exclusion_terms(design.clusters)]
        fit = fits[0][1]
        g = design.n_clusters
        cov_small = sum(sign * one_way.cov.loc[terms, terms] for sign, one_way in fits)
        cov_small = cov_small * (n - 1) / (n - n_params_total) * g / (g - 1)
    else:
        fit = model.fit(cov_type=_LINEARMODELS_COV_TYPE[vce], debiased=True, **cov_config)
        cov_small = fit.cov.loc[terms, terms]
    params = fit.params[terms]
    if vce == "cluster":
        df_resid = design.n_clusters - 1
        large_sample_factor = (n - n_params_total) / (n - 1) * (design.n_clusters - 1) / design.n_clusters
    else:
        df_resid = n - n_params_total
        large_sample_factor = (n - n_params_total) / n
    cov = cov_small if small else cov_small * large_sample_factor
    std_errors = pd.Series(np.sqrt(np.diag(cov)), index=terms)
    statistic = params / std_errors
    if small:
        p_value = pd.Series(2 * stats.t.sf(np.abs(statistic), df_resid), index=terms)
    else:
        p_value = pd.Series(2 * stats.norm.sf(np.abs(statistic)), index=terms)

    rss = float(fit.resids.to_numpy() @ fit.resids.to_numpy())
    slope_terms = [t for t in terms if t != CONSTANT_TERM]
    slope_params = params[slope_terms].to_numpy()
    # A clustered covariance has rank at most G - 1: no joint test beyond that (as ivreg2).
    if vce == "cluster" and len(slope_terms) > design.n_clusters - 1:
        model_f = np.nan
    else:
        slope_cov = cov_small.loc[slope_terms, slope_terms].to_numpy()
        model_f = float(slope_params @ np.linalg.solve(slope_cov, slope_params)) / len(slope_terms)
    fit_stats = {
        "r2": 1.0 - rss / centered_ss,
        "rss": rss,
        "rmse": float(np.sqrt(rss / (n - n_params_total if small else n))),
        "model_f": model_f,
        "model_f_df1": float(len(slope_terms)),
        "model_f_df2": float(df_resid),
        "model_f_p": float(stats.f.sf(model_f, len(slope_terms), df_resid)),
        "df_resid": float(df_resid),
        "absorbed_dof": float(design.absorbed_dof),
    }
    if design.absorbed_dof:
        fit_stats["r2_within"] = 1.0 - rss / float(response @ response)
    if vce == "cluster":
        fit_stats["n_clusters"] = float(design.n_clusters)
    if model_class is IVLIML:
        fit_stats["kclass"] = float(fit.kappa)
        fit_stats["lambda"] = liml_lambda
    return RegressionResult(
        params=params,
        std_errors=std_errors,
        statistic=statistic,
        p_value=p_value,
        nobs=n,
        stat_kind="t" if small else "z",
        stats=fit_stats,
        info=info,
        covariance=cov.to_numpy(),
    )


# --------------------------------------------------------------------------- diagnostics


def _identification_diagnostics(design: _Design, endog_names: list[str], vce: Vce) -> dict[str, float]:
    # Every statistic below is computed on the endogenous regressors and excluded
    # instruments with the included exogenous regressors partialled out (Frisch-Waugh),
    # as ivreg2 and ranktest do.
    x1 = _residualise(design.endog, design.exog)
    z1 = _residualise(design.instruments, design.exog)
    n, k1 = x1.shape
    l1 = z1.shape[1]
    groups = design.clusters if vce == "cluster" else None
    df2 = design.n_clusters - 1 if vce == "cluster" else n - design.n_instruments_total

    out: dict[str, float] = {
        "n_clusters": float(design.n_clusters) if vce == "cluster" else np.nan,
        "absorbed_dof": float(design.absorbed_dof),
        "first_stage_df1": float(l1),
        "sanderson_windmeijer_df1": float(l1 - k1 + 1),
        "diagnostics_df2": float(df2),
    }

    canonical = _canonical_correlations(x1, z1)
    smallest = float(canonical.squared_correlations.min())
    out["cragg_donald_f"] = smallest / (1.0 - smallest) * (n - design.n_instruments_total) / l1
    out["underid_lm_df"] = float(l1 - k1 + 1)
    if vce == "iid":
        out["underid_lm"] = n * smallest
        out["kleibergen_paap_f"] = np.nan
    else:
        out["underid_lm"] = _kleibergen_paap_rk(canonical, x1, z1, x1, groups)
        wald_residuals = x1 - z1 @ canonical.reduced_form
        kp_wald = _kleibergen_paap_rk(canonical, x1, z1, wald_residuals, groups)
        out["kleibergen_paap_f"] = _chi2_to_f(kp_wald, l1, design, vce)
    out["underid_lm_p"] = float(stats.chi2.sf(out["underid_lm"], l1 - k1 + 1))

    fitted = z1 @ np.linalg.lstsq(z1, x1, rcond=None)[0]
    for j, name in enumerate(endog_names):
        first_stage_chi2 = _excluded_instruments_wald(x1[:, j], z1, groups, vce)
        first_stage_f = _chi2_to_f(first_stage_chi2, l1, design, vce)
        residual = x1[:, j] - z1 @ np.linalg.lstsq(z1, x1[:, j], rcond=None)[0]
        out[f"first_stage_f[{name}]"] = first_stage_f
        out[f"first_stage_f_p[{name}]"] = float(stats.f.sf(first_stage_f, l1, df2))
        out[f"partial_r2[{name}]"] = 1.0 - float(residual @ residual) / float(x1[:, j] @ x1[:, j])

        # Sanderson & Windmeijer (2016): the part of x_j not explained by the instrumented
        # other endogenous regressors, tested on the excluded instruments with
        # L1 - K1 + 1 numerator degrees of freedom. With one endogenous regressor it is
        # the first-stage test itself.
        others = [i for i in range(k1) if i != j]
        conditional = x1[:, j]
        if others:
            delta = np.linalg.lstsq(fitted[:, others], x1[:, j], rcond=None)[0]
            conditional = x1[:, j] - x1[:, others] @ delta
        sw_chi2 = _excluded_instruments_wald(conditional, z1, groups, vce)
        sw_f = _chi2_to_f(sw_chi2, l1 - k1 + 1, design, vce)
        out[f"sanderson_windmeijer_f[{name}]"] = sw_f
        out[f"sanderson_windmeijer_f_p[{name}]"] = float(stats.f.sf(sw_f, l1 - k1 + 1, df2))
        out[f"sanderson_windmeijer_chi2[{name}]"] = sw_chi2
        out[f"sanderson_windmeijer_chi2_p[{name}]"] = float(stats.chi2.sf(sw_chi2, l1 - k1 + 1))
    return out


def _instrument_matrix(design: _Design) -> np.ndarray:
    """ivreg2's Z: the excluded instruments followed by the included exogenous regressors."""
    return np.column_stack([design.instruments, design.exog])


def _structural_residuals(design: _Design, params: np.ndarray) -> np.ndarray:
    """Residuals of the structural equation (terms in order: endogenous, then exogenous)."""
    return design.y - np.column_stack([design.endog, design.exog]) @ params


def _moment_covariance(instruments: np.ndarray, residuals: np.ndarray, groups: np.ndarray | None, vce: str) -> np.ndarray:
    """ivreg2's S = Var(Z'u)/N without small-sample factors: (u'u/N) Z'Z/N (iid), the HC0 or
    the CR0 sandwich of the moments."""
    n = len(residuals)
    if vce == "iid":
        return float(residuals @ residuals) / n * (instruments.T @ instruments) / n
    return _score_outer_product(instruments * residuals[:, None], groups if vce == "cluster" else None) / n


def _gmm_criterion(design: _Design, instruments: np.ndarray, moment_covariance: np.ndarray) -> float:
    """Minimised efficient-GMM criterion N g(b)' S^-1 g(b) with the instrument matrix given
    (Hansen's J; Sargan's statistic when S is the iid one)."""
    regressors = np.column_stack([design.endog, design.exog])
    weight = np.linalg.inv(moment_covariance)
    zx = instruments.T @ regressors
    zy = instruments.T @ design.y
    params = np.linalg.solve(zx.T @ weight @ zx, zx.T @ weight @ zy)
    moments = instruments.T @ (design.y - regressors @ params) / design.nobs
    return float(design.nobs * moments @ weight @ moments)


def _overidentification_and_weak_iv_tests(design: _Design, structural: RegressionResult, vce: Vce) -> dict[str, float]:
    """Sargan, Hansen J, LIML's Anderson-Rubin overidentification statistics, and the
    weak-instrument-robust Anderson-Rubin and Stock-Wright tests (module docstring)."""
    n = design.nobs
    n_excluded, n_endog = design.instruments.shape[1], design.endog.shape[1]
    overid_df = n_excluded - n_endog
    groups = design.clusters if vce == "cluster" else None
    instruments = _instrument_matrix(design)
    residuals = _structural_residuals(design, structural.params.to_numpy())
    out: dict[str, float] = {"sargan_df": float(overid_df), "hansen_j_df": float(overid_df)}
    if overid_df > 0:
        fitted = instruments @ np.linalg.lstsq(instruments, residuals, rcond=None)[0]
        out["sargan"] = n * float(residuals @ fitted) / float(residuals @ residuals)
        # With vce="iid" ivreg2's J is the Sargan statistic of the fit's own residuals (after
        # 2SLS this is also the minimised criterion; after LIML it is not).
        out["hansen_j"] = out["sargan"] if vce == "iid" else _gmm_criterion(
            design, instruments, _moment_covariance(instruments, residuals, groups, vce))
    else:
        out["sargan"] = out["hansen_j"] = np.nan
    out["sargan_p"] = float(stats.chi2.sf(out["sargan"], overid_df)) if overid_df > 0 else np.nan
    out["hansen_j_p"] = float(stats.chi2.sf(out["hansen_j"], overid_df)) if overid_df > 0 else np.nan
    if "lambda" in structural.stats:
        liml_lambda = structural.stats["lambda"]
        out["kclass"] = structural.stats["kclass"]
        out["lambda"] = liml_lambda
        out["anderson_rubin_overid"] = n * float(np.log(liml_lambda))
        out["anderson_rubin_overid_lin"] = n * (liml_lambda - 1.0)
        for name in ("anderson_rubin_overid", "anderson_rubin_overid_lin"):
            out[f"{name}_p"] = float(stats.chi2.sf(out[name], overid_df)) if overid_df > 0 else np.nan

    # Anderson-Rubin: the excluded instruments in the reduced form of y (H0: the endogenous
    # coefficients are zero), with the exogenous regressors partialled out (Frisch-Waugh).
    restricted = _residualise(design.y, design.exog)
    ar_chi2 = _excluded_instruments_wald(restricted, _residualise(design.instruments, design.exog), groups, vce)
    df2 = design.n_clusters - 1 if vce == "cluster" else n - design.n_instruments_total
    out["anderson_rubin_chi2"] = ar_chi2
    out["anderson_rubin_chi2_p"] = float(stats.chi2.sf(ar_chi2, n_excluded))
    out["anderson_rubin_f"] = _chi2_to_f(ar_chi2, n_excluded, design, vce)
    out["anderson_rubin_f_p"] = float(stats.f.sf(out["anderson_rubin_f"], n_excluded, df2))
    out["anderson_rubin_df"] = float(n_excluded)
    out["anderson_rubin_df2"] = float(df2)
    # Stock-Wright LM S: the score form of the same hypothesis, S formed from the restricted
    # residuals and the full instrument matrix (not partialled; ivreg2 does it this way).
    moments = instruments.T @ restricted / n
    moment_covariance = _moment_covariance(instruments, restricted, groups, vce)
    out["stock_wright_s"] = float(n * moments @ np.linalg.solve(moment_covariance, moments))
    out["stock_wright_s_df"] = float(n_excluded)
    out["stock_wright_s_p"] = float(stats.chi2.sf(out["stock_wright_s"], n_excluded))
    return out


def _residualise(target: np.ndarray, regressors: np.ndarray) -> np.ndarray:
    if regressors.shape[1] == 0:
        return target.copy()
    return target - regressors @ np.linalg.lstsq(regressors, target, rcond=None)[0]


def _chi2_to_f(chi2: float, df1: int, design: _Design, vce: Vce) -> float:
    """ivreg2's conversion of an unscaled Wald statistic to its small-sample F."""
    n = design.nobs
    residual_dof = n - design.n_instruments_total
    if vce == "cluster":
        g = design.n_clusters
        return chi2 / (n - 1) * residual_dof * (g - 1) / g / df1
    return chi2 / n * residual_dof / df1


def _score_outer_product(scores: np.ndarray, groups: np.ndarray | None) -> np.ndarray:
    """sum_g s_g s_g' of the scores summed within clusters: rows are their own clusters when
    ``groups`` is None; (n, Q) ``groups`` give the multi-way (CGM) sum."""
    if groups is not None and groups.ndim == 2:
        return multiway_meat(scores, groups)
    summed = _group_scores(scores, groups)
    return summed.T @ summed


def _group_scores(scores: np.ndarray, groups: np.ndarray | None) -> np.ndarray:
    """Scores summed within clusters (rows are their own clusters when ``groups`` is None)."""
    if groups is None:
        return scores
    summed = np.zeros((int(groups.max()) + 1, scores.shape[1]))
    np.add.at(summed, groups, scores)
    return summed


def _excluded_instruments_wald(response: np.ndarray, z1: np.ndarray, groups: np.ndarray | None, vce: Vce) -> float:
    """Wald statistic that all coefficients are zero in the OLS of ``response`` on ``z1``,
    with ivreg2's unscaled covariance: RSS/N * (Z'Z)^-1 (iid), HC0 or CR0 sandwich."""
    zz_inv = np.linalg.inv(z1.T @ z1)
    coef = zz_inv @ (z1.T @ response)
    residual = response - z1 @ coef
    if vce == "iid":
        cov = float(residual @ residual) / len(response) * zz_inv
    else:
        cov = zz_inv @ _score_outer_product(z1 * residual[:, None], groups) @ zz_inv
    return float(coef @ np.linalg.solve(cov, coef))


@dataclass(frozen=True)
class _Canonical:
    """Canonical correlations of X1 and Z1 via the SVD of theta = chol(Qzz)' Pi chol(Qxx)^-1."""

    theta: np.ndarray
    left: np.ndarray
    right: np.ndarray
    squared_correlations: np.ndarray
    reduced_form: np.ndarray
    x_chol_inv: np.ndarray
    z_chol_inv: np.ndarray


def _canonical_correlations(x1: np.ndarray, z1: np.ndarray) -> _Canonical:
    n = x1.shape[0]
    qzz = z1.T @ z1 / n
    qzx = z1.T @ x1 / n
    qxx = x1.T @ x1 / n
    z_chol = linalg.cholesky(qzz, lower=False)
    x_chol = linalg.cholesky(qxx, lower=False)
    z_chol_inv = linalg.solve_triangular(z_chol, np.eye(z1.shape[1]), lower=False)
    x_chol_inv = linalg.solve_triangular(x_chol, np.eye(x1.shape[1]), lower=False)
    reduced_form = linalg.cho_solve((z_chol, False), qzx)
    theta = z_chol @ reduced_form @ x_chol_inv
    left, singular, right_t = np.linalg.svd(theta, full_matrices=True)
    if singular.max() >= 1.0:
        raise ValueError("an instrument is collinear with an endogenous regressor (canonical correlation 1)")
    return _Canonical(
        theta=theta,
        left=left,
        right=right_t.T,
        squared_correlations=singular**2,
        reduced_form=reduced_form,
        x_chol_inv=x_chol_inv,
        z_chol_inv=z_chol_inv,
    )


def _symmetric_sqrt(matrix: np.ndarray) -> np.ndarray:
    eigenvalues, eigenvectors = np.linalg.eigh(matrix)
    return (eigenvectors * np.sqrt(np.clip(eigenvalues, 0.0, None))) @ eigenvectors.T


def _kleibergen_paap_rk(
    canonical: _Canonical,
    x1: np.ndarray,
    z1: np.ndarray,
    residuals: np.ndarray,
    groups: np.ndarray | None,
) -> float:
    """Kleibergen-Paap (2006) rk statistic for H0: rank = K1 - 1, as ranktest computes it.

    ``residuals`` are X1 itself for the LM version and the reduced-form residuals for the
    Wald version. The statistic is N * lambda' V^-1 lambda, where lambda projects vec(theta)
    on the singular vectors of the K1-th (smallest) canonical correlation and V is the
    robust or cluster-robust covariance of vec(theta).
    """
    n, k1 = x1.shape
    l1 = z1.shape[1]
    # Row i of the score matrix is kron(residuals_i, z1_i), matching vec(theta) column-major.
    scores = (residuals[:, :, None] * z1[:, None, :]).reshape(n, k1 * l1)
    score_cov = _score_outer_product(scores, groups) / n
    transform = np.kron(canonical.x_chol_inv.T, canonical.z_chol_inv.T)
    theta_cov = transform @ score_cov @ transform.T

    kk = k1 - 1
    u12 = canonical.left[:kk, kk:]
    u22 = canonical.left[kk:, kk:]
    v12 = canonical.right[:kk, kk:]
    v22 = canonical.right[kk:, kk:]
    a_q = np.vstack([u12, u22]) @ np.linalg.solve(u22, _symmetric_sqrt(u22 @ u22.T))
    b_q = _symmetric_sqrt(v22 @ v22.T) @ np.linalg.solve(v22.T, np.vstack([v12, v22]).T)
    projection = np.kron(b_q, a_q.T)
    lam = projection @ canonical.theta.reshape(-1, order="F")
    lam_cov = projection @ theta_cov @ projection.T
    lam_cov = (lam_cov + lam_cov.T) / 2
    return float(n * lam @ np.linalg.solve(lam_cov, lam))


# --------------------------------------------------------------------------- instrument builders


def lagged(data: pd.DataFrame, column: str, entity: str, time: str, periods: int = 1) -> pd.Series:
    """``column`` of the same ``entity`` at ``time`` - ``periods`` (Stata's ``L{periods}.``),
    aligned on ``data``'s index.

    A true lag: the value of the row whose period is exactly ``periods`` earlier, not the
    previous row, so a gap in a firm's years leaves the lag missing. ``time`` must hold
    integer periods; an (entity, time) pair may occur only once.
    """
    require_dataframe(data)
    require_columns(data, [column, entity, time])
    require_finite_numeric(data, [column, time])
    if not isinstance(periods, (int, np.integer)) or periods < 1:
        raise ValueError(f"periods must be a positive integer, got {periods!r}")
    periods_column = data[time]
    if periods_column.isna().any() or not np.all(np.mod(periods_column.to_numpy(dtype=float), 1) == 0):
        raise ValueError(f"time column {time!r} must hold integer periods without missing values")
    if data.duplicated([entity, time]).any():
        first = data.loc[data.duplicated([entity, time]), [entity, time]].iloc[0]
        raise ValueError(f"({entity}, {time}) = ({first[entity]!r}, {first[time]!r}) occurs more than once")
    earlier = pd.DataFrame(
        {entity: data[entity], time: periods_column + periods, "_value": data[column]}
    )
    current = data[[entity, time]].reset_index(drop=True)
    merged = current.merge(earlier, on=[entity, time], how="left", validate="one_to_one")
    return pd.Series(merged["_value"].to_numpy(dtype=float), index=data.index, name=f"L{periods}_{column}")


def group_mean(data: pd.DataFrame, column: str, by: Sequence[str], leave_one_out: bool = False) -> pd.Series:
    """Mean of ``column`` within the cells of ``by`` (e.g. industry x year), aligned on ``data``.

    With ``leave_one_out`` each row gets the mean of the other rows of its cell (NaN when it is
    alone there), the variant that keeps a firm's own value out of its instrument. Missing
    values of ``column`` are left out of the means; rows missing a ``by`` value get NaN.
    """
    require_dataframe(data)
    by = list(by)
    require_columns(data, [column, *by])
    require_finite_numeric(data, [column])
    values = data[column].astype(float)
    cells = data[by].copy()
    totals = values.groupby([cells[name] for name in by], dropna=True).transform("sum")
    counts = values.notna().groupby([cells[name] for name in by], dropna=True).transform("sum").astype(float)
    totals = totals.reindex(data.index)
    counts = counts.reindex(data.index)
    if leave_one_out:
        own = values.notna()
        totals = totals - values.fillna(0.0)
        counts = counts - own.astype(float)
    with np.errstate(invalid="ignore", divide="ignore"):
        means = totals / counts.where(counts > 0)
    suffix = "_loo" if leave_one_out else ""
    return means.rename(f"mean_{column}_by_{'_'.join(by)}{suffix}")
