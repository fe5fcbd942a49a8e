"""End to end: every headline coefficient the DGP defines lands near its population value.

The population values (truth.json -> derived -> estimands) are the same pipeline's estimates
on a scale-6 vintage (synthetic/population.py); each names the row of
results.coefficients it is the truth for. This compares all of them at once on the small
end-to-end vintage.
"""

from __future__ import annotations

import math

import duckdb
import pytest
from scipy.stats import norm

pytestmark = pytest.mark.e2e

# A family-wise 5% test over all estimands (Bonferroni): with 26 comparisons a single
# 3-SE rule would flag some correct estimate by chance roughly one run in four.
FAMILY_WISE_LEVEL = 0.05
# Smallest number of estimands the population file must define: Tables 4-10 and the firm-level
# GMM of Table 13 (population.py ESTIMANDS); fewer means a stale or truncated truth.json.
MIN_ESTIMANDS = 26


def test_every_derived_estimand_is_near_its_population_value(pipeline_run):
    estimands = pipeline_run.truth["derived"]["estimands"]
    assert len(estimands) >= MIN_ESTIMANDS, sorted(estimands)
    critical_z = norm.ppf(1 - FAMILY_WISE_LEVEL / (2 * len(estimands)))
    misses = []
    with duckdb.connect(str(pipeline_run.warehouse), read_only=True) as conn:
        for name, truth in estimands.items():
            row = conn.execute(
                "select estimate, std_error from results.coefficients "
                "where table_id = ? and column_id = ? and term = ? and vintage_id = ?",
                [truth["table_id"], truth["column_id"], truth["term"], pipeline_run.vintage_id],
            ).fetchone()
            assert row is not None, f"{name}: no row {truth['table_id']}/{truth['column_id']}/{truth['term']}"
            estimate, std_error = row
            # Both the small run and the population run carry sampling error.
            z = (estimate - truth["value"]) / math.hypot(std_error, truth["std_error"])
            if abs(z) > critical_z:
                misses.append(f"{name}: {estimate:.4f} ({std_error:.4f}) vs {truth['value']:.4f}, z = {z:.2f}")
    assert not misses, f"beyond |z| = {critical_z:.2f}:\n" + "\n".join(misses)
