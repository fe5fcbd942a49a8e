"""Compare the numbers of two warehouses, table by table: are the results the same?

    .venv/bin/python bench/compare_warehouses.py BEFORE.duckdb AFTER.duckdb            # bit for bit
    .venv/bin/python bench/compare_warehouses.py A.duckdb B.duckdb --rtol 1e-12         # within 1e-12
    .venv/bin/python bench/compare_warehouses.py OLD.duckdb NEW.duckdb --before-paper-specs

Every table of the compared schemas (default: results and analysis) is read from both files,
provenance columns (code version, vintage id, computation time, seeds' run ids) are set aside,
rows are sorted on every remaining non-float column, and each float column is compared with
|a - b| <= rtol * max(|a|, |b|) (rtol 0: identical bits, NaN equal to NaN). Exit status 0 when
everything agrees, 1 otherwise, with one line per table either way.

``--before-paper-specs``: the first warehouse was built before every table got one spec
(paper/specs.py), which renamed column ids to the printed column numbers and stored the two
seeds that were constants before. Its column ids are renamed by ``RENAMED_COLUMN_IDS`` and
the second warehouse's ``ADDED_ROWS`` (the new seed rows, which must all be there) are set
aside before comparing, so that every number that existed before is still compared bit for bit.
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

# (table_id, column id before the paper specs) -> column id now: the paper's printed column
# "(k)", a footer model of column k "(k):<role>", a block of printed columns "(k)-(m)"
# (paper/models.py). Tables 4, 7 and 13 and the TFP elasticities kept their ids.
RENAMED_COLUMN_IDS: dict[tuple[str, str], str] = {
    **{("table05", old): new for old, new in (
        ("firm_fe", "(1)"), ("add_both", "(2)"), ("tfp_lp_outcome", "(3)"), ("ai_patent_regressor", "(4)"),
        ("psm_matched_sample", "(5)"))},
    **{("table06", f"{instrument}_stage{stage}"): f"({2 * k + stage})"
       for k, instrument in enumerate(("l1_ai", "l2_ai", "mean_ai", "mean_ai_loo")) for stage in (1, 2)},
    **{("table08", f"{mediator}_{role}"): f"({k}){suffix}"
       for k, mediator in enumerate(("green", "sa_abs", "human_capital"), start=1)
       for role, suffix in (("path_a", ""), ("path_b", ":path_b"), ("mediation", ":mediation"))},
    **{("table09", region): f"({k})" for k, region in enumerate(("east", "central", "west"), start=1)},
    **{("table10", old): new for old, new in (
        ("heavy_polluting", "(1)"), ("non_heavy_polluting", "(2)"), ("high_tech", "(3)"), ("low_tech", "(4)"),
        ("pollution_difference", "(1):difference"), ("tech_difference", "(3):difference"))},
    ("table12", "adjacency"): "(1)-(3)",
    ("table12", "distance"): "(4)-(6)",
    **{("table14", f"{matrix}:{effect}"): f"({3 * m + k})"
       for m, matrix in enumerate(("adjacency", "distance")) for k, effect in enumerate(
           ("direct", "indirect", "total"), start=1)},
    **{("table14", f"{matrix}:{method}"): f"{block}:{method}"
       for matrix, block in (("adjacency", "(1)-(3)"), ("distance", "(4)-(6)")) for method in ("simulation", "delta")},
}
# results table -> (table_id, column_id, stat) rows that exist only since the paper specs: the
# seed (and permutation count) of Table 11's Moran permutations and the seed of Table 14's draws.
ADDED_ROWS: dict[str, tuple[tuple[str, str, str], ...]] = {
    "model_stats": (("table11", "permutation", "seed"), ("table11", "permutation", "permutations"),
                    *(("table14", f"({k})", "seed") for k in range(1, 7))),
}


def _tables(conn: duckdb.DuckDBPyConnection, schemas: tuple[str, ...]) -> set[tuple[str, str]]:
    rows = conn.execute(
        "select schema_name, table_name from duckdb_tables() where schema_name in (select unnest(?))",
        [list(schemas)],
    ).fetchall()
    return {(schema, table) for schema, table in rows}


def renamed_column_ids(frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` with its column ids as the paper specs name them (``RENAMED_COLUMN_IDS``)."""
    if not {"table_id", "column_id"} <= set(frame.columns):
        return frame
    renamed = [RENAMED_COLUMN_IDS.get((table_id, column_id), column_id)
               for table_id, column_id in zip(frame["table_id"], frame["column_id"])]
    return frame.assign(column_id=renamed)


def without_added_rows(frame: pd.DataFrame, table: str) -> tuple[pd.DataFrame, str | None]:
    """``frame`` without the rows the paper specs added (``ADDED_ROWS``); a problem when one is missing."""
    added = set(ADDED_ROWS.get(table, ()))
    if not added:
        return frame, None
    keys = list(zip(frame["table_id"], frame["column_id"], frame["stat"]))
    is_added = np.array([key in added for key in keys], dtype=bool) if keys else np.zeros(0, dtype=bool)
    missing = sorted(set(added) - set(keys))
    return frame[~is_added], (f"added rows missing: {missing}" if missing else None)


def _frame(conn: duckdb.DuckDBPyConnection, schema: str, table: str, prepare=None) -> pd.DataFrame:
    frame = conn.execute(f'select * from "{schema}"."{table}"').df()
    frame = frame.drop(columns=[c for c in frame.columns if c in PROVENANCE_COLUMNS])
    if prepare is not None:
        frame = prepare(frame)
    return _frame_sorted(frame)


def _frame_sorted(frame: pd.DataFrame) -> pd.DataFrame:
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
                       rtol: float = 0.0, before_paper_specs: bool = False) -> dict[str, str | None]:
    """Per ``schema.table``: None when equal, else a description of the difference.
    ``before_paper_specs``: map the first warehouse's column ids and set aside the second's
    added seed rows first (module docstring)."""
    with duckdb.connect(str(before), read_only=True) as left, duckdb.connect(str(after), read_only=True) as right:
        left_tables, right_tables = _tables(left, schemas), _tables(right, schemas)
        outcome: dict[str, str | None] = {}
        for schema, table in sorted(left_tables | right_tables):
            name = f"{schema}.{table}"
            if (schema, table) not in right_tables:
                outcome[name] = "only in the first warehouse"
            elif (schema, table) not in left_tables:
                outcome[name] = "only in the second warehouse"
            elif before_paper_specs and schema == "results":
                old = _frame(left, schema, table, renamed_column_ids)
                new, missing = without_added_rows(_frame(right, schema, table), table)
                outcome[name] = missing or compare_table(old, _frame_sorted(new), rtol)
            else:
                outcome[name] = compare_table(_frame(left, schema, table), _frame(right, schema, table), rtol)
    return outcome


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("before", type=Path)
    parser.add_argument("after", type=Path)
    parser.add_argument("--rtol", type=float, default=0.0, help="relative tolerance (default 0: bit for bit)")
    parser.add_argument("--schemas", nargs="+", default=list(DEFAULT_SCHEMAS))
    parser.add_argument("--before-paper-specs", action="store_true",
                        help="the first warehouse predates paper/specs.py: rename its column ids, "
                             "set aside the new seed rows")
    args = parser.parse_args(argv)
    outcome = compare_warehouses(args.before, args.after, tuple(args.schemas), args.rtol, args.before_paper_specs)
    for name, difference in outcome.items():
        print(f"{'same' if difference is None else 'DIFFERS'}  {name}" + (f": {difference}" if difference else ""))
    differing = [name for name, difference in outcome.items() if difference is not None]
    print(f"{len(outcome) - len(differing)} of {len(outcome)} tables agree"
          + (f" (rtol {args.rtol:g})" if args.rtol else " bit for bit"))
    return 1 if differing else 0


if __name__ == "__main__":
    sys.exit(main())
