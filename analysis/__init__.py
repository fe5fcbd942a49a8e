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
