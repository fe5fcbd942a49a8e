"""DuckDB comments on the tables Python writes (raw, analysis, results): the data dictionary in SQL.

dbt writes the comments of its models and seeds from their YAML descriptions
(``persist_docs``); the Python-written tables get theirs here, from the descriptions kept
beside their definitions (``raw_contract.py`` for raw, ``warehouse_tables.py`` for analysis
and results). ``select table_name, column_name, comment from duckdb_columns()`` then says
what every column means.
"""

from __future__ import annotations

from collections.abc import Mapping

import duckdb


def _literal(text: str) -> str:
    return "'" + " ".join(text.split()).replace("'", "''") + "'"


def comment_on(conn: duckdb.DuckDBPyConnection, table: str, description: str, columns: Mapping[str, str]) -> None:
    """Set the comment of ``table`` (SCHEMA.NAME) and of each of its ``columns``."""
    conn.execute(f"comment on table {table} is {_literal(description)}")
    for column, text in columns.items():
        if not text.strip():
            raise ValueError(f"{table}.{column}: empty description")
        conn.execute(f'comment on column {table}."{column}" is {_literal(text)}')
