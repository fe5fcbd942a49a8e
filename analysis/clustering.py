"""Multi-way clustered "meat" matrices (Cameron, Gelbach and Miller 2011), shared by the
OLS/FE and IV estimators, with reghdfe's and ivreg2's conventions.

For cluster variables 1..Q the meat is the inclusion-exclusion sum over every non-empty
subset of them of (-1)^(|subset|+1) x the one-way meat of the intersection of the subset's
clusters (reghdfe 6 Regression.mata ``reghdfe_vce_cluster``; ivreg2's ``cluster(a b)``).
The small-sample factor is applied once by the caller with G = the smallest number of
clusters, and t/F tests use G - 1 degrees of freedom (both programs do so; linearmodels'
two-way covariance instead scales each term by its own G / (G - 1), hence this module).
"""

from __future__ import annotations

from itertools import combinations

import numpy as np
import pandas as pd


def cluster_codes(columns: pd.DataFrame) -> np.ndarray:
    """Integer codes 0..G_q-1 of every cluster column, one column per cluster variable."""
    return np.column_stack([pd.factorize(columns[name], sort=True)[0] for name in columns.columns]).astype(np.int64)


def cluster_counts(codes: np.ndarray) -> list[int]:
    """Number of clusters of each cluster variable (columns of ``codes``)."""
    return [int(codes[:, q].max()) + 1 for q in range(codes.shape[1])]


def _one_way_meat(scores: np.ndarray, codes: np.ndarray) -> np.ndarray:
    summed = np.zeros((int(codes.max()) + 1, scores.shape[1]))
    np.add.at(summed, codes, scores)
    return summed.T @ summed


def _intersection(codes: np.ndarray, subset: tuple[int, ...]) -> np.ndarray:
    return pd.factorize(pd.MultiIndex.from_arrays([codes[:, q] for q in subset]))[0]


def inclusion_exclusion_terms(codes: np.ndarray) -> list[tuple[float, np.ndarray]]:
    """(sign, one-way codes) for every non-empty subset S of the cluster variables: the sign
    (-1)^(|S|+1) and the codes of the intersections of the clusters in S; ``codes`` is (n, Q)
    or (n,) for one way. A multi-way covariance is the signed sum of the one-way ones."""
    codes = codes.reshape(len(codes), -1)
    n_ways = codes.shape[1]
    return [
        (1.0 if size % 2 else -1.0, codes[:, subset[0]] if size == 1 else _intersection(codes, subset))
        for size in range(1, n_ways + 1)
        for subset in combinations(range(n_ways), size)
    ]


def multiway_meat(scores: np.ndarray, codes: np.ndarray) -> np.ndarray:
    """sum over subsets S of the cluster variables of (-1)^(|S|+1) (sum_g s_g)(sum_g s_g)',
    g the intersections of the clusters in S; ``codes`` is (n, Q) or (n,) for one way."""
    meat = np.zeros((scores.shape[1], scores.shape[1]))
    for sign, subset_codes in inclusion_exclusion_terms(codes.reshape(len(scores), -1)):
        meat = meat + sign * _one_way_meat(scores, subset_codes)
    return meat


def clip_to_positive_semidefinite(vcov: np.ndarray, constant_last: bool) -> np.ndarray:
    """reghdfe's ``reghdfe_fix_psd`` (Cameron, Gelbach and Miller 2011): negative eigenvalues
    of a multi-way covariance are set to zero; with a reported constant (last term) the slope
    block is fixed on its own and put back. Returns ``vcov`` unchanged when it is PSD."""
    symmetric = (vcov + vcov.T) / 2
    eigenvalues, eigenvectors = np.linalg.eigh(symmetric)
    if eigenvalues.min() >= 0:
        return vcov
    fixed = (eigenvectors * np.clip(eigenvalues, 0, None)) @ eigenvectors.T
    if constant_last and len(vcov) > 1:
        fixed[:-1, :-1] = clip_to_positive_semidefinite(symmetric[:-1, :-1], constant_last=False)
    return fixed
