"""DuckDB comments from the descriptions in code, on a real DuckDB file."""

from __future__ import annotations

import duckdb
import pytest

from nqp_core.data_dictionary import ensure_comments
from nqp_core.ops_store import OPS_TABLE_DESCRIPTIONS, OpsStore
from nqp_core.alerts import _ALERTS_DDL, ALERTS_DESCRIPTIONS


def _comments(path) -> dict[tuple[str, str], str | None]:
    with duckdb.connect(str(path), read_only=True) as conn:
        return {(table, column): comment for table, column, comment in conn.execute(
            "select table_name, column_name, comment from duckdb_columns() where schema_name = 'ops'").fetchall()}


def test_the_ops_store_describes_every_column_it_creates(tmp_path):
    store = OpsStore(path=str(tmp_path / "ops.duckdb"))
    store.record_status("2024-06", "loaded")
    with store.connection() as conn:
        conn.execute(_ALERTS_DDL)
        ensure_comments(conn, ALERTS_DESCRIPTIONS)
    comments = _comments(store.file)
    described = {**OPS_TABLE_DESCRIPTIONS, **ALERTS_DESCRIPTIONS}
    assert {table for table, _ in comments} == {name.split(".")[1] for name in described}
    assert all(comments.values()), [key for key, text in comments.items() if not text]
    assert comments[("vintage_status", "status")] == OPS_TABLE_DESCRIPTIONS["ops.vintage_status"][1]["status"]


def test_a_changed_description_replaces_the_stored_comment(tmp_path):
    path = tmp_path / "t.duckdb"
    with duckdb.connect(str(path)) as conn:
        conn.execute("create schema ops; create table ops.t (a integer, b integer)")
        ensure_comments(conn, {"ops.t": ("A table.", {"a": "Old  meaning\n of a.", "b": "B."})})
        ensure_comments(conn, {"ops.t": ("A table.", {"a": "New meaning of a.", "b": "B."})})
        table_comment = conn.execute("select comment from duckdb_tables() where table_name = 't'").fetchone()[0]
    assert _comments(path) == {("t", "a"): "New meaning of a.", ("t", "b"): "B."}
    assert table_comment == "A table."


def test_an_empty_description_is_refused(tmp_path):
    with duckdb.connect(str(tmp_path / "t.duckdb")) as conn:
        conn.execute("create schema ops; create table ops.t (a integer)")
        with pytest.raises(ValueError, match=r"ops\.t\.a: empty description"):
            ensure_comments(conn, {"ops.t": ("A table.", {"a": "  "})})


def test_every_python_written_table_describes_itself_and_every_column():
    from nqp_core.warehouse import TABLE_COLUMNS, TABLE_DESCRIPTIONS, column_descriptions

    assert set(TABLE_DESCRIPTIONS) == set(TABLE_COLUMNS)
    undescribed = [f"{table}.{name}" for table in TABLE_COLUMNS
                   for name, description in column_descriptions(table).items() if not description.strip()]
    assert not undescribed
