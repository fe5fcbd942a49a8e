"""The failing rows of a failed dbt test, for its alert: which provinces, years or firms broke it.

dagster-dbt reports a failed test as a count ("9 failing row(s)"). The test's compiled
SELECT (dbt writes it under ``target/<invocation>/compiled/``) returns exactly its
failing rows, so running it again, read-only, on the run's working copy names them:
``province_code='460000', fiscal_year=2019, n_firms=0``. No Dagster import.
"""

from __future__ import annotations

from pathlib import Path

import duckdb

from nqp_core import settings

ROWS_IN_MESSAGE = 5


def compiled_test_sql(test_name: str, target: Path | None = None) -> Path | None:
    """The newest compiled SQL of dbt test ``test_name`` (singular or generic), if dbt wrote one."""
    target = target or settings.DBT_PROJECT_DIR / "target"
    candidates = list(target.glob(f"*/compiled/**/{test_name}.sql")) if target.exists() else []
    return max(candidates, key=lambda path: path.stat().st_mtime) if candidates else None


def failing_rows(test_name: str, conn: duckdb.DuckDBPyConnection | None, target: Path | None = None,
                 limit: int = ROWS_IN_MESSAGE) -> tuple[int, list[dict]] | None:
    """(count, first rows) of what the test selects through ``conn`` (a read-only connection to the
    database the test ran on); None when it cannot be rerun."""
    compiled = compiled_test_sql(test_name, target)
    if compiled is None or conn is None:
        return None
    query = compiled.read_text(encoding="utf-8").strip().rstrip(";")
    try:
        count = conn.execute(f"select count(*) from ({query}) as failing").fetchone()[0]
        cursor = conn.execute(f"select * from ({query}) as failing limit {int(limit)}")
        names = [column[0] for column in cursor.description]
        rows = cursor.fetchall()
    except duckdb.Error:
        return None  # the working copy moved on or the SQL needs dbt's context: the count alone remains
    return int(count), [dict(zip(names, row, strict=True)) for row in rows]


def describe(rows: list[dict]) -> str:
    return "; ".join(", ".join(f"{key}={value!r}" for key, value in row.items()) for row in rows)
