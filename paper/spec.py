"""What a table spec is, and the tidy rows every estimation produces.

A ``TableSpec`` holds everything about one paper table in one place: the frames its
estimation reads, the function that fits its columns (models, seeds and draws come from
the table's entry in ``paper.specs``), the run options a user may change, which results
tables it writes, the layout that renders it and the frames that layout reads. The Dagster
project generates one estimation asset ``["results", table_id]`` and one report asset
``["reports", table_id]`` per spec; nothing about a table is written anywhere else.

Pure Python: frames in, frames out. No Dagster, no DuckDB.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Mapping, Optional, Sequence

import pandas as pd

from analysis.results import stat_rows as analysis_stat_rows
from analysis.tables import PaperTable, TableProvenance

Progress = Callable[[str], Optional[Callable[[int, int], None]]]
"""``progress(what)`` -> a ``progress(done, total)`` callback for a long step, or None."""


def no_progress(what: str) -> None:
    """A progress factory that reports nothing (outside Dagster, e.g. in tests)."""
    return None


@dataclass(frozen=True)
class Source:
    """A warehouse table a report or an estimation reads for one vintage: a ``results``
    table restricted to ``table_id`` (the reading spec's own id when None), or any other
    table whole (``by_table_id=False``)."""

    table: str
    table_id: str | None = None
    by_table_id: bool = True


COEFFICIENTS = Source("results.coefficients")
MODEL_STATS = Source("results.model_stats")


@dataclass
class Estimates:
    """What one estimation writes. ``results``: results table (e.g. ``results.coefficients``)
    -> its rows of this table (``table_id`` added when written); ``fitted``: column id ->
    the result whose covariance goes to ``results.vcov``; ``analysis``: analysis table ->
    the vintage's rows (replacing them all); ``metadata``: what the asset shows in the UI
    besides the headline coefficient (``Markdown`` values render as Markdown)."""

    results: dict[str, pd.DataFrame]
    fitted: dict[str, Any] = field(default_factory=dict)
    analysis: dict[str, pd.DataFrame] = field(default_factory=dict)
    metadata: dict[str, object] = field(default_factory=dict)


class Markdown(str):
    """A metadata value to show as Markdown (a table, a list)."""


def markdown_table(frame: pd.DataFrame, index: bool = False) -> Markdown:
    return Markdown(frame.to_markdown(index=index))


@dataclass(frozen=True)
class Lazy:
    """The function ``"module:name"``, imported at its first call (called with ``args`` first
    when it is a factory, such as ``paper.firm:regressions``). The specs name every estimation
    and layout this way, so that loading them, and the Dagster definitions, does not import the
    estimators (SciPy, esda, linearmodels ...) until a table is actually computed or printed."""

    target: str
    args: tuple = ()

    def resolve(self) -> Callable:
        module, name = self.target.split(":")
        function = getattr(importlib.import_module(module), name)
        return function(*self.args) if self.args else function

    def __call__(self, *args, **kwargs):
        return self.resolve()(*args, **kwargs)


Estimate = Callable[[Mapping[str, Any], Any, Progress], Estimates]
"""``estimate(inputs, options, progress)``: inputs by name (frames, spatial weights), the
options instance (None when the spec has none)."""


@dataclass(frozen=True)
class TableSpec:
    """One paper table (or an estimation a table depends on, such as the TFP elasticities).

    ``table_id`` is the one name used everywhere: asset keys ``["results", table_id]`` and
    ``["reports", table_id]``, the ``table_id`` of its warehouse rows, and the report files.
    ``inputs`` name what the estimation reads (the Dagster project maps each name to a
    loader and the asset that produces it); ``options`` is a frozen dataclass of run options
    (seeds, draws, switches; its defaults are the paper's run) or None; ``writes`` the results
    tables it fills, first the one whose schema the asset shows. ``layout(*frames of sources,
    provenance)`` builds the printed table; a figure gives ``render(*frames, provenance,
    reports_dir) -> (paths, metadata)`` instead. ``headline``: (column id, term) shown first.
    ``asset_key`` replaces ``["results", table_id]`` for an estimation that is not a paper
    table; ``report_deps`` replaces the report's dependency on the estimation (Table 1 and the
    figures, which read what other assets write)."""

    table_id: str
    description: str
    inputs: tuple[str, ...] = ()
    estimate: Estimate | None = None
    options: type | None = None
    writes: tuple[str, ...] = ("results.coefficients", "results.model_stats", "results.vcov")
    sources: tuple[Source, ...] = (COEFFICIENTS, MODEL_STATS)
    layout: Callable[..., PaperTable] | None = None
    render: Callable[..., tuple[list[Path], dict[str, object]]] | None = None
    headline: tuple[str, str] | None = None
    asset_key: tuple[str, ...] | None = None
    report_deps: tuple[tuple[str, ...], ...] | None = None

    @property
    def results_key(self) -> tuple[str, ...]:
        return self.asset_key or ("results", self.table_id)

    @property
    def report_key(self) -> tuple[str, ...]:
        return ("reports", self.table_id)

    @property
    def is_figure(self) -> bool:
        return self.render is not None

    def source_table_id(self, source: Source) -> str | None:
        """The table id whose rows ``source`` reads (None: the vintage's rows, whole)."""
        return (source.table_id or self.table_id) if source.by_table_id else None

    def build(self, frames: Sequence[pd.DataFrame], provenance: TableProvenance) -> PaperTable:
        """The printed table from the frames of ``sources``, in their order."""
        return self.layout(*frames, provenance)


# --------------------------------------------------------------------------- tidy rows


def stat_rows(column_id: str, values: Mapping[str, object]) -> pd.DataFrame:
    """results.model_stats rows for one column: numbers in ``value``, anything else in ``text``."""
    rows = analysis_stat_rows(values)
    rows.insert(0, "column_id", column_id)
    return rows


def coefficient_rows(column_id: str, result) -> pd.DataFrame:
    """results.coefficients rows for one column from a result's ``tidy()`` frame."""
    rows = result.tidy()
    rows.insert(0, "column_id", column_id)
    return rows


def model_stat_rows(column_id: str, result, extra: Mapping[str, object] | None = None) -> pd.DataFrame:
    """results.model_stats rows for one column: the result's ``model_stats()`` and ``extra``."""
    stats = result.model_stats()
    stats.insert(0, "column_id", column_id)
    return pd.concat([stats, stat_rows(column_id, extra)], ignore_index=True) if extra else stats


def regression_estimates(columns: Mapping[str, object], extra_stats: Mapping[str, Mapping[str, object]] | None = None,
                         metadata: Mapping[str, object] | None = None) -> Estimates:
    """Estimates of a table whose columns are all results with ``tidy()``/``model_stats()``
    (column id -> result); ``extra_stats``: column id -> more model statistics."""
    extra_stats = extra_stats or {}
    coefficients = pd.concat([coefficient_rows(c, r) for c, r in columns.items()], ignore_index=True)
    stats = pd.concat([model_stat_rows(c, r, extra_stats.get(c)) for c, r in columns.items()], ignore_index=True)
    return Estimates(results={"results.coefficients": coefficients, "results.model_stats": stats},
                     fitted=dict(columns), metadata=dict(metadata or {}))


def combine(*parts: Estimates, metadata: Mapping[str, object] | None = None) -> Estimates:
    """One table's estimates from several parts (their rows concatenated in order)."""
    results: dict[str, list[pd.DataFrame]] = {}
    combined = Estimates(results={})
    for part in parts:
        for table, rows in part.results.items():
            results.setdefault(table, []).append(rows)
        combined.fitted |= part.fitted
        combined.analysis |= part.analysis
        combined.metadata |= part.metadata
    combined.results = {table: pd.concat(frames, ignore_index=True) for table, frames in results.items()}
    combined.metadata |= dict(metadata or {})
    return combined


def estimate_of(coefficients: pd.DataFrame, column_id: str, term: str, decimals: int = 4) -> float:
    row = coefficients[(coefficients["column_id"] == column_id) & (coefficients["term"] == term)]
    return round(float(row["estimate"].iloc[0]), decimals) if len(row) else float("nan")
