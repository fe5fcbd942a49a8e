"""End to end through vendor formats: `nqp synth --as csmar,cnki` -> `nqp import` -> `nqp run`.

The imported vintage must give the same published coefficients as the directly generated vintage
of the same seed and scale (the session's `pipeline_run`): the import is exact, so every estimate
and standard error agrees to floating-point noise.
"""

from __future__ import annotations

import os

import duckdb
import pytest

from tests.conftest import E2E_SCALE, E2E_VINTAGE, nqp

pytestmark = pytest.mark.e2e

# The same inputs through the same code: equal to double precision. (The province means of
# Tables 11-14 are added in stock-code order, so even the spatial ML fits are reproducible.)
COEFFICIENT_TOLERANCE = 1e-12


def _coefficients(warehouse):
    with duckdb.connect(str(warehouse), read_only=True) as conn:
        rows = conn.execute(
            "select table_id, column_id, term, estimate, std_error, is_synthetic from results.coefficients "
            "order by table_id, column_id, term").fetchall()
    return {(t, c, term): (est, se, synthetic) for t, c, term, est, se, synthetic in rows}


def test_imported_csmar_cnki_vintage_reproduces_the_direct_coefficients(pipeline_run, tmp_path):
    env = {**os.environ, "NQP_DATA_DIR": str(tmp_path / "data"), "NQP_REPORTS_DIR": str(tmp_path / "reports"),
           "DAGSTER_HOME": str(tmp_path / "dagster_home")}
    downloads = tmp_path / "downloads"
    synth = nqp(["synth", "--as", "csmar,cnki", "--seed", "7", "--scale", str(E2E_SCALE),
                 "--vintage", E2E_VINTAGE, "--out", str(downloads)], env)
    assert synth.returncode == 0, synth.stderr[-4000:]
    imported = nqp(["import", "--from", f"csmar:{downloads / 'csmar'}", "--from", f"cnki:{downloads / 'cnki'}",
                    "--vintage", E2E_VINTAGE], env)
    assert imported.returncode == 0, imported.stderr[-4000:]
    run = nqp(["run"], env)
    assert run.returncode == 0, (run.stdout[-4000:], run.stderr[-4000:])

    direct = _coefficients(pipeline_run.warehouse)
    via_import = _coefficients(tmp_path / "data" / "warehouse.duckdb")
    assert direct and set(via_import) == set(direct)
    mismatches = []
    for key, (estimate, std_error, synthetic) in direct.items():
        other = via_import[key]
        assert other[2] == synthetic  # truth.json travels with the download: still labelled SYNTHETIC
        for mine, theirs in ((estimate, other[0]), (std_error, other[1])):
            if mine is not None and abs(theirs - mine) > COEFFICIENT_TOLERANCE * max(1.0, abs(mine)):
                mismatches.append((key, mine, theirs))
    assert not mismatches, mismatches[:10]
    assert len(direct) > 300  # every published coefficient is compared
