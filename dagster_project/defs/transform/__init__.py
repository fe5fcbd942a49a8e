"""Transform: the dbt project as Dagster assets; dbt tests as asset checks."""
