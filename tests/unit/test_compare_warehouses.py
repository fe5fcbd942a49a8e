"""bench/compare_warehouses.py --before-paper-specs: a warehouse built before the paper specs
(descriptive column ids, no seed rows for Tables 11 and 14) compares equal to the same numbers
under the new ids, and any changed number or missing seed row still shows. Real DuckDB files."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import duckdb
import pandas as pd
import pytest

SCRIPT = Path(__file__).resolve().parents[2] / "bench" / "compare_warehouses.py"
spec = importlib.util.spec_from_file_location("compare_warehouses", SCRIPT)
compare_warehouses = importlib.util.module_from_spec(spec)
spec.loader.exec_module(compare_warehouses)

OLD_COEFFICIENTS = [  # table_id, column_id before the paper specs, term, estimate
    ("table05", "firm_fe", "ai", 0.1), ("table06", "mean_ai_stage1", "mean_ai", 0.2),
    ("table08", "sa_abs_mediation", "indirect_sobel", 0.3), ("table10", "low_tech", "ai", 0.4),
    ("table04", "(3)", "ai", 0.5),
]
NEW_IDS = {"firm_fe": "(1)", "mean_ai_stage1": "(5)", "sa_abs_mediation": "(2):mediation", "low_tech": "(4)",
           "(3)": "(3)"}


def _write(path: Path, coefficients: pd.DataFrame, model_stats: pd.DataFrame) -> Path:
    with duckdb.connect(str(path)) as conn:
        conn.execute("create schema results")
        conn.execute("create table results.coefficients as select * from coefficients")
        conn.execute("create table results.model_stats as select * from model_stats")
    return path


def _warehouses(tmp_path: Path, new_estimate: float = 0.1, with_seeds: bool = True) -> tuple[Path, Path]:
    old = pd.DataFrame(OLD_COEFFICIENTS, columns=["table_id", "column_id", "term", "estimate"])
    new = old.assign(column_id=old["column_id"].map(NEW_IDS))
    new.loc[0, "estimate"] = new_estimate
    old_stats = pd.DataFrame([("table14", "adjacency:direct", "nobs", 279.0, None),
                              ("table12", "distance", "note", float("nan"), "x")],
                             columns=["table_id", "column_id", "stat", "value", "text"])
    new_stats = old_stats.assign(column_id=["(1)", "(4)-(6)"])
    if with_seeds:
        seeds = [(table_id, column_id, stat, 20250611.0, None)
                 for table_id, column_id, stat in compare_warehouses.ADDED_ROWS["model_stats"]]
        new_stats = pd.concat([new_stats, pd.DataFrame(seeds, columns=new_stats.columns)], ignore_index=True)
    return (_write(tmp_path / "old.duckdb", old, old_stats),
            _write(tmp_path / "new.duckdb", new, new_stats.iloc[::-1]))  # another row order too


def test_renamed_ids_and_added_seeds_compare_equal(tmp_path):
    old, new = _warehouses(tmp_path)
    outcome = compare_warehouses.compare_warehouses(old, new, ("results",), before_paper_specs=True)
    assert outcome == {"results.coefficients": None, "results.model_stats": None}
    # Without the map the same pair differs: the map is what makes them comparable.
    plain = compare_warehouses.compare_warehouses(old, new, ("results",))
    assert plain["results.coefficients"] is not None and plain["results.model_stats"] is not None


def test_a_changed_number_or_a_missing_seed_row_still_shows(tmp_path):
    old, new = _warehouses(tmp_path, new_estimate=0.1 + 1e-15)
    outcome = compare_warehouses.compare_warehouses(old, new, ("results",), before_paper_specs=True)
    assert "estimate: 1 value(s)" in outcome["results.coefficients"]
    (tmp_path / "old.duckdb").unlink()
    (tmp_path / "new.duckdb").unlink()
    old, new = _warehouses(tmp_path, with_seeds=False)
    outcome = compare_warehouses.compare_warehouses(old, new, ("results",), before_paper_specs=True)
    assert outcome["results.model_stats"].startswith("added rows missing")


@pytest.mark.parametrize("table_id", ["table05", "table06", "table08", "table09", "table10", "table12", "table14"])
def test_every_renamed_id_is_a_printed_column_id(table_id):
    """The map's targets follow the one convention: (k), (k):role, (k)-(m)[:role]."""
    targets = [new for (table, _), new in compare_warehouses.RENAMED_COLUMN_IDS.items() if table == table_id]
    assert targets and all(new.startswith("(") for new in targets)
    assert len(set(targets)) == len(targets)
