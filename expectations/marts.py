"""Suite for ``marts.fct_firm_years``: the analysis sample every estimator reads.

Ranges are wide plausibility bounds in the spirit of the paper's Table 3 (a value
outside them means a unit or definition error upstream, not an outlier: outliers are
winsorized already). With :class:`MartFacts` the suite also checks that each winsorized
variable lies inside the pooled 1st-99th percentiles of its unwinsorized values in
``intermediate.int_firm_years_filtered`` (the sample before winsorization), and that the
sample's size is within tolerance of the last published sample.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import duckdb
import pandas as pd

from expectations.config import DEFAULT_TOLERANCES, QualityTolerances

MODEL_VARIABLES = (
    "ai", "ai_patent", "ai_did", "roa", "size", "top1", "lev", "inde", "age", "both", "green", "sa_abs",
)
INDICATORS = (
    "rd_salary_share", "rd_staff_share", "high_edu_share", "fixed_asset_share", "manufacturing_cost_share",
    "rd_depreciation_share", "rd_lease_share", "rd_direct_input_share", "intangible_asset_share",
    "asset_turnover", "inverse_equity_multiplier",
)
KEY_COLUMNS = ("stock_code", "fiscal_year")

# A model variable constant over the whole sample makes every regression singular
# (numpy's "LinAlgError: Singular matrix" deep inside an estimator). The marts check
# refuses the vintage first, naming the variable and where in the raw data it comes from.
CONSTANT_CAUSES: dict[str, str] = {
    "ai_patent": "raw.patents.ipc_codes matched no AI IPC group (seed ai_ipc_groups); check the case and format "
                 "of ipc_codes ('G06N 3/08', ';'-separated)",
    "ai": "no raw.patents title or abstract matched the AI keyword dictionary (seed ai_keywords); check the "
          "encoding and the script (simplified Chinese) of title and abstract",
    "ai_did": "no firm ever filed an AI patent, or every firm did from the start; see ai and ai_patent",
    "green": "raw.patents.ipc_codes matched no green IPC code (seed green_ipc_codes); check the format of ipc_codes",
    "roa": "raw.financials.net_profit / total_assets is the same for every firm-year; check net_profit",
    "size": "raw.financials.total_assets is the same for every firm-year",
    "top1": "raw.governance.top1_share_pct is the same for every firm-year",
    "lev": "raw.financials.total_liabilities / total_assets is the same for every firm-year",
    "inde": "raw.governance.independent_directors / board_size is the same for every firm-year",
    "age": "raw.firms.incorporation_date gives every firm the same age; check for a placeholder date",
    "both": "raw.governance.chair_ceo_duality is the same for every firm-year",
    "sa_abs": "the SA index (size and age) is constant; see size and age",
}

RANGES: dict[str, tuple[float | None, float | None]] = {
    "fiscal_year": (2015, 2023),
    "ai": (0, 10),
    "ai_patent": (0, 10),
    "green": (0, 10),
    "roa": (-1, 1),
    "size": (16, 30),  # ln(total assets in yuan): 9 million to 10 trillion yuan
    "top1": (0, 1),
    "lev": (0, 1),  # insolvent firms are filtered out
    "inde": (0, 1),
    "age": (0, 5),
    "sa_abs": (0, 20),
    "human_capital": (0, 1),
    **{name: (0, None) for name in INDICATORS},
    "rd_staff_share": (0, 1),
    "high_edu_share": (0, 1),
    "fixed_asset_share": (0, 1),
    "intangible_asset_share": (0, 1),
    "inverse_equity_multiplier": (0, 1),
    "manufacturing_cost_share": (0, 1),
}


# Winsorized in fct_firm_years.sql at the pooled 1st and 99th percentiles of the sample.
# high_edu_share is left out: it is imputed before it is winsorized, so its unwinsorized
# values are not in the intermediate model.
WINSORIZED = (
    "ai", "ai_patent", "roa", "size", "top1", "lev", "inde", "age", "green", "sa_abs", "human_capital",
    *(name for name in INDICATORS if name != "high_edu_share"),
    "ln_output", "ln_capital", "ln_labour", "ln_intermediate",
)
WINSOR_QUANTILES = (0.01, 0.99)  # as the winsorize() calls in fct_firm_years.sql
# quantile_cont is recomputed here on the same rows, so bounds agree up to float rounding only.
WINSOR_BOUND_SLACK = 1e-9


# Derived measures compared with the last published sample (a shift beyond the bound of its
# kind fails), pooled ('all') and per fiscal year: the shares of sample-year firm-years each
# filter drops, the sample size, the AI and green measures of the sample; and per application
# year the share of patents with an applicant in the applicant-firm map. A clean refresh adds
# a year outside the sample window, restates income and fills the recent patent years in;
# a broken IPC or keyword match, a status file that lost its ST flags, a unit error in
# liabilities or a mapping file that lost rows moves them by tenths.
EXCLUSION_REASONS = (
    "not_manufacturing", "financial", "special_treatment", "insolvent", "not_listed", "missing_model_variable",
)
_DROP_SHARES = ", ".join(
    f"avg(case when exclusion_reason = '{r}' then 1.0 else 0.0 end) as dropped_{r}_share" for r in EXCLUSION_REASONS
)
DERIVED_MEASURES_SQL = f"""
with years as (
    select coalesce('fiscal_year=' || fiscal_year, 'all') as stratum, {_DROP_SHARES}
    from intermediate.int_firm_years_filtered where vintage_id = $vintage and passes_sample_years
    group by grouping sets ((fiscal_year), ())
),
sample as (
    select coalesce('fiscal_year=' || fiscal_year, 'all') as stratum,
           count(*) as sample_rows,
           avg(case when ai_patent > 0 then 1.0 else 0.0 end) as ai_patent_positive_share,
           avg(case when ai > 0 then 1.0 else 0.0 end) as ai_positive_share,
           avg(case when green > 0 then 1.0 else 0.0 end) as green_positive_share,
           avg(ai_patent) as ai_patent_mean,
           avg(ai) as ai_mean
    from marts.fct_firm_years where vintage_id = $vintage
    group by grouping sets ((fiscal_year), ())
),
applicants as (
    select application_number, year(application_date) as application_year,
           trim(unnest(string_split(applicants, ';'))) as applicant_name
    from raw.patents where vintage_id = $vintage
),
matched as (
    select coalesce('application_year=' || application_year, 'all') as stratum,
           count(*) as patent_rows,
           avg(case when is_matched then 1.0 else 0.0 end) as matched_applicant_share
    from (
        select application_number, any_value(application_year) as application_year,
               bool_or(map.applicant_name is not null) as is_matched
        from applicants
        left join (select distinct applicant_name from raw.applicant_firm_map where vintage_id = $vintage) as map
            using (applicant_name)
        group by application_number
    )
    group by grouping sets ((application_year), ())
)
select * from years full join sample using (stratum) full join matched using (stratum)
"""


def derived_measures(conn: duckdb.DuckDBPyConnection, vintage_id: str) -> dict[tuple[str, str], float]:
    """(measure, stratum) -> value of one vintage's sample (see DERIVED_MEASURES_SQL); the pooled stratum is 'all'."""
    frame = conn.execute(DERIVED_MEASURES_SQL, {"vintage": vintage_id}).df()
    long = frame.melt(id_vars="stratum", var_name="measure").dropna(subset=["value"])
    return {(row.measure, row.stratum): float(row.value) for row in long.itertuples()}


# The row counts that size a stratum: firm-years of a fiscal year, patents of an application year.
STRATUM_SIZE_MEASURES = ("sample_rows", "patent_rows")
# Sizes that are not judged themselves (patent counts are checked by the raw patent suites).
STRATUM_SIZE_ONLY = ("patent_rows",)


def _is_relative(measure: str) -> bool:
    return measure.endswith(("_mean", "_rows"))


def derived_measure_frame(previous: dict, current: dict, previous_vintage_id: str,
                          tolerances: QualityTolerances = DEFAULT_TOLERANCES) -> pd.DataFrame:
    """One row per (measure, stratum) both samples hold: previous and current value, and the shift its bound judges.

    Per-year strata with fewer than ``derived_min_stratum_rows`` rows in the previous vintage
    are left out (sample firm-years for the fiscal-year strata, patents for the application-year
    strata): a share of a few dozen rows moves by whole percents with one restated row. The
    pooled stratum is always judged.
    """
    sizes = {stratum: value for (measure, stratum), value in previous.items()
             if measure in STRATUM_SIZE_MEASURES and stratum != "all"}
    rows = []
    for (measure, stratum), old in previous.items():
        new = current.get((measure, stratum))
        if new is None or measure in STRATUM_SIZE_ONLY:
            continue
        size = sizes.get(stratum)
        if stratum != "all" and size is not None and size < tolerances.derived_min_stratum_rows:
            continue
        kind = "relative_shift" if _is_relative(measure) else "share_shift"
        shift = (new / old - 1) if kind == "relative_shift" and old else (new - old)
        rows.append({"measure": measure, "stratum": stratum, "previous_vintage": previous_vintage_id,
                     "previous": old, "current": new, kind: shift})
    frame = pd.DataFrame(rows)
    for column in ("share_shift", "relative_shift"):
        if column not in frame:
            frame[column] = float("nan")
    return frame


def derived_measure_suite(previous_vintage_id: str, tolerances: QualityTolerances = DEFAULT_TOLERANCES):
    import great_expectations as gx

    suite = gx.ExpectationSuite(name="fct_firm_years_derived_measures")
    why = (f"a derived measure moved against the published vintage {previous_vintage_id}: check the raw input it "
           f"comes from (ai: titles and abstracts; ai_patent: ipc_codes; dropped shares: statuses, statements; "
           f"sample_rows: every filter; matched_applicant_share: applicant_firm_map, applicants)")
    suite.add_expectation(gx.expectations.ExpectColumnValuesToBeBetween(
        column="share_shift", min_value=-tolerances.derived_max_share_shift, max_value=tolerances.derived_max_share_shift,
        meta={"rule": "derived_measure_drift", "why": why}))
    suite.add_expectation(gx.expectations.ExpectColumnValuesToBeBetween(
        column="relative_shift", min_value=-tolerances.derived_max_relative_shift,
        max_value=tolerances.derived_max_relative_shift, meta={"rule": "derived_measure_drift", "why": why}))
    return suite


DERIVED_KEY_COLUMNS = ("measure", "stratum", "previous_vintage", "previous", "current")


@dataclass(frozen=True)
class MartFacts:
    vintage_id: str
    previous_vintage_id: str | None = None  # the last published sample's vintage
    previous_rows: int | None = None
    winsor_bounds: dict[str, tuple[float, float]] = field(default_factory=dict)


def collect_mart_facts(
    conn: duckdb.DuckDBPyConnection, vintage_id: str, previous_vintage_id: str | None, previous_rows: int | None
) -> MartFacts:
    """Winsorization bounds of this vintage's sample, and the previous sample's size (given by the caller)."""
    low, high = WINSOR_QUANTILES
    selects = ", ".join(
        f"quantile_cont({name}, {low}) as {name}__low, quantile_cont({name}, {high}) as {name}__high"
        for name in WINSORIZED
    )
    row = conn.execute(
        f"select {selects} from intermediate.int_firm_years_filtered where is_in_sample and vintage_id = ?",
        [vintage_id],
    ).fetchone()
    bounds = {
        name: (row[2 * i], row[2 * i + 1])
        for i, name in enumerate(WINSORIZED)
        if row[2 * i] is not None and row[2 * i + 1] is not None
    }
    return MartFacts(vintage_id, previous_vintage_id, previous_rows, bounds)


def fct_firm_years_suite(facts: MartFacts | None = None, tolerances: QualityTolerances = DEFAULT_TOLERANCES):
    import great_expectations as gx

    expect = gx.expectations
    suite = gx.ExpectationSuite(name="fct_firm_years")
    suite.add_expectation(expect.ExpectTableRowCountToBeBetween(min_value=1))
    suite.add_expectation(expect.ExpectCompoundColumnsToBeUnique(column_list=list(KEY_COLUMNS)))
    for column in (*KEY_COLUMNS, "province_code", "region", "industry_code", *MODEL_VARIABLES, *INDICATORS):
        suite.add_expectation(expect.ExpectColumnValuesToNotBeNull(column=column))
    suite.add_expectation(expect.ExpectColumnValuesToMatchRegex(column="stock_code", regex=r"^\d{6}$"))
    suite.add_expectation(expect.ExpectColumnValuesToBeInSet(column="region", value_set=["east", "central", "west"]))
    suite.add_expectation(expect.ExpectColumnValuesToMatchRegex(column="industry_code", regex=r"^C(?:1[3-9]|[23]\d|4[0-3])$"))
    for column in ("ai_did", "both"):
        suite.add_expectation(expect.ExpectColumnValuesToBeInSet(column=column, value_set=[0, 1]))
    for column, (low, high) in RANGES.items():
        suite.add_expectation(expect.ExpectColumnValuesToBeBetween(column=column, min_value=low, max_value=high))
    for column in (*MODEL_VARIABLES, *INDICATORS):
        cause = CONSTANT_CAUSES.get(column, "check the raw columns it is computed from (docs/transformations.md)")
        suite.add_expectation(
            expect.ExpectColumnStdevToBeBetween(
                column=column, min_value=0, strict_min=True,
                meta={"rule": "constant_model_variable",
                      "why": f"{column} is the same for every firm-year, so every model using it is singular: {cause}"},
            )
        )
    if facts is None:
        return suite
    for column, (low, high) in facts.winsor_bounds.items():
        slack = WINSOR_BOUND_SLACK * max(1.0, abs(low), abs(high))
        suite.add_expectation(
            expect.ExpectColumnValuesToBeBetween(
                column=column, min_value=low - slack, max_value=high + slack, meta={"rule": "winsorized_bounds"}
            )
        )
    if facts.previous_rows:
        suite.add_expectation(
            expect.ExpectTableRowCountToBeBetween(
                min_value=int(facts.previous_rows * tolerances.marts_row_count_min_ratio),
                max_value=int(facts.previous_rows * tolerances.marts_row_count_max_ratio) + 1,
                meta={"rule": "row_count_vs_published", "previous_vintage": facts.previous_vintage_id},
            )
        )
    return suite
