"""The rules of ``raw.patents`` beyond its columns' own (``expectations/raw_rules.py``), its batch, its AI measures.

CNIPA applications, one row per application number. The row rules GX would pay for per
value (list formats, duplicates by content, script and language of the texts, whether an
applicant maps to a listed firm) are judged in DuckDB by :func:`batch`, one column each,
and validated by one expectation per column.
"""

from __future__ import annotations

import csv
import functools
import re

import duckdb
import pandas as pd

from nqp_core.settings import SEEDS_DIR
from expectations.config import QualityTolerances
from expectations.raw_common import VintageFacts, read_frame
from expectations.raw_rules import IPC_PATTERN

_IPC_CODE = IPC_PATTERN.strip("^$")
# All codes, ';'-separated: an upper-case 'G06N 3/08' each, so the AI and green IPC groups match.
IPC_LIST_PATTERN = rf"^{_IPC_CODE}(?:;{_IPC_CODE})*$"
# Applicant lists are split on the ASCII ';' of the contract. A full-width '；' or an
# enumeration comma '、' (Chinese-locale exports) would leave several applicants in one
# name that matches no firm, silently lowering the matched-applicant share.
FOREIGN_LIST_SEPARATORS = r"[；、，]"
# What is wrong with a patent's lists, or NULL: judged in DuckDB (RE2, all cores) and
# validated by one GX expectation, whose examples then quote the issue and the value.
# (Per-row regex expectations cost GX about 1-2 s each on the 832,836 patents of a scale-1 vintage.)
TEXT_ISSUE_SQL = f"""case
    when not regexp_full_match(patents.ipc_codes, '{IPC_LIST_PATTERN}')
        then 'ipc_codes not upper-case ''G06N 3/08'' codes separated by '';'': ' || patents.ipc_codes
    when regexp_matches(patents.applicants, '{FOREIGN_LIST_SEPARATORS}')
        then 'applicants not separated by the ASCII '';'' only (full-width ''；'', ''、'' or ''，''): ' || patents.applicants
    end"""


@functools.cache
def traditional_only_characters() -> str:
    """CJK ideographs that OpenCC's traditional-to-simplified table turns into another character.

    CNIPA publishes in simplified Chinese, and the AI keyword dictionary is simplified: a
    title or abstract in traditional script (a re-keyed or Taiwan-sourced export) matches
    no keyword, so it would silently lower the text-based AI measure.
    """
    import opencc

    to_simplified = opencc.OpenCC("t2s")
    return "".join(c for c in map(chr, range(0x4E00, 0xA000)) if to_simplified.convert(c) != c)


def _seed_values(seed: str, column: str) -> list[str]:
    with open(SEEDS_DIR / f"{seed}.csv", encoding="utf-8", newline="") as handle:
        return sorted({row[column].strip() for row in csv.DictReader(handle) if row[column].strip()})


@functools.cache
def ai_keyword_pattern() -> str:
    """The AI dictionary as one RE2 alternation of escaped keywords, as dbt's keyword_pattern macro builds it."""
    return "|".join(re.escape(keyword) for keyword in _seed_values("ai_keywords", "keyword_zh"))


@functools.cache
def ai_ipc_pattern() -> str:
    """An AI IPC prefix at the start of any code of the ';'-list (int_patents_classified splits, trims, prefixes)."""
    return r"(?:^|;)\s*(?:" + "|".join(re.escape(prefix) for prefix in _seed_values("ai_ipc_groups", "ipc_prefix")) + ")"


AI_MEASURE_KEY_COLUMNS = ("stratum", "patents", "keyword_share", "ipc_share")


def ai_measure_frame(conn: duckdb.DuckDBPyConnection, facts: VintageFacts,
                     tolerances: QualityTolerances) -> pd.DataFrame:
    """Per application year: the share of patents the AI dictionary flags (title or abstract, the paper's
    ``ai``) and the share an AI IPC group flags (``ai_patent``), and the first over the second.

    Both measure AI innovation, so they move together; when one collapses and the other does not,
    the raw column it reads broke (ipc_codes lower-cased or stripped; titles and abstracts replaced,
    translated or re-encoded). Years with fewer than ``ai_measure_min_year_patents`` patents get
    no ratio (a handful of patents has a share of 0 by chance). One SQL pass (RE2) per vintage.
    """
    keyword = ai_keyword_pattern().replace("'", "''")
    ipc = ai_ipc_pattern().replace("'", "''")
    frame = conn.execute(
        f"""
        select 'application_year=' || year(application_date) as stratum, count(*) as patents,
               avg(case when coalesce(regexp_matches(title, '{keyword}') or regexp_matches(abstract, '{keyword}'),
                                      false) then 1.0 else 0.0 end) as keyword_share,
               avg(case when coalesce(regexp_matches(ipc_codes, '{ipc}'), false) then 1.0 else 0.0 end) as ipc_share
        from raw.patents where vintage_id = ? and application_date is not null
        group by all order by stratum
        """,
        [facts.vintage_id],
    ).df()
    judged = (frame["patents"] >= tolerances.ai_measure_min_year_patents) & (
        (frame["keyword_share"] > 0) | (frame["ipc_share"] > 0))
    # keyword over IPC share: 0 when the dictionary matches nothing, inf when no IPC group does
    ratio = frame["keyword_share"] / frame["ipc_share"].where(frame["ipc_share"] > 0, 0.0)
    frame["keyword_to_ipc_ratio"] = ratio.where(judged)
    return frame


def ai_measure_suite(tolerances: QualityTolerances):
    import great_expectations as gx

    factor = tolerances.ai_keyword_ipc_max_factor
    built = gx.ExpectationSuite(name="raw_patents_ai_measures")
    built.add_expectation(gx.expectations.ExpectColumnValuesToBeBetween(
        column="keyword_to_ipc_ratio", min_value=1 / factor, max_value=factor,
        meta={"rule": "ai_keyword_vs_ipc",
              "why": f"share of patents the AI keyword dictionary flags (keyword_share: title, abstract) against the "
                     f"share an AI IPC group flags (ipc_share: ipc_codes) in one application year, more than a "
                     f"factor {factor:g} apart: one measure collapsed; ipc_share 0 means ipc_codes match no AI IPC "
                     f"group (case, format, codes stripped), keyword_share 0 means titles and abstracts match no "
                     f"keyword (replaced, translated, re-encoded)"},
    ))
    return built


def batch(conn: duckdb.DuckDBPyConnection, facts: VintageFacts) -> pd.DataFrame:
    """This vintage's patents with their application year and whether any applicant maps to a listed firm."""
    return read_frame(
        conn,
        f"""
        with applicants as (
            select application_number, unnest(string_split(applicants, ';')) as applicant_name
            from raw.patents where vintage_id = ?
        ),
        linked as (
            select distinct applicants.application_number
            from applicants
            join raw.applicant_firm_map as map
              on map.applicant_name = trim(applicants.applicant_name) and map.vintage_id = ?
        )
        select patents.* exclude (loaded_at),
               year(patents.application_date) as application_year,
               linked.application_number is not null as has_listed_applicant,
               count(*) over (partition by patents.title, patents.abstract, patents.applicants,
                              patents.patent_type, patents.application_date) > 1 as is_content_duplicate,
               {TEXT_ISSUE_SQL} as patent_text_issue,
               -- abstracts too (an export may convert only the longer field): 0.6 s more at scale 1
               coalesce(regexp_matches(patents.title, '[{traditional_only_characters()}]')
                        or regexp_matches(patents.abstract, '[{traditional_only_characters()}]'),
                        false) as in_traditional_script,
               not regexp_matches(patents.title, '\\p{{Han}}') as title_without_chinese
        from raw.patents as patents
        left join linked using (application_number)
        where patents.vintage_id = ?
        order by patents.source_row
        """,
        [facts.vintage_id, facts.vintage_id, facts.vintage_id],
    )


def rules(facts: VintageFacts, tolerances: QualityTolerances) -> list:
    import great_expectations as gx

    expect = gx.expectations
    return [
        expect.ExpectColumnValuesToBeNull(
            column="patent_text_issue",
            meta={"rule": "patent_list_format",
                  "why": "ipc_codes must be upper-case 'G06N 3/08' codes separated by ';' (or no AI or green IPC "
                         "group can match them), applicants separated by the ASCII ';' only"},
        ),
        # The same application delivered twice under two numbers (a renumbered re-export). The
        # type and date are part of the content: a firm may file an invention and a utility
        # model with one text on one day, and refile a text a year later. A few true twins
        # remain (divisional applications keep their parent's date and often its text).
        expect.ExpectColumnValuesToBeInSet(
            column="is_content_duplicate", value_set=[False], mostly=1 - tolerances.max_content_duplicate_patent_share,
            meta={"rule": "content_duplicate_patents",
                  "why": "another application has the same title, abstract, applicants, type and date under a "
                         "different application number"},
        ),
        expect.ExpectColumnMeanToBeBetween(
            column="in_traditional_script", max_value=tolerances.max_traditional_script_share,
            meta={"rule": "patent_text_script",
                  "why": "share of patents whose title or abstract holds traditional-only characters (OpenCC t2s): "
                         "texts in traditional script match no keyword of the simplified AI dictionary"},
        ),
        expect.ExpectColumnMeanToBeBetween(
            column="title_without_chinese", max_value=tolerances.max_title_without_chinese_share,
            meta={"rule": "patent_text_language",
                  "why": "share of titles without a single Chinese character: a translated (English) or garbled "
                         "export, which the Chinese AI dictionary cannot classify"},
        ),
        expect.ExpectColumnValuesToBeInSet(
            column="has_listed_applicant", value_set=[True], mostly=1 - tolerances.max_orphan_patent_share,
            meta={"rule": "orphan_patent_share"},
        ),
    ]
