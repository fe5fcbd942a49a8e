"""Tolerances of the quality suites: every threshold in one documented, overridable place.

``QualityTolerances`` is a pydantic model so that a Dagster run can override a field in
its run config (the asset checks take it as a ``Config``-compatible mapping, see
``dagster_project/defs/quality/checks.py``); the defaults below are what ``nqp run`` uses.
Each field says why it has the value it has; ``docs/data_quality.md`` repeats them.
"""

from __future__ import annotations

import math

from pydantic import BaseModel, ConfigDict, Field


class QualityTolerances(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    identity_relative_tolerance: float = Field(
        default=1e-3,
        description=(
            "|total_liabilities + total_equity - total_assets| may reach this share of total_assets: "
            "vendors round each balance-sheet item separately (to the yuan or, in older years, to the "
            "10k yuan of small items), which moves the identity by far less than 0.1%; a wrong column or a "
            "mixed unit moves it by whole percents"
        ),
    )
    rd_components_relative_tolerance: float = Field(
        default=1e-2,
        description=(
            "the four R&D breakdown items may exceed the R&D total by this share (rounding of separately "
            "disclosed notes); they may fall short, as firms do not break down every yuan"
        ),
    )
    min_median_ln_total_assets: float = Field(
        default=19.0,
        description=(
            "median ln(total_assets in yuan) must be at least this: the median A-share manufacturer holds "
            "about 3-5 billion yuan (ln ~ 22; paper Table 3 Size mean 22.3), and ln 19 is 180 million yuan; "
            "a vintage in 10k yuan has a median ln near 13 (22 - ln 10^4 = 22 - 9.2), in 1k yuan near 15"
        ),
    )
    max_median_ln_total_assets: float = Field(
        default=25.0,
        description=(
            "median ln(total_assets) must be at most this (72 billion yuan): a vintage in fen (cents) "
            "instead of yuan has a median near 26.8"
        ),
    )
    min_bachelor_disclosure_share: float = Field(
        default=0.1,
        description=(
            "bachelor_staff may be null where undisclosed, but at least this share of firm-years must "
            "disclose it: disclosure is partial (about 28% of all firm-years in the synthetic vintage, 40% of "
            "the paper's sample: Table 8 has 5,763 of 14,301), so only a near-empty column, the vendor having "
            "dropped the field, is an error"
        ),
    )
    max_orphan_patent_share: float = Field(
        default=0.15,
        description=(
            "share of patents none of whose applicants maps to a listed firm in applicant_firm_map: the "
            "delivery is the CNIPA extract for listed firms and their co-applicants, so orphans are the "
            "university- or outsider-only filings of that extract (about 6% in the synthetic DGP); a mapping "
            "file that lost rows or renamed applicants pushes the share far above 15%"
        ),
    )
    max_content_duplicate_patent_share: float = Field(
        default=0.001,
        description=(
            "share of patents whose title, abstract, applicants, type and date equal another application's: "
            "true twins exist (divisional applications keep their parent's date and often its text; the "
            "clean synthetic vintages hold 0.0044%, 0% and 0.0014% at scales 0.05, 0.25 and 1); a renumbered "
            "re-export of part of the extract doubles whole percents"
        ),
    )
    max_traditional_script_share: float = Field(
        default=0.01,
        description=(
            "share of patents whose title or abstract holds a traditional-only character: CNIPA publishes "
            "simplified Chinese, so only the odd name or ambiguous form (乾, 著) should appear; measured 0 in "
            "clean synthetic vintages at scales 0.05, 0.25 and 1 (docs/data_quality.md)"
        ),
    )
    max_title_without_chinese_share: float = Field(
        default=0.01,
        description=(
            "share of titles without a Chinese character (an English or garbled export); measured 0 in clean "
            "synthetic vintages"
        ),
    )
    ai_keyword_ipc_max_factor: float = Field(
        default=10.0,
        description=(
            "per application year, the share of patents flagged AI by the keyword dictionary and the share "
            "flagged by an AI IPC group may differ by at most this factor either way: both measure AI "
            "innovation of the same patents (clean synthetic vintages: keyword / IPC 1.21-1.30 in every year "
            "at scales 0.05, 0.25 and 1, docs/data_quality.md; real measures differ more, so the band is wide); "
            "a collapsed measure gives a ratio of 0 or infinity"
        ),
    )
    ai_measure_min_year_patents: int = Field(
        default=500,
        description=(
            "application years with fewer patents are not judged by ai_keyword_ipc_max_factor: at AI shares "
            "of a few percent, a small year can hold no IPC-flagged patent by chance"
        ),
    )
    row_count_min_ratio: float = Field(
        default=0.95,
        description=(
            "rows of a table in this vintage / rows in the previous vintage, lower bound: history is "
            "revised, not deleted (delisted firms stay in the files), so losing more than 5% is a partial "
            "delivery"
        ),
    )
    row_count_max_ratio: float = Field(
        default=1.35,
        description=(
            "upper bound of the same ratio: a refresh adds one year (about +11% of firm-years over ten "
            "years, +15% of patents, whose yearly counts grow) and new listings; more than +35% means "
            "duplicated rows or another universe"
        ),
    )
    revision_relative_threshold: float = Field(
        default=0.02,
        description=(
            "a firm-year counts as revised when a key amount (total_assets, operating_income) moved by more "
            "than 2% against the previous vintage; smaller moves are rounding and reclassification"
        ),
    )
    max_revised_share: float = Field(
        default=0.10,
        description=(
            "at most this share of the firm-years both vintages hold may be revised: a realistic refresh "
            "restates a few percent of history (restatements, late audits); a shift of a tenth or more of "
            "history is a changed definition or unit that must be reviewed before it is published"
        ),
    )
    marts_row_count_min_ratio: float = Field(
        default=0.9,
        description=(
            "analysis sample rows / rows of the previously published sample: sample filters may drop a "
            "few more firm-years after revisions, not a tenth of them"
        ),
    )
    marts_row_count_max_ratio: float = Field(
        default=1.35,
        description="upper bound of the same ratio: one added year plus new listings (see row_count_max_ratio)",
    )

    unit_ratio_band: float = Field(
        default=20.0,
        description=(
            "the median of |amount| / total assets (or / operating income) of each financial column may lie "
            "this factor above or below its typical level (expectations/raw_financials.py UNIT_SCALES): wide "
            "enough for real differences between samples and years (the 5-95% range of firms spans a factor "
            "of about 10, their median far less), narrow enough that the smallest unit slip, 1k yuan (x1,000), "
            "falls outside; clean vintages sit within a factor of 1.6 of the levels (docs/data_quality.md)"
        ),
    )
    min_median_share_pct: float = Field(
        default=2.0,
        description=(
            "median of a percent column (top1_share_pct) must be at least this: the largest shareholder of the "
            "median A-share firm holds about 31% (paper Table 3: Top1 mean 0.330, median 0.310, minimum 0.080 "
            "as a fraction, i.e. 33%, 31%, 8%); a column delivered as a "
            "fraction has a median of at most 1"
        ),
    )

    # Against the previous vintage, per stratum (expectations/drift.py). Each bound is set
    # from the clean-to-clean variation measured between `nqp synth --next-of` vintages at
    # scales 0.05, 0.25 and 1 (bench/quality_margins.py; numbers in docs/data_quality.md).
    drift_min_stratum_rows: float = Field(
        default=30,
        description="distribution measures skip strata with fewer rows than this in the previous vintage",
    )
    drift_min_positive_values: int = Field(
        default=5,
        description=(
            "the ln-space median and IQR of a column in a stratum are compared only where both vintages hold at "
            "least this many positive values: quartiles of fewer are interpolations between one or two values, "
            "and with none there is no location at all; the zero and null shares judge such a change"
        ),
    )
    drift_min_rows_ratio: float = Field(
        default=0.97,
        description=(
            "rows of a stratum (year, province, industry, patent type) the previous vintage covered, new / "
            "previous, lower bound: history is revised, not deleted (clean refreshes: exactly 1.0)"
        ),
    )
    drift_max_rows_ratio: float = Field(
        default=1.5,
        description=(
            "upper bound of the same ratio: late filings fill recent patent years in (CNIPA publishes 18 "
            "months after filing) and new listings add firms, but not half a stratum again"
        ),
    )
    drift_min_new_year_rows_ratio: float = Field(
        default=0.8,
        description=(
            "rows of the newest year / rows of the previous vintage's last year: a complete year holds about "
            "as many firm-years as the one before (clean: 0.99-1.01); an incomplete delivery far fewer"
        ),
    )
    drift_max_dropped_key_share: float = Field(
        default=0.005,
        description=(
            "share of the previous vintage's keys (firm-years, firms, application numbers) that may be missing "
            "from the new one: history is revised, not deleted (clean refreshes keep every key: 0 missing at "
            "scales 0.05, 0.25 and 1); a vendor may withdraw the odd duplicate record"
        ),
    )
    drift_max_ln_location_shift: float = Field(
        default=0.25,
        description=(
            "|change of the median of ln(value)| within a stratum both vintages cover (a factor of 1.28): "
            "revisions of 2% of firm-years by 1-5% move it by at most 0.03 in strata of 30-60 firm-years, "
            "where the median jumps between neighbouring firms; a unit slip moves it by ln 1000 = 6.9 or "
            "more, a swapped column by whole units"
        ),
    )
    drift_max_ln_scale_shift: float = Field(
        default=0.25,
        description="|change of the interquartile range of ln(value)| within a stratum, as the location bound",
    )
    drift_max_share_shift: float = Field(
        default=0.05,
        description=(
            "|change of the share of zeros (or of nulls)| of a column within a stratum: a field the vendor "
            "stopped filling or started zero-filling moves it by whole tens of percent"
        ),
    )

    derived_max_share_shift: float = Field(
        default=0.03,
        description=(
            "|change| against the last published sample, pooled and per fiscal year, of each share of "
            "sample-year firm-years a filter drops, of the shares of firm-years with AI / green patents, and "
            "(per application year) of the matched-applicant share (expectations/marts.py): a clean refresh adds "
            "a year outside the sample window and restates income, which moves no per-year measure (measured "
            "change 0 at scales 0.05, 0.25 and 1; the pooled matched share moves by at most 0.0017 as the new "
            "application year joins it; docs/data_quality.md); a status file without its ST flags, a mapping "
            "file that lost rows or an IPC match that broke moves them by tenths"
        ),
    )
    derived_min_stratum_rows: int = Field(
        default=100,
        description=(
            "per-year derived measures are compared only where the previous sample holds at least this many "
            "firm-years in that fiscal year (patents in that application year for matched_applicant_share; "
            "the pooled sample is always compared): a share over a few dozen rows moves by several percent "
            "when one row is restated across a filter"
        ),
    )
    derived_max_relative_shift: float = Field(
        default=0.10,
        description=(
            "relative change of the mean AI measures and of the sample size (pooled and per fiscal year) against "
            "the last published sample: clean refreshes move them by float rounding only (< 1e-14)"
        ),
    )

    @property
    def min_median_total_assets(self) -> float:
        return math.exp(self.min_median_ln_total_assets)

    @property
    def max_median_total_assets(self) -> float:
        return math.exp(self.max_median_ln_total_assets)


DEFAULT_TOLERANCES = QualityTolerances()
