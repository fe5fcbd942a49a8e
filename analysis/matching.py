"""Propensity score matching with the conventions of Stata's ``psmatch2`` and ``pstest``
(paper Table 7, Figure 1 and the matched sample of Table 5 column 5).

Propensity score: a logit (this project's default, as the paper says) or probit (psmatch2's
default) of the treatment on the covariates and a constant, fitted by statsmodels. Rows
missing the treatment or a covariate are dropped first, as psmatch2's ``marksample`` does.

Nearest-neighbour matching on the score (psmatch2 ``neighbor(k) caliper(c) [noreplacement]``):

* A treated unit whose nearest eligible control lies at a distance of ``caliper`` or more gets
  no match and is off support (psmatch2's ``_support`` = 0; psmatch2 compares with a strict
  ``<``). Controls are always on support, as in psmatch2 without ``common``.
* With replacement every treated unit takes its ``ratio`` nearest controls; the processing
  order is then irrelevant and, for ``ratio=1``, the matches are exactly psmatch2's.
* Without replacement treated units are processed one at a time in ``order`` and each takes
  the nearest control not used yet (MatchIt's rule); with ``ratio`` k this runs in k rounds,
  every treated unit getting its first match before any gets its second (MatchIt). psmatch2's
  ``noreplacement`` is a one-directional sweep instead: it visits treated units by ascending
  score and only looks forward from its previous match, so it can skip a nearer control left
  behind; ``order="smallest"`` is its processing order, not its rule.
* Ties: at equal distance the control with the lower score wins (psmatch2's forward scan
  meets it first); among equal scores the row that comes first in ``data`` wins (psmatch2's
  sort order, MatchIt's documented rule). psmatch2 users ``set seed`` and sort randomly
  before matching so that these ties and the processing order are random but reproducible;
  ``order="random"`` draws the processing order from ``rng`` and shuffling the rows with a
  seeded generator beforehand does the same for the ties.
* ``order``: "random" (default, a permutation drawn from ``rng``), "data" (row order),
  "largest" (descending score, MatchIt's default) or "smallest" (ascending score, the order
  in which psmatch2 visits treated units). Ties in the score keep row order.
* Weights are psmatch2's ``_weight``: 1 for a treated unit on support; for a control the sum,
  over the treated units it is matched to, of 1 / (that unit's number of matches); 0 for
  everything else (psmatch2 stores a missing value there).

The search for the nearest unused control keeps the controls sorted by score and, for each
side, a union-find structure pointing to the next unused control, so matching without
replacement costs O(n log n) (about 0.1 s for 12,000 treated and 12,000 controls).

``balance_table`` follows ``pstest`` 4.2.2 (Leuven & Sianesi, routine ``breduc1``): means,
standardised %bias 100 (mean_t - mean_c) / sqrt((var_t + var_c) / 2) with the variances of
the unmatched sample in both rows, %reduction of |bias| and the two-sample t-test of
``regress x treated`` (matched rows: ``[iweight=_weight]`` on the treated on support and the
used controls).
"""

from __future__ import annotations

import bisect
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import statsmodels.api as sm
from scipy import stats
from statsmodels.stats.weightstats import CompareMeans, DescrStatsW

from analysis.results import (
    CONSTANT_TERM,
    TIDY_COLUMNS,
    CovarianceInference,
    DelegatesToRegression,
    FrozenFields,
    RegressionResult,
    labelled_covariance,
    model_stats_frame,
)
from analysis.validation import require_columns, require_dataframe, require_finite_numeric

MODELS: tuple[str, ...] = ("logit", "probit")
ORDERS: tuple[str, ...] = ("random", "data", "largest", "smallest")
MATCH_WEIGHT_COLUMN = "match_weight"
"""Column of the matched sample holding psmatch2's ``_weight``."""

BALANCE_COLUMNS: tuple[str, ...] = (
    "variable",
    "sample",
    "mean_treated",
    "mean_control",
    "pct_bias",
    "pct_reduction_abs_bias",
    "t",
    "p_value",
)
DENSITY_GRID_POINTS = 256


@dataclass(frozen=True)
class PropensityScoreResult(DelegatesToRegression):
    """The fitted treatment model and the score of every row it used."""

    model: RegressionResult
    scores: pd.Series

    _regression = "model"

    def __post_init__(self) -> None:
        scores = self.scores.astype(float).copy()
        scores.name = "propensity_score"
        object.__setattr__(self, "scores", scores)


@dataclass(frozen=True)
class MatchResult(FrozenFields, CovarianceInference):
    """Nearest-neighbour matches on the propensity score, with psmatch2's output variables.

    ``treated``, ``scores``, ``on_support`` (psmatch2 ``_support``) and ``weights`` (psmatch2
    ``_weight``) are indexed like the rows of ``data`` that entered the matching. ``pairs``
    has one row per match: ``treated_index``, ``control_index`` (labels of ``data``),
    ``distance`` (absolute score difference) and ``match_number`` (1..ratio). ``matched_sample``
    holds the rows of ``data`` of the treated units on support and of the controls used, in
    data order, with their weight in ``match_weight``. ``stats`` holds the counts
    ``n_treated``, ``n_controls``, ``n_treated_matched``, ``n_treated_off_support``,
    ``n_controls_matched`` (distinct controls used), ``n_pairs`` and ``n_matched_sample``.
    ``params``/``tidy()`` are those of the propensity model (empty when a score was given).
    """

    propensity: PropensityScoreResult | None
    treated: pd.Series
    scores: pd.Series
    on_support: pd.Series
    weights: pd.Series
    pairs: pd.DataFrame
    matched_sample: pd.DataFrame
    stats: Mapping[str, int] = field(default_factory=dict)
    info: Mapping[str, str] = field(default_factory=dict)

    _frozen = {"stats": "ints", "info": "texts"}

    @property
    def nobs(self) -> int:
        return len(self.treated)

    @property
    def params(self) -> pd.Series:
        if self.propensity is None:
            return pd.Series(dtype=float, name="params")
        return self.propensity.params

    @property
    def std_errors(self) -> pd.Series:
        if self.propensity is None:
            return pd.Series(dtype=float, name="std_errors")
        return self.propensity.std_errors

    @property
    def vcov(self) -> pd.DataFrame:
        if self.propensity is None:
            return labelled_covariance(np.empty((0, 0)), [])
        return self.propensity.vcov

    def tidy(self) -> pd.DataFrame:
        if self.propensity is None:
            return pd.DataFrame(columns=list(TIDY_COLUMNS))
        return self.propensity.tidy()

    def model_stats(self) -> pd.DataFrame:
        """nobs, the propensity model's statistics (when it was fitted here), the match counts
        of ``stats`` and ``info`` as a long (stat, value, text) frame."""
        model = {} if self.propensity is None else dict(self.propensity.stats)
        return model_stats_frame(self.nobs, {**model, **self.stats}, self.info)


def _binary_treatment(values: pd.Series, name: str) -> pd.Series:
    """The treatment as booleans; raises unless it takes exactly the values 0 and 1."""
    observed = set(pd.unique(values.dropna()).tolist())
    if not observed <= {0, 1} or len(observed) < 2:
        raise ValueError(
            f"treatment column {name!r} must take the values 0 and 1 (both present), has {sorted(observed)}"
        )
    return values.astype(bool)


def _validate_frame(data: pd.DataFrame) -> None:
    require_dataframe(data)
    if not data.index.is_unique:
        raise ValueError("data must have a unique index: matches are reported by index label")


def propensity_scores(
    data: pd.DataFrame, treatment: str, covariates: Sequence[str], model: str = "logit"
) -> PropensityScoreResult:
    """Logit or probit of ``treatment`` (0/1) on ``covariates`` and a constant.

    Rows missing any of these columns are dropped. The coefficient table has z statistics;
    ``stats`` holds ``pseudo_r2`` (McFadden, Stata's ``e(r2_p)``), ``lr_chi2``,
    ``lr_p_value`` and ``log_likelihood``. ``scores`` are the predicted probabilities.
    """
    _validate_frame(data)
    covariates = list(covariates)
    if model not in MODELS:
        raise ValueError(f"model must be one of {', '.join(MODELS)}, got {model!r}")
    if not covariates:
        raise ValueError("covariates must name at least one column")
    if treatment in covariates or len(set(covariates)) < len(covariates):
        raise ValueError("covariates must be distinct and must not include the treatment")
    if CONSTANT_TERM in covariates:
        raise ValueError(f"{CONSTANT_TERM!r} is reserved for the constant, which is always included")
    require_columns(data, [treatment, *covariates])
    require_finite_numeric(data, [treatment, *covariates])

    sample = data[[treatment, *covariates]].dropna()
    outcome = _binary_treatment(sample[treatment], treatment).astype(float)
    exog = sample[covariates].astype(float).assign(**{CONSTANT_TERM: 1.0})
    if np.linalg.matrix_rank(exog.to_numpy()) < exog.shape[1]:
        raise ValueError(f"covariates {covariates} are collinear (with each other or the constant)")
    estimator = sm.Logit if model == "logit" else sm.Probit
    fit = estimator(outcome, exog).fit(disp=0, maxiter=200)
    if not fit.mle_retvals["converged"]:
        raise RuntimeError(f"the {model} model of {treatment!r} did not converge")
    fitted = RegressionResult(
        params=fit.params,
        std_errors=fit.bse,
        statistic=fit.tvalues,
        p_value=fit.pvalues,
        nobs=int(fit.nobs),
        stat_kind="z",
        stats={
            "pseudo_r2": fit.prsquared,
            "lr_chi2": fit.llr,
            "lr_p_value": fit.llr_pvalue,
            "log_likelihood": fit.llf,
        },
        info={"estimator": model, "depvar": treatment},
        covariance=fit.cov_params().to_numpy(),
    )
    return PropensityScoreResult(model=fitted, scores=pd.Series(fit.predict(exog), index=sample.index))


def _scores(data: pd.DataFrame, treatment: str, covariates: Sequence[str] | None, score: str | None,
            model: str) -> tuple[PropensityScoreResult | None, pd.Series]:
    """Scores estimated from ``covariates`` (with their fit), else the given ``score`` column
    over the rows where it and the treatment are present (without a fit)."""
    if covariates is not None:
        propensity = propensity_scores(data, treatment, covariates, model)
        return propensity, propensity.scores
    require_columns(data, [treatment, score])
    require_finite_numeric(data, [treatment, score])
    return None, data.loc[data[[treatment, score]].notna().all(axis=1), score].astype(float)


@dataclass(frozen=True)
class _SortedControls:
    """Controls sorted by score twice: ties in score by ascending row position (``right``,
    scanned upwards) and by descending row position (``left``, scanned downwards), so that
    both scans meet tied controls in row order."""

    scores: np.ndarray
    right: np.ndarray
    left: np.ndarray

    @classmethod
    def build(cls, control_scores: np.ndarray) -> _SortedControls:
        positions = np.arange(len(control_scores))
        right = np.lexsort((positions, control_scores))
        left = np.lexsort((-positions, control_scores))
        return cls(control_scores[right], right, left)


def _find(parent: list[int], node: int) -> int:
    """Root of ``node`` in a union-find forest, halving the path on the way."""
    while parent[node] != node:
        parent[node] = parent[parent[node]]
        node = parent[node]
    return node


def _match_without_replacement(
    treated_scores: np.ndarray,
    control_scores: np.ndarray,
    processing_order: np.ndarray,
    ratio: int,
    caliper: float,
) -> list[tuple[int, int, float, int]]:
    """Greedy matching to the nearest unused control: (treated, control, distance, round)."""
    controls = _SortedControls.build(control_scores)
    n_controls = len(control_scores)
    rank_right = np.empty(n_controls, dtype=int)
    rank_right[controls.right] = np.arange(n_controls)
    rank_left = np.empty(n_controls, dtype=int)
    rank_left[controls.left] = np.arange(n_controls)
    # Union-find over sorted ranks: a used control points past itself (upwards in the right
    # forest, downwards in the left one, shifted by one so that 0 means "none left").
    up = list(range(n_controls + 1))
    down = list(range(n_controls + 1))
    sorted_scores = controls.scores.tolist()
    right_order, left_order = controls.right.tolist(), controls.left.tolist()
    scores, control_list = treated_scores.tolist(), control_scores.tolist()

    matches: list[tuple[int, int, float, int]] = []
    eligible = processing_order.tolist()
    for match_round in range(1, ratio + 1):
        matched_now = []
        for treated in eligible:
            score = scores[treated]
            insertion = bisect.bisect_left(sorted_scores, score)
            # Candidates compare as (distance, score, row position): see the module docstring.
            best: tuple[float, float, int] | None = None
            above = _find(up, insertion)
            if above < n_controls:
                control = right_order[above]
                best = (control_list[control] - score, control_list[control], control)
            below = _find(down, insertion) - 1
            if below >= 0:
                control = left_order[below]
                candidate = (score - control_list[control], control_list[control], control)
                if best is None or candidate < best:
                    best = candidate
            if best is None or not best[0] < caliper:
                continue
            distance, _, control = best
            up[rank_right[control]] = rank_right[control] + 1
            down[rank_left[control] + 1] = rank_left[control]
            matches.append((treated, control, distance, match_round))
            matched_now.append(treated)
        if match_round == 1:
            # MatchIt: a treated unit without a first match is not offered later rounds.
            eligible = matched_now
    return matches


def _match_with_replacement(
    treated_scores: np.ndarray, control_scores: np.ndarray, ratio: int, caliper: float
) -> list[tuple[int, int, float, int]]:
    """The ``ratio`` nearest controls of every treated unit within the caliper, vectorised."""
    controls = _SortedControls.build(control_scores)
    n_controls = len(control_scores)
    insertion = np.searchsorted(controls.scores, treated_scores, side="left")
    steps = np.arange(ratio)
    above = insertion[:, None] + steps
    below = insertion[:, None] - 1 - steps
    valid = np.hstack([above < n_controls, below >= 0])
    candidates = np.hstack(
        [controls.right[np.clip(above, 0, n_controls - 1)], controls.left[np.clip(below, 0, n_controls - 1)]]
    )
    distance = np.where(valid, np.abs(control_scores[candidates] - treated_scores[:, None]), np.inf)
    rows = np.broadcast_to(np.arange(len(treated_scores))[:, None], candidates.shape)
    order = np.lexsort(
        (candidates.ravel(), control_scores[candidates].ravel(), distance.ravel(), rows.ravel())
    ).reshape(candidates.shape)[:, :ratio]
    chosen_distance = distance.ravel()[order]
    chosen_control = candidates.ravel()[order]
    keep = chosen_distance < caliper
    treated_index, match_number = np.nonzero(keep)
    return list(
        zip(
            treated_index.tolist(),
            chosen_control[keep].tolist(),
            chosen_distance[keep].tolist(),
            (match_number + 1).tolist(),
        )
    )


def _processing_order(treated_scores: np.ndarray, order: str, rng: np.random.Generator) -> np.ndarray:
    positions = np.arange(len(treated_scores))
    if order == "random":
        return rng.permutation(positions)
    if order == "largest":
        return np.lexsort((positions, -treated_scores))
    if order == "smallest":
        return np.lexsort((positions, treated_scores))
    return positions


def match_nearest_neighbour(
    data: pd.DataFrame,
    treatment: str,
    covariates: Sequence[str] | None = None,
    score: str | None = None,
    caliper: float | None = 0.01,
    replace: bool = False,
    ratio: int = 1,
    *,
    rng: np.random.Generator,
    model: str = "logit",
    order: str = "random",
) -> MatchResult:
    """Match treated units (``treatment`` = 1) to their nearest controls on the propensity score.

    Give either ``covariates`` (the score is estimated by :func:`propensity_scores` with
    ``model``) or ``score``, the name of a column holding a precomputed score (psmatch2's
    ``pscore()``). ``caliper`` is the maximum absolute score distance (exclusive; None for
    none); ``ratio`` the number of controls per treated unit; ``order`` the processing order
    of treated units when matching without replacement (see the module docstring). ``rng``
    draws the "random" order.
    """
    _validate_frame(data)
    if (covariates is None) == (score is None):
        raise ValueError("give exactly one of covariates (to estimate the score) or score (a column name)")
    if caliper is not None and not caliper > 0:
        raise ValueError(f"caliper must be positive or None, got {caliper!r}")
    if not isinstance(ratio, (int, np.integer)) or ratio < 1:
        raise ValueError(f"ratio must be a positive integer, got {ratio!r}")
    if order not in ORDERS:
        raise ValueError(f"order must be one of {', '.join(ORDERS)}, got {order!r}")
    if not isinstance(rng, np.random.Generator):
        raise ValueError("rng must be a numpy.random.Generator")
    if MATCH_WEIGHT_COLUMN in data.columns:
        raise ValueError(f"data already has a column {MATCH_WEIGHT_COLUMN!r}, which the matched sample adds")

    propensity, scores = _scores(data, treatment, covariates, score, model)
    treated = _binary_treatment(data.loc[scores.index, treatment], treatment)

    is_treated = treated.to_numpy()
    treated_positions = np.flatnonzero(is_treated)
    control_positions = np.flatnonzero(~is_treated)
    treated_scores = scores.to_numpy()[treated_positions]
    control_scores = scores.to_numpy()[control_positions]
    limit = np.inf if caliper is None else float(caliper)
    if replace:
        matches = _match_with_replacement(treated_scores, control_scores, ratio, limit)
    else:
        processing = _processing_order(treated_scores, order, rng)
        matches = _match_without_replacement(treated_scores, control_scores, processing, ratio, limit)

    info = {
        "treatment": treatment,
        "score": "estimated" if propensity is not None else score,
        "model": model if propensity is not None else "given",
        "caliper": "none" if caliper is None else repr(float(caliper)),
        "replace": str(bool(replace)),
        "ratio": str(int(ratio)),
        "order": order,
    }
    return _match_result(data, propensity, scores, is_treated, matches, info)


def _match_result(
    data: pd.DataFrame,
    propensity: PropensityScoreResult | None,
    scores: pd.Series,
    is_treated: np.ndarray,
    matches: list[tuple[int, int, float, int]],
    info: Mapping[str, str],
) -> MatchResult:
    """The MatchResult of ``matches`` = (treated position, control position, distance,
    match number), positions counted among the treated and among the controls of ``scores``."""
    treated_positions = np.flatnonzero(is_treated)
    control_positions = np.flatnonzero(~is_treated)
    matches = sorted(matches, key=lambda match: (match[0], match[3]))
    treated_of_match = np.array([m[0] for m in matches], dtype=int)
    control_of_match = np.array([m[1] for m in matches], dtype=int)
    n_matches = np.bincount(treated_of_match, minlength=len(treated_positions))
    weights = np.zeros(len(scores))
    weights[treated_positions] = (n_matches > 0).astype(float)
    np.add.at(weights, control_positions[control_of_match], 1.0 / n_matches[treated_of_match])
    on_support = np.ones(len(scores), dtype=bool)
    on_support[treated_positions] = n_matches > 0

    labels = scores.index
    pairs = pd.DataFrame(
        {
            "treated_index": labels[treated_positions[treated_of_match]],
            "control_index": labels[control_positions[control_of_match]],
            "distance": np.array([m[2] for m in matches], dtype=float),
            "match_number": np.array([m[3] for m in matches], dtype=int),
        }
    )
    weight_series = pd.Series(weights, index=labels, name="weight")
    matched_sample = data.loc[labels[weights > 0]].assign(**{MATCH_WEIGHT_COLUMN: weights[weights > 0]})
    n_treated_matched = int((n_matches > 0).sum())
    n_controls_matched = int(np.count_nonzero(weights[control_positions]))
    return MatchResult(
        propensity=propensity,
        treated=pd.Series(is_treated, index=labels, name="treated"),
        scores=scores.rename("propensity_score"),
        on_support=pd.Series(on_support, index=labels, name="on_support"),
        weights=weight_series,
        pairs=pairs,
        matched_sample=matched_sample,
        stats={
            "n_treated": len(treated_positions),
            "n_controls": len(control_positions),
            "n_treated_matched": n_treated_matched,
            "n_treated_off_support": len(treated_positions) - n_treated_matched,
            "n_controls_matched": n_controls_matched,
            "n_pairs": len(pairs),
            "n_matched_sample": n_treated_matched + n_controls_matched,
        },
        info=info,
    )


OPTIMAL_DISTANCES: tuple[str, ...] = ("propensity", "mahalanobis", "matrix")


def match_optimal(
    data: pd.DataFrame,
    treatment: str,
    covariates: Sequence[str] | None = None,
    score: str | None = None,
    *,
    distance: str = "propensity",
    distance_matrix: pd.DataFrame | None = None,
    ratio: int = 1,
    model: str = "logit",
) -> MatchResult:
    """Optimal k:1 matching without replacement: the ``ratio`` x (number of treated) pairs
    that minimise the total distance (MatchIt ``method = "optimal"``, optmatch's
    ``pairmatch(controls = k)``), solved exactly by scipy's ``linear_sum_assignment`` on the
    treated x controls distance matrix with every treated row repeated ``ratio`` times.

    ``distance``: "propensity" (absolute difference of the score estimated from
    ``covariates`` with ``model``, or of the column ``score``; MatchIt's default
    ``distance = "glm"``), "mahalanobis" (on ``covariates``, with the pooled within-group
    covariance matrix, as MatchIt's ``distance = "mahalanobis"``) or "matrix" (a user-supplied
    ``distance_matrix`` with the treated row labels as index and the control labels as
    columns; only the rows it names enter the matching). Every treated unit is matched (no
    caliper); there must be at least ``ratio`` controls per treated unit. ``match_number``
    ranks a treated unit's controls by distance. With "mahalanobis" and "matrix" ``scores``
    are NaN (there is no score; a propensity model is only fitted for "propensity").
    Ties between equally good assignments are resolved by the solver, as in optmatch: the
    total distance is unique, the pairs need not be.
    """
    from scipy.optimize import linear_sum_assignment  # only this matcher needs it
    from scipy.spatial.distance import cdist

    _validate_frame(data)
    if distance not in OPTIMAL_DISTANCES:
        raise ValueError(f"distance must be one of {', '.join(OPTIMAL_DISTANCES)}, got {distance!r}")
    if not isinstance(ratio, (int, np.integer)) or ratio < 1:
        raise ValueError(f"ratio must be a positive integer, got {ratio!r}")
    if MATCH_WEIGHT_COLUMN in data.columns:
        raise ValueError(f"data already has a column {MATCH_WEIGHT_COLUMN!r}, which the matched sample adds")
    propensity = None
    if distance == "propensity":
        if (covariates is None) == (score is None):
            raise ValueError("give exactly one of covariates (to estimate the score) or score (a column name)")
        propensity, scores = _scores(data, treatment, covariates, score, model)
        labels = scores.index
    elif distance == "mahalanobis":
        if not covariates or score is not None:
            raise ValueError("Mahalanobis matching needs covariates (and no score)")
        covariates = list(covariates)
        require_columns(data, [treatment, *covariates])
        require_finite_numeric(data, [treatment, *covariates])
        labels = data.dropna(subset=[treatment, *covariates]).index
        scores = pd.Series(np.nan, index=labels)
    else:
        if not isinstance(distance_matrix, pd.DataFrame):
            raise ValueError("distance='matrix' needs distance_matrix, a DataFrame (treated x controls)")
        require_columns(data, [treatment])
        labels = data.index[data.index.isin(distance_matrix.index) | data.index.isin(distance_matrix.columns)]
        scores = pd.Series(np.nan, index=labels)
    treated = _binary_treatment(data.loc[labels, treatment], treatment)
    is_treated = treated.to_numpy()
    treated_labels, control_labels = labels[is_treated], labels[~is_treated]
    if len(control_labels) < ratio * len(treated_labels):
        raise ValueError(
            f"{len(control_labels)} controls cannot give {ratio} distinct controls to each of "
            f"{len(treated_labels)} treated units"
        )

    if distance == "propensity":
        costs = np.abs(scores.loc[treated_labels].to_numpy()[:, None] - scores.loc[control_labels].to_numpy()[None, :])
    elif distance == "mahalanobis":
        values = data.loc[labels, covariates].to_numpy(dtype=float)
        treated_values, control_values = values[is_treated], values[~is_treated]
        pooled = ((len(treated_values) - 1) * np.cov(treated_values, rowvar=False, ddof=1)
                  + (len(control_values) - 1) * np.cov(control_values, rowvar=False, ddof=1)) / (len(values) - 2)
        costs = cdist(treated_values, control_values, metric="mahalanobis", VI=np.linalg.inv(np.atleast_2d(pooled)))
    else:
        if set(distance_matrix.index) != set(treated_labels) or set(distance_matrix.columns) != set(control_labels):
            raise ValueError("distance_matrix must have the treated labels as index and the control labels as columns")
        costs = distance_matrix.loc[treated_labels, control_labels].to_numpy(dtype=float)
        if not np.isfinite(costs).all() or (costs < 0).any():
            raise ValueError("distance_matrix must hold finite non-negative distances")

    rows, columns = linear_sum_assignment(np.repeat(costs, ratio, axis=0))
    treated_of_pair = rows // ratio
    pair_costs = costs[treated_of_pair, columns]
    matches = []
    for position in range(len(treated_labels)):
        chosen = np.flatnonzero(treated_of_pair == position)
        ranked = chosen[np.argsort(pair_costs[chosen], kind="stable")]
        matches += [(position, int(columns[k]), float(pair_costs[k]), rank + 1) for rank, k in enumerate(ranked)]
    info = {
        "treatment": treatment,
        "method": "optimal",
        "distance": distance,
        "score": ("estimated" if propensity is not None else score) if distance == "propensity" else "none",
        "model": model if propensity is not None else "none",
        "ratio": str(int(ratio)),
        "total_distance": repr(float(pair_costs.sum())),
    }
    return _match_result(data, propensity, scores, is_treated, matches, info)


def _matched_rows(match_result: MatchResult) -> tuple[pd.Index, np.ndarray]:
    """Labels and psmatch2 weights of the treated on support and the controls used."""
    weights = match_result.weights
    used = weights > 0
    return weights.index[used], weights.to_numpy()[used.to_numpy()]


def _check_same_sample(data: pd.DataFrame, treatment: str, match_result: MatchResult) -> pd.Series:
    missing = match_result.treated.index.difference(data.index)
    if len(missing):
        raise ValueError(f"data lacks {len(missing)} row(s) that entered the matching, e.g. {missing[0]!r}")
    treated = _binary_treatment(data.loc[match_result.treated.index, treatment], treatment)
    if not treated.equals(match_result.treated.rename(treated.name)):
        raise ValueError(f"column {treatment!r} does not agree with the treatment the match was computed with")
    return treated


def balance_table(
    data: pd.DataFrame, treatment: str, covariates: Sequence[str], match_result: MatchResult
) -> pd.DataFrame:
    """Covariate balance before (U) and after (M) matching in Stata ``pstest`` convention.

    One U and one M row per covariate (in the given order) with ``mean_treated``,
    ``mean_control``, ``pct_bias``, ``pct_reduction_abs_bias`` (M rows only), ``t`` and
    ``p_value``. U rows use every row that entered the matching; M rows the treated units on
    support and the controls used, weighted by their psmatch2 weights (Stata iweights: a
    weight of 2 counts a control twice). Missing values are dropped per covariate.
    """
    _validate_frame(data)
    covariates = list(covariates)
    require_columns(data, [treatment, *covariates])
    require_finite_numeric(data, covariates)
    treated = _check_same_sample(data, treatment, match_result).to_numpy()
    labels = match_result.treated.index
    matched_labels, matched_weights = _matched_rows(match_result)
    matched_treated = treated[labels.get_indexer(matched_labels)]

    rows = []
    for name in covariates:
        values = data.loc[labels, name].to_numpy(dtype=float)
        present = ~np.isnan(values)
        unmatched_t = DescrStatsW(values[treated & present])
        unmatched_c = DescrStatsW(values[~treated & present])
        matched_values = data.loc[matched_labels, name].to_numpy(dtype=float)
        kept = ~np.isnan(matched_values)
        matched_t = DescrStatsW(matched_values[matched_treated & kept], weights=matched_weights[matched_treated & kept])
        matched_c = DescrStatsW(
            matched_values[~matched_treated & kept], weights=matched_weights[~matched_treated & kept]
        )
        # pstest standardises both rows by the unmatched sample variances (Stata's r(Var), n-1).
        scale = np.sqrt((unmatched_t.var_ddof(1) + unmatched_c.var_ddof(1)) / 2)
        bias_u = 100 * (unmatched_t.mean - unmatched_c.mean) / scale
        bias_m = 100 * (matched_t.mean - matched_c.mean) / scale
        reduction = 100 * (1 - abs(bias_m) / abs(bias_u)) if bias_u != 0 else np.nan
        t_u, p_u, _ = CompareMeans(unmatched_t, unmatched_c).ttest_ind(usevar="pooled")
        t_m, p_m, _ = CompareMeans(matched_t, matched_c).ttest_ind(usevar="pooled")
        rows.append((name, "U", unmatched_t.mean, unmatched_c.mean, bias_u, np.nan, t_u, p_u))
        rows.append((name, "M", matched_t.mean, matched_c.mean, bias_m, reduction, t_m, p_m))
    return pd.DataFrame(rows, columns=list(BALANCE_COLUMNS))


def average_treatment_effect_on_treated(match_result: MatchResult, outcome: str) -> RegressionResult:
    """psmatch2's ATT of ``outcome`` on the matched sample, with its approximate standard error.

    ATT = mean over treated units on support of (y - mean y of its matched controls). The
    standard error is psmatch2's (``_mktab``): sqrt(V1 / N1 + V0 * sum(w^2) / N1^2), V1 the
    variance of y among the treated on support, V0 among the controls used, w their weights;
    like psmatch2 it ignores that the score is estimated. z statistic, normal p-value.
    """
    sample = match_result.matched_sample
    require_columns(sample, [outcome])
    require_finite_numeric(sample, [outcome])
    values = sample[outcome]
    if values.isna().any():
        raise ValueError(f"outcome {outcome!r} is missing for {int(values.isna().sum())} matched row(s)")
    pairs = match_result.pairs
    per_match = values.loc[pairs["control_index"]].to_numpy()
    n_matches = pairs.groupby("treated_index")["control_index"].transform("size").to_numpy()
    counterfactual = pd.Series(per_match / n_matches).groupby(pairs["treated_index"].to_numpy()).sum()
    treated_values = values.loc[counterfactual.index]
    att = float(treated_values.mean() - counterfactual.mean())

    is_treated = match_result.treated.loc[sample.index].to_numpy()
    control_weights = sample[MATCH_WEIGHT_COLUMN].to_numpy()[~is_treated]
    n_treated = len(counterfactual)
    variance = (
        treated_values.var(ddof=1) / n_treated
        + values.to_numpy()[~is_treated].var(ddof=1) * np.sum(control_weights**2) / n_treated**2
    )
    std_error = float(np.sqrt(variance))
    z = att / std_error
    return RegressionResult(
        params=pd.Series({"ATT": att}),
        std_errors=pd.Series({"ATT": std_error}),
        statistic=pd.Series({"ATT": z}),
        p_value=pd.Series({"ATT": 2 * stats.norm.sf(abs(z))}),
        nobs=len(sample),
        stat_kind="z",
        stats={
            "mean_treated": float(treated_values.mean()),
            "mean_matched_controls": float(counterfactual.mean()),
            "n_treated": n_treated,
            "n_controls": int((~is_treated).sum()),
        },
        info={"estimator": "psmatch2 nearest-neighbour ATT", "depvar": outcome},
        covariance=np.array([[variance]]),
    )


def score_densities(match_result: MatchResult, grid_points: int = DENSITY_GRID_POINTS) -> pd.DataFrame:
    """Gaussian kernel densities (scipy, Scott's bandwidth) of the score by group, before and
    after matching, on a common grid spanning all scores.

    Columns ``sample`` ("unmatched"/"matched"), ``group`` ("treated"/"control"), ``score``
    and ``density``. After matching the controls are weighted by their psmatch2 weights.
    """
    return score_densities_of(
        match_result.scores.to_numpy(), match_result.treated.to_numpy(), match_result.weights.to_numpy(), grid_points
    )


def score_densities_of(
    scores: np.ndarray, treated: np.ndarray, weights: np.ndarray, grid_points: int = DENSITY_GRID_POINTS
) -> pd.DataFrame:
    """:func:`score_densities` from stored arrays: each unit's score, 0/1 treatment and psmatch2
    weight (0 for units left out of the matched sample), e.g. as kept in the warehouse."""
    if grid_points < 2:
        raise ValueError(f"grid_points must be at least 2, got {grid_points!r}")
    scores = np.asarray(scores, dtype=float)
    treated = np.asarray(treated).astype(bool)
    weights = np.asarray(weights, dtype=float)
    if not (scores.shape == treated.shape == weights.shape) or scores.ndim != 1:
        raise ValueError("scores, treated and weights must be one-dimensional arrays of the same length")
    grid = np.linspace(scores.min(), scores.max(), grid_points)
    frames = []
    for sample, group, members, member_weights in (
        ("unmatched", "treated", treated, None),
        ("unmatched", "control", ~treated, None),
        ("matched", "treated", treated & (weights > 0), None),
        ("matched", "control", ~treated & (weights > 0), weights),
    ):
        values = scores[members]
        if len(np.unique(values)) < 2:
            raise ValueError(f"the {sample} {group} group has fewer than two distinct scores; no density")
        kde = stats.gaussian_kde(values, weights=None if member_weights is None else member_weights[members])
        frames.append(pd.DataFrame({"sample": sample, "group": group, "score": grid, "density": kde(grid)}))
    return pd.concat(frames, ignore_index=True)


def plot_score_densities(match_result: MatchResult, path: Path | str) -> Path:
    """Write a PNG with the score densities before and after matching (paper Figure 1)."""
    return plot_densities(score_densities(match_result), path)


def plot_densities(
    densities: pd.DataFrame, path: Path | str, title: str | None = None, caption: str | None = None,
    also_as: tuple[str, ...] = (),
) -> Path:
    """Write the PNG of Figure 1 from a :func:`score_densities` frame, with an optional
    ``title`` above and ``caption`` (e.g. the data provenance) below the panels; ``also_as``
    names further formats ("pdf", "svg") written beside it with the same stem."""
    # The object-oriented API renders with Agg without touching pyplot's global backend.
    from matplotlib.figure import Figure

    require_columns(densities, ["sample", "group", "score", "density"])
    figure = Figure(figsize=(10, 4), layout="constrained")
    axes = figure.subplots(1, 2, sharey=True)
    for axis, (sample, panel_title) in zip(axes, (("unmatched", "Before matching"), ("matched", "After matching"))):
        for group, style in (("treated", "-"), ("control", "--")):
            curve = densities[(densities["sample"] == sample) & (densities["group"] == group)]
            axis.plot(curve["score"], curve["density"], style, color="black", label=group.capitalize())
        axis.set_title(panel_title)
        axis.set_xlabel("Propensity score")
    axes[0].set_ylabel("Kernel density")
    axes[0].legend()
    if title:
        figure.suptitle(title)
    if caption:
        figure.supxlabel(caption, fontsize=7)
    path = Path(path)
    figure.savefig(path, format="png", dpi=150)
    for fmt in also_as:
        figure.savefig(path.with_suffix(f".{fmt}"), format=fmt)
    return path
