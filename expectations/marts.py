"""Suite for ``marts.fct_firm_years``: the analysis sample every estimator reads.

Ranges are wide plausibility bounds in the spirit of the paper's Table 3 (a value
outside them means a unit or definition error upstream, not an outlier: outliers are
winsorized already).
"""

from __future__ import annotations

MODEL_VARIABLES = (
    "ai", "ai_patent", "ai_did", "roa", "size", "top1", "lev", "inde", "age", "both", "green", "sa_abs",
)
INDICATORS = (
    "rd_salary_share", "rd_staff_share", "high_edu_share", "fixed_asset_share", "manufacturing_cost_share",
    "rd_depreciation_share", "rd_lease_share", "rd_direct_input_share", "intangible_asset_share",
    "asset_turnover", "inverse_equity_multiplier",
)
KEY_COLUMNS = ("stock_code", "fiscal_year")

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


def fct_firm_years_suite():
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
    return suite
