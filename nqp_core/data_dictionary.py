"""DuckDB comments on the tables Python writes (raw, analysis, results, ops): the data dictionary in SQL.

dbt writes the comments of its models and seeds from their YAML descriptions
(``persist_docs``); the Python-written tables get theirs here, from the descriptions kept
beside their definitions (``raw_contract.py`` for raw, ``warehouse_tables.py`` for analysis
and results, ``ops_store.py`` and ``quality/alerts.py`` for the ops store). ``select table_name, column_name, comment from duckdb_columns()`` then says
what every column means.
"""

from __future__ import annotations

from collections.abc import Mapping

import duckdb


def _normalized(text: str) -> str:
    return " ".join(text.split())


def _literal(text: str) -> str:
    return "'" + _normalized(text).replace("'", "''") + "'"


def comment_on(conn: duckdb.DuckDBPyConnection, table: str, description: str, columns: Mapping[str, str]) -> None:
    """Set the comment of ``table`` (SCHEMA.NAME) and of each of its ``columns``."""
    conn.execute(f"comment on table {table} is {_literal(description)}")
    for column, text in columns.items():
        if not text.strip():
            raise ValueError(f"{table}.{column}: empty description")
        conn.execute(f'comment on column {table}."{column}" is {_literal(text)}')


TableDescriptions = Mapping[str, tuple[str, Mapping[str, str]]]
"""SCHEMA.NAME -> (table description, {column: description})."""


def ensure_comments(conn: duckdb.DuckDBPyConnection, tables: TableDescriptions) -> None:
    """:func:`comment_on` each of ``tables`` whose comments differ from its descriptions.

    For files written by many short connections (the ops store): one catalog query
    per connection, and a catalog write only when a description is new or changed.
    """
    current = {
        (f"{schema}.{table}", column): comment
        for schema, table, column, comment in conn.execute(
            "select schema_name, table_name, column_name, comment from duckdb_columns() "
            "where database_name = current_database()"
        ).fetchall()
    }
    current.update({
        (f"{schema}.{table}", None): comment
        for schema, table, comment in conn.execute(
            "select schema_name, table_name, comment from duckdb_tables() where database_name = current_database()"
        ).fetchall()
    })
    for table, (description, columns) in tables.items():
        wanted = {None: description, **columns}
        if any(current.get((table, column)) != _normalized(text) for column, text in wanted.items()):
            comment_on(conn, table, description, columns)
