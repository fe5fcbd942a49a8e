"""Population values of estimands that only the pipeline defines, from one very large run.

Npro is built from the data by entropy weights and AI is measured by keyword matching
with false positives, so "the true AI coefficient of Table 4 column 3" has no closed
form in the DGP's parameters. Its truth is defined as the probability limit of the same
estimator under the same process, approximated by running the real pipeline
(generator, ingest, dbt, entropy index, estimation) on one very large synthetic vintage.
Winsorization bounds and min-max ranges are sample quantiles that converge, so the
estimand is well defined. The Monte-Carlo uncertainty of the approximation is the
large run's own standard error, stored beside each value.

    .venv/bin/python -m dagster_project.synthetic.population --scale 10

writes ``population_values.json`` beside this module; the generator copies it into
every synthetic vintage's truth.json (``derived``) while its ``dgp_fingerprint`` matches.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import duckdb

from dagster_project.synthetic.parameters import DgpParameters

OUTPUT = Path(__file__).with_name("population_values.json")

ESTIMANDS = {
    f"table04_col{column}_ai": (f"({column})", "ai", f"Table 4 column ({column}) coefficient of AI on Npro")
    for column in (1, 2, 3)
}


def compute(scale: float, seed: int) -> dict:
    with tempfile.TemporaryDirectory(prefix="nqp-population-") as tmp:
        env = {
            **os.environ,
            "NQP_DATA_DIR": f"{tmp}/data",
            "NQP_REPORTS_DIR": f"{tmp}/reports",
            "DAGSTER_HOME": f"{tmp}/dagster_home",
        }
        started = time.perf_counter()
        for args in (["synth", "--seed", str(seed), "--scale", str(scale), "--vintage", "population"], ["run"]):
            subprocess.run([sys.executable, "-m", "dagster_project.cli", *args], env=env, check=True)
        with duckdb.connect(f"{tmp}/data/warehouse.duckdb", read_only=True) as conn:
            firm_years = conn.execute("select count(*) from marts.fct_firm_years").fetchone()[0]
            code_version = conn.execute("select any_value(code_version) from results.coefficients").fetchone()[0]
            estimands = {}
            for name, (column_id, term, definition) in ESTIMANDS.items():
                value, std_error = conn.execute(
                    "select estimate, std_error from results.coefficients "
                    "where table_id = 'table04' and column_id = ? and term = ?",
                    [column_id, term],
                ).fetchone()
                estimands[name] = {"value": value, "std_error": std_error, "definition": definition}
    return {
        "dgp_fingerprint": DgpParameters().fingerprint(),
        "method": "real pipeline on one large synthetic vintage; std_error = that run's firm-clustered SE "
        "(the Monte-Carlo uncertainty of the population value)",
        "scale": scale,
        "seed": seed,
        "firm_years": firm_years,
        "code_version": code_version,
        "seconds": round(time.perf_counter() - started, 1),
        "estimands": estimands,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=10.0)
    parser.add_argument("--seed", type=int, default=20240601)
    args = parser.parse_args()
    values = compute(args.scale, args.seed)
    OUTPUT.write_text(json.dumps(values, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    print(json.dumps(values, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
