"""Least squares with absorbed fixed effects, with the conventions of Stata's ``reghdfe``.

``fit_ols(data, "y", ["x"], fixed_effects=["firm", "year"], cluster="firm")`` reproduces
``reghdfe y x, absorb(firm year) vce(cluster firm)`` (reghdfe 6, defaults):

* observations with a missing value in any variable used are dropped, then singleton
  groups of the fixed effects, iteratively (reported in ``stats``);
* the fixed effects are partialled out (within transformation) and the means are added
  back, so that the regression on the transformed data with an intercept reports the
  constant ``const`` = mean(y) - mean(X) b with its standard error from the same
  covariance matrix (reghdfe's "regression through the means", Regression.mata
  ``reghdfe_extend_b_and_xx``);
* the fixed effects are absorbed and their degrees of freedom counted by the one kernel
  shared with the IV and mediation estimators (:mod:`analysis.absorption`): reghdfe's
  default ``dofadjustments(all)``, nested fixed effects and mobility groups included.
  A fixed effect every level of which lies
  inside one level of an earlier one (province when firms never move, without firm
  clustering) thus costs nothing; with movers it loses one level per mobility group.
  With ``cluster=firm`` the firm effect leaves the list first, so a province effect
  absorbed next to it is charged its levels minus one, movers or not (reghdfe's choice:
  its pairwise count never sees the firm effect; the measured effect on Table 5 column 1
  is ~0.06% on the standard errors);
* small-sample factors: iid and robust use N - df_a - df_m, clustered uses
  (N - 1) / (N - df_m - df_a - [1 if a fixed effect is nested in the clusters]) x G / (G - 1),
  and clustered inference uses t with min(N - df_a - df_m, G - 1) degrees of freedom;
* several cluster variables (``cluster=["firm", "year"]``) give reghdfe's multi-way
  covariance (Cameron, Gelbach and Miller 2011; ``analysis.clustering``): G is the smallest
  number of clusters, a fixed effect nested in any of the cluster variables is treated as
  nested, and a covariance that is not positive semidefinite has its negative eigenvalues
  set to zero (reghdfe's ``reghdfe_fix_psd``).

pyfixest's ``feols`` implements the same within estimator, but it reports no constant
(nor the constant's covariance with the slopes) and its fixed-effect count (levels minus
one per extra fixed effect, pyfixest/utils/utils.py ``get_ssc``) neither detects a fixed
effect nested in another one nor counts mobility groups. So pyfixest's Rust kernels do
the heavy lifting (singleton detection here, the within transformation in
:mod:`analysis.absorption`) and the sandwich is formed below;
tests/reference checks the results against Stata, gretl, statsmodels and pyfixest's feols.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import Sequence

import numpy as np
import pandas as pd
from pyfixest.core.detect_singletons import detect_singletons
from scipy import stats

from analysis.absorption import AbsorbedDegreesOfFreedom, absorbed_degrees_of_freedom, demean_fixed_effects, level_codes
from analysis.clustering import clip_to_positive_semidefinite, cluster_counts, multiway_meat
from analysis.clustering import cluster_codes as factorize_clusters
from analysis.results import CONSTANT_TERM, RegressionResult
from analysis.validation import require_columns, require_dataframe, require_finite_numeric, resolve_vce

ABSORBED_REGRESSOR_TOLERANCE = 1e-9
"""A regressor whose within variation is below this share of its total variation is absorbed."""


def _validate(
    data: pd.DataFrame,
    depvar: str,
    regressors: list[str],
    fixed_effects: list[str],
    clusters: list[str],
    weights: str | None,
) -> None:
    require_dataframe(data)
    numeric = [depvar, *regressors] + ([weights] if weights is not None else [])
    require_columns(data, numeric + fixed_effects + clusters)
    if len(set(clusters)) < len(clusters):
        raise ValueError(f"a cluster variable is listed more than once: {clusters}")
    model_terms = [depvar, *regressors]
    repeated = sorted({name for name in model_terms if model_terms.count(name) > 1})
    if repeated:
        raise ValueError(f"column(s) used more than once as depvar/regressor: {', '.join(repeated)}")
    if CONSTANT_TERM in regressors:
        raise ValueError(f"{CONSTANT_TERM!r} is reserved for the constant, which is always included")
    repeated_fe = sorted({name for name in fixed_effects if fixed_effects.count(name) > 1})
    if repeated_fe:
        raise ValueError(f"fixed effect(s) listed more than once: {', '.join(repeated_fe)}")
    require_finite_numeric(data, numeric, allow_bool=True)
    if weights is not None and (data[weights].dropna() <= 0).any():
        raise ValueError(f"weights column {weights!r} has zero or negative value(s)")


def _check_identified(within: np.ndarray, centred: np.ndarray, weights: np.ndarray, regressors: list[str]) -> None:
    """Raise naming the first regressor that is absorbed by the fixed effects or collinear."""
    for position, name in enumerate(regressors):
        total = float(np.sum(weights * centred[:, position] ** 2))
        kept = float(np.sum(weights * within[:, position] ** 2))
        if total == 0 or kept <= ABSORBED_REGRESSOR_TOLERANCE * total:
            raise ValueError(f"regressor {name!r} is constant or absorbed by the fixed effects")
    scaled = within * np.sqrt(weights)[:, None]
    scaled = scaled / np.linalg.norm(scaled, axis=0)
    for position, name in enumerate(regressors):
        if np.linalg.matrix_rank(scaled[:, : position + 1]) <= position:
            raise ValueError(f"regressor {name!r} is collinear with the regressors listed before it")


def _estimation_sample(data: pd.DataFrame, used: list[str], fixed_effects: list[str]) -> tuple[pd.DataFrame, int, int]:
    """Complete cases of ``used``, then without the singletons of the fixed effects (iteratively)."""
    complete = data[used].notna().all(axis=1)
    sample = data.loc[complete, used]
    singletons_dropped = 0
    if fixed_effects and len(sample):
        singleton = detect_singletons(np.column_stack([level_codes(sample[name]) for name in fixed_effects]))
        singletons_dropped = int(singleton.sum())
        sample = sample.loc[~singleton]
    return sample, int((~complete).sum()), singletons_dropped


def _covariance(
    design: np.ndarray,
    residuals: np.ndarray,
    weights: np.ndarray,
    vce: str,
    dof: AbsorbedDegreesOfFreedom,
    cluster_codes: np.ndarray | None,
) -> tuple[np.ndarray, int]:
    """reghdfe's covariance of the coefficients (Regression.mata) and the t/F degrees of freedom."""
    n_obs, n_terms = design.shape
    df_unclustered = n_obs - dof.df_absorbed - (n_terms - 1)
    bread = np.linalg.inv(design.T @ (design * weights[:, None]))
    scores = design * (weights * residuals)[:, None]
    if vce == "iid":
        rss = float(np.sum(weights * residuals**2))
        return rss / df_unclustered * bread, df_unclustered
    if vce == "robust":
        return bread @ (scores.T @ scores) @ bread * (n_obs / df_unclustered), df_unclustered
    n_clusters = min(cluster_counts(cluster_codes.reshape(n_obs, -1)))
    # reghdfe takes one more degree of freedom when a fixed effect is nested in the clusters
    # (the constant, which the nested fixed effect no longer accounts for), matching xtreg.
    nested_adjustment = 1 if dof.levels_nested_in_cluster else 0
    factor = (n_obs - 1) / (df_unclustered - nested_adjustment) * n_clusters / (n_clusters - 1)
    vcov = bread @ multiway_meat(scores, cluster_codes) @ bread * factor
    if cluster_codes.reshape(n_obs, -1).shape[1] > 1:
        vcov = clip_to_positive_semidefinite(vcov, constant_last=True)
    return vcov, min(df_unclustered, n_clusters - 1)


def fit_ols(
    data: pd.DataFrame,
    depvar: str,
    regressors: Sequence[str],
    fixed_effects: Sequence[str] = (),
    cluster: str | Sequence[str] | None = None,
    vce: str | None = None,
    weights: str | None = None,
) -> RegressionResult:
    """OLS of ``depvar`` on ``regressors`` and a constant, absorbing ``fixed_effects``.

    ``vce`` is "cluster" (by the column ``cluster``), "robust" or "iid"; by default it is
    "cluster" when ``cluster`` is given and "robust" otherwise; a list of several cluster
    columns gives multi-way clustering (reghdfe's ``vce(cluster a b)``). ``weights`` names a
    column of analytic weights (Stata aweights). Terms are the regressors followed by ``const``.

    ``stats``: r2 (of the full model, fixed effects included, as Stata prints it), r2_within,
    r2_adj, r2_within_adj, F (Wald test of the regressors, excluding the constant), F_p_value,
    rmse, df_model, df_resid (of the t and F tests), df_absorbed, singletons_dropped,
    missing_dropped and, for clustered errors, n_clusters (the smallest count when
    multi-way, with n_clusters[<name>] for each cluster variable).
    """
    regressors = list(regressors)
    fixed_effects = list(fixed_effects)
    clusters = [] if cluster is None else [cluster] if isinstance(cluster, str) else list(cluster)
    vce = resolve_vce(vce, ", ".join(clusters) or None)
    _validate(data, depvar, regressors, fixed_effects, clusters, weights)

    used = list(dict.fromkeys([depvar, *regressors, *fixed_effects, *clusters, *filter(None, [weights])]))
    sample, missing_dropped, singletons_dropped = _estimation_sample(data, used, fixed_effects)
    n_obs = len(sample)
    n_terms = len(regressors) + 1
    if n_obs <= n_terms:
        raise ValueError(f"{n_obs} usable observation(s) for {n_terms} coefficient(s)")

    # Without fixed effects the constant plays the part of the one absorbed level (reghdfe's
    # noabsorb), so both cases share the same transformation and degrees-of-freedom rules.
    absorbed = {name: level_codes(sample[name]) for name in fixed_effects} or {"_cons": np.zeros(n_obs, np.int64)}
    cluster_codes = factorize_clusters(sample[clusters]) if vce == "cluster" else None  # (n, Q)
    counts = cluster_counts(cluster_codes) if cluster_codes is not None else []
    n_clusters = min(counts) if counts else 0
    for name, count in zip(clusters, counts):
        if count < 2:
            raise ValueError(f"cluster column {name!r} has {count} cluster(s) in the sample; at least 2 needed")

    # Analytic weights are rescaled to sum to N, as reghdfe does.
    obs_weights = np.ones(n_obs) if weights is None else sample[weights].to_numpy(dtype=float)
    obs_weights = obs_weights * (n_obs / obs_weights.sum())

    y_and_x = sample[[depvar, *regressors]].to_numpy(dtype=float)
    means = np.average(y_and_x, axis=0, weights=obs_weights)
    within = demean_fixed_effects(y_and_x, absorbed, obs_weights)
    _check_identified(within[:, 1:], y_and_x[:, 1:] - means[1:], obs_weights, regressors)

    design = np.column_stack([within[:, 1:] + means[1:], np.ones(n_obs)])
    outcome = within[:, 0] + means[0]
    root_weights = np.sqrt(obs_weights)
    params = np.linalg.lstsq(design * root_weights[:, None], outcome * root_weights, rcond=None)[0]
    residuals = outcome - design @ params

    dof = absorbed_degrees_of_freedom(absorbed, cluster_codes)
    vcov, df_resid = _covariance(design, residuals, obs_weights, vce, dof, cluster_codes)
    std_errors = np.sqrt(np.diag(vcov))
    t_stats = params / std_errors
    p_values = 2 * stats.t.sf(np.abs(t_stats), df_resid)

    # With more regressors than clusters - 1 the clustered covariance is singular and, as in
    # reghdfe, the joint test is not reported.
    df_model = len(regressors)
    slopes = params[:df_model]
    testable = df_model > 0 and (vce != "cluster" or df_model <= n_clusters - 1)
    f_stat = float(slopes @ np.linalg.solve(vcov[:df_model, :df_model], slopes) / df_model) if testable else np.nan
    f_p_value = float(stats.f.sf(f_stat, df_model, df_resid)) if testable else np.nan

    rss = float(np.sum(obs_weights * residuals**2))
    tss = float(np.sum(obs_weights * (y_and_x[:, 0] - means[0]) ** 2))
    tss_within = float(np.sum(obs_weights * within[:, 0] ** 2))
    # The residual degrees of freedom of the fit: the levels nested in the clusters count here.
    df_fit = n_obs - dof.df_absorbed - df_model - dof.levels_nested_in_cluster
    model_stats = {
        "r2": 1 - rss / tss,
        "r2_within": 1 - rss / tss_within,
        "r2_adj": 1 - (rss / df_fit) / (tss / (n_obs - 1)),
        "r2_within_adj": 1 - (rss / df_fit) / (tss_within / (df_fit + df_model)),
        "F": f_stat,
        "F_p_value": f_p_value,
        "rmse": float(np.sqrt(rss / df_fit)),
        "df_model": df_model,
        "df_resid": df_resid,
        "df_absorbed": dof.df_absorbed,
        "singletons_dropped": singletons_dropped,
        "missing_dropped": missing_dropped,
    }
    if vce == "cluster":
        model_stats["n_clusters"] = n_clusters
        if len(clusters) > 1:
            model_stats.update({f"n_clusters[{name}]": count for name, count in zip(clusters, counts)})

    terms = [*regressors, CONSTANT_TERM]
    return RegressionResult(
        params=pd.Series(params, index=terms),
        std_errors=pd.Series(std_errors, index=terms),
        statistic=pd.Series(t_stats, index=terms),
        p_value=pd.Series(p_values, index=terms),
        nobs=n_obs,
        stat_kind="t",
        stats=model_stats,
        covariance=vcov,
        info={
            "estimator": "ols",
            "depvar": depvar,
            "fixed_effects": ", ".join(fixed_effects) or "none",
            "redundant_fixed_effects": ", ".join(dof.redundant_fixed_effects) or "none",
            "vce": vce,
            "cluster": ", ".join(clusters) or "none",
            "weights": weights or "none",
        },
    )


WILD_BOOTSTRAP_WEIGHTS = ("rademacher", "webb")


@dataclass(frozen=True)
class WildBootstrapTest:
    """A wild cluster bootstrap test of H0: the coefficient of ``param`` is zero.

    ``t_stat`` is the cluster-robust t statistic of the original fit, ``p_value`` the
    symmetric bootstrap p-value (share of bootstrap |t*| strictly above |t|, wildboottest's
    convention: the sign vectors that reproduce the data are not counted); ``full_enumeration``
    says whether all 2^G Rademacher sign vectors were used instead of random draws."""

    param: str
    t_stat: float
    p_value: float
    reps: int
    weights_type: str
    n_clusters: int
    full_enumeration: bool


def wild_cluster_bootstrap(
    data: pd.DataFrame,
    depvar: str,
    regressors: Sequence[str],
    param: str,
    cluster: str,
    *,
    fixed_effects: Sequence[str] = (),
    weights_type: str = "rademacher",
    reps: int = 9999,
    rng: np.random.Generator,
) -> WildBootstrapTest:
    """Wild cluster restricted (WCR, "11") bootstrap of the t test of ``param`` = 0 for few
    clusters (Cameron, Gelbach and Miller 2008; Roodman et al. 2019's ``boottest`` default).

    The well-kept ``wildboottest`` package does the work, through pyfixest's
    ``Feols.wildboottest`` (fixed effects as dummies in the bootstrap): the null is imposed,
    the weights are Rademacher or Webb's six-point, and with Rademacher weights and
    ``reps`` > 2^G every sign vector is enumerated (the p-value is then exact, not random).
    ``rng`` draws the seed handed to the library."""
    import pyfixest  # heavy; only this test needs the formula interface

    regressors = list(regressors)
    fixed_effects = list(fixed_effects)
    if weights_type not in WILD_BOOTSTRAP_WEIGHTS:
        raise ValueError(f"weights_type must be one of {', '.join(WILD_BOOTSTRAP_WEIGHTS)}, got {weights_type!r}")
    if param not in regressors:
        raise ValueError(f"param {param!r} is not among the regressors {regressors}")
    if not isinstance(reps, (int, np.integer)) or reps < 1:
        raise ValueError(f"reps must be a positive integer, got {reps!r}")
    if not isinstance(rng, np.random.Generator):
        raise ValueError("rng must be a numpy.random.Generator")
    _validate(data, depvar, regressors, fixed_effects, [cluster], None)
    used = list(dict.fromkeys([depvar, *regressors, *fixed_effects, cluster]))
    sample = data[used].dropna()
    n_clusters = int(sample[cluster].nunique())
    formula = f"{depvar} ~ {' + '.join(regressors)}" + (f" | {' + '.join(fixed_effects)}" if fixed_effects else "")
    fit = pyfixest.feols(formula, data=sample, vcov={"CRV1": cluster})
    full_enumeration = weights_type == "rademacher" and 2**n_clusters < reps
    with warnings.catch_warnings():
        # pyfixest warns when it switches to full enumeration, which is reported instead.
        warnings.simplefilter("ignore", UserWarning)
        output = fit.wildboottest(param=param, reps=int(reps), cluster=cluster, weights_type=weights_type,
                                  impose_null=True, bootstrap_type="11", seed=int(rng.integers(2**31 - 1)))
    return WildBootstrapTest(
        param=param, t_stat=float(output["t value"]), p_value=float(output["Pr(>|t|)"]),
        reps=2**n_clusters if full_enumeration else int(reps), weights_type=weights_type,
        n_clusters=n_clusters, full_enumeration=full_enumeration,
    )
