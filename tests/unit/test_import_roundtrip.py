"""Round trip through vendor formats: contract vintage -> `synth --as` downloads -> `nqp import`.

The import must give back the directly generated contract vintage exactly (frame-equal, dtypes
and row order included). The writer takes its field names from the same
profiles the importer reads and switches every quirk on (three header rows, GB18030/UTF-16,
zips with [DES] files, split files, parent/quarterly/opening rows, restatements, codes without
leading zeros, FN_Fn060 note lines, Wind 万元/亿元 columns and footers, PatSnap kind letters,
akshare quarterly rows).
No vendor format needs an exception: where a vendor cannot carry a field (Wind has no R&D
breakdown, staff or governance; akshare only part of financials), the mixed import takes it from
CSMAR, as a user would.
"""

from __future__ import annotations

import pandas as pd
import pyarrow.parquet as pq
import pytest

from nqp_core import contract as raw_contract
from importer.run import import_vintage, parse_source
from importer.vendor_writer import write_vendor_downloads
from synthetic.vintage import build_vintage

ROUND_TRIP_SCALE = 0.05  # ~200 firms, ~45,000 patents: every quirk occurs many times


@pytest.fixture(scope="module")
def vintage_and_downloads(tmp_path_factory):
    vintage = build_vintage(11, ROUND_TRIP_SCALE, "roundtrip")
    out = tmp_path_factory.mktemp("vendor_downloads")
    write_vendor_downloads(vintage.tables, ["csmar", "cnki", "wind", "patsnap", "akshare"], out)
    return vintage, out


def _assert_frame_equal_to_contract(vintage, folder):
    for table in raw_contract.RAW_TABLES:
        expected = vintage.tables[table.name].to_pandas()
        imported = pq.read_table(folder / f"{table.name}.parquet").to_pandas()
        # Row order too: the pipeline then sees identical files, so every published number is equal
        # (an iterative estimator's last digits can depend on row order).
        pd.testing.assert_frame_equal(imported, expected, check_dtype=True, obj=table.name)


@pytest.mark.parametrize("vendors", [("csmar", "cnki"), ("wind", "csmar", "cnki"), ("csmar", "patsnap"),
                                     ("akshare", "csmar", "cnki")],
                         ids=lambda v: "+".join(v))
def test_import_of_vendor_downloads_reproduces_the_contract_vintage(vintage_and_downloads, tmp_path, vendors):
    vintage, downloads = vintage_and_downloads
    target = import_vintage([parse_source(f"{v}:{downloads / v}") for v in vendors], "imported", tmp_path)
    _assert_frame_equal_to_contract(vintage, target)
    assert (target / raw_contract.READY_MARKER).exists()


def test_wind_supplies_the_columns_it_carries_when_listed_first(vintage_and_downloads, tmp_path):
    _, downloads = vintage_and_downloads
    target = import_vintage([parse_source(f"{v}:{downloads / v}") for v in ("wind", "csmar", "cnki")], "mixed",
                            tmp_path)
    report = (target / "import_report.md").read_text(encoding="utf-8")
    assert "`financials.total_assets` | Wind WindPanel.资产总计" in report
    assert "`financials.rd_salaries` | CSMAR FN_Fn060 note lines classified as salaries" in report
    assert "`governance.board_size` | CSMAR CG_Ybasic.Y1101a" in report


def test_a_mixed_free_import_marks_what_the_free_source_cannot_fill(vintage_and_downloads, tmp_path):
    _, downloads = vintage_and_downloads
    target = import_vintage([parse_source(f"{v}:{downloads / v}") for v in ("akshare", "csmar", "cnki")], "free",
                            tmp_path)
    report = (target / "import_report.md").read_text(encoding="utf-8")
    assert "## What a free (tushare/akshare) vintage cannot fill" in report
    assert "- governance.chair_ceo_duality" in report
    assert "`financials.total_assets` | akshare (Eastmoney) stock_balance_sheet_by_report_em.TOTAL_ASSETS" in report


def test_vendor_downloads_are_deterministic(vintage_and_downloads, tmp_path, digest):
    vintage, downloads = vintage_and_downloads
    write_vendor_downloads(vintage.tables, ["csmar", "cnki", "wind", "patsnap", "akshare"], tmp_path)
    assert digest(tmp_path) == digest(downloads)
