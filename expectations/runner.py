"""Run a suite against a DataFrame and report failures as file-row-column-rule facts."""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pandas as pd

EXAMPLES_PER_FAILURE = 5


@dataclass(frozen=True)
class ExpectationFailure:
    rule: str  # the GX expectation type, e.g. expect_column_values_to_be_between
    columns: tuple[str, ...]
    unexpected_count: int
    examples: tuple[dict[str, Any], ...]  # key columns and offending value of the first failing rows
    detail: str

    def message(self, table: str) -> str:
        shown = "; ".join(", ".join(f"{k}={v!r}" for k, v in row.items()) for row in self.examples)
        return (
            f"{table}: column(s) {', '.join(self.columns) or '-'} break rule {self.rule} ({self.detail}) "
            f"in {self.unexpected_count} row(s)" + (f"; first: {shown}" if shown else "")
        )


@dataclass(frozen=True)
class SuiteOutcome:
    suite: str
    table: str
    rows: int
    evaluated: int
    failures: tuple[ExpectationFailure, ...]

    @property
    def success(self) -> bool:
        return not self.failures


@functools.cache
def _context():
    import great_expectations as gx

    return gx.get_context(mode="ephemeral")


def _batch_definition(name: str):
    context = _context()
    try:
        source = context.data_sources.get("warehouse_frames")
    except (KeyError, ValueError):
        source = context.data_sources.add_pandas("warehouse_frames")
    try:
        asset = source.get_asset(name)
    except (LookupError, ValueError):
        asset = source.add_dataframe_asset(name)
    try:
        return asset.get_batch_definition("whole_frame")
    except (KeyError, ValueError):
        return asset.add_batch_definition_whole_dataframe("whole_frame")


def _describe(kwargs: dict[str, Any]) -> str:
    shown = {k: v for k, v in kwargs.items() if k not in ("column", "column_list", "batch_id", "result_format")}
    return ", ".join(f"{k}={v}" for k, v in shown.items()) or "see rule"


def validate_frame(
    frame: pd.DataFrame, table: str, build_suite: Callable[[], Any], key_columns: tuple[str, ...] = ()
) -> SuiteOutcome:
    """Validate ``frame`` (rows of warehouse table ``table``) against the suite ``build_suite()`` returns."""
    batch = _batch_definition(table.replace(".", "__")).get_batch(batch_parameters={"dataframe": frame})
    suite = build_suite()  # GX builds suites against the active context, created just above
    result = batch.validate(suite, result_format={"result_format": "COMPLETE", "partial_unexpected_count": 20})
    failures = []
    for item in result.results:
        if item.success:
            continue
        config = item.expectation_config
        kwargs = dict(config.kwargs)
        columns = tuple(kwargs.get("column_list") or ([kwargs["column"]] if "column" in kwargs else []))
        indices = list(item.result.get("unexpected_index_list") or [])[:EXAMPLES_PER_FAILURE]
        examples = tuple(
            {c: frame.loc[i, c] for c in (*key_columns, *columns) if c in frame.columns}
            for i in indices
            if not isinstance(i, dict) and i in frame.index
        )
        count = item.result.get("unexpected_count")
        if count is None:  # table-level expectations (row counts) report an observed value instead
            count = len(frame)
            detail = f"{_describe(kwargs)}; observed {item.result.get('observed_value')}"
        else:
            detail = _describe(kwargs)
        failures.append(ExpectationFailure(config.type, columns, int(count), examples, detail))
    return SuiteOutcome(suite.name, table, len(frame), len(result.results), tuple(failures))
