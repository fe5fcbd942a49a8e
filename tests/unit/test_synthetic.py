"""The synthetic vintage generator: contract shape, identities, determinism, planted counts.

Counts planted by the generator (truth.json) are checked against an independent re-implementation
of the sample filters and patent classification in DuckDB SQL over the written files.
"""

from __future__ import annotations

import csv
import dataclasses
import hashlib
import itertools
import json
import re

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from nqp_core import contract as raw_contract
from dagster_project.generated_docs import GENERATED_SECTIONS, generated_section
from synthetic import DEFAULT_SEED, build_vintage, generate_vintage
from synthetic import patent_text
from synthetic.parameters import DEFAULT_PARAMETERS
from nqp_core.reference import load_reference_data, matches_any_prefix
from synthetic.vintage import POPULATION_VALUES_FILE, contract_schema
from nqp_core.settings import SEEDS_DIR

SMALL_SCALE = 0.05  # ~165 manufacturing firms, ~36,000 patents: seconds to generate and to query
# The paper's analysis sample is N = 24,302 (Table 3); the calibrated generator aims within about
# 3% of it, the spread of the sample's size across seeds at scale 1.
SAMPLE_RANGE_AT_SCALE_1 = (23_500, 24_800)
PAPER_BACHELOR_SHARE = 5763 / 24302  # Table 8 human-capital N over the full sample N
BACHELOR_SHARE_TOLERANCE = 0.03  # the share's sampling sd over 24,000 firm-years is ~0.003; 0.03 allows calibration error
APPLICATION_NUMBER = re.compile(r"^CN(20(?:1[3-9]|2[0-3]))([123])(\d{7})\.([0-9X])$")
IPC_CODE = re.compile(r"^[A-H]\d{2}[A-Z] \d{1,4}/\d{2,6}$")
CHECK_WEIGHTS = (2, 3, 4, 5, 6, 7, 8, 9, 2, 3, 4, 5)  # CNIPA application-number check digit weights
TYPE_DIGITS = {"invention": "1", "utility_model": "2", "design": "3"}
MAX_ENUMERATED_COMBINATIONS = 200_000  # every no-keyword template is enumerated in full below this


def read_seed_column(name: str, column: str) -> list[str]:
    with open(SEEDS_DIR / f"{name}.csv", encoding="utf-8", newline="") as handle:
        return [row[column] for row in csv.DictReader(handle)]


KEYWORDS = read_seed_column("ai_keywords", "keyword_zh")
KEYWORD_PATTERN = re.compile("|".join(map(re.escape, KEYWORDS)))
AI_PREFIXES = tuple(read_seed_column("ai_ipc_groups", "ipc_prefix"))
GREEN_PREFIXES = tuple(read_seed_column("green_ipc_codes", "ipc_prefix"))


@pytest.fixture(scope="module")
def landing(tmp_path_factory):
    return tmp_path_factory.mktemp("landing")


@pytest.fixture(scope="module")
def small_vintage(landing):
    return generate_vintage(landing, vintage_id="small", seed=7, scale=SMALL_SCALE)


@pytest.fixture(scope="module")
def truth(small_vintage):
    return json.loads((small_vintage / raw_contract.TRUTH_FILE).read_text(encoding="utf-8"))


SAMPLE_FILTER_SQL = """
    create view sample as
    select f.stock_code, f.fiscal_year, fi.province_code, f.bachelor_staff
    from financials f
    join firms fi using (stock_code)
    join firm_status s using (stock_code, fiscal_year)
    join seed_csrc_industries i on i.industry_code = fi.industry_code
    where i.sector_letter = 'C' and cast(substr(i.industry_code, 2) as integer) between 13 and 43
      and i.is_financial = 'false'
      and s.trading_status = 'normal'
      and f.total_liabilities <= f.total_assets
      and f.fiscal_year between 2015 and 2023
      and fi.listing_date <= make_date(f.fiscal_year, 12, 31)
      and (fi.delisting_date is null or fi.delisting_date >= make_date(f.fiscal_year, 1, 1))
"""


def sample_connection(relations: dict[str, str | pa.Table]) -> duckdb.DuckDBPyConnection:
    """DuckDB over the raw tables (SQL relations or Arrow tables) with the paper's filters written independently."""
    connection = duckdb.connect()
    for name, relation in relations.items():
        if isinstance(relation, pa.Table):
            connection.register(name, relation)
        else:
            connection.execute(f"create view {name} as select * from {relation}")
    connection.execute(
        f"create table seed_csrc_industries as select * from read_csv('{SEEDS_DIR}/csrc_industries.csv', "
        "header = true, all_varchar = true)"
    )
    connection.execute(SAMPLE_FILTER_SQL)
    return connection


@pytest.fixture(scope="module")
def con(small_vintage):
    connection = sample_connection(
        {t.name: f"read_parquet('{small_vintage / t.name}.parquet')" for t in raw_contract.RAW_TABLES}
    )
    yield connection
    connection.close()


@pytest.fixture(scope="module")
def scale_one():
    return build_vintage(DEFAULT_SEED, 1.0, "scale-one")


def scalar(con, sql: str):
    return con.execute(sql).fetchone()[0]


# --- files, contract, atomicity ---------------------------------------------------------

def test_parquet_files_match_the_contract_exactly(small_vintage):
    for table in raw_contract.RAW_TABLES:
        schema = pq.read_schema(small_vintage / f"{table.name}.parquet")
        expected = contract_schema(table)
        assert schema.names == list(table.column_names)
        assert [f.type for f in schema] == [f.type for f in expected], table.name


def test_ready_marker_truth_and_nothing_else(small_vintage, truth, landing):
    expected = {f"{t.name}.parquet" for t in raw_contract.RAW_TABLES} | {raw_contract.TRUTH_FILE, raw_contract.READY_MARKER}
    assert {p.name for p in small_vintage.iterdir()} == expected
    assert not [p for p in landing.iterdir() if p.name.startswith(".")], "a temporary folder was left behind"
    assert truth["synthetic"] is True
    assert truth["seed"] == 7 and truth["scale"] == SMALL_SCALE and truth["vintage_id"] == "small"
    assert truth["dgp_fingerprint"] == DEFAULT_PARAMETERS.fingerprint()
    assert set(truth["structural"]) == {f.name for f in dataclasses.fields(DEFAULT_PARAMETERS)}
    assert all(set(entry) == {"value", "meaning"} and entry["meaning"] for entry in truth["structural"].values())


def test_refuses_to_overwrite_an_existing_vintage(small_vintage, landing):
    before = {p.name: p.stat().st_mtime_ns for p in small_vintage.iterdir()}
    with pytest.raises(FileExistsError, match="already exists"):
        generate_vintage(landing, vintage_id="small", seed=8, scale=SMALL_SCALE)
    assert {p.name: p.stat().st_mtime_ns for p in small_vintage.iterdir()} == before


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"scale": 0.0}, "scale"),
        ({"scale": float("nan")}, "scale"),
        ({"scale": 0.001}, "at least one per province"),
        ({"file_format": "xlsx"}, "file_format"),
        ({"vintage_id": "../escape"}, "vintage_id"),
        ({"seed": -1}, "seed"),
    ],
)
def test_invalid_arguments_are_refused(tmp_path, kwargs, message):
    arguments = {"vintage_id": "v", "scale": SMALL_SCALE} | kwargs
    with pytest.raises(ValueError, match=message):
        generate_vintage(tmp_path, **arguments)
    assert not (tmp_path / "v").exists()


def test_same_seed_gives_identical_bytes_and_another_seed_differs(small_vintage, tmp_path):
    def digests(folder):
        return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in folder.iterdir()}

    again = generate_vintage(tmp_path / "a", vintage_id="small", seed=7, scale=SMALL_SCALE)
    assert digests(again) == digests(small_vintage)
    other = digests(generate_vintage(tmp_path / "b", vintage_id="small", seed=8, scale=SMALL_SCALE))
    for name in ("financials.parquet", "patents.parquet", "firms.parquet", "truth.json"):
        assert other[name] != digests(small_vintage)[name]


def test_csv_vintage_holds_the_same_data(small_vintage, tmp_path):
    csv_vintage = generate_vintage(tmp_path, vintage_id="small", seed=7, scale=SMALL_SCALE, file_format="csv")
    with duckdb.connect() as connection:
        for table in raw_contract.RAW_TABLES:
            path = csv_vintage / f"{table.name}.csv"
            header = path.read_text(encoding="utf-8").split("\n", 1)[0]
            assert header.replace('"', "").split(",") == list(table.column_names)
            types = ", ".join(f"'{c.name}': '{c.dtype}'" for c in table.columns)
            from_csv = f"select * from read_csv('{path}', header = true, columns = {{{types}}})"
            from_parquet = f"select * from read_parquet('{small_vintage / table.name}.parquet')"
            for left, right in ((from_csv, from_parquet), (from_parquet, from_csv)):
                assert connection.execute(f"select count(*) from ({left} except all {right})").fetchone()[0] == 0, table.name


# --- keys, identities, panel structure ---------------------------------------------------

@pytest.mark.parametrize("table", raw_contract.RAW_TABLES, ids=lambda t: t.name)
def test_keys_are_unique_and_required_columns_filled(con, table):
    key = ", ".join(table.key)
    assert scalar(con, f"select count(*) from (select {key} from {table.name} group by all having count(*) > 1)") == 0
    for column in table.columns:
        if not column.nullable:
            assert scalar(con, f"select count(*) from {table.name} where {column.name} is null") == 0, column.name


def test_accounting_identities_hold_exactly(con):
    violations = {
        "assets = liabilities + equity": "total_assets <> total_liabilities + total_equity",
        "R&D parts within R&D": "rd_salaries + rd_depreciation_amortization + rd_lease + rd_direct_inputs > rd_expense",
        "fixed + intangible within assets": "fixed_assets + intangible_assets > total_assets",
        "cash paid within outflows": "cash_paid_goods_services + cash_paid_employees > operating_cash_outflows",
        "R&D staff within employees": "rd_staff > employees",
        "graduates within employees": "bachelor_staff > employees",
        "negative equity only when insolvent": "total_equity < 0 and total_liabilities <= total_assets",
        "operating income positive": "operating_income <= 0",
        "non-negative amounts": " or ".join(
            f"{c.name} < 0" for c in raw_contract.FINANCIALS.columns
            if c.dtype in ("DOUBLE", "INTEGER") and c.name not in ("net_profit", "total_equity", "fiscal_year")
        ),
    }
    for rule, condition in violations.items():
        assert scalar(con, f"select count(*) from financials where {condition}") == 0, rule
    assert scalar(con, "select count(*) from financials where total_equity < 0") > 0  # insolvency is planted
    governance_rules = (
        "independent_directors > board_size",
        "independent_directors * 3 < board_size",
        "board_size not between 5 and 15",
        "top1_share_pct <= 0 or top1_share_pct >= 100",
    )
    for condition in governance_rules:
        assert scalar(con, f"select count(*) from governance where {condition}") == 0, condition


def test_rows_exist_exactly_while_listed(con):
    def listed(year: str) -> str:
        return (f"fi.listing_date <= make_date({year}, 12, 31) "
                f"and (fi.delisting_date is null or fi.delisting_date >= make_date({year}, 1, 1))")

    for table, first_year in (("financials", 2014), ("governance", 2015), ("firm_status", 2015)):
        outside = f"""select count(*) from {table} t join firms fi using (stock_code)
                      where not ({listed('t.fiscal_year')}) or t.fiscal_year not between {first_year} and 2023"""
        assert scalar(con, outside) == 0, table
        expected = f"select count(*) from firms fi cross join range({first_year}, 2024) r(y) where {listed('r.y::integer')}"
        assert scalar(con, f"select count(*) from {table}") == scalar(con, expected), table
    assert scalar(con, "select count(*) from firms where incorporation_date > listing_date") == 0
    assert scalar(con, "select count(*) from firms where delisting_date <= listing_date") == 0


def test_every_province_has_a_sample_firm_in_every_year(con):
    assert scalar(con, "select count(*) from (select distinct province_code, fiscal_year from sample)") == 31 * 9


def test_statuses_and_filters_are_planted(con, truth):
    statuses = {row[0] for row in con.execute("select distinct trading_status from firm_status").fetchall()}
    assert statuses <= set(raw_contract.STATUSES) and {"normal", "ST", "*ST"} <= statuses
    # Suspension alone never drops a firm-year, so some normal suspended firm-years stay in the sample.
    assert scalar(con, "select count(*) from firm_status where suspended and trading_status <> 'normal'") > 0
    industries = {row[0] for row in con.execute("select distinct industry_code from firms").fetchall()}
    assert {"J66", "J67"} & industries and any(not code.startswith("C") for code in industries)
    assert scalar(con, "select count(*) from sample") == truth["expected_sample_firm_years"]


# --- patents -------------------------------------------------------------------------------

def test_application_numbers_are_unique_well_formed_and_consistent(con):
    rows = con.execute("select application_number, year(application_date), patent_type from patents").fetchall()
    assert len({r[0] for r in rows}) == len(rows)
    for number, year, patent_type in rows:
        match = APPLICATION_NUMBER.match(number)
        assert match, number
        digits = number[2:14]
        check = sum(int(d) * w for d, w in zip(digits, CHECK_WEIGHTS)) % 11
        assert match.group(4) == ("X" if check == 10 else str(check)), number
        assert int(match.group(1)) == year and match.group(2) == TYPE_DIGITS[patent_type], number


def test_ipc_lists_and_applicants_are_well_formed(con):
    rows = con.execute("select main_ipc, ipc_codes, applicants from patents").fetchall()
    for main, codes, applicants in rows:
        listed = codes.split(";")
        assert listed[0] == main and len(set(listed)) == len(listed)
        assert all(IPC_CODE.match(code) for code in listed), codes
        names = applicants.split(";")
        assert all(name and name == name.strip() for name in names) and len(set(names)) == len(names), applicants


def test_keyword_and_ipc_classification_counts_equal_the_planted_ones(con, truth):
    planted = truth["planted_counts"]
    texts = con.execute("select title || abstract, ipc_codes from patents").fetchall()
    keyword_hits = sum(bool(KEYWORD_PATTERN.search(text)) for text, _ in texts)
    assert keyword_hits == planted["keyword_ai_true"] + planted["keyword_false_positives"]
    ai_ipc = sum(any(matches_any_prefix(c, AI_PREFIXES) for c in codes.split(";")) for _, codes in texts)
    green_ipc = sum(any(matches_any_prefix(c, GREEN_PREFIXES) for c in codes.split(";")) for _, codes in texts)
    assert ai_ipc == planted["ai_ipc"]
    assert green_ipc == planted["green_ipc"]
    assert planted["keyword_false_positives"] > 0 and planted["decoys"] > 0
    assert ai_ipc != keyword_hits  # the two AI measures differ by construction


def test_firm_year_patent_counts_through_the_applicant_map(con, truth):
    """Split applicants, map them to firms, count a patent once per firm: the dbt rule, in SQL."""
    con.execute(f"""
        create or replace table credited as
        select distinct p.application_number, m.stock_code, year(p.application_date) as fiscal_year,
               regexp_matches(p.title || p.abstract, '{KEYWORD_PATTERN.pattern}') as keyword_ai,
               p.ipc_codes, p.patent_type, len(string_split(p.applicants, ';')) as n_applicants
        from patents p, unnest(string_split(p.applicants, ';')) as a(name)
        join applicant_firm_map m on m.applicant_name = trim(a.name)
    """)
    green = " or ".join(f"starts_with(code, '{prefix}')" for prefix in GREEN_PREFIXES)
    ai = " or ".join(f"starts_with(code, '{prefix}')" for prefix in AI_PREFIXES)
    counts = con.execute(f"""
        select sum(keyword_ai::int),
               sum(list_bool_or(list_transform(string_split(ipc_codes, ';'), lambda code: {ai}))::int),
               sum((list_bool_or(list_transform(string_split(ipc_codes, ';'), lambda code: {green}))
                    and patent_type <> 'design' and n_applicants = 1)::int)
        from credited join sample using (stock_code, fiscal_year)
    """).fetchone()
    planted = truth["planted_counts"]
    assert counts == (planted["sample_keyword_ai_patents"], planted["sample_ai_ipc_patents"], planted["sample_green_patents"])
    relations = dict(con.execute("select relation, count(*) from applicant_firm_map group by 1").fetchall())
    assert relations["parent"] == scalar(con, "select count(*) from firms") and relations["subsidiary"] > 0
    unmatched = scalar(con, """select count(*) from patents where application_number not in
                               (select application_number from credited)""")
    assert unmatched >= planted["unmatched_patents"] > 0


# --- templates ------------------------------------------------------------------------------

def _all_texts(template: patent_text.Template):
    """Every title + abstract a template can produce (the same draw for repeated vocabularies)."""
    vocabularies = patent_text.template_vocabularies(template)
    names = list(vocabularies)
    size = int(np.prod([len(vocabularies[n]) for n in names]))
    assert size <= MAX_ENUMERATED_COMBINATIONS, f"template too large to enumerate ({size})"
    for combination in itertools.product(*(vocabularies[n] for n in names)):
        chosen = dict(zip(names, combination))
        yield "".join(chosen.get(p[1:-1], p) if p.startswith("{") else p for p in template.title + template.abstract)


@pytest.mark.parametrize("kind", ["decoy", "neutral", "green"])
def test_non_ai_templates_can_never_contain_a_keyword(kind):
    for template in patent_text.TEMPLATES[kind]:
        for text in _all_texts(template):
            assert not KEYWORD_PATTERN.search(text), f"{kind} text contains a keyword: {text}"


def test_false_positive_templates_always_contain_a_keyword():
    for template in patent_text.TEMPLATES["false_positive"]:
        for text in _all_texts(template):
            assert KEYWORD_PATTERN.search(text), text


def test_ai_templates_always_name_a_keyword():
    # Sufficient condition (the AI templates are too large to enumerate): every AI technique phrase
    # is or contains a dictionary term and every AI template prints the technique.
    assert all(KEYWORD_PATTERN.search(subject.phrase) for subject in patent_text.AI_TECHNIQUES)
    for template in patent_text.TEMPLATES["ai"]:
        assert "{SUBJECT}" in template.title + template.abstract
        assert template.subjects == patent_text.AI_TECHNIQUES


def test_decoys_use_the_look_alike_words_of_the_brief():
    decoys = "".join(s.phrase for t in patent_text.TEMPLATES["decoy"] for s in t.subjects)
    for word in ("智能电表", "神经外科", "学习桌", "视觉检测灯", "机器人玩具外壳"):
        assert word in decoys


def test_ipc_codes_agree_with_the_text_kind():
    def flags(code):
        return matches_any_prefix(code, AI_PREFIXES), matches_any_prefix(code, GREEN_PREFIXES)

    for subject in patent_text.AI_TECHNIQUES:
        assert all(flags(c) == (True, False) for c in subject.codes), subject
        assert all(flags(c) == (False, False) for c in subject.it_codes), subject
    for template in patent_text.TEMPLATES["green"]:
        assert all(flags(c) == (False, True) for s in template.subjects for c in s.codes)
    for kind in ("neutral", "decoy", "false_positive"):
        for template in patent_text.TEMPLATES[kind]:
            assert all(flags(c) == (False, False) for s in template.subjects for c in s.codes), kind
    assert all(flags(c) == (True, False) for c in patent_text.STRAY_AI_CODES)
    assert all(IPC_CODE.match(code) for code in patent_text.all_codes())


# --- scale 1 ---------------------------------------------------------------------------------

def test_scale_one_sample_size_and_shares(scale_one):
    truth = scale_one.truth
    with sample_connection(scale_one.tables) as connection:
        n, disclosed = connection.execute("select count(*), count(bachelor_staff) from sample").fetchone()
    assert n == truth["expected_sample_firm_years"]
    low, high = SAMPLE_RANGE_AT_SCALE_1
    assert low <= n <= high
    assert abs(disclosed / n - PAPER_BACHELOR_SHARE) <= BACHELOR_SHARE_TOLERANCE
    planted = truth["planted_counts"]
    assert planted["sample_bachelor_disclosed"] == disclosed
    regions = planted["sample_firm_years_by_region"]
    assert sum(regions.values()) == n
    assert regions["east"] > 0.7 * n and regions["west"] > 0.08 * n  # Table 9: 75 % east, 10 % west
    dropped = planted["dropped_special_treatment"] + planted["dropped_insolvent_only"]
    assert 0.02 < dropped / (n + dropped) < 0.06  # ST/*ST/PT ~3-4 % plus ~1 % insolvent, overlapping
    assert 600_000 <= planted["patents"] <= 900_000  # "about 0.75 million applications at scale 1"


# --- truth and docs ------------------------------------------------------------------------------

def test_fingerprint_is_stable_and_tracks_parameters():
    assert DEFAULT_PARAMETERS.fingerprint() == dataclasses.replace(DEFAULT_PARAMETERS).fingerprint()
    changed = dataclasses.replace(DEFAULT_PARAMETERS, beta_ai_base=DEFAULT_PARAMETERS.beta_ai_base + 0.01)
    assert changed.fingerprint() != DEFAULT_PARAMETERS.fingerprint()


def test_population_values_are_copied_and_not_stale(truth):
    if not POPULATION_VALUES_FILE.exists():
        assert truth["derived"] == {}
        pytest.skip("population_values.json has not been computed yet")
    stored = json.loads(POPULATION_VALUES_FILE.read_text(encoding="utf-8"))
    assert truth["derived"] == stored
    assert stored.get("dgp_fingerprint") == DEFAULT_PARAMETERS.fingerprint(), (
        "population_values.json was computed for another DGP: recompute it"
    )


def test_reference_data_drives_the_generator():
    reference = load_reference_data()
    assert len(reference.province_codes) == 31
    np.testing.assert_allclose(reference.contiguity.sum(axis=1), 1.0)
    assert reference.ai_keywords == tuple(KEYWORDS)


@pytest.mark.parametrize(
    ("path", "section"), [(path, section) for path, sections in GENERATED_SECTIONS.items() for section in sections]
)
def test_generated_docs_are_in_step_with_the_code(path, section):
    """docs/raw_data.md (contract tables) and docs/synthetic_dgp.md (parameters) are rendered from code."""
    expected = GENERATED_SECTIONS[path][section]()
    assert generated_section(path.read_text(encoding="utf-8"), section) == expected, (
        f"{path.name} is stale: run python -m dagster_project.generated_docs"
    )
