"""Resources shared by every domain: the warehouse a run builds, the ops store, the vintage.

Each domain lists these same objects in its ``Definitions`` so that
``Definitions.merge`` sees one resource per key, not copies. Dagster runs the steps of
a job one after another in this process (see ``definitions.py``), so dbt and Python
never hold a write connection to the DuckDB file at the same time.

Write-audit-publish (docs/publishing.md): ``warehouse`` is the run's WORKING copy,
``<data_dir>/work/warehouse.duckdb``, never the published ``data/warehouse.duckdb``;
only the publish asset replaces that file, through :meth:`WorkingWarehouse.publish`. The
path given here is the default for runs started from the UI; ``nqp run``, the sensor and
the tests pass it explicitly in the run config
(:func:`dagster_project.defs.publish.runs.run_config_for`), resolved when the run starts.

Assets, checks and hooks reach DuckDB only through ``warehouse`` (and ``ops`` for ops.duckdb):
the working copy's lifecycle (start, connect, checkpoint, publish) and read-only views of the
working copy and the published file all live on it.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path

import duckdb
from dagster import ConfigurableResource
from dagster_duckdb import DuckDBResource
from pydantic import Field

from nqp_core import settings
from nqp_core.ops_store import OpsStore, connect_with_retry
from nqp_core.provenance import Provenance, provenance_for
from nqp_core.vintages import requested_vintage, resolve_vintage
from nqp_core.working_copy import Publication, publish_working_copy, start_working_copy


@contextmanager
def _read_only(path: Path | None) -> Iterator[duckdb.DuckDBPyConnection | None]:
    if path is None or not path.exists():
        yield None
        return
    conn = connect_with_retry(path, read_only=True)
    try:
        yield conn
    finally:
        conn.close()


class WorkingWarehouse(DuckDBResource):
    """The run's working copy, and the one way into the warehouse files.

    Ingest restarts it from the published warehouse; a run that does not start with ingest
    (a few assets materialized from the UI) finds it missing and gets a fresh copy of the
    published warehouse here, so it works on published data and never on the published file
    itself.

    The connection is closed even when the caller raises. DuckDBResource's own
    ``get_connection`` leaves it open then, and DuckDB keeps an open database per path and
    process: the next run in the same process (``nqp run`` with several vintages, the
    tests) would reconnect to the old, deleted working copy instead of its fresh one.
    """

    @property
    def path(self) -> Path:
        return Path(self.database)

    def restart(self) -> str | None:
        """Replace the working copy by a fresh copy of the published warehouse; its SHA-256 (None
        when nothing is published yet)."""
        return start_working_copy(self.path)

    @contextmanager
    def get_connection(self) -> Iterator[duckdb.DuckDBPyConnection]:
        if not self.path.exists():
            self.restart()
        conn = connect_with_retry(self.path, read_only=False, config=self.connection_config)
        try:
            yield conn
        finally:
            conn.close()

    def read_working(self) -> AbstractContextManager[duckdb.DuckDBPyConnection | None]:
        """A read-only connection to the working copy, or None when there is none (a failure hook
        of a run that failed before ingest)."""
        return _read_only(self.path)

    def read_published(self) -> AbstractContextManager[duckdb.DuckDBPyConnection | None]:
        """A read-only connection to the published warehouse, or None when nothing is published
        (or the working copy is configured to be the published file itself)."""
        published = settings.warehouse_path()
        return _read_only(None if published.resolve() == self.path.resolve() else published)

    def publish(self, vintage_id: str) -> Publication:
        """Checkpoint the working copy and make it the published warehouse, atomically."""
        return publish_working_copy(self.path, vintage_id)


class OpsResource(ConfigurableResource, OpsStore):
    """:class:`nqp_core.ops_store.OpsStore` as a Dagster resource (its ``path`` configurable)."""

    path: str = Field(default="", description="ops DuckDB file; empty for <data_dir>/ops.duckdb")


class VintageSelection(ConfigurableResource):
    """Every step of one run reads the same vintage through this resource.

    Empty ``vintage_id`` means the ``NQP_VINTAGE`` environment variable, and failing
    that the newest vintage in ``raw.vintages`` (:mod:`nqp_core.vintages`).
    """

    vintage_id: str = Field(default="", description="Vintage to build; empty for NQP_VINTAGE or the newest loaded")

    def requested_id(self) -> str:
        """The vintage asked for (configured, else NQP_VINTAGE), or '' for the newest."""
        return requested_vintage(self.vintage_id)

    def resolve(self, conn: duckdb.DuckDBPyConnection) -> str:
        return resolve_vintage(conn, self.requested_id())

    @contextmanager
    def session(self, warehouse: WorkingWarehouse) -> Iterator[tuple[duckdb.DuckDBPyConnection, Provenance]]:
        """A warehouse connection and the provenance (vintage, synthetic flag, code) of this run's vintage."""
        with warehouse.get_connection() as conn:
            yield conn, provenance_for(conn, self.resolve(conn))


warehouse = WorkingWarehouse(database=str(settings.working_warehouse_path()))
ops = OpsResource()
vintage = VintageSelection()

SHARED_RESOURCES = {"warehouse": warehouse, "ops": ops, "vintage": vintage}
