"""Pure-Python estimators and the table renderer of NQP Warehouse (no Dagster import).

Import from the submodules (``from analysis.fixed_effects import fit_ols``). The names
below are also reachable as ``analysis.<name>``; they are loaded on first use, so that
importing the package (or any light submodule) does not pull in pyfixest, scipy or the
other estimator libraries.
"""

from __future__ import annotations

import importlib

_LAZY_EXPORTS: dict[str, str] = {
    "RegressionResult": "analysis.results",
    "EntropyResult": "analysis.entropy",
    "entropy_index": "analysis.entropy",
    "fit_ols": "analysis.fixed_effects",
    "wild_cluster_bootstrap": "analysis.fixed_effects",
    "EstimationResult": "analysis.results",
    "WaldTest": "analysis.results",
    "ReportedColumn": "analysis.results",
    "demean_fixed_effects": "analysis.absorption",
    "absorbed_degrees_of_freedom": "analysis.absorption",
    "IVResult": "analysis.iv",
    "fit_iv": "analysis.iv",
    "PropensityScoreResult": "analysis.matching",
    "MatchResult": "analysis.matching",
    "propensity_scores": "analysis.matching",
    "match_nearest_neighbour": "analysis.matching",
    "match_optimal": "analysis.matching",
    "balance_table": "analysis.matching",
    "average_treatment_effect_on_treated": "analysis.matching",
    "score_densities": "analysis.matching",
    "plot_score_densities": "analysis.matching",
    "MediationResult": "analysis.mediation",
    "fit_mediation": "analysis.mediation",
    "PermutationTestResult": "analysis.permutation",
    "permutation_coefficient_difference": "analysis.permutation",
    "DynamicPanelResult": "analysis.dynamic_panel",
    "fit_dynamic_panel": "analysis.dynamic_panel",
    "SpatialWeights": "analysis.spatial_weights",
    "contiguity_weights": "analysis.spatial_weights",
    "inverse_distance_weights": "analysis.spatial_weights",
    "MoranResult": "analysis.spatial",
    "global_moran": "analysis.spatial",
    "moran_by_period": "analysis.spatial",
    "moran_scatter": "analysis.spatial",
    "SpatialPanelResult": "analysis.spatial_panel",
    "SpatialEffectsResult": "analysis.spatial_panel",
    "ChiSquareTests": "analysis.spatial_panel",
    "add_spatial_lags": "analysis.spatial_panel",
    "fit_spatial_panel": "analysis.spatial_panel",
    "effects_from_estimates": "analysis.spatial_panel",
    "spatial_effects": "analysis.spatial_panel",
    "panel_lm_tests": "analysis.spatial_panel",
    "ols_residual_diagnostics": "analysis.spatial_panel",
    "sdm_specification_tests": "analysis.spatial_panel",
    "hausman_fe_re": "analysis.spatial_panel",
    "fit_levinsohn_petrin": "analysis.production",
    "describe": "analysis.descriptives",
    "PaperTable": "analysis.tables",
    "TableColumn": "analysis.tables",
    "CoefficientBody": "analysis.tables",
    "ValueBody": "analysis.tables",
    "StatRow": "analysis.tables",
    "TextRow": "analysis.tables",
    "TableProvenance": "analysis.tables",
    "render": "analysis.tables",
    "write_table": "analysis.tables",
}

__all__ = sorted(_LAZY_EXPORTS)


def __getattr__(name: str) -> object:
    if name not in _LAZY_EXPORTS:
        raise AttributeError(f"module 'analysis' has no attribute {name!r}")
    value = getattr(importlib.import_module(_LAZY_EXPORTS[name]), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY_EXPORTS))
