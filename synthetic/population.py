"""Population values of estimands that only the pipeline defines, from one very large run.

Npro is built from the data by entropy weights and AI is measured by keyword matching
with false positives, so "the true AI coefficient of Table 4 column 3" has no closed
form in the DGP's parameters. Its truth is defined as the probability limit of the same
estimator under the same process, approximated by running the real pipeline
(generator, ingest, dbt, entropy index, estimation) on one very large synthetic vintage.
Winsorization bounds and min-max ranges are sample quantiles that converge, so the
estimand is well defined. The Monte-Carlo uncertainty of the approximation is the
large run's own standard error, stored beside each value.

    .venv/bin/python -m synthetic.population --scale 10

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

from synthetic.parameters import DgpParameters

OUTPUT = Path(__file__).with_name("population_values.json")



def _estimand(table_id: str, column_id: str, term: str, definition: str) -> dict[str, str]:
    return {"table_id": table_id, "column_id": column_id, "term": term, "definition": definition}


# Headline coefficients whose probability limit the DGP defines (firm-level estimators: the
# population grows with the scale). Province-level estimates (Tables 11-14 SDM, Moran's I)
# are left out on purpose: 31 provinces whatever the scale, and one draw of the province
# shocks per seed, so a large run does not approach a population value.
ESTIMANDS: dict[str, dict[str, str]] = {
    **{
        f"table04_col{c}_ai": _estimand("table04", f"({c})", "ai", f"Table 4 column ({c}) coefficient of AI on Npro")
        for c in (1, 2, 3)
    },
    "table05_firm_fe_ai": _estimand("table05", "(1)", "ai", "Table 5 (1): AI with firm, year and province FE"),
    "table05_add_both_ai": _estimand("table05", "(2)", "ai", "Table 5 (2): AI with the duality control"),
    "table05_tfp_ai": _estimand("table05", "(3)", "ai", "Table 5 (3): AI on LP TFP"),
    "table05_ai_patent": _estimand("table05", "(4)", "ai_patent", "Table 5 (4): IPC-based AI"),
    "table05_psm_ai_did": _estimand("table05", "(5)", "ai_did", "Table 5 (5): AI_Did, PSM sample"),
    # Not the Mean_AI column: the industry-year mean includes the firm itself with weight
    # 1/(firms in the cell), which shrinks as the scale grows, so its 2SLS estimand moves with
    # the scale (0.61 at 0.1, 1.38 at 1, 1.71 at 6) and a large run does not define it.
    **{
        f"table06_{iv}_ai": _estimand("table06", column, "ai", f"Table 6 {column}: 2SLS AI, instrument {iv}")
        for iv, column in (("l1_ai", "(2)"), ("l2_ai", "(4)"))
    },
    "table07_att": _estimand("table07", "att_npro", "ATT", "Table 7: ATT of AI_Did on Npro after matching"),
    **{
        f"table08_{m}_path_a": _estimand("table08", f"({k})", "ai", f"Table 8 ({k}): path a, {m} on AI")
        for k, m in enumerate(("green", "sa_abs", "human_capital"), start=1)
    },
    **{
        f"table08_{m}_indirect": _estimand("table08", f"({k}):mediation", "indirect_sobel",
                                           f"Table 8 ({k}): indirect effect via {m}")
        for k, m in enumerate(("green", "sa_abs", "human_capital"), start=1)
    },
    **{
        f"table09_{g}_ai": _estimand("table09", f"({k})", "ai", f"Table 9 ({k}): AI in the {g} subsample")
        for k, g in enumerate(("east", "central", "west"), start=1)
    },
    **{
        f"table10_{g}_ai": _estimand("table10", f"({k})", "ai",
                                     f"Table 10 ({k}): AI in the {g.replace('_', '-')} subsample")
        for k, g in enumerate(("heavy_polluting", "non_heavy_polluting", "high_tech", "low_tech"), start=1)
    },
    "table13_gmm_ai": _estimand("table13", "(3)", "ai", "Table 13 (3): system GMM, AI"),
    "table13_gmm_lag_npro": _estimand("table13", "(3)", "L1.npro", "Table 13 (3): system GMM, lagged Npro"),
}


def compute(scale: float, seed: int) -> dict:
    with tempfile.TemporaryDirectory(prefix="nqp-population-") as tmp:
        env = {
            **os.environ,
            "NQP_DATA_DIR": f"{tmp}/data",
            "NQP_REPORTS_DIR": f"{tmp}/reports",
            "NQP_EXPORTS_DIR": f"{tmp}/exports",
            "DAGSTER_HOME": f"{tmp}/dagster_home",
        }
        started = time.perf_counter()
        for args in (["synth", "--seed", str(seed), "--scale", str(scale), "--vintage", "population"], ["run"]):
            subprocess.run([sys.executable, "-m", "dagster_project.cli", *args], env=env, check=True)
        with duckdb.connect(f"{tmp}/data/warehouse.duckdb", read_only=True) as conn:
            firm_years = conn.execute("select count(*) from marts.fct_firm_years").fetchone()[0]
            code_version = conn.execute("select any_value(code_version) from results.coefficients").fetchone()[0]
            estimands = {}
            for name, estimand in ESTIMANDS.items():
                row = conn.execute(
                    "select estimate, std_error from results.coefficients "
                    "where table_id = ? and column_id = ? and term = ?",
                    [estimand["table_id"], estimand["column_id"], estimand["term"]],
                ).fetchone()
                if row is None:
                    raise LookupError(f"estimand {name}: no row {estimand} in results.coefficients")
                estimands[name] = {**estimand, "value": row[0], "std_error": row[1]}
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
