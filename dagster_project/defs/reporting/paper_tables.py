"""Each paper table built from the warehouse rows of one vintage, by table id, in paper order.

The report assets render one table each; ``reports/tables_docx`` and the replication report
need all of them, so how a table is read from the warehouse is said once, here.
"""

from __future__ import annotations

from typing import Callable

import duckdb
import pandas as pd

from analysis.tables import PaperTable, TableProvenance
from dagster_project.defs.reporting import firm_layouts, layouts, spatial_layouts

TableBuilder = Callable[[duckdb.DuckDBPyConnection, str, TableProvenance], PaperTable]


def rows_for_vintage(conn, table: str, table_id: str, vintage_id: str) -> pd.DataFrame:
    """The rows of one paper table (``table_id``) of this vintage from a results table."""
    return conn.execute(f"select * from {table} where table_id = ? and vintage_id = ?", [table_id, vintage_id]).df()


def _coefficients(table_id: str, layout) -> TableBuilder:
    def build(conn, vintage_id: str, provenance: TableProvenance) -> PaperTable:
        return layout(rows_for_vintage(conn, "results.coefficients", table_id, vintage_id),
                      rows_for_vintage(conn, "results.model_stats", table_id, vintage_id), provenance)

    return build


def _with_stats(table_id: str, results_table: str, layout) -> TableBuilder:
    def build(conn, vintage_id: str, provenance: TableProvenance) -> PaperTable:
        return layout(rows_for_vintage(conn, results_table, table_id, vintage_id),
                      rows_for_vintage(conn, "results.model_stats", table_id, vintage_id), provenance)

    return build


def _values(table_id: str, results_table: str, layout) -> TableBuilder:
    def build(conn, vintage_id: str, provenance: TableProvenance) -> PaperTable:
        return layout(rows_for_vintage(conn, results_table, table_id, vintage_id), provenance)

    return build


def _table01(conn, vintage_id: str, provenance: TableProvenance) -> PaperTable:
    weights = conn.execute("select * from analysis.entropy_weights where vintage_id = ?", [vintage_id]).df()
    return layouts.table01(weights, provenance)


PAPER_TABLES: dict[str, TableBuilder] = {
    "table01": _table01,
    "table03": _values("table03", "results.descriptives", layouts.table03),
    "table04": _coefficients("table04", layouts.table04),
    "table05": _coefficients("table05", firm_layouts.table05),
    "table06": _coefficients("table06", firm_layouts.table06),
    "table07": _with_stats("table07", "results.balance", firm_layouts.table07),
    "table08": _coefficients("table08", firm_layouts.table08),
    "table09": _coefficients("table09", firm_layouts.table09),
    "table10": _coefficients("table10", firm_layouts.table10),
    "table11": _values("table11", "results.moran", spatial_layouts.table11),
    "table12": _values("table12", "results.specification_tests", spatial_layouts.table12),
    "table13": _coefficients("table13", spatial_layouts.table13),
    "table14": _with_stats("table14", "results.spatial_effects", spatial_layouts.table14),
}


def build_table(table_id: str, conn, vintage_id: str, provenance: TableProvenance) -> PaperTable:
    return PAPER_TABLES[table_id](conn, vintage_id, provenance)
