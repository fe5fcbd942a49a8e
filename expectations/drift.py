"""Checks against the previous vintage, per column and per stratum: coverage and distribution drift.

A refresh restates a few percent of history and adds a year; it does not delete a past
year, lose a province, or move a column's distribution within a year it already covered.
For each raw table with strata (:data:`STRATA`), one SQL pass computes per stratum (a
fiscal or application year, a province, an industry, a patent type) and per vintage:

- ``rows``: row count; the new vintage's count over the previous one's (years both
  vintages cover); the newest year against the previous vintage's last year;
- ``keys_kept``: the share of the previous vintage's keys (firm-years, firms, application
  numbers) still delivered;
- per value column (:data:`VALUE_COLUMNS`): the median and the interquartile range of
  ln(value) over positive values (location and scale in log space, so a unit slip of
  x10^4 moves the location by 9.2), the share of zeros and the share of nulls.

The long frame of (measure, column, stratum, previous, current, shift) is validated with
Great Expectations like any suite, so a failure quotes the failing strata with both
figures: ``column='rd_expense', stratum='fiscal_year=2019', previous=16.2, current=7.0``.
Distribution measures skip strata with fewer than ``drift_min_stratum_rows`` rows in
the previous vintage (a median of a handful of firm-years moves with one revision); the
log measures also skip a column where either vintage has fewer than
``drift_min_positive_values`` positive values in the stratum (a column that turned all zero
has no log location: the zero share judges that change, not an infinite shift).
Tolerances: ``expectations/config.py``; their measured clean-to-clean variation:
``docs/data_quality.md`` (checks against the previous vintage) and ``bench/quality_margins.py``.
"""

from __future__ import annotations

import duckdb
import pandas as pd

from expectations.config import QualityTolerances
from expectations.raw_common import YEAR_SQL, VintageFacts

_FIRM_STRATA = {"province_code": "firms.province_code", "industry_code": "firms.industry_code"}

# Stratum name -> SQL over the table aliased ``t`` (and ``firms`` of the same vintage).
STRATA: dict[str, dict[str, str]] = {
    "financials": {"fiscal_year": "t.fiscal_year", **_FIRM_STRATA},
    "governance": {"fiscal_year": "t.fiscal_year", **_FIRM_STRATA},
    "firm_status": {"fiscal_year": "t.fiscal_year", **_FIRM_STRATA},
    "patents": {"application_year": "year(t.application_date)", "patent_type": "t.patent_type"},
    "firms": {"province_code": "t.province_code", "industry_code": "t.industry_code"},
}
_YEAR_STRATUM = {"financials": "fiscal_year", "governance": "fiscal_year", "firm_status": "fiscal_year",
                 "patents": "application_year"}

VALUE_COLUMNS: dict[str, tuple[str, ...]] = {
    "financials": (
        "total_assets", "total_liabilities", "total_equity", "net_profit", "operating_income", "fixed_assets",
        "intangible_assets", "operating_cash_outflows", "cash_paid_goods_services", "cash_paid_employees",
        "depreciation_fixed_assets", "amortization_intangibles", "impairment_provisions", "rd_expense",
        "rd_salaries", "rd_depreciation_amortization", "rd_lease", "rd_direct_inputs", "employees", "rd_staff",
        "bachelor_staff",
    ),
    "governance": ("top1_share_pct", "board_size", "independent_directors"),
}

MEASURES = ("ln_median", "ln_iqr", "zero_share", "null_share")
# Measures over the positive values only, skipped where either vintage has fewer than
# ``drift_min_positive_values`` of them in the stratum.
LOG_MEASURES = ("ln_median", "ln_iqr")
# Keys of the previous vintage that must still be there: history is revised, not deleted,
# so a firm-year (or patent, or firm) that disappears is a lost row even when the stratum
# counts stay within their bound (and a renumbered patent loses its old number).
KEYS = {
    "financials": ("stock_code", "fiscal_year"), "governance": ("stock_code", "fiscal_year"),
    "firm_status": ("stock_code", "fiscal_year"), "patents": ("application_number",), "firms": ("stock_code",),
}
KEY_COLUMNS = ("measure", "column", "stratum", "previous", "current")


def _stats_sql(table: str, stratum: str, expression: str, last_year: int | None) -> str:
    columns = VALUE_COLUMNS.get(table, ())
    stats = []
    for column in columns:
        ln = f"case when t.{column} > 0 then ln(t.{column}) end"  # aggregates skip the nulls
        stats += [
            f"median({ln}) as \"{column}|ln_median\"",
            f"quantile_cont({ln}, 0.75) - quantile_cont({ln}, 0.25) as \"{column}|ln_iqr\"",
            f"avg(case when t.{column} = 0 then 1.0 when t.{column} is null then null else 0.0 end) as \"{column}|zero_share\"",
            f"avg(case when t.{column} is null then 1.0 else 0.0 end) as \"{column}|null_share\"",
            f"count(case when t.{column} > 0 then 1 end) as \"{column}|positive_values\"",
        ]
    # Years both vintages cover; the newest year is judged by itself (rows only).
    year_stratum = _YEAR_STRATUM.get(table)
    common = f"and {STRATA[table][year_stratum]} <= {last_year}" if last_year is not None and year_stratum else ""
    join = ("left join raw.firms as firms on firms.stock_code = t.stock_code and firms.vintage_id = t.vintage_id"
            if table in ("financials", "governance", "firm_status") else "")
    return f"""
        select t.vintage_id, '{stratum}' as kind, cast({expression} as varchar) as value, count(*) as rows
               {''.join(', ' + s for s in stats)}
        from raw.{table} as t {join}
        where t.vintage_id in ($current, $previous) {common}
        group by all
    """


def drift_frame(conn: duckdb.DuckDBPyConnection, table: str, facts: VintageFacts,
                tolerances: QualityTolerances) -> pd.DataFrame:
    """One row per (measure, column, stratum): the previous and current figure and the shift judged."""
    previous_id = facts.previous_vintage_id
    last_year = facts.previous_max_year.get(table)
    parts = [_stats_sql(table, stratum, expression, last_year) for stratum, expression in STRATA[table].items()]
    # In stratum order (kinds as STRATA lists them, values sorted), so that the examples a failure
    # quotes are the same on every run: DuckDB's threads return groups in any order.
    kinds = ", ".join(f"'{stratum}'" for stratum in STRATA[table])
    stats = conn.execute(f"select * from ({' union all by name '.join(parts)}) "
                         f"order by list_position([{kinds}], kind), value nulls last, vintage_id",
                         {"current": facts.vintage_id, "previous": previous_id}).df()
    stats["stratum"] = stats["kind"] + "=" + stats["value"].fillna("NULL")
    current = stats[stats["vintage_id"] == facts.vintage_id].set_index("stratum")
    previous = stats[stats["vintage_id"] == previous_id].set_index("stratum")
    rows = []
    for stratum in previous.index:
        before = previous.loc[stratum]
        after = current.loc[stratum] if stratum in current.index else None
        current_rows = int(after["rows"]) if after is not None else 0
        rows.append({"measure": "rows", "column": "*", "stratum": stratum, "previous": float(before["rows"]),
                     "current": float(current_rows), "rows_ratio": current_rows / before["rows"]})
        if after is None or before["rows"] < tolerances.drift_min_stratum_rows:
            continue
        for column in VALUE_COLUMNS.get(table, ()):
            few_positive = min(before[f"{column}|positive_values"], after[f"{column}|positive_values"]) \
                < tolerances.drift_min_positive_values
            for measure in MEASURES:
                if few_positive and measure in LOG_MEASURES:
                    continue  # a column turning (almost) all zero or null is a zero/null share change
                old, new = before[f"{column}|{measure}"], after[f"{column}|{measure}"]
                if pd.isna(old) and pd.isna(new):
                    continue
                shift = (new - old) if not (pd.isna(old) or pd.isna(new)) else float("inf")
                rows.append({"measure": measure, "column": column, "stratum": stratum, "previous": old,
                             "current": new, f"{measure}_shift": shift})
    newest = facts.max_year.get(table)
    year_stratum = _YEAR_STRATUM.get(table)
    if year_stratum and last_year is not None and newest is not None and newest > last_year:
        counts = conn.execute(
            f"select count(*) filter (where vintage_id = $current and {YEAR_SQL[table]} = {newest}), "
            f"count(*) filter (where vintage_id = $previous and {YEAR_SQL[table]} = {last_year}) "
            f"from raw.{table} where vintage_id in ($current, $previous)",
            {"current": facts.vintage_id, "previous": previous_id},
        ).fetchone()
        if counts[1]:
            rows.append({"measure": "rows", "column": "*",
                         "stratum": f"{year_stratum}={newest} (new) vs {year_stratum}={last_year}",
                         "previous": float(counts[1]), "current": float(counts[0]),
                         "new_year_rows_ratio": counts[0] / counts[1]})
    keys = ", ".join(KEYS[table])
    previous_keys, kept = conn.execute(
        f"select count(*), count(kept.present) from (select {keys} from raw.{table} where vintage_id = $previous) "
        f"left join (select distinct {keys}, true as present from raw.{table} where vintage_id = $current) as kept "
        f"using ({keys})",
        {"current": facts.vintage_id, "previous": previous_id},
    ).fetchone()
    if previous_keys:
        rows.append({"measure": "keys_kept", "column": keys, "stratum": "all", "previous": float(previous_keys),
                     "current": float(kept), "kept_share": kept / previous_keys})
    frame = pd.DataFrame(rows)
    for column in ("rows_ratio", "new_year_rows_ratio", "kept_share", *(f"{m}_shift" for m in MEASURES)):
        if column not in frame:
            frame[column] = float("nan")
    return frame


def suite(facts: VintageFacts, tolerances: QualityTolerances, table: str):
    import great_expectations as gx

    expect = gx.expectations
    built = gx.ExpectationSuite(name=f"drift_{table}")
    against = f"against previous vintage {facts.previous_vintage_id}"
    built.add_expectation(expect.ExpectColumnValuesToBeBetween(
        column="rows_ratio", min_value=tolerances.drift_min_rows_ratio, max_value=tolerances.drift_max_rows_ratio,
        meta={"rule": "coverage_per_stratum",
              "why": f"rows per stratum {against}: a year, province, industry or type lost (or duplicated) rows"}))
    built.add_expectation(expect.ExpectColumnValuesToBeBetween(
        column="new_year_rows_ratio", min_value=tolerances.drift_min_new_year_rows_ratio,
        meta={"rule": "coverage_new_year",
              "why": f"rows of the newest year against the last year of the previous vintage: an incomplete year"}))
    built.add_expectation(expect.ExpectColumnValuesToBeBetween(
        column="kept_share", min_value=1 - tolerances.drift_max_dropped_key_share,
        meta={"rule": "coverage_per_key",
              "why": f"keys (firm-years, firms, application numbers) {against} missing now: history is revised, "
                     f"not deleted"}))
    bounds = {"ln_median_shift": tolerances.drift_max_ln_location_shift,
              "ln_iqr_shift": tolerances.drift_max_ln_scale_shift,
              "zero_share_shift": tolerances.drift_max_share_shift,
              "null_share_shift": tolerances.drift_max_share_shift}
    for column, bound in bounds.items():
        built.add_expectation(expect.ExpectColumnValuesToBeBetween(
            column=column, min_value=-bound, max_value=bound,
            meta={"rule": f"drift_{column.removesuffix('_shift')}",
                  "why": f"distribution within a stratum the previous vintage covered moved {against} "
                         f"(ln-space location/scale, zero or null share): a unit, definition or delivery change"}))
    return built
