"""Compare the numbers of two warehouses, table by table: are the results the same?

    .venv/bin/python bench/compare_warehouses.py BEFORE.duckdb AFTER.duckdb            # bit for bit
    .venv/bin/python bench/compare_warehouses.py A.duckdb B.duckdb --rtol 1e-12         # within 1e-12

Every table of the compared schemas (default: results and analysis) is read from both files,
provenance columns (code version, vintage id, computation time, seeds' run ids) are set aside,
rows are sorted on every remaining non-float column, and each float column is compared with
|a - b| <= rtol * max(|a|, |b|) (rtol 0: identical bits, NaN equal to NaN). Exit status 0 when
everything agrees, 1 otherwise, with one line per table either way.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd

PROVENANCE_COLUMNS = frozenset({"code_version", "computed_at", "vintage_id", "is_synthetic", "run_id"})
DEFAULT_SCHEMAS = ("results", "analysis")


def _tables(conn: duckdb.DuckDBPyConnection, schemas: tuple[str, ...]) -> set[tuple[str, str]]:
    rows = conn.execute(
        "select schema_name, table_name from duckdb_tables() where schema_name in (select unnest(?))",
        [list(schemas)],
    ).fetchall()
    return {(schema, table) for schema, table in rows}


def _frame(conn: duckdb.DuckDBPyConnection, schema: str, table: str) -> pd.DataFrame:
    frame = conn.execute(f'select * from "{schema}"."{table}"').df()
    frame = frame.drop(columns=[c for c in frame.columns if c in PROVENANCE_COLUMNS])
    keys = [c for c in frame.columns if not pd.api.types.is_float_dtype(frame[c])]
    return frame.sort_values(keys, kind="stable", na_position="last").reset_index(drop=True) if keys else frame


def compare_table(before: pd.DataFrame, after: pd.DataFrame, rtol: float) -> str | None:
    """None when the two frames agree; otherwise what differs, in one line."""
    if list(before.columns) != list(after.columns):
        return f"columns differ: {sorted(set(before.columns) ^ set(after.columns))}"
    if len(before) != len(after):
        return f"row counts differ: {len(before)} vs {len(after)}"
    worst = []
    for column in before.columns:
        a, b = before[column], after[column]
        if pd.api.types.is_float_dtype(a) and pd.api.types.is_float_dtype(b):
            x, y = a.to_numpy(dtype=float), b.to_numpy(dtype=float)
            both_nan = np.isnan(x) & np.isnan(y)
            with np.errstate(invalid="ignore"):
                gap = np.where(both_nan, 0.0, np.abs(x - y))
                scale = np.maximum(np.abs(x), np.abs(y))
                same = both_nan | (x == y)
            bad = ~(same | (gap <= rtol * scale))
            if bad.any():
                index = int(np.nanargmax(np.where(bad, gap, -1.0)))
                worst.append(f"{column}: {int(bad.sum())} value(s), largest gap {gap[index]:.3g} at row {index}")
        elif not a.astype(str).equals(b.astype(str)):
            worst.append(f"{column}: {int((a.astype(str) != b.astype(str)).sum())} value(s) differ")
    return "; ".join(worst) or None


def compare_warehouses(before: Path, after: Path, schemas: tuple[str, ...] = DEFAULT_SCHEMAS,
                       rtol: float = 0.0) -> dict[str, str | None]:
    """Per ``schema.table``: None when equal, else a description of the difference."""
    with duckdb.connect(str(before), read_only=True) as left, duckdb.connect(str(after), read_only=True) as right:
        left_tables, right_tables = _tables(left, schemas), _tables(right, schemas)
        outcome: dict[str, str | None] = {}
        for schema, table in sorted(left_tables | right_tables):
            name = f"{schema}.{table}"
            if (schema, table) not in right_tables:
                outcome[name] = "only in the first warehouse"
            elif (schema, table) not in left_tables:
                outcome[name] = "only in the second warehouse"
            else:
                outcome[name] = compare_table(_frame(left, schema, table), _frame(right, schema, table), rtol)
    return outcome


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("before", type=Path)
    parser.add_argument("after", type=Path)
    parser.add_argument("--rtol", type=float, default=0.0, help="relative tolerance (default 0: bit for bit)")
    parser.add_argument("--schemas", nargs="+", default=list(DEFAULT_SCHEMAS))
    args = parser.parse_args(argv)
    outcome = compare_warehouses(args.before, args.after, tuple(args.schemas), args.rtol)
    for name, difference in outcome.items():
        print(f"{'same' if difference is None else 'DIFFERS'}  {name}" + (f": {difference}" if difference else ""))
    differing = [name for name, difference in outcome.items() if difference is not None]
    print(f"{len(outcome) - len(differing)} of {len(outcome)} tables agree"
          + (f" (rtol {args.rtol:g})" if args.rtol else " bit for bit"))
    return 1 if differing else 0


if __name__ == "__main__":
    sys.exit(main())
