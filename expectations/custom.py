"""Custom Great Expectations for the rules GX 1.x does not ship for pandas (or ships too slowly).

GX's own route for custom row rules, ``UnexpectedRowsExpectation``, runs SQL against SQL
or Spark datasources only, and its SQL datasource fails on DuckDB (see
``expectations/__init__.py``). So the two rules below are written the way GX's core map
expectations are (compare ``ExpectMulticolumnSumToEqual`` / ``MulticolumnSumEqual`` in
great_expectations 1.x): a map metric provider with a pandas condition, and an
Expectation class naming it. They report unexpected counts and row indices like any
core map expectation, so the runner, ``mostly`` and result formats work unchanged. The
third is a faster twin of a core expectation (see its docstring).

Importing this module imports GX (slow): only suite builders import it, inside functions.
"""

from __future__ import annotations

from typing import ClassVar, Literal

from great_expectations.execution_engine import PandasExecutionEngine
from great_expectations.expectations.expectation import (
    ColumnMapExpectation,
    ColumnPairMapExpectation,
    MulticolumnMapExpectation,
)
from great_expectations.expectations.metrics.map_metric_provider import (
    ColumnMapMetricProvider,
    ColumnPairMapMetricProvider,
    MulticolumnMapMetricProvider,
    column_condition_partial,
    column_pair_condition_partial,
    multicolumn_condition_partial,
)


class MulticolumnPartsSumToTotal(MulticolumnMapMetricProvider):
    """Row condition: the first columns (parts) add up to the last column (total) within a relative tolerance."""

    condition_metric_name = "multicolumn_values.parts_sum_to_total"
    condition_domain_keys = ("batch_id", "table", "column_list", "row_condition", "condition_parser", "ignore_row_if")
    condition_value_keys = ("relative_tolerance", "allow_shortfall")

    @multicolumn_condition_partial(engine=PandasExecutionEngine)
    def _pandas(cls, column_list, relative_tolerance, allow_shortfall, **kwargs):
        excess = column_list.iloc[:, :-1].sum(axis=1, skipna=False) - column_list.iloc[:, -1]
        allowed = relative_tolerance * column_list.iloc[:, -1].abs()
        return excess <= allowed if allow_shortfall else excess.abs() <= allowed


class ExpectColumnPartsToSumToTotal(MulticolumnMapExpectation):
    """Expect the columns of ``column_list`` but the last to sum to the last, within ``relative_tolerance`` of it.

    ``allow_shortfall=True`` accepts parts that add up to less than the total (a breakdown
    that does not cover every yuan) and only flags parts exceeding it.
    """

    relative_tolerance: float = 0.0
    allow_shortfall: bool = False
    ignore_row_if: Literal["all_values_are_missing", "any_value_is_missing", "never"] = "any_value_is_missing"

    library_metadata: ClassVar[dict] = {"maturity": "experimental", "tags": ["nqp"], "contributors": ["nqp"]}
    map_metric = "multicolumn_values.parts_sum_to_total"
    success_keys = ("column_list", "ignore_row_if", "mostly", "relative_tolerance", "allow_shortfall")
    args_keys = ("column_list", "relative_tolerance", "allow_shortfall")


class ColumnPairValuesWithinRelativeDistance(ColumnPairMapMetricProvider):
    """Row condition: |A - B| <= tolerance * |B| (B is the reference value)."""

    condition_metric_name = "column_pair_values.within_relative_distance"
    condition_domain_keys = ("batch_id", "table", "column_A", "column_B", "row_condition", "condition_parser", "ignore_row_if")
    condition_value_keys = ("relative_tolerance",)

    @column_pair_condition_partial(engine=PandasExecutionEngine)
    def _pandas(cls, column_A, column_B, relative_tolerance, **kwargs):  # noqa: N803 (GX's argument names)
        return (column_A - column_B).abs() <= relative_tolerance * column_B.abs()


class ExpectColumnPairValuesToBeWithinRelativeDistance(ColumnPairMapExpectation):
    """Expect ``column_A`` within ``relative_tolerance`` of the reference ``column_B`` (in ``mostly`` of the rows).

    Used for revisions: ``column_A`` is this vintage's amount, ``column_B`` the previous
    vintage's amount for the same firm-year; rows the previous vintage lacks are skipped.
    """

    relative_tolerance: float
    ignore_row_if: Literal["both_values_are_missing", "either_value_is_missing", "neither"] = "either_value_is_missing"

    library_metadata: ClassVar[dict] = {"maturity": "experimental", "tags": ["nqp"], "contributors": ["nqp"]}
    map_metric = "column_pair_values.within_relative_distance"
    success_keys = ("column_A", "column_B", "ignore_row_if", "mostly", "relative_tolerance")
    args_keys = ("column_A", "column_B", "relative_tolerance")


class ColumnValuesNotMatchRegexVectorized(ColumnMapMetricProvider):
    """Row condition: the string does not contain a match of ``regex``, evaluated on the column's own dtype."""

    condition_metric_name = "column_values.not_match_regex_vectorized"
    condition_value_keys = ("regex",)

    @column_condition_partial(engine=PandasExecutionEngine)
    def _pandas(cls, column, regex, **kwargs):
        return ~column.str.contains(regex, regex=True).astype(bool)


class ExpectStringColumnValuesToNotMatchRegex(ColumnMapExpectation):
    """``ExpectColumnValuesToNotMatchRegex`` for string columns, without its ``astype(str)``.

    GX's core metric casts every value to a Python ``str`` first, which turns an
    Arrow-backed column back into Python objects: on the ~700,000 titles and abstracts of a
    full vintage that made the mojibake rules the slowest part of validation (measured: ~5x
    slower than Arrow's vectorized regex on the abstracts). Same semantics for string
    columns; nulls are skipped as by any map expectation.
    """

    regex: str

    library_metadata: ClassVar[dict] = {"maturity": "experimental", "tags": ["nqp"], "contributors": ["nqp"]}
    map_metric = "column_values.not_match_regex_vectorized"
    success_keys = ("regex", "mostly")
    args_keys = ("column", "regex")
