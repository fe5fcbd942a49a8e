"""Dagster definition metadata shared by the domains."""

from dagster import TableColumn, TableSchema

from nqp_core.warehouse import PROVENANCE_COLUMNS, TABLE_COLUMNS, column_descriptions


def column_schema_metadata(table: str) -> dict[str, object]:
    """Definition metadata that shows ``table``'s columns, types and descriptions in the
    Dagster UI (the asset's Columns panel); the same descriptions as the DuckDB comments."""
    types = {part.split()[0]: part.split()[1] for part in f"{TABLE_COLUMNS[table]}, {PROVENANCE_COLUMNS}".split(", ")}
    columns = [TableColumn(name, types[name], description=text) for name, text in column_descriptions(table).items()]
    return {"dagster/column_schema": TableSchema(columns=columns), "dagster/table_name": table}
