"""``make docs``: dbt's documentation site of the published warehouse, with the right vars and path.

dbt needs the vintage (``--vars``) and the warehouse file (``NQP_WAREHOUSE_PATH``, read by
profiles.yml). The catalog is read from a copy of the published file, so the docs never
open the warehouse itself for writing; the copy keeps the name warehouse.duckdb because
DuckDB names the catalog after the file and the models' SQL refers to it.

    .venv/bin/python -m dagster_project.dbt_docs [--port 8080] [--no-serve]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import duckdb

from nqp_core import settings

DOCS_TARGET = settings.DBT_PROJECT_DIR / "target" / "docs_site"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=8080)
    parser.add_argument("--no-serve", action="store_true", help="generate target/ only")
    args = parser.parse_args(argv)
    published = settings.warehouse_path()
    if not published.exists():
        print(f"no warehouse at {published}: run `make run` first", file=sys.stderr)
        return 2
    copy = DOCS_TARGET / "catalog_source" / "warehouse.duckdb"
    copy.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(published, copy)
    with duckdb.connect(str(copy), read_only=True) as conn:
        vintage_id = conn.execute("select any_value(vintage_id) from marts.fct_firm_years").fetchone()[0]
    dbt = str(Path(sys.executable).parent / "dbt")
    env = {**os.environ, "NQP_WAREHOUSE_PATH": str(copy)}
    # its own target path: the manifest Dagster loads (target/manifest.json) stays dbt parse's
    common = ["--project-dir", str(settings.DBT_PROJECT_DIR), "--profiles-dir", str(settings.DBT_PROJECT_DIR),
              "--target-path", str(DOCS_TARGET)]
    subprocess.run([dbt, "docs", "generate", *common, "--vars", json.dumps({"vintage_id": vintage_id})],
                   env=env, check=True)
    if args.no_serve:
        return 0
    print(f"dbt docs of vintage {vintage_id} on http://127.0.0.1:{args.port} (Ctrl-C stops)", flush=True)
    return subprocess.run([dbt, "docs", "serve", *common, "--host", "127.0.0.1", "--port", str(args.port),
                           "--no-browser"], env=env).returncode


if __name__ == "__main__":
    sys.exit(main())
