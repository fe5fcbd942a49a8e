"""Resources shared by every domain: the one way into the warehouse, and the vintage a run builds.

Each domain lists these same objects in its ``Definitions`` so that
``Definitions.merge`` sees one resource per key, not copies. Dagster runs the steps of
a job one after another in this process (see ``definitions.py``), so dbt and Python
never hold a write connection to the DuckDB file at the same time.
"""

from __future__ import annotations

from dagster_duckdb import DuckDBResource

from dagster_project import settings
from dagster_project.vintage import VintageSelection

warehouse = DuckDBResource(database=str(settings.warehouse_path()))
vintage = VintageSelection()

SHARED_RESOURCES = {"warehouse": warehouse, "vintage": vintage}
