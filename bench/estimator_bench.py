"""Time every estimator of the default job in one plain Python process, and freeze or compare
its outputs bit for bit.

    .venv/bin/python bench/estimator_bench.py WAREHOUSE.duckdb                    # seconds per estimator
    .venv/bin/python bench/estimator_bench.py WAREHOUSE.duckdb --save out.pkl     # ... and freeze the outputs
    .venv/bin/python bench/estimator_bench.py WAREHOUSE.duckdb --compare out.pkl  # ... and diff against them
    .venv/bin/python bench/estimator_bench.py WAREHOUSE.duckdb --only table10_permutation
    .venv/bin/python bench/estimator_bench.py WAREHOUSE.duckdb --repeat 3        # first call and best of 3

The inputs (the firm-year frame with Npro, the LP TFP and PSM-matched keys for Table 5, the
province-year panel and the stored weights) are read once from a published warehouse; the
estimator calls are those of the estimation assets, with the same specifications, seeds and
draws, and no Dagster, dbt or DuckDB in the timed part. ``--compare`` reports, per estimator,
whether every stored frame (tidy rows, model statistics, covariance rows, TFP, matches,
Moran, tests, effects) is identical to the frozen one, and the largest relative difference
when it is not. Exit status 1 when a compared output differs. With ``--repeat N`` each
estimator runs N times in a row: the first call pays the one-off costs (libraries imported
on first use, caches), the best of the N is the compute itself; every repetition must give
the same outputs. ``cpu`` is the process's CPU time (all threads, best of the N): on a shared
machine it moves less with the load than the wall time does.
"""

from __future__ import annotations

import argparse
import pickle
import sys
import time
from collections.abc import Callable
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from analysis.descriptives import describe  # noqa: E402
from analysis.dynamic_panel import fit_dynamic_panel  # noqa: E402
from analysis.fixed_effects import fit_ols  # noqa: E402
from analysis.iv import fit_iv, group_mean, lagged  # noqa: E402
from analysis.matching import average_treatment_effect_on_treated, balance_table, match_nearest_neighbour  # noqa: E402
from analysis.mediation import fit_mediation  # noqa: E402
from analysis.paper_models import (  # noqa: E402
    CONTROLS,
    DESCRIPTIVE_VARIABLES,
    FIRM_CLUSTER,
    SPATIAL_REGRESSORS,
    SPATIAL_TIME,
    SPATIAL_UNIT,
    TABLE04,
    TABLE05,
    TABLE06_INSTRUMENTS,
    TABLE07_COVARIATES,
    TABLE07_TREATMENT,
    TABLE08_MEDIATORS,
    TABLE09_REGIONS,
    TABLE10_SPLITS,
    TABLE13_GMM,
    YEAR_PROVINCE_FE,
)
from analysis.permutation import permutation_coefficient_difference  # noqa: E402
from analysis.production import fit_levinsohn_petrin  # noqa: E402
from analysis.spatial import moran_by_period  # noqa: E402
from analysis.spatial_panel import (  # noqa: E402
    add_spatial_lags,
    fit_spatial_panel,
    hausman_fe_re,
    panel_lm_tests,
    sdm_specification_tests,
    spatial_effects,
)
from analysis.spatial_weights import SpatialWeights  # noqa: E402

# The defaults of the estimation assets (dagster_project estimation modules): seeds and draws.
TFP_SEED, PSM_SEED, MEDIATION_SEED, PERMUTATION_SEED = 20250501, 20250507, 20250508, 20250510
MORAN_SEED, EFFECTS_SEED = 20250611, 20250612
TFP_DRAWS, MEDIATION_DRAWS, PERMUTATION_DRAWS, MORAN_PERMUTATIONS, EFFECT_DRAWS = 200, 1000, 1000, 999, 1000
WEIGHT_KINDS = {"adjacency": "contiguity", "distance": "inverse_distance"}
SDM_COLUMNS = {"(1)": ("adjacency", True), "(2)": ("distance", True), "(4)": ("adjacency", False),
               "(5)": ("distance", False)}


def load_inputs(path: Path) -> dict[str, object]:
    with duckdb.connect(str(path), read_only=True) as conn:
        (vintage,) = conn.execute("select max(vintage_id) from marts.fct_firm_years").fetchone()
        frame = conn.execute(
            """select f.*, n.npro from marts.fct_firm_years as f join analysis.firm_year_npro as n
               on n.stock_code = f.stock_code and n.fiscal_year = f.fiscal_year and n.vintage_id = f.vintage_id
               where f.vintage_id = ? order by f.stock_code, f.fiscal_year""", [vintage]).df()
        tfp = conn.execute("select stock_code, fiscal_year, tfp_lp from analysis.firm_year_tfp where vintage_id = ?",
                           [vintage]).df()
        matched = conn.execute("select stock_code, fiscal_year, match_weight from analysis.psm_matched "
                               "where vintage_id = ? and match_weight > 0", [vintage]).df()
        lp_inputs = conn.execute("select stock_code, fiscal_year, ln_output, ln_labour, ln_capital, ln_intermediate "
                                 "from marts.fct_firm_years where vintage_id = ? order by stock_code, fiscal_year",
                                 [vintage]).df()
        panel = conn.execute("select * from marts.fct_province_years where vintage_id = ? "
                             "order by province_code, fiscal_year", [vintage]).df()
        codes = [row[0] for row in conn.execute("select gb_code from reference.provinces order by gb_code").fetchall()]
        links = conn.execute("select matrix_name, i, j, raw_weight from analysis.spatial_weights where vintage_id = ?",
                             [vintage]).df()
    position = {code: k for k, code in enumerate(codes)}
    weights = {}
    for name, group in links.groupby("matrix_name"):
        raw = np.zeros((len(codes), len(codes)))
        raw[group["i"].map(position).to_numpy(), group["j"].map(position).to_numpy()] = group["raw_weight"].to_numpy()
        weights[name] = SpatialWeights(codes=codes, raw=raw, kind=WEIGHT_KINDS[name])
    return {"vintage": vintage, "frame": frame, "tfp": tfp, "matched": matched, "lp_inputs": lp_inputs,
            "panel": panel, "weights": weights}


def _rows(results: dict[str, object]) -> dict[str, pd.DataFrame]:
    """The frames an asset stores for each fitted column: tidy, model statistics, covariance."""
    frames = {}
    for column_id, result in results.items():
        frames[f"{column_id}:tidy"] = result.tidy()
        frames[f"{column_id}:model_stats"] = result.model_stats()
        frames[f"{column_id}:vcov"] = result.vcov_rows()
    return frames


def _ols(frame: pd.DataFrame, spec) -> object:
    return fit_ols(frame, spec.depvar, list(spec.regressors), list(spec.fixed_effects), cluster=spec.cluster)


def table03(inputs) -> dict[str, pd.DataFrame]:
    return {"describe": describe(inputs["frame"], list(DESCRIPTIVE_VARIABLES))}


def table04(inputs):
    return _rows({spec.column_id: _ols(inputs["frame"], spec) for spec in TABLE04})


def tfp_lp(inputs):
    frame = inputs["lp_inputs"]
    result = fit_levinsohn_petrin(frame, FIRM_CLUSTER, "fiscal_year", "ln_output", free=("ln_labour",),
                                  state=("ln_capital",), proxy="ln_intermediate", n_boot=TFP_DRAWS,
                                  rng=np.random.default_rng(TFP_SEED))
    return {**_rows({"levinsohn_petrin": result}), "tfp": pd.DataFrame({"tfp": np.asarray(result.tfp, dtype=float)})}


def table05(inputs):
    frame = inputs["frame"].merge(inputs["tfp"], on=[FIRM_CLUSTER, "fiscal_year"], how="left", validate="one_to_one")
    matched = frame.merge(inputs["matched"], on=[FIRM_CLUSTER, "fiscal_year"], validate="one_to_one")
    return _rows({spec.column_id: _ols(matched if spec.column_id == "psm_matched_sample" else frame, spec)
                  for spec in TABLE05})


def table06(inputs):
    frame = inputs["frame"]
    frame = frame.assign(l1_ai=lagged(frame, "ai", FIRM_CLUSTER, "fiscal_year", 1),
                         l2_ai=lagged(frame, "ai", FIRM_CLUSTER, "fiscal_year", 2),
                         mean_ai=group_mean(frame, "ai", ("industry_code", "fiscal_year")))
    frames = {}
    for instrument in TABLE06_INSTRUMENTS:
        fit = fit_iv(frame, "npro", "ai", [instrument], list(CONTROLS), fixed_effects=list(YEAR_PROVINCE_FE),
                     cluster=FIRM_CLUSTER)
        frames |= _rows({f"{instrument}_stage1": fit.first_stage["ai"], f"{instrument}_stage2": fit.second_stage})
        frames[f"{instrument}:diagnostics"] = pd.Series(dict(fit.diagnostics)).to_frame("value")
    return frames


def table07(inputs):
    frame = inputs["frame"]
    match = match_nearest_neighbour(frame, TABLE07_TREATMENT, covariates=list(TABLE07_COVARIATES), caliper=0.01,
                                    replace=False, rng=np.random.default_rng(PSM_SEED), model="logit", order="random")
    att = average_treatment_effect_on_treated(match, "npro")
    return {
        **_rows({"propensity_model": match, "att_npro": att}),
        "match_stats": pd.Series({**dict(match.propensity.stats), **dict(match.stats)}).to_frame("value"),
        "balance": balance_table(frame, TABLE07_TREATMENT, list(TABLE07_COVARIATES), match),
        "matches": pd.DataFrame({"score": match.scores.to_numpy(), "weight": match.weights.to_numpy(),
                                 "on_support": match.on_support.to_numpy()}),
    }


def table08(inputs):
    rng = np.random.default_rng(MEDIATION_SEED)
    frames = {}
    for mediator in TABLE08_MEDIATORS:
        fit = fit_mediation(inputs["frame"], "npro", "ai", mediator, list(CONTROLS), list(YEAR_PROVINCE_FE),
                            cluster=FIRM_CLUSTER, n_boot=MEDIATION_DRAWS, rng=rng)
        frames |= _rows({f"{mediator}_path_a": fit.path_a, f"{mediator}_path_b": fit.path_b,
                         f"{mediator}_mediation": fit})
    return frames


def table09(inputs):
    frame = inputs["frame"]
    return _rows({region: fit_ols(frame[frame["region"] == region], "npro", ["ai", *CONTROLS],
                                  list(YEAR_PROVINCE_FE), cluster=FIRM_CLUSTER) for region in TABLE09_REGIONS})


def table10(inputs):
    rng = np.random.default_rng(PERMUTATION_SEED)
    frames = {}
    for split, (flag, group0, group1) in TABLE10_SPLITS.items():
        test = permutation_coefficient_difference(inputs["frame"], flag, "npro", ["ai", *CONTROLS], "ai",
                                                  list(YEAR_PROVINCE_FE), cluster=FIRM_CLUSTER,
                                                  n_draws=PERMUTATION_DRAWS, rng=rng, permute_by=None)
        frames |= _rows({group0: test.fit_group0, group1: test.fit_group1})
        frames[f"{split}:stats"] = pd.Series(dict(test.stats)).to_frame("value")
        frames[f"{split}:draws"] = pd.DataFrame({"draw": test.draws})
    return frames


def table11(inputs):
    rng = np.random.default_rng(MORAN_SEED)
    return {name: moran_by_period(inputs["panel"], "npro", w, SPATIAL_UNIT, SPATIAL_TIME, rng, MORAN_PERMUTATIONS)
            for name, w in inputs["weights"].items()}


def _sdm(panel, weights, model, lee_yu):
    return fit_spatial_panel(panel, "npro", SPATIAL_REGRESSORS, weights, unit=SPATIAL_UNIT, time=SPATIAL_TIME,
                             model=model, fixed_effects="twoways", lee_yu=lee_yu)


def table12(inputs):
    panel, frames = inputs["panel"], {}
    for name, w in inputs["weights"].items():
        lm = panel_lm_tests(panel, "npro", SPATIAL_REGRESSORS, w, unit=SPATIAL_UNIT, time=SPATIAL_TIME,
                            fixed_effects="none", error_variance="ml")
        fits = {m: _sdm(panel, w, m, True) for m in ("sdm", "sar", "sem")}
        lr_wald = sdm_specification_tests(fits["sdm"], fits["sar"], fits["sem"])
        lagged_panel = add_spatial_lags(panel, SPATIAL_REGRESSORS, w, unit=SPATIAL_UNIT, time=SPATIAL_TIME)
        hausman = hausman_fe_re(lagged_panel, "npro", [*SPATIAL_REGRESSORS, *fits["sdm"].lagged_regressors],
                                unit=SPATIAL_UNIT, time=SPATIAL_TIME, time_effects=True)
        frames[name] = pd.concat([lm.tidy(), lr_wald.tidy(), hausman.tidy()], ignore_index=True)
    return frames


def table13_sdm(inputs):
    return _rows({column_id: _sdm(inputs["panel"], inputs["weights"][matrix], "sdm", lee_yu).regression
                  for column_id, (matrix, lee_yu) in SDM_COLUMNS.items()})


def table13_gmm(inputs):
    return _rows({spec.column_id: fit_dynamic_panel(
        inputs["frame"], "stock_code", "fiscal_year", spec.depvar, lags=1, predetermined=list(spec.predetermined),
        endog=list(spec.endogenous), gmm_lags=spec.gmm_lags, collapse=spec.collapse, system=spec.system,
        two_step=spec.two_step, robust=True, time_dummies=True).regression for spec in TABLE13_GMM})


def table14(inputs):
    rng = np.random.default_rng(EFFECTS_SEED)
    frames = {}
    for matrix, w in inputs["weights"].items():
        effects = spatial_effects(_sdm(inputs["panel"], w, "sdm", True), rng, n_draws=EFFECT_DRAWS)
        frames |= _rows({f"{matrix}:simulation": effects.simulation, f"{matrix}:delta": effects.delta})
        frames[f"{matrix}:effects"] = effects.tidy()
    return frames


ESTIMATORS: dict[str, Callable[[dict], dict[str, pd.DataFrame]]] = {
    "table03_describe": table03,
    "table04_ols": table04,
    "tfp_levinsohn_petrin": tfp_lp,
    "table05_ols": table05,
    "table06_iv": table06,
    "table07_psm": table07,
    "table08_mediation": table08,
    "table09_ols": table09,
    "table10_permutation": table10,
    "table11_moran": table11,
    "table12_spatial_tests": table12,
    "table13_sdm": table13_sdm,
    "table13_gmm": table13_gmm,
    "table14_effects": table14,
}


def _max_relative_difference(before: pd.DataFrame, after: pd.DataFrame) -> float:
    numeric = [c for c in before.columns if pd.api.types.is_numeric_dtype(before[c]) and not
               pd.api.types.is_bool_dtype(before[c])]
    a, b = before[numeric].to_numpy(dtype=float), after[numeric].to_numpy(dtype=float)
    scale = np.maximum(np.abs(a), np.abs(b))
    with np.errstate(invalid="ignore", divide="ignore"):
        relative = np.where(scale > 0, np.abs(a - b) / scale, 0.0)
    return float(np.nanmax(relative)) if relative.size else 0.0


def compare(frozen: dict[str, pd.DataFrame], current: dict[str, pd.DataFrame]) -> tuple[bool, str]:
    if set(frozen) != set(current):
        return False, f"different outputs: {sorted(set(frozen) ^ set(current))}"
    worst, differing = 0.0, []
    for key in frozen:
        before, after = frozen[key], current[key]
        try:
            pd.testing.assert_frame_equal(before, after, check_exact=True)
        except AssertionError:
            differing.append(key)
            if before.shape == after.shape:
                worst = max(worst, _max_relative_difference(before, after))
            else:
                worst = np.inf
    if not differing:
        return True, "identical"
    return False, f"{len(differing)} frame(s) differ (max rel diff {worst:.2e}), e.g. {differing[:3]}"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("warehouse", type=Path)
    parser.add_argument("--save", type=Path, help="pickle the outputs here")
    parser.add_argument("--compare", type=Path, help="compare the outputs with this pickle")
    parser.add_argument("--only", nargs="*", choices=sorted(ESTIMATORS), help="run only these estimators")
    parser.add_argument("--repeat", type=int, default=1, help="run each estimator this many times (default 1)")
    args = parser.parse_args()

    inputs = load_inputs(args.warehouse)
    frozen = pickle.loads(args.compare.read_bytes()) if args.compare else None
    print(f"vintage {inputs['vintage']}: {len(inputs['frame'])} firm-years, {len(inputs['panel'])} province-years")
    outputs, first_total, best_total, best_cpu_total, all_same = {}, 0.0, 0.0, 0.0, True
    for name, estimator in ESTIMATORS.items():
        if args.only and name not in args.only:
            continue
        seconds, cpu_seconds = [], []
        for repetition in range(args.repeat):
            started, cpu_started = time.perf_counter(), time.process_time()
            result = estimator(inputs)
            seconds.append(time.perf_counter() - started)
            cpu_seconds.append(time.process_time() - cpu_started)
            if repetition == 0:
                outputs[name] = result
            elif not compare(outputs[name], result)[0]:
                raise SystemExit(f"{name}: repetition {repetition + 1} gave different outputs")
        first_total += seconds[0]
        best_total += min(seconds)
        best_cpu_total += min(cpu_seconds)
        verdict = ""
        if frozen is not None and name in frozen:
            same, verdict = compare(frozen[name], outputs[name])
            all_same &= same
        timing = f"{seconds[0]:7.2f} s" + (f"  best {min(seconds):6.2f} s" if args.repeat > 1 else "")
        print(f"{name:24s} {timing}  cpu {min(cpu_seconds):6.2f} s  {verdict}", flush=True)
    print(f"{'total':24s} {first_total:7.2f} s" + (f"  best {best_total:6.2f} s" if args.repeat > 1 else "")
          + f"  cpu {best_cpu_total:6.2f} s")
    if args.save:
        args.save.write_bytes(pickle.dumps(outputs))
    return 0 if all_same else 1


if __name__ == "__main__":
    sys.exit(main())
