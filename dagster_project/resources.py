"""Resources shared by every domain: the warehouse a run builds, the ops store, the vintage.

Each domain lists these same objects in its ``Definitions`` so that
``Definitions.merge`` sees one resource per key, not copies. Dagster runs the steps of
a job one after another in this process (see ``definitions.py``), so dbt and Python
never hold a write connection to the DuckDB file at the same time.

Write-audit-publish (docs/publishing.md): ``warehouse`` is the run's WORKING copy,
``<data_dir>/work/warehouse.duckdb``, never the published ``data/warehouse.duckdb``;
only the publish asset writes that file. The path given here is the default for runs
started from the UI; ``nqp run``, the sensor and the tests pass it explicitly in the run
config (:func:`dagster_project.publish.runs.run_config_for`), resolved when the run starts.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import duckdb
from dagster_duckdb import DuckDBResource

from dagster_project import settings
from dagster_project.ops_store import OpsStore, connect_with_retry
from dagster_project.publish.files import start_working_copy
from dagster_project.vintage import VintageSelection


class WorkingWarehouse(DuckDBResource):
    """The run's working copy. Ingest restarts it from the published warehouse; a run that
    does not start with ingest (a few assets materialized from the UI) finds it missing and
    gets a fresh copy of the published warehouse here, so it works on published data and
    never on the published file itself.

    The connection is closed even when the caller raises. DuckDBResource's own
    ``get_connection`` leaves it open then, and DuckDB keeps an open database per path and
    process: the next run in the same process (``nqp run`` with several vintages, the
    tests) would reconnect to the old, deleted working copy instead of its fresh one.
    """

    @contextmanager
    def get_connection(self) -> Iterator[duckdb.DuckDBPyConnection]:
        path = Path(self.database)
        if not path.exists():
            start_working_copy(path)
        conn = connect_with_retry(path, read_only=False, config=self.connection_config)
        try:
            yield conn
        finally:
            conn.close()


warehouse = WorkingWarehouse(database=str(settings.working_warehouse_path()))
ops = OpsStore()
vintage = VintageSelection()

SHARED_RESOURCES = {"warehouse": warehouse, "ops": ops, "vintage": vintage}
