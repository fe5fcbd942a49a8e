"""Run a suite against a DataFrame and report failures as file-row-column-rule facts."""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

EXAMPLES_PER_FAILURE = 5


@dataclass(frozen=True)
class ExpectationFailure:
    rule: str  # the GX expectation type, e.g. expect_column_values_to_be_between
    columns: tuple[str, ...]
    unexpected_count: int
    examples: tuple[dict[str, Any], ...]  # key columns and offending value of the first failing rows
    detail: str
    # 'error' refuses the vintage; 'warning' publishes it with an alert (an expectation's meta
    # {"severity": "warning"}). check names the rule for acknowledgements: meta "rule", else the type.
    severity: str = "error"
    check: str = ""

    def message(self, table: str) -> str:
        shown = "; ".join(", ".join(f"{k}={_plain(v)!r}" for k, v in row.items()) for row in self.examples)
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
    source_files: tuple[str, ...] = ()  # delivered files the rows came from (raw tables), for alerts

    @property
    def success(self) -> bool:
        """No blocking failure (warnings alone do not refuse a vintage)."""
        return not any(f.severity == "error" for f in self.failures)


@functools.cache
def gx_context():
    """The one ephemeral GX context of this process (suites are built against it)."""
    import great_expectations as gx
    from great_expectations.data_context.types.base import ProgressBarsConfig

    from great_expectations.execution_engine import pandas_execution_engine

    # GX fingerprints every DataFrame batch below this size by hashing each cell (2.2 s on the
    # ~720,000 patents of a scale-1 vintage); the fingerprint is a batch marker nothing here
    # reads, and GX itself skips it above 1 GB. No size is below 0, so no frame is hashed.
    pandas_execution_engine.HASH_THRESHOLD = 0
    context = gx.get_context(mode="ephemeral")
    context.variables.progress_bars = ProgressBarsConfig(globally=False)  # no tqdm bars in run logs
    return context


def _batch_definition(name: str):
    context = gx_context()
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


_COLUMN_KWARGS = ("column", "column_A", "column_B")


def _plain(value: Any) -> Any:
    """numpy scalars as Python ones, so messages read 'source_row=13', not 'np.int64(13)'."""
    return value.item() if isinstance(value, np.generic) else value


def _readable(value: Any) -> Any:
    """Patterns holding control or unusual characters (the mojibake regex) shown as escapes."""
    return ascii(value) if isinstance(value, str) and not value.isascii() else value


def _describe(kwargs: dict[str, Any]) -> str:
    shown = {
        k: v for k, v in kwargs.items()
        if k not in ("column_list", "batch_id", "result_format", "ignore_row_if", *_COLUMN_KWARGS)
    }
    if isinstance(shown.get("value_set"), (list, tuple, set)) and len(shown["value_set"]) > 12:
        shown["value_set"] = f"<{len(shown['value_set'])} known values>"
    return ", ".join(f"{k}={_readable(v)}" for k, v in shown.items()) or "see rule"


def _columns(kwargs: dict[str, Any]) -> tuple[str, ...]:
    if kwargs.get("column_list"):
        return tuple(kwargs["column_list"])
    return tuple(kwargs[k] for k in _COLUMN_KWARGS if kwargs.get(k))


def _aggregate_failure(item, kwargs: dict[str, Any], rows: int) -> tuple[int, str]:
    """Count and detail of a failed table- or column-aggregate expectation (no failing rows to list)."""
    result = item.result or {}
    if item.exception_info and item.exception_info.get("raised_exception"):
        return rows, f"{_describe(kwargs)}; could not be evaluated: {item.exception_info.get('exception_message')}"
    if result.get("partial_missing_list") is not None:  # a set the column should contain
        return int(result.get("missing_count") or 0), f"{_describe(kwargs)}; missing {result['partial_missing_list']}"
    observed = result.get("observed_value")
    if item.expectation_config.type == "expect_table_row_count_to_be_between" and observed is not None:
        low, high = kwargs.get("min_value"), kwargs.get("max_value")
        gap = (low - observed) if low is not None and observed < low else (observed - high if high is not None else 0)
        return int(gap), f"{_describe(kwargs)}; observed {observed} rows, {int(gap)} beyond the bound"
    return rows, f"{_describe(kwargs)}; observed {observed}"


def _domain_columns(configuration) -> tuple[str, ...]:
    return _columns(dict(configuration.kwargs))


# Expectations that read only the frame's column names.
_SCHEMA_RULES = ("expect_table_columns_to_match_set",)


def _frame_parts(frame: pd.DataFrame, configurations: list, own_frame_columns: tuple[str, ...]):
    """(frame, positions of the configurations it validates) per batch GX is given.

    For every row rule GX first drops the rows where the rule's column is null, which copies
    every column of the frame, long texts included: on the patents of a scale-1 vintage the
    titles, abstracts, applicant and IPC lists are most of the bytes, and those copies cost
    more than the rules. So each column of ``own_frame_columns`` is validated on a frame of
    its own (the rules whose columns are all that one), the column-set rule on the frame's
    header (zero rows), and every other rule on the frame without those columns. Results
    are the same as on the whole frame: row indices are kept, so examples and counts agree.
    """
    if not own_frame_columns:
        return [(frame, list(range(len(configurations))))]
    own = {column: [] for column in own_frame_columns}
    schema, rest = [], []
    for position, configuration in enumerate(configurations):
        columns = _domain_columns(configuration)
        if configuration.type in _SCHEMA_RULES:
            schema.append(position)
        elif len(set(columns)) == 1 and columns[0] in own:
            own[columns[0]].append(position)
        else:
            rest.append(position)
    needed = {c for p in rest for c in _domain_columns(configurations[p])}
    main = frame.drop(columns=[c for c in own_frame_columns if c not in needed and c in frame.columns])
    parts = [(main, rest), (frame.iloc[:0], schema)]
    parts += [(frame[[column]], positions) for column, positions in own.items() if column in frame.columns]
    return [(part, positions) for part, positions in parts if positions]


def _same_rule(configuration, validated) -> bool:
    """Whether ``validated`` (a result's configuration, which carries its batch id) is ``configuration``."""
    kwargs = {k: v for k, v in validated.kwargs.items() if k != "batch_id"}
    return (configuration.type, dict(configuration.kwargs), configuration.meta) == (validated.type, kwargs, validated.meta)


def _validation_order(configurations: list) -> list[int]:
    """Positions in the order GX reports results: grouped by column, in the order each column first
    appears (Validator.process_expectations_for_validation), so that split batches report as one."""
    groups: dict[str | None, list[int]] = {}
    for position, configuration in enumerate(configurations):
        column = configuration.kwargs.get("column")
        groups.setdefault(column if isinstance(column, str) else None, []).append(position)
    return [position for positions in groups.values() for position in positions]


def validate_frame(
    frame: pd.DataFrame, table: str, build_suite: Callable[[], Any], key_columns: tuple[str, ...] = (),
    own_frame_columns: tuple[str, ...] = (),
) -> SuiteOutcome:
    """Validate ``frame`` (rows of warehouse table ``table``) against the suite ``build_suite()`` returns.

    ``own_frame_columns``: long text columns GX validates on frames of their own (see
    :func:`_frame_parts`); the outcome is the same as without them, only faster.
    """
    import great_expectations as gx
    from great_expectations.validator.v1_validator import Validator

    batch_definition = _batch_definition(table.replace(".", "__"))
    suite = build_suite()  # GX builds suites against the active context, created just above
    configurations = suite.expectation_configurations
    by_position: dict[int, Any] = {}
    for part, positions in _frame_parts(frame, configurations, own_frame_columns):
        # What Batch.validate does, minus building the batch twice.
        validator = Validator(
            batch_definition=batch_definition,
            batch_parameters={"dataframe": part},
            result_format={"result_format": "COMPLETE", "partial_unexpected_count": 20},
        )
        subset = gx.ExpectationSuite(name=suite.name, expectations=[configurations[p] for p in positions])
        for item in validator.validate_expectation_suite(subset).results:
            position = next(p for p in positions if p not in by_position
                            and _same_rule(configurations[p], item.expectation_config))
            by_position[position] = item
    failures = []
    for item in (by_position[p] for p in _validation_order(configurations)):
        if item.success:
            continue
        config = item.expectation_config
        kwargs = dict(config.kwargs)
        columns = _columns(kwargs)
        indices = list((item.result or {}).get("unexpected_index_list") or [])[:EXAMPLES_PER_FAILURE]
        examples = tuple(
            {c: frame.loc[i, c] for c in (*key_columns, *columns) if c in frame.columns}
            for i in indices
            if not isinstance(i, dict) and i in frame.index
        )
        count = (item.result or {}).get("unexpected_count")
        if count is None:  # aggregate expectations (row counts, medians, sets) report an observed value instead
            count, detail = _aggregate_failure(item, kwargs, len(frame))
        else:
            detail = _describe(kwargs)
        meta = config.meta or {}
        if meta.get("why"):  # what the failure most likely means, for rules whose bound alone does not say
            detail = f"{detail}; {meta['why']}"
        failures.append(ExpectationFailure(config.type, columns, int(count), examples, detail,
                                           meta.get("severity", "error"), meta.get("rule", config.type)))
    return SuiteOutcome(suite.name, table, len(frame), len(by_position), tuple(failures))
