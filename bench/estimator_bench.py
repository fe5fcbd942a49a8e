"""Time every estimation of the default job in one plain Python process, and freeze or compare
its outputs bit for bit.

    .venv/bin/python bench/estimator_bench.py WAREHOUSE.duckdb                    # seconds per estimation
    .venv/bin/python bench/estimator_bench.py WAREHOUSE.duckdb --save out.pkl     # ... and freeze the outputs
    .venv/bin/python bench/estimator_bench.py WAREHOUSE.duckdb --compare out.pkl  # ... and diff against them
    .venv/bin/python bench/estimator_bench.py WAREHOUSE.duckdb --only table10
    .venv/bin/python bench/estimator_bench.py WAREHOUSE.duckdb --repeat 3        # first call and best of 3

The estimations are the paper specs' own (``paper/specs.py``: the functions the estimation
assets call, with the paper's options: specifications, seeds and draws), in the order their
dependencies impose; their inputs are read beforehand from a published warehouse with the
assets' loaders, so no Dagster, dbt or DuckDB work is in the timed part. ``--compare``
reports, per estimation, whether every output frame (the rows of each results and analysis
table it writes) is identical to the frozen one, and the largest relative difference when it
is not. Exit status 1 when a compared output differs. With ``--repeat N`` each estimation runs
N times in a row: the first call pays the one-off costs (libraries imported on first use,
caches), the best of the N is the compute itself; every repetition must give the same outputs.
``cpu`` is the process's CPU time (all threads, best of the N): on a shared machine it moves
less with the load than the wall time does.
"""

from __future__ import annotations

import argparse
import pickle
import sys
import time
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from dagster_project.defs.estimation.frames import INPUTS  # noqa: E402
from floor import estimation_order  # noqa: E402  (bench/floor.py: the same order as Dagster's)
from paper.spec import no_progress  # noqa: E402
from paper.specs import SPECS  # noqa: E402


def load_inputs(path: Path) -> tuple[str, dict[str, dict[str, object]]]:
    """The vintage, and each estimation's inputs read as its asset reads them."""
    with duckdb.connect(str(path), read_only=True) as conn:
        (vintage,) = conn.execute("select max(vintage_id) from marts.fct_firm_years").fetchone()
        return vintage, {spec.table_id: {name: INPUTS[name].load(conn, vintage) for name in spec.inputs}
                         for spec in estimation_order(SPECS, INPUTS)}


def estimate(spec, inputs: dict[str, object]) -> dict[str, pd.DataFrame]:
    """The frames one estimation writes (results and analysis tables), keyed by table name."""
    options = spec.options() if spec.options is not None else None  # the paper's run
    estimates = spec.estimate(inputs, options, no_progress)
    return {**estimates.results, **estimates.analysis}


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
    parser.add_argument("--only", nargs="*", help="run only these estimations (table ids, e.g. table10)")
    parser.add_argument("--repeat", type=int, default=1, help="run each estimation this many times (default 1)")
    args = parser.parse_args()

    vintage, inputs = load_inputs(args.warehouse)
    frozen = pickle.loads(args.compare.read_bytes()) if args.compare else None
    print(f"vintage {vintage}: {len(inputs)} estimations")
    outputs, first_total, best_total, best_cpu_total, all_same = {}, 0.0, 0.0, 0.0, True
    for spec in estimation_order(SPECS, INPUTS):
        name = spec.table_id
        if args.only and name not in args.only:
            continue
        seconds, cpu_seconds = [], []
        for repetition in range(args.repeat):
            started, cpu_started = time.perf_counter(), time.process_time()
            result = estimate(spec, inputs[name])
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
