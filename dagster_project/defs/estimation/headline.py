"""What a results asset shows first in the Dagster UI: the headline coefficient (4 decimals,
SE, stars, p-value), N, R-squared where the model defines one, and the provenance."""

from __future__ import annotations

import pandas as pd
from dagster import MetadataValue

from analysis.tables import stars
from nqp_core.provenance import Provenance

DECIMALS = 4


def p_value_text(p_value: float | None) -> str:
    """A p-value to 3 decimals, "<0.001" where it would round to zero."""
    if p_value is None or pd.isna(p_value):
        return ""
    return "<0.001" if p_value < 0.0005 else f"{p_value:.3f}"


def provenance_metadata(provenance: Provenance) -> dict[str, object]:
    return {"vintage": provenance.vintage_id, "synthetic": provenance.is_synthetic,
            "code_version": provenance.code_version}


def _stat(model_stats: pd.DataFrame, column_id: str, stat: str) -> float | None:
    rows = model_stats[(model_stats["column_id"] == column_id) & (model_stats["stat"] == stat)]
    if not len(rows) or pd.isna(rows["value"].iloc[0]):
        return None
    return float(rows["value"].iloc[0])


def headline_metadata(coefficients: pd.DataFrame, model_stats: pd.DataFrame, column_id: str, term: str,
                      provenance: Provenance) -> dict[str, object]:
    """Metadata entries of the coefficient of ``term`` in ``column_id`` and its model."""
    row = coefficients[(coefficients["column_id"] == column_id) & (coefficients["term"] == term)].iloc[0]
    estimate, std_error, p_value = float(row["estimate"]), float(row["std_error"]), row["p_value"]
    metadata: dict[str, object] = {
        "headline": f"{term} in {column_id}: {estimate:.{DECIMALS}f}{stars(p_value)} "
                    f"(SE {std_error:.{DECIMALS}f}; p {p_value_text(p_value)})",
        "headline_estimate": MetadataValue.float(round(estimate, DECIMALS)),
        "headline_std_error": MetadataValue.float(round(std_error, DECIMALS)),
        "headline_p_value": p_value_text(p_value),
    }
    nobs = _stat(model_stats, column_id, "nobs")
    if nobs is not None:
        metadata["N"] = MetadataValue.int(int(nobs))
    r2 = _stat(model_stats, column_id, "r2")
    if r2 is not None:
        metadata["R²"] = MetadataValue.float(round(r2, DECIMALS))
    return {**metadata, **provenance_metadata(provenance)}


def coefficients_markdown(coefficients: pd.DataFrame) -> MetadataValue:
    """The tidy coefficients as a Markdown table, 4 decimals, p-values as text."""
    shown = coefficients.drop(columns=[c for c in ("table_id",) if c in coefficients.columns]).copy()
    shown["p_value"] = shown["p_value"].map(p_value_text)
    return MetadataValue.md(shown.round(DECIMALS).to_markdown(index=False))


def provenance_tags(provenance: Provenance) -> dict[str, str]:
    """Tags of the materialization event: which vintage, and whether it is synthetic."""
    return {"nqp/vintage": provenance.vintage_id, "nqp/synthetic": str(provenance.is_synthetic).lower()}
