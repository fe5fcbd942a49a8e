"""The bare-compute floor of one vintage: the pipeline's own work in one plain Python process.

Runs the same computations as the orchestrated ``materialize_all`` run, in the same order.
Dagster, dbt and their event machinery are left out:
- the loader (``nqp_core.loader.load_vintage``);
- the raw Great Expectations suites (``expectations.raw``);
- the SQL dbt ran: seeds loaded by DuckDB, then each compiled model executed directly (views
  and tables, in dependency order) and each compiled data test counted. The SQL is dbt's own
  compiled output from the orchestrated run (``target/<run>-*/compiled``);
- the marts suite;
- the Npro index;
- every ``paper.specs`` estimation with its default options, every table and figure report, the
  Word file of all tables and the replication report.

The spec loaders and writers are called where the Dagster project keeps them. Their modules
import ``dagster`` for asset keys (about 0.5 s of imports, counted here). The floor leaves out
dbt's column comments (persist_docs), the figures inlined in the replication report, the
vintage diff, the publication copy and the export (about 3 s at scale 1). It is a lower
bound, so the ratio it gives is strict.

    .venv/bin/python bench/floor.py --vintage-dir DIR --work DIR --compiled RUN_PREFIX --published FILE
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
import time
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


class Stopwatch:
    def __init__(self) -> None:
        self.seconds: dict[str, float] = defaultdict(float)

    def time(self, stage: str):
        watch = self

        class _Lap:
            def __enter__(self):
                self.started = time.perf_counter()

            def __exit__(self, *exc):
                watch.seconds[stage] += time.perf_counter() - self.started

        return _Lap()


def _nodes_in_order(manifest: dict) -> list[dict]:
    """Seeds, models and data tests in an order dbt could have run them (parents first)."""
    nodes = {uid: node for uid, node in manifest["nodes"].items()
             if node["resource_type"] in ("seed", "model", "test")}
    ordered, seen = [], set()

    def visit(uid: str) -> None:
        if uid in seen or uid not in nodes:
            return
        seen.add(uid)
        for parent in nodes[uid]["depends_on"].get("nodes", []):
            visit(parent)
        ordered.append(nodes[uid])

    for uid in sorted(nodes):
        visit(uid)
    return ordered


def _after_python(manifest: dict) -> set[str]:
    """The nodes downstream of a Python-built source (``source:analysis+``), built after Npro."""
    children = manifest["child_map"]
    frontier = [uid for uid, src in manifest["sources"].items() if src["source_name"] == "analysis"]
    found: set[str] = set()
    while frontier:
        uid = frontier.pop()
        for child in children.get(uid, []):
            if child not in found:
                found.add(child)
                frontier.append(child)
    return found


def _compiled_sql(run_prefix: str) -> dict[str, Path]:
    """Compiled SQL of the orchestrated run's dbt invocations, by node file name."""
    files: dict[str, Path] = {}
    for folder in sorted((ROOT / "dbt_models" / "target").glob(f"{run_prefix}-*/compiled")):
        for path in folder.rglob("*.sql"):
            files[path.stem] = path
    if not files:
        raise FileNotFoundError(f"no compiled SQL under dbt_models/target/{run_prefix}-*/compiled")
    return files


def _run_sql(conn, nodes: list[dict], compiled: dict[str, Path], published) -> None:
    for node in nodes:
        relation = f'"{node["schema"]}"."{node.get("alias") or node["name"]}"'
        conn.execute(f'create schema if not exists "{node["schema"]}"')
        if node["resource_type"] == "seed":
            types = published.execute(
                "select column_name, data_type from duckdb_columns() where schema_name = ? and table_name = ? "
                "order by column_index", [node["schema"], node["name"]]).fetchall()
            columns = ", ".join(f"'{name}': '{dtype}'" for name, dtype in types)
            seed = ROOT / "dbt_models" / node["original_file_path"]
            conn.execute(f"create or replace table {relation} as select * from read_csv('{seed}', header = true, "
                         f"columns = {{{columns}}})")
            continue
        sql = compiled[Path(node["path"]).stem].read_text(encoding="utf-8")
        if node["resource_type"] == "model":
            kind = "view" if node["config"]["materialized"] == "view" else "table"
            conn.execute(f"create or replace {kind} {relation} as {sql}")
        else:
            conn.execute(f"select count(*) from ({sql}) as dbt_internal_test").fetchone()


def estimation_order(specs: dict, inputs: dict) -> list:
    """The specs with an estimation, each after the specs whose results it reads (Table 5 reads
    Table 7's matched sample): the order Dagster's dependencies impose."""
    produced_by = {tuple(spec.results_key): spec for spec in specs.values() if spec.estimate is not None}
    ordered, done = [], set()

    def visit(spec) -> None:
        if spec.table_id in done:
            return
        done.add(spec.table_id)
        for name in spec.inputs:
            upstream = produced_by.get(tuple(inputs[name].asset.path))
            if upstream is not None:
                visit(upstream)
        ordered.append(spec)

    for spec in produced_by.values():
        visit(spec)
    return ordered


def run_floor(vintage_dir: Path, work: Path, run_prefix: str, published_path: Path) -> dict:
    watch = Stopwatch()
    started = time.perf_counter()
    with watch.time("imports"):
        import duckdb

        from dagster_project.defs.estimation.assets import write_estimates
        from dagster_project.defs.estimation.frames import INPUTS
        import pandas as pd

        from analysis.npro import NPRO_DIRECTIONS, build_npro
        from analysis.published import table1_weights
        from analysis.spatial_weights import contiguity_weights, inverse_distance_weights
        from analysis.published import published_tables
        from analysis.replication import SOURCE_FRAMES, compare, render_html, render_markdown
        from analysis.tables import write_docx, write_table
        from dagster_project.defs.common.reports import table_provenance
        from dagster_project.defs.reporting.assets import build_table, read_sources
        from dagster_project.defs.reporting.replication import frame_tables
        from expectations.config import QualityTolerances
        from expectations.marts import KEY_COLUMNS, collect_mart_facts, fct_firm_years_suite
        from expectations.raw import validate_raw_table
        from expectations.raw_common import collect_facts
        from expectations.runner import validate_frame
        from nqp_core.contract import RAW_TABLES
        from nqp_core.loader import load_vintage
        from nqp_core.provenance import provenance_for
        from nqp_core.warehouse import replace_rows
        from paper.spec import no_progress
        from paper.specs import SPECS, paper_tables

    manifest = json.loads((ROOT / "dbt_models" / "target" / "manifest.json").read_text(encoding="utf-8"))
    compiled = _compiled_sql(run_prefix)
    ordered = _nodes_in_order(manifest)
    after = _after_python(manifest)
    reports_dir = work / "reports"
    work.mkdir(parents=True, exist_ok=True)
    tolerances = QualityTolerances()
    vintage_id = vintage_dir.name
    with duckdb.connect(str(published_path), read_only=True) as published, \
            duckdb.connect(str(work / "warehouse.duckdb")) as conn:
        with watch.time("ingest"):
            load_vintage(conn, vintage_dir)
        with watch.time("raw suites"):
            for table in RAW_TABLES:
                validate_raw_table(conn, table.name, collect_facts(conn, vintage_id), tolerances)
        with watch.time("dbt models"):
            _run_sql(conn, [n for n in ordered if n["unique_id"] not in after], compiled, published)
        with watch.time("marts suite"):
            facts = collect_mart_facts(conn, vintage_id, None, None)
            frame = conn.execute("select * from marts.fct_firm_years where vintage_id = ?", [vintage_id]).df()
            validate_frame(frame, "marts.fct_firm_years", lambda: fct_firm_years_suite(facts, tolerances), KEY_COLUMNS)
        provenance = provenance_for(conn, vintage_id)
        with watch.time("index"):
            # the npro_index asset's calls
            indicators = list(NPRO_DIRECTIONS)
            firm_years = conn.execute(
                f"select stock_code, fiscal_year, {', '.join(indicators)} from marts.fct_firm_years "
                "where vintage_id = ? order by stock_code, fiscal_year", [vintage_id]).df()
            result = build_npro(firm_years[indicators])
            npro = firm_years[["stock_code", "fiscal_year"]].assign(npro=result.scores.to_numpy())
            weights_frame = result.tidy()
            weights_frame["paper_weight"] = weights_frame["indicator"].map(table1_weights())
            replace_rows(conn, "analysis.entropy_weights", weights_frame, provenance)
            replace_rows(conn, "analysis.firm_year_npro", npro, provenance)
            # the spatial_weights asset's two calls, with its default options
            provinces = conn.execute(
                "select gb_code, capital_lat, capital_lon from reference.provinces order by gb_code").df()
            adjacency = conn.execute("select gb_code_a, gb_code_b, kind from reference.province_adjacency").df()
            weights = {
                "adjacency": contiguity_weights(provinces["gb_code"], adjacency, include_kinds=("land", "hainan_link")),
                "distance": inverse_distance_weights(provinces["gb_code"], provinces["capital_lat"],
                                                     provinces["capital_lon"], power=2.0, cutoff_km=None),
            }
            replace_rows(conn, "analysis.spatial_weights", pd.concat(
                [w.tidy().assign(matrix_name=name) for name, w in weights.items()], ignore_index=True), provenance)
        with watch.time("dbt after index"):
            _run_sql(conn, [n for n in ordered if n["unique_id"] in after], compiled, published)
        header = table_provenance(provenance)
        for spec in estimation_order(SPECS, INPUTS):
            with watch.time("estimation"):
                inputs = {name: INPUTS[name].load(conn, vintage_id) for name in spec.inputs}
                options = spec.options() if spec.options is not None else None  # the paper's run
                write_estimates(conn, provenance, spec, spec.estimate(inputs, options, no_progress))
        for spec in SPECS.values():
            if spec.layout is not None or spec.is_figure:
                with watch.time("reports"):
                    frames = read_sources(conn, spec, vintage_id)
                    if spec.is_figure:
                        spec.render(*frames, header, reports_dir)
                    else:
                        write_table(spec.build(frames, header), reports_dir)
        with watch.time("reports"):
            # the tables_docx and replication assets' calls
            write_docx([build_table(conn, spec, header, vintage_id) for spec in paper_tables()],
                       reports_dir / "tables.docx")
            frames = {name: conn.execute(f"select * from {table} where vintage_id = ?", [vintage_id]).df()
                      for name, table in frame_tables(SOURCE_FRAMES).items()}
            truth_json = conn.execute("select truth_json from raw.vintages where vintage_id = ?",
                                      [vintage_id]).fetchone()[0]
            estimands = json.loads(truth_json).get("derived", {}).get("estimands") if truth_json else None
            replication = compare(published_tables(), frames, header, estimands)
            (reports_dir / "replication.html").write_text(render_html(replication, []), encoding="utf-8")
            (reports_dir / "replication.md").write_text(render_markdown(replication, []), encoding="utf-8")
    seconds = dict(watch.seconds)
    seconds["total"] = time.perf_counter() - started
    return {"seconds": seconds, "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--vintage-dir", type=Path, required=True)
    parser.add_argument("--work", type=Path, required=True)
    parser.add_argument("--compiled", required=True, help="run id prefix of the orchestrated run's dbt artifacts")
    parser.add_argument("--published", type=Path, required=True, help="the orchestrated run's published warehouse")
    args = parser.parse_args()
    print(json.dumps(run_floor(args.vintage_dir, args.work, args.compiled, args.published)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
