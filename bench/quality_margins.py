"""Measure the false-alarm margin of the semantic checks on clean refreshes, and what they cost.

For each scale, a synthetic vintage and its clean next vintage (``nqp synth --next-of``)
are loaded into one DuckDB file, and for every check of docs/data_quality.md ("Semantic
checks") the statistic it judges is computed on the clean data and set against its
tolerance. The margin is how far the clean statistic stays from the bound:

- ratio bands (unit ratios, percent median): the factor between the clean value and the
  nearest edge of the band (x20 band: a clean value at the typical level has margin 20);
- drift bounds: tolerance / largest clean shift over every stratum and column (inf when
  the clean shift is exactly 0).

It also measures the AI keyword / IPC share ratio per application year (margin: the factor
to the nearer edge of its band), and times loading (the contract with its new value rules) and the raw suites of the
next vintage, with the drift pass timed on its own. Usage::

    .venv/bin/python bench/quality_margins.py --scales 0.05 0.25 1 --out bench/results/quality_margins.json
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import tempfile
import time
from pathlib import Path

import duckdb

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from nqp_core.loader import load_vintage  # noqa: E402
from synthetic import DEFAULT_SEED, generate_vintage  # noqa: E402
from synthetic.next_vintage import generate_next_vintage  # noqa: E402
from expectations import drift  # noqa: E402
from expectations.config import DEFAULT_TOLERANCES as T  # noqa: E402
from expectations.raw import validate_raw_vintage  # noqa: E402
from expectations.raw_common import collect_facts  # noqa: E402
from expectations.raw_financials import UNIT_SCALES  # noqa: E402
from expectations.raw_patents import ai_measure_frame  # noqa: E402


def _band_margin(value: float, low: float, high: float | None) -> float:
    """Factor between ``value`` and the nearer edge of [low, high] (< 1 means outside: an alarm)."""
    factors = [value / low] + ([high / value] if high is not None else [])
    return min(factors)


def measure(scale: float, workdir: Path) -> dict:
    landing = workdir / f"landing_{scale}"
    base = generate_vintage(landing, "2024-06", seed=DEFAULT_SEED, scale=scale)
    following = generate_next_vintage(base, landing)
    database = workdir / f"w_{scale}.duckdb"
    result: dict = {"scale": scale}
    with duckdb.connect(str(database)) as conn:
        load_vintage(conn, base)
        started = time.perf_counter()
        load_vintage(conn, following)
        result["load_next_s"] = round(time.perf_counter() - started, 2)

        plausibility = {}
        for vintage in (base.name, following.name):
            for column, (scale_column, typical) in UNIT_SCALES.items():
                median = conn.execute(
                    f"select median(abs({column}) / nullif(abs({scale_column}), 0)) from raw.financials "
                    f"where vintage_id = ?", [vintage]).fetchone()[0]
                key = f"unit_ratio:{column}/{scale_column}"
                margin = _band_margin(median, typical / T.unit_ratio_band, typical * T.unit_ratio_band)
                plausibility[key] = min(plausibility.get(key, math.inf), margin)
            top1 = conn.execute("select median(top1_share_pct) from raw.governance where vintage_id = ?",
                                [vintage]).fetchone()[0]
            plausibility["share_percent:top1_share_pct"] = min(
                plausibility.get("share_percent:top1_share_pct", math.inf), _band_margin(top1, T.min_median_share_pct, None))
        result["plausibility_margin"] = {k: round(v, 2) for k, v in plausibility.items()}
        from expectations.raw_patents import traditional_only_characters

        result["patent_text_shares"] = {
            vintage: dict(zip(("traditional_script_titles", "traditional_script_abstracts", "titles_without_chinese"),
                              conn.execute(
                f"select avg(regexp_matches(title, '[{traditional_only_characters()}]')::int), "
                f"avg(regexp_matches(abstract, '[{traditional_only_characters()}]')::int), "
                "avg((not regexp_matches(title, '\\p{Han}'))::int) from raw.patents where vintage_id = ?",
                [vintage]).fetchone(), strict=True))
            for vintage in (base.name, following.name)
        }
        started = time.perf_counter()
        conn.execute(f"select avg(regexp_matches(abstract, '[{traditional_only_characters()}]')::int) "
                     "from raw.patents where vintage_id = ?", [following.name]).fetchone()
        result["script_regex_abstracts_s"] = round(time.perf_counter() - started, 2)
        ai_ratios = []
        for vintage in (base.name, following.name):
            started = time.perf_counter()
            frame = ai_measure_frame(conn, collect_facts(conn, vintage), T)
            result["ai_measure_frame_s"] = round(time.perf_counter() - started, 2)
            ai_ratios += frame["keyword_to_ipc_ratio"].dropna().tolist()
        result["ai_keyword_to_ipc_ratio"] = {"min": round(min(ai_ratios), 3), "max": round(max(ai_ratios), 3),
                                             "margin": round(min(min(ai_ratios) * T.ai_keyword_ipc_max_factor,
                                                                 T.ai_keyword_ipc_max_factor / max(ai_ratios)), 2)}
        result["content_duplicate_patent_share"] = {
            vintage: conn.execute(
                "select avg(case when n > 1 then 1.0 else 0.0 end) from (select count(*) over (partition by title, "
                "abstract, applicants, patent_type, application_date) as n from raw.patents where vintage_id = ?)",
                [vintage]).fetchone()[0]
            for vintage in (base.name, following.name)
        }

        facts = collect_facts(conn, following.name)
        started = time.perf_counter()
        frames = {table: drift.drift_frame(conn, table, facts, T) for table in drift.STRATA}
        result["drift_frames_s"] = round(time.perf_counter() - started, 2)
        observed = {}
        for table, frame in frames.items():
            for column in ("ln_median_shift", "ln_iqr_shift", "zero_share_shift", "null_share_shift"):
                values = frame[column].dropna().abs()
                if len(values):
                    observed[f"{table}:{column}"] = float(values.max())
            for column in ("rows_ratio", "new_year_rows_ratio", "kept_share"):
                values = frame[column].dropna()
                if len(values):
                    observed[f"{table}:{column}:min"] = float(values.min())
                    observed[f"{table}:{column}:max"] = float(values.max())
            result.setdefault("strata", {})[table] = int(len(frame))
        result["drift_observed"] = {k: round(v, 5) for k, v in observed.items()}
        bounds = {"ln_median_shift": T.drift_max_ln_location_shift, "ln_iqr_shift": T.drift_max_ln_scale_shift,
                  "zero_share_shift": T.drift_max_share_shift, "null_share_shift": T.drift_max_share_shift}
        margins = {}
        for key, value in observed.items():
            measure_name = key.split(":")[1]
            if measure_name in bounds:
                margins[key] = round(bounds[measure_name] / value, 1) if value else "inf (0 shift)"
            elif measure_name == "rows_ratio":
                low, high = T.drift_min_rows_ratio, T.drift_max_rows_ratio
                margins[key] = round(value - low, 3) if key.endswith(":min") else round(high - value, 3)
            elif measure_name == "kept_share" and key.endswith(":min"):
                margins[key] = round(value - (1 - T.drift_max_dropped_key_share), 4)
            elif measure_name == "new_year_rows_ratio" and key.endswith(":min"):
                margins[key] = round(value - T.drift_min_new_year_rows_ratio, 3)
        result["drift_margin"] = margins

        started = time.perf_counter()
        outcomes = validate_raw_vintage(conn, following.name)
        result["raw_suites_next_s"] = round(time.perf_counter() - started, 2)
        result["false_alarms"] = [f.message(o.table)[:300] for o in outcomes.values() for f in o.failures]
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scales", type=float, nargs="+", default=[0.05, 0.25, 1.0])
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args()
    results = []
    with tempfile.TemporaryDirectory(prefix="quality_margins_") as tmp:
        for scale in args.scales:
            results.append(measure(scale, Path(tmp)))
            print(json.dumps(results[-1], indent=1, default=str), flush=True)
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(results, indent=1, default=str), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
