"""The rules of ``raw.financials`` beyond its columns' own (``expectations/raw_rules.py``), and its batch.

Consolidated statements, one row per firm and fiscal year: the balance-sheet identity, the
R&D breakdown, the unit of each amount against the firm's scale, disclosure, and revisions
against the previous vintage (read beside each row by :func:`batch`).
"""

from __future__ import annotations

import duckdb
import pandas as pd

from expectations.config import QualityTolerances
from expectations.raw_common import VintageFacts, read_frame

RD_COMPONENTS = ("rd_salaries", "rd_depreciation_amortization", "rd_lease", "rd_direct_inputs")
# Amounts compared with the previous vintage: large, always positive, restated only by real revisions.
REVISION_COLUMNS = ("total_assets", "operating_income")


# Unit plausibility of each amount against the firm's own scale, so that one column (or
# one statement) delivered in 10k yuan, 100m yuan or 1k yuan while the rest is in yuan is
# caught even though every value stays within its own range. The median over firm-years
# of |amount| / scale must lie within UNIT_RATIO_BAND times its typical level either way:
# the levels are medians of A-share manufacturers (balance-sheet items against total
# assets, flows against operating income; R&D intensity ~4% of revenue, fixed assets
# ~1/5 of assets, cash paid for goods ~60% of revenue), and a unit slip moves the median
# by 10^3, 10^4 or 10^8. Docs: docs/data_quality.md (unit plausibility).
UNIT_SCALES = {
    "total_liabilities": ("total_assets", 0.4),
    "total_equity": ("total_assets", 0.6),
    "fixed_assets": ("total_assets", 0.2),
    "intangible_assets": ("total_assets", 0.04),
    "operating_income": ("total_assets", 0.6),
    "net_profit": ("operating_income", 0.07),
    "operating_cash_outflows": ("operating_income", 0.9),
    "cash_paid_goods_services": ("operating_income", 0.6),
    "cash_paid_employees": ("operating_income", 0.1),
    "depreciation_fixed_assets": ("operating_income", 0.03),
    "amortization_intangibles": ("operating_income", 0.004),
    "impairment_provisions": ("operating_income", 0.005),
    "rd_expense": ("operating_income", 0.04),
    "rd_salaries": ("operating_income", 0.02),
    "rd_depreciation_amortization": ("operating_income", 0.0025),
    "rd_lease": ("operating_income", 0.0005),
    "rd_direct_inputs": ("operating_income", 0.01),
}


def unit_ratio_column(column: str) -> str:
    return f"{column}__per_{UNIT_SCALES[column][0]}"


def previous_column(column: str) -> str:
    return f"{column}__previous_vintage"


def batch(conn: duckdb.DuckDBPyConnection, facts: VintageFacts) -> pd.DataFrame:
    """This vintage's rows, with the previous vintage's key amounts of the same firm-year beside them."""
    previous = ", ".join(f"previous.{c} as {previous_column(c)}" for c in REVISION_COLUMNS)
    ratios = ", ".join(
        f"abs(current.{column}) / nullif(abs(current.{scale}), 0) as {unit_ratio_column(column)}"
        for column, (scale, _) in UNIT_SCALES.items()
    )
    return read_frame(
        conn,
        f"""
        select current.* exclude (loaded_at), {previous}, {ratios}
        from raw.financials as current
        left join (
            select stock_code, fiscal_year, {", ".join(REVISION_COLUMNS)}
            from raw.financials
            where vintage_id = ?
            qualify count(*) over (partition by stock_code, fiscal_year) = 1
        ) as previous using (stock_code, fiscal_year)
        where current.vintage_id = ?
        order by current.source_row
        """,
        [facts.previous_vintage_id or "", facts.vintage_id],
    )


def rules(facts: VintageFacts, tolerances: QualityTolerances) -> list:
    import great_expectations as gx

    from expectations.custom import ExpectColumnPairValuesToBeWithinRelativeDistance, ExpectColumnPartsToSumToTotal

    expect = gx.expectations
    built = [
        ExpectColumnPartsToSumToTotal(
            column_list=["total_liabilities", "total_equity", "total_assets"],
            relative_tolerance=tolerances.identity_relative_tolerance,
        ),
        ExpectColumnPartsToSumToTotal(
            column_list=[*RD_COMPONENTS, "rd_expense"],
            relative_tolerance=tolerances.rd_components_relative_tolerance,
            allow_shortfall=True,
        ),
        # Unit plausibility: a vintage delivered in 10k yuan (or fen) moves the median by orders of magnitude.
        expect.ExpectColumnMedianToBeBetween(
            column="total_assets",
            min_value=tolerances.min_median_total_assets,
            max_value=tolerances.max_median_total_assets,
        ),
    ]
    band = tolerances.unit_ratio_band
    for column, (scale, typical) in UNIT_SCALES.items():
        built.append(
            expect.ExpectColumnMedianToBeBetween(
                column=unit_ratio_column(column), min_value=typical / band, max_value=typical * band,
                meta={"why": f"median |{column}| / {scale} far from its typical {typical:g}: {column} looks "
                             f"delivered in another unit than {scale} (x10^-4 for 10k yuan, x10^-8 for 100m yuan, "
                             f"x10^-3 for 1k yuan)"},
            )
        )
    built.append(
        expect.ExpectColumnProportionOfNonNullValuesToBeBetween(
            column="bachelor_staff", min_value=tolerances.min_bachelor_disclosure_share
        )
    )
    if facts.previous_vintage_id is not None:
        for column in REVISION_COLUMNS:
            built.append(
                ExpectColumnPairValuesToBeWithinRelativeDistance(
                    column_A=column,
                    column_B=previous_column(column),
                    relative_tolerance=tolerances.revision_relative_threshold,
                    mostly=1 - tolerances.max_revised_share,
                    meta={"previous_vintage": facts.previous_vintage_id},
                )
            )
    return built
