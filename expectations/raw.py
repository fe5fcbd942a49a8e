"""The raw-table suites, one module per table, and how to run them on one vintage.

``validate_raw_vintage(conn, vintage_id)`` is what the blocking asset checks on
``raw/<table>`` run right after ingest (``dagster_project/defs/quality/checks.py``) and what
the fault-corpus tests call directly; it needs only a DuckDB connection holding ``raw``.
"""

from __future__ import annotations

import dataclasses
import functools
from types import ModuleType

import duckdb

from expectations import (
    drift,
    raw_applicant_firm_map,
    raw_financials,
    raw_firm_status,
    raw_firms,
    raw_governance,
    raw_patents,
)
from expectations.config import DEFAULT_TOLERANCES, QualityTolerances
from expectations.raw_common import EXAMPLE_LINEAGE, VintageFacts, collect_facts
from expectations.runner import SuiteOutcome, validate_frame

RAW_SUITES: dict[str, ModuleType] = {
    module.TABLE.name: module
    for module in (raw_firms, raw_financials, raw_governance, raw_firm_status, raw_patents, raw_applicant_firm_map)
}


def validate_raw_table(
    conn: duckdb.DuckDBPyConnection, table: str, facts: VintageFacts, tolerances: QualityTolerances = DEFAULT_TOLERANCES
) -> SuiteOutcome:
    """Run the suite of ``raw.<table>`` on the rows of ``facts.vintage_id``.

    The outcome's ``table`` names the delivered file too ('raw.financials (2024-09/financials.parquet)'),
    so every failure message points at the file an analyst must open.
    """
    module = RAW_SUITES[table]
    frame = module.batch(conn, facts)
    files = sorted(frame["source_file"].dropna().unique()) if "source_file" in frame else []
    # An empty table has no row to carry its file name (lineage is per row): name the vintage instead.
    display = f"raw.{table} ({', '.join(files)})" if files else f"raw.{table} (vintage {facts.vintage_id}, no rows)"
    outcome = validate_frame(
        frame, display, functools.partial(module.suite, facts, tolerances), (*EXAMPLE_LINEAGE, *module.TABLE.key)
    )
    if facts.previous_vintage_id is not None and table in drift.STRATA:
        strata = drift.drift_frame(conn, table, facts, tolerances)
        drifted = validate_frame(strata, f"{display} strata", functools.partial(drift.suite, facts, tolerances, table),
                                 drift.KEY_COLUMNS)
        outcome = dataclasses.replace(outcome, evaluated=outcome.evaluated + drifted.evaluated,
                                      failures=outcome.failures + drifted.failures)
    if table == raw_patents.TABLE.name:
        measures = raw_patents.ai_measure_frame(conn, facts, tolerances)
        judged = validate_frame(measures, f"{display} AI measures",
                                functools.partial(raw_patents.ai_measure_suite, tolerances),
                                raw_patents.AI_MEASURE_KEY_COLUMNS)
        outcome = dataclasses.replace(outcome, evaluated=outcome.evaluated + judged.evaluated,
                                      failures=outcome.failures + judged.failures)
    return dataclasses.replace(outcome, source_files=tuple(files))


def validate_raw_vintage(
    conn: duckdb.DuckDBPyConnection, vintage_id: str, tolerances: QualityTolerances = DEFAULT_TOLERANCES
) -> dict[str, SuiteOutcome]:
    """Every raw suite on one vintage, keyed by table name."""
    facts = collect_facts(conn, vintage_id)
    return {table: validate_raw_table(conn, table, facts, tolerances) for table in RAW_SUITES}
