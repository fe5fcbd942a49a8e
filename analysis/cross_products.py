"""Least-squares coefficients from cross-product matrices, for many refits at once.

The bootstrap of :mod:`analysis.mediation` and the permutation draws of
:mod:`analysis.permutation` refit the same regression on thousands of reweighted or
relabelled samples. Each refit's normal equations are a weighted sum of per-unit cross
products formed once, so only the small solve below runs per draw.
"""

from __future__ import annotations

import numpy as np

SOLVER_RELATIVE_TOLERANCE = 1e-12
"""Eigenvalues of a draw's (column-scaled) normal matrix below this share of the largest are
treated as zero: they come from fixed-effect levels absent from the draw or redundant dummies."""


def first_coefficient(cross_products: np.ndarray, response: int, regressors: list[int]) -> np.ndarray:
    """For each draw d, the coefficient on column ``regressors[0]`` in the minimum-norm
    least-squares fit of column ``response`` on the columns ``regressors``, given the draw's
    cross-product matrix ``cross_products[d]`` of all columns (draws x columns x columns).

    Solved through the eigendecomposition of X'X, dropping eigenvalues below
    SOLVER_RELATIVE_TOLERANCE of the largest: dummies of levels absent from a draw (zero
    columns) and redundant dummies then leave the slopes of interest unaffected.
    """
    xtx = cross_products[:, regressors][:, :, regressors]
    xty = cross_products[:, regressors, response]
    eigenvalues, eigenvectors = np.linalg.eigh(xtx)
    kept = eigenvalues > SOLVER_RELATIVE_TOLERANCE * eigenvalues[:, -1:]
    inverse_eigenvalues = np.divide(1.0, eigenvalues, out=np.zeros_like(eigenvalues), where=kept)
    projections = np.einsum("dij,di->dj", eigenvectors, xty)
    return np.einsum("dj,dj,dj->d", eigenvectors[:, 0, :], inverse_eigenvalues, projections)
