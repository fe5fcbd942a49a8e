"""Any warehouse table or view to CSV, Parquet or Stata .dta, with its column descriptions.

CSV and Parquet are written by DuckDB's own ``COPY ... TO`` (no pandas round trip). The
.dta goes through pandas ``to_stata``, which writes the variable labels; the labels are
the columns' DuckDB comments (dbt ``persist_docs`` of the model descriptions), so the
.dta says what each variable means in the same words as the data dictionary.
"""

from __future__ import annotations

import re
from pathlib import Path

import duckdb
import pandas as pd

from nqp_core.provenance import code_version

FORMATS = ("csv", "parquet", "dta")
STATA_LABEL_LENGTH = 80  # Stata's limit on a variable label
_RELATION = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*\.[A-Za-z_][A-Za-z0-9_]*$")


def _split(relation: str) -> tuple[str, str]:
    if not _RELATION.match(relation):
        raise ValueError(f"table must be written SCHEMA.NAME (letters, digits, _), got {relation!r}")
    schema, name = relation.split(".")
    return schema, name


def column_comments(conn: duckdb.DuckDBPyConnection, relation: str) -> dict[str, str]:
    """Column name -> its DuckDB comment ('' where it has none), in column order."""
    schema, name = _split(relation)
    rows = conn.execute(
        "select column_name, coalesce(comment, '') from duckdb_columns() "
        "where schema_name = ? and table_name = ? order by column_index", [schema, name]).fetchall()
    if not rows:
        raise LookupError(f"no table or view {relation} in the warehouse")
    return dict(rows)


def stata_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy Stata can store: booleans as 0/1 bytes, nullable integers as floats (Stata has no
    missing value for its integer types in pandas' writer)."""
    out = frame.copy()
    for column in out.columns:
        series = out[column]
        if pd.api.types.is_bool_dtype(series):
            out[column] = series.astype("int8")
        elif series.dtype == object and series.map(lambda v: isinstance(v, bool) or v is None).all() \
                and series.notna().any():
            out[column] = series.map({True: 1.0, False: 0.0, None: float("nan")})
        elif pd.api.types.is_integer_dtype(series) and series.isna().any():
            out[column] = series.astype("float64")
        elif pd.api.types.is_extension_array_dtype(series) and pd.api.types.is_integer_dtype(series):
            out[column] = series.astype("float64") if series.isna().any() else series.astype("int64")
    return out


def _label(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= STATA_LABEL_LENGTH else text[: STATA_LABEL_LENGTH - 3] + "..."


def _data_label(conn: duckdb.DuckDBPyConnection, quoted: str, relation: str, columns) -> str:
    """The .dta's own label: synthetic or real, the relation, its vintage(s) and the code version
    (the flag first, so Stata's 80 characters never cut it off)."""
    parts = []
    if "is_synthetic" in columns:
        synthetic = conn.execute(f"select bool_or(is_synthetic) from {quoted}").fetchone()[0]
        parts.append("SYNTHETIC" if synthetic else "real data")
    parts.append(f"NQP {relation}")
    if "vintage_id" in columns:
        vintages = [str(v) for (v,) in conn.execute(f"select distinct vintage_id from {quoted} order by 1").fetchall()]
        parts.append(f"vintage {', '.join(vintages) or 'none'}")
    parts.append(f"code {code_version()}")
    return _label(" | ".join(parts))


def export_relation(conn: duckdb.DuckDBPyConnection, relation: str, fmt: str, path: Path | str) -> Path:
    """Write ``relation`` (SCHEMA.NAME) to ``path`` as ``fmt`` (csv, parquet or dta)."""
    if fmt not in FORMATS:
        raise ValueError(f"format must be one of {', '.join(FORMATS)}, got {fmt!r}")
    comments = column_comments(conn, relation)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    quoted = ".".join(f'"{part}"' for part in _split(relation))
    target = str(path).replace("'", "''")  # a string literal in the COPY statement
    if fmt == "csv":
        conn.execute(f"copy (select * from {quoted}) to '{target}' (header, delimiter ',')")
    elif fmt == "parquet":
        conn.execute(f"copy (select * from {quoted}) to '{target}' (format parquet)")
    else:
        frame = stata_frame(conn.execute(f"select * from {quoted}").df())
        labels = {column: _label(comments.get(column) or column) for column in frame.columns}
        frame.to_stata(path, write_index=False, version=118, variable_labels=labels,
                       data_label=_data_label(conn, quoted, relation, comments))
    return path
