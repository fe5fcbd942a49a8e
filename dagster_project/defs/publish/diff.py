"""Cross-vintage diff: what a new vintage changes against the last published one.

Computed inside the run's working copy, which holds every published vintage next to the
new one (raw tables, ``analysis.firm_year_npro`` and ``results.coefficients`` keep rows
per ``vintage_id``). The diff has five parts, stored in ``ops.vintage_diffs`` (long
format, one row per measure) and rendered as ``reports/vintage_diff_<new>_vs_<old>.md``:

- ``firm_years``: statement firm-years (``raw.financials`` keys) added, removed, revised,
  unchanged, with the added ones by fiscal year;
- ``revisions``: per column of the firm-year tables (financials, governance,
  firm_status), how many firm-years present in both vintages changed value, and the
  largest relative change; ``largest_revisions`` lists the biggest ones;
- ``sample``: analysis-sample firm-years (``analysis.firm_year_npro``) added and removed;
- ``patents``: applications added and removed (``raw.patents`` keys);
- ``coefficients``: every coefficient in ``results.coefficients`` of both vintages, old
  and new estimate, drift, and drift in units of the old standard error.

No Dagster import: the diff asset and the tests share this module.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import duckdb
import pandas as pd

from nqp_core.vintages import previous_vintage
from nqp_core.warehouse import table_exists
from nqp_core.contract import FINANCIALS, FIRM_STATUS, GOVERNANCE, PATENTS, RawTable

FIRM_YEAR_TABLES: tuple[RawTable, ...] = (FINANCIALS, GOVERNANCE, FIRM_STATUS)
# Two doubles within this relative distance are the same number written twice (CSV round
# trips, float summation order), not a revision.
REVISION_RELATIVE_TOLERANCE = 1e-9
LARGEST_REVISIONS_SHOWN = 5


@dataclass(frozen=True)
class VintageDiff:
    new_vintage_id: str
    base_vintage_id: str | None
    rows: tuple[dict, ...]

    def frame(self) -> pd.DataFrame:
        return pd.DataFrame(list(self.rows), columns=[
            "base_vintage_id", "kind", "subject", "measure", "value_old", "value_new", "delta", "detail"])

    def value(self, kind: str, subject: str, measure: str = "count") -> float | None:
        for row in self.rows:
            if (row["kind"], row["subject"], row["measure"]) == (kind, subject, measure):
                return row["value_new"]
        return None


def _row(base: str, kind: str, subject: str, measure: str, *, old=None, new=None, delta=None, detail=None) -> dict:
    return {"base_vintage_id": base, "kind": kind, "subject": subject, "measure": measure,
            "value_old": None if old is None else float(old), "value_new": None if new is None else float(new),
            "delta": None if delta is None else float(delta), "detail": detail}


def _changed(column: str, dtype: str) -> str:
    if dtype == "DOUBLE":
        return (f"not (o.{column} is not distinct from n.{column} or "
                f"abs(n.{column} - o.{column}) <= {REVISION_RELATIVE_TOLERANCE} * greatest(abs(o.{column}), 1))")
    return f"o.{column} is distinct from n.{column}"


def _firm_year_rows(conn, new: str, base: str) -> list[dict]:
    keys = "stock_code, fiscal_year"
    counts = conn.execute(
        f"""
        with o as (select {keys} from raw.financials where vintage_id = $base),
             n as (select {keys} from raw.financials where vintage_id = $new)
        select (select count(*) from n anti join o using ({keys})),
               (select count(*) from o anti join n using ({keys})),
               (select count(*) from o),
               (select count(*) from n)
        """,
        {"base": base, "new": new},
    ).fetchone()
    added_by_year = dict(conn.execute(
        f"""
        select n.fiscal_year, count(*) from (select {keys} from raw.financials where vintage_id = $new) n
        anti join (select {keys} from raw.financials where vintage_id = $base) o using ({keys})
        group by 1 order by 1
        """,
        {"base": base, "new": new},
    ).fetchall())
    return [
        _row(base, "firm_years", "added", "count", new=counts[0], detail={str(k): v for k, v in added_by_year.items()}),
        _row(base, "firm_years", "removed", "count", new=counts[1]),
        _row(base, "firm_years", "total", "count", old=counts[2], new=counts[3], delta=counts[3] - counts[2]),
    ]


def _revision_rows(conn, new: str, base: str) -> tuple[list[dict], set[tuple[str, int]]]:
    rows: list[dict] = []
    revised_keys: set[tuple[str, int]] = set()
    for table in FIRM_YEAR_TABLES:
        joined = (
            f"(select * from raw.{table.name} where vintage_id = $base) o "
            f"join (select * from raw.{table.name} where vintage_id = $new) n using (stock_code, fiscal_year)"
        )
        for column in table.columns:
            if column.name in table.key:
                continue
            changed = _changed(column.name, column.dtype)
            numeric = column.dtype in ("DOUBLE", "INTEGER")
            relative = (f"abs(n.{column.name} - o.{column.name}) / nullif(abs(o.{column.name}), 0)"
                        if numeric else "null")
            revised = conn.execute(
                f"""
                select stock_code, fiscal_year, cast(o.{column.name} as varchar), cast(n.{column.name} as varchar),
                       {relative} as relative_change
                from {joined} where {changed}
                order by relative_change desc nulls first, stock_code, fiscal_year
                """,
                {"base": base, "new": new},
            ).fetchall()
            if not revised:
                continue
            subject = f"{table.name}.{column.name}"
            revised_keys.update((code, year) for code, year, *_ in revised)
            largest = max((r[4] for r in revised if r[4] is not None), default=None)
            rows.append(_row(base, "revisions", subject, "firm_years_revised", new=len(revised),
                             detail={"largest_relative_change": largest}))
            for code, year, old_value, new_value, change in revised[:LARGEST_REVISIONS_SHOWN]:
                rows.append(_row(
                    base, "largest_revisions", subject, f"{code}/{year}",
                    old=float(old_value) if numeric and old_value is not None else None,
                    new=float(new_value) if numeric and new_value is not None else None,
                    delta=change,
                    detail={"stock_code": code, "fiscal_year": year, "old": old_value, "new": new_value},
                ))
    return rows, revised_keys


def _count_pair(conn, table: str, keys: str, new: str, base: str, kind: str) -> list[dict]:
    added, removed = conn.execute(
        f"""
        with o as (select {keys} from {table} where vintage_id = $base),
             n as (select {keys} from {table} where vintage_id = $new)
        select (select count(*) from n anti join o using ({keys})), (select count(*) from o anti join n using ({keys}))
        """,
        {"base": base, "new": new},
    ).fetchone()
    return [_row(base, kind, "added", "count", new=added), _row(base, kind, "removed", "count", new=removed)]


def _coefficient_rows(conn, new: str, base: str) -> list[dict]:
    if not table_exists(conn, "results.coefficients"):
        return []
    drift = conn.execute(
        """
        select table_id, column_id, term, o.estimate, n.estimate, o.std_error, n.std_error
        from (select * from results.coefficients where vintage_id = $base) o
        full join (select * from results.coefficients where vintage_id = $new) n using (table_id, column_id, term)
        order by table_id, column_id, term
        """,
        {"base": base, "new": new},
    ).fetchall()
    rows = []
    for table_id, column_id, term, old, new_estimate, old_se, new_se in drift:
        delta = None if old is None or new_estimate is None else new_estimate - old
        in_se = delta / old_se if delta is not None and old_se else None
        rows.append(_row(base, "coefficients", f"{table_id} {column_id} {term}", "estimate",
                         old=old, new=new_estimate, delta=delta,
                         detail={"std_error_old": old_se, "std_error_new": new_se, "drift_in_old_se": in_se}))
    return rows


def compute_vintage_diff(conn: duckdb.DuckDBPyConnection, new_vintage_id: str) -> VintageDiff:
    """The diff of ``new_vintage_id`` against the vintage the quality checks compare with
    (:func:`nqp_core.vintages.previous_vintage`; empty when there is none)."""
    base = previous_vintage(conn, new_vintage_id)
    if base is None:
        return VintageDiff(new_vintage_id, None, ())
    rows = _firm_year_rows(conn, new_vintage_id, base)
    revisions, revised_keys = _revision_rows(conn, new_vintage_id, base)
    rows.append(_row(base, "firm_years", "revised", "count", new=len(revised_keys)))
    rows += revisions
    if table_exists(conn, "analysis.firm_year_npro"):
        rows += _count_pair(conn, "analysis.firm_year_npro", "stock_code, fiscal_year", new_vintage_id, base, "sample")
    rows += _count_pair(conn, "raw.patents", ", ".join(PATENTS.key), new_vintage_id, base, "patents")
    rows += _coefficient_rows(conn, new_vintage_id, base)
    return VintageDiff(new_vintage_id, base, tuple(rows))


def _number(value: float | None, digits: int = 4) -> str:
    if value is None or pd.isna(value):
        return "-"
    return f"{value:,.0f}" if float(value).is_integer() and abs(value) >= 1 else f"{value:.{digits}g}"


def render_markdown(diff: VintageDiff, header_lines: list[str]) -> str:
    """The diff report; ``header_lines`` carry the provenance (vintage, synthetic flag, code version)."""
    lines = [*header_lines, "", f"# Vintage diff: `{diff.new_vintage_id}` against `{diff.base_vintage_id}`", ""]
    if diff.base_vintage_id is None:
        return "\n".join(lines + ["No earlier vintage is published: nothing to compare with.", ""])
    by_kind: dict[str, list[dict]] = {}
    for row in diff.rows:
        by_kind.setdefault(row["kind"], []).append(row)

    def count(kind: str, subject: str) -> str:
        value = diff.value(kind, subject)
        return _number(value) if value is not None else "-"

    added_detail = next(r["detail"] for r in by_kind["firm_years"] if r["subject"] == "added")
    lines += [
        "## Firm-years (raw.financials keys)", "",
        "| Added | Removed | Revised | Total before | Total after |", "|---:|---:|---:|---:|---:|",
        f"| {count('firm_years', 'added')} | {count('firm_years', 'removed')} | {count('firm_years', 'revised')} | "
        + " | ".join(_number(v) for r in by_kind["firm_years"] if r["subject"] == "total"
                     for v in (r["value_old"], r["value_new"])) + " |",
        "",
        "Added by fiscal year: " + (", ".join(f"{year}: {n}" for year, n in added_detail.items()) or "none") + ".",
        "",
        f"Analysis sample (analysis.firm_year_npro): {count('sample', 'added')} added, "
        f"{count('sample', 'removed')} removed. Patents (raw.patents): {count('patents', 'added')} added, "
        f"{count('patents', 'removed')} removed.",
        "", "## Revisions per column", "",
    ]
    revisions = by_kind.get("revisions", [])
    if not revisions:
        lines += ["No firm-year present in both vintages changed value.", ""]
    else:
        lines += ["| Column | Firm-years revised | Largest relative change |", "|---|---:|---:|"]
        lines += [f"| `{r['subject']}` | {_number(r['value_new'])} | "
                  f"{_number(r['detail']['largest_relative_change'])} |" for r in revisions]
        lines += ["", f"Largest revisions (up to {LARGEST_REVISIONS_SHOWN} per column):", "",
                  "| Column | Firm-year | Old | New | Relative change |", "|---|---|---:|---:|---:|"]
        lines += [f"| `{r['subject']}` | {r['measure']} | {r['detail']['old']} | {r['detail']['new']} | "
                  f"{_number(r['delta'])} |" for r in by_kind.get("largest_revisions", [])]
        lines.append("")
    lines += ["## Drift of every coefficient in results.coefficients", ""]
    coefficients = by_kind.get("coefficients", [])
    if not coefficients:
        lines += ["No coefficients stored for these vintages.", ""]
    else:
        lines += ["| Table | Column | Term | Old | New | Drift | Drift / old SE |", "|---|---|---|---:|---:|---:|---:|"]
        for r in coefficients:
            table_id, column_id, term = r["subject"].split(" ", 2)
            lines.append(f"| {table_id} | {column_id} | `{term}` | {_number(r['value_old'])} | {_number(r['value_new'])} "
                         f"| {_number(r['delta'])} | {_number(r['detail']['drift_in_old_se'], 3)} |")
        lines.append("")
    return "\n".join(lines)


def report_path(reports_dir: Path, diff: VintageDiff) -> Path:
    return reports_dir / f"vintage_diff_{diff.new_vintage_id}_vs_{diff.base_vintage_id or 'none'}.md"

