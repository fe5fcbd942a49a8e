"""Wall time of `nqp import` at paper scale: synthetic CSMAR + CNKI downloads -> a contract vintage.

The downloads are written first by `nqp synth --as csmar,cnki` (not timed as import); the import
then runs as a user runs it, in its own process (interpreter start and imports included). The
target is <= 30 s at scale 1 on 2 cores. The coverage table of the report is printed too.

    .venv/bin/python bench/import_bench.py              # scale 1.0, csmar+cnki
    .venv/bin/python bench/import_bench.py --scale 0.25 --vendors wind,csmar,cnki
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _nqp(*args: str) -> float:
    started = time.perf_counter()
    subprocess.run([sys.executable, "-m", "dagster_project.cli", *args], cwd=ROOT, check=True)
    return time.perf_counter() - started


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--vendors", default="csmar,cnki")
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "import_bench.json")
    args = parser.parse_args()
    vendors = args.vendors.split(",")
    with tempfile.TemporaryDirectory(prefix="nqp-import-bench-") as tmp:
        downloads, landing = Path(tmp) / "downloads", Path(tmp) / "landing"
        synth = _nqp("synth", "--as", args.vendors, "--scale", str(args.scale), "--out", str(downloads))
        sources = [arg for v in vendors for arg in ("--from", f"{v}:{downloads / v}")]
        seconds = _nqp("import", *sources, "--vintage", "bench", "--landing", str(landing))
        report = json.loads((landing / "bench" / "import_report.json").read_text(encoding="utf-8"))
    result = {"scale": args.scale, "vendors": vendors, "synth_seconds": round(synth, 1),
              "import_seconds": round(seconds, 1), "import_seconds_in_process": report["seconds"],
              "coverage": {f"{c['table']}.{c['column']}": c["coverage"] for c in report["columns"]},
              "rows": {t: entry["rows"] for t, entry in report["row_coverage"].items()},
              "applicant_matching": report["applicant_matching"]}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"scale {args.scale} {args.vendors}: synth --as {synth:.1f} s, import {seconds:.1f} s "
          f"({report['seconds']} s in process); written to {args.out}")
    for column, coverage in result["coverage"].items():
        print(f"  {column:45s} {coverage:7.1%}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
