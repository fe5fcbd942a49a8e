"""Which vintage a run builds: the configured one, else the newest loaded."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager

import duckdb
from dagster import ConfigurableResource
from dagster_duckdb import DuckDBResource
from pydantic import Field

from dagster_project.provenance import Provenance, provenance_for


class VintageSelection(ConfigurableResource):
    """Every step of one run reads the same vintage through this resource.

    Empty ``vintage_id`` means the ``NQP_VINTAGE`` environment variable, and failing
    that the newest vintage in ``raw.vintages`` (ids sort by time: '2024-06' < '2024-09').
    """

    vintage_id: str = Field(default="", description="Vintage to build; empty for NQP_VINTAGE or the newest loaded")

    def requested_id(self) -> str:
        """The vintage asked for (configured, else NQP_VINTAGE), or '' for the newest."""
        return self.vintage_id or os.environ.get("NQP_VINTAGE", "")

    def resolve(self, conn: duckdb.DuckDBPyConnection) -> str:
        wanted = self.requested_id()
        loaded = [row[0] for row in conn.execute("select vintage_id from raw.vintages order by vintage_id").fetchall()]
        if not loaded:
            raise LookupError("no vintage is loaded in raw.vintages; put one under data/landing/ and materialize raw")
        if not wanted:
            return loaded[-1]
        if wanted not in loaded:
            raise LookupError(f"vintage {wanted!r} is not loaded; loaded vintages: {', '.join(loaded)}")
        return wanted

    @contextmanager
    def session(self, warehouse: DuckDBResource) -> Iterator[tuple[duckdb.DuckDBPyConnection, Provenance]]:
        """A warehouse connection and the provenance (vintage, synthetic flag, code) of this run's vintage."""
        with warehouse.get_connection() as conn:
            yield conn, provenance_for(conn, self.resolve(conn))
