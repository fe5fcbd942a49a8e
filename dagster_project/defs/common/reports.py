"""What every rendered output of a run is stamped with."""

from datetime import datetime, timezone

from analysis.tables import TableProvenance
from nqp_core.provenance import Provenance


def table_provenance(provenance: Provenance) -> TableProvenance:
    """The vintage, synthetic flag and code version of ``provenance``, and the time of rendering."""
    return TableProvenance(
        vintage_id=provenance.vintage_id,
        is_synthetic=provenance.is_synthetic,
        code_version=provenance.code_version,
        generated_at=datetime.now(timezone.utc).isoformat(timespec="seconds"),
    )
