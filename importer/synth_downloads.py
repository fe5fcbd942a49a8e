"""``nqp synth --as VENDORS``: the synthetic vintage written as vendor downloads, plus truth.json."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

from nqp_core import contract as raw_contract
from nqp_core import settings
from importer.vendor_writer import write_vendor_downloads


def synth_downloads(vendors: list[str], out: Path | None, vintage_id: str, seed: int, scale: float,
                    progress: Callable[[str], None] | None = None) -> Path:
    from synthetic.vintage import build_vintage

    target = Path(out) if out else settings.data_dir() / "downloads" / vintage_id
    vintage = build_vintage(int(seed), float(scale), vintage_id, progress=progress)
    write_vendor_downloads(vintage.tables, vendors, target, progress)
    # The downloads are synthetic: truth.json travels with them so an import stays labelled SYNTHETIC.
    (target / raw_contract.TRUTH_FILE).write_text(json.dumps(vintage.truth, indent=2, ensure_ascii=False) + "\n",
                                                  encoding="utf-8")
    return target
