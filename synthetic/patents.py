"""Patent applications 2013-2023 and the applicant-to-firm map, built from the panel's counts.

Strings are assembled in Arrow from small dictionaries (names, IPC codes, phrases) and integer
indices, which keeps a million rows well inside the generator's time budget.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from synthetic import patent_text
from synthetic.firms import CITIES, FirmPopulation
from synthetic.panel import YEARS, Panel
from synthetic.parameters import DgpParameters

TYPE_DIGIT = {patent_text.INVENTION: 1, patent_text.UTILITY_MODEL: 2, patent_text.DESIGN: 3}
CHECK_WEIGHTS = np.array([2, 3, 4, 5, 6, 7, 8, 9, 2, 3, 4, 5])  # CNIPA check digit over the 12 digits
MAX_SERIAL = 9_999_999
FIRST_SERIAL = 1000
AI_MAIN_GIVEN_AI_IPC = 0.75  # when an AI text has an AI group, it is the main code this often
SECOND_CODE_RATE = 0.6  # chance a patent lists the subject's second code as well
UNIVERSITY_FIRST_RATE = 0.3  # joint filings where the university is the first applicant
MAX_SUBSIDIARIES = 3
MEAN_SUBSIDIARIES = 1.1
UNMATCHED_KIND_SHARES = {"neutral": 0.8, "ai": 0.15, "green": 0.05}
KEYWORD_KINDS = ("ai", "false_positive")

UNIVERSITIES = tuple(
    f"{name}大学" for name in ("清华", "浙江", "上海交通", "华中科技", "西安交通", "哈尔滨工业", "东南", "南京理工",
                               "北京航空航天", "华南理工", "电子科技", "大连理工", "天津", "同济", "武汉理工", "中南",
                               "重庆", "四川", "山东", "吉林")
) + tuple(f"中国科学院{name}研究所" for name in ("自动化", "计算技术", "沈阳自动化", "宁波材料技术与工程", "过程工程"))
UNRELATED_STEM_CHARACTERS = "甲乙丙丁戊己庚辛壬癸子丑寅卯辰巳午未申酉戌亥"
UNRELATED_SUFFIXES = ("实业有限公司", "贸易有限公司", "技术有限公司", "工贸有限公司")
N_UNRELATED_COMPANIES = 240


@dataclass(frozen=True)
class PatentTables:
    patents: pa.Table
    applicant_firm_map: pa.Table
    planted_counts: dict[str, int]


class _Names:
    """One dictionary of applicant names (parents, subsidiaries, universities, unrelated companies, '')."""

    def __init__(self, rng: np.random.Generator, firms: FirmPopulation):
        self.sub_counts = np.minimum(rng.poisson(MEAN_SUBSIDIARIES, firms.size), MAX_SUBSIDIARIES)
        self.sub_offsets = np.concatenate([[0], np.cumsum(self.sub_counts)[:-1]])
        self.sub_owner = np.repeat(np.arange(firms.size), self.sub_counts)
        rank = np.arange(self.sub_counts.sum()) - self.sub_offsets[self.sub_owner]
        first_city = rng.integers(0, len(CITIES), firms.size)
        cities = np.array(CITIES, dtype=object)[(first_city[self.sub_owner] + rank) % len(CITIES)]
        self.subsidiaries = firms.short_name[self.sub_owner] + "(" + cities + ")有限公司"

        chars = np.array(list(UNRELATED_STEM_CHARACTERS), dtype=object)
        k = len(chars)
        picks = rng.choice(k * k, size=N_UNRELATED_COMPANIES, replace=False)
        suffix = np.array(UNRELATED_SUFFIXES, dtype=object)[rng.integers(0, len(UNRELATED_SUFFIXES), N_UNRELATED_COMPANIES)]
        unrelated = chars[picks // k] + chars[picks % k] + suffix

        self.first_subsidiary = firms.size
        self.first_university = self.first_subsidiary + len(self.subsidiaries)
        self.first_unrelated = self.first_university + len(UNIVERSITIES)
        self.empty = self.first_unrelated + N_UNRELATED_COMPANIES
        self.table = pa.array(
            list(firms.legal_name) + list(self.subsidiaries) + list(UNIVERSITIES) + list(unrelated) + [""], pa.string()
        )

    def subsidiary_or_parent(self, rng: np.random.Generator, owner: np.ndarray) -> np.ndarray:
        counts = self.sub_counts[owner]
        pick = self.sub_offsets[owner] + (rng.random(len(owner)) * np.maximum(counts, 1)).astype(np.int64)
        return np.where(counts > 0, self.first_subsidiary + pick, owner)

    def university(self, rng: np.random.Generator, n: int) -> np.ndarray:
        return self.first_university + rng.integers(0, len(UNIVERSITIES), n)

    def unrelated(self, rng: np.random.Generator, n: int) -> np.ndarray:
        return self.first_unrelated + rng.integers(0, N_UNRELATED_COMPANIES, n)

    def join(self, first: np.ndarray, second: np.ndarray) -> pa.Array:
        separator = pa.array([";", ""], pa.string()).take(pa.array((second == self.empty).astype(np.int64)))
        return pc.binary_join_element_wise(
            self.table.take(pa.array(first)), separator, self.table.take(pa.array(second)), ""
        )


@dataclass
class _Block:
    kind: str
    owner: np.ndarray  # firm index, -1 for patents of unmatched applicants only
    partner: np.ndarray  # second listed firm of a joint filing, else -1
    year: np.ndarray
    first_applicant: np.ndarray  # indices into _Names.table
    second_applicant: np.ndarray


def _firm_blocks(rng, params: DgpParameters, firms: FirmPopulation, panel: Panel, names: _Names) -> list[_Block]:
    n_firms, n_years = panel.n_ai.shape
    alive = YEARS[None, :] >= firms.years_of(firms.incorporation_date)[:, None]
    n_other = np.where(alive, panel.n_other, 0)
    n_false_positive = rng.binomial(n_other, params.keyword_false_positive_rate)
    n_decoy = rng.binomial(n_other - n_false_positive, params.decoy_rate)
    n_green = np.where(alive, panel.n_green, 0)
    per_label = {
        "ai": np.where(alive, panel.n_ai, 0),
        "green": n_green,
        "green_joint": rng.poisson(params.green_joint_extra_rate * n_green),
        "false_positive": n_false_positive,
        "decoy": n_decoy,
        "neutral": n_other - n_false_positive - n_decoy,
    }
    firm_grid = np.repeat(np.arange(n_firms), n_years)
    year_grid = np.tile(YEARS, n_firms)
    cut = np.cumsum([params.subsidiary_share, params.joint_university_share, params.joint_firm_share,
                     params.joint_parent_subsidiary_share])
    blocks = []
    for label, counts in per_label.items():
        owner = np.repeat(firm_grid, counts.ravel())
        year = np.repeat(year_grid, counts.ravel())
        m = len(owner)
        empty = np.full(m, names.empty)
        partner = np.full(m, -1)
        if label == "green_joint":  # extra green filings with a university: not independent, not counted
            first, second = owner, names.university(rng, m)
        elif label == "green":  # counted green patents are filed by a single applicant
            first = np.where(rng.random(m) < params.subsidiary_share, names.subsidiary_or_parent(rng, owner), owner)
            second = empty
        else:
            u = rng.random(m)
            subsidiary = names.subsidiary_or_parent(rng, owner)
            university = names.university(rng, m)
            other_firm = (owner + 1 + rng.integers(0, n_firms - 1, m)) % n_firms  # never the owner itself
            university_first = rng.random(m) < UNIVERSITY_FIRST_RATE
            with_university = (u >= cut[0]) & (u < cut[1])
            with_firm = (u >= cut[1]) & (u < cut[2])
            with_subsidiary = (u >= cut[2]) & (u < cut[3]) & (subsidiary != owner)
            first = np.select([u < cut[0], with_university & university_first], [subsidiary, university], default=owner)
            second = np.select(
                [with_university & university_first, with_university, with_firm, with_subsidiary],
                [owner, university, other_firm, subsidiary], default=names.empty,
            )
            partner = np.where(with_firm, other_firm, -1)
        kind = "green" if label == "green_joint" else label
        blocks.append(_Block(kind, owner, partner, year, first, second))
    return blocks


def _unmatched_block(rng, params: DgpParameters, n_firm_patents: int, names: _Names) -> list[_Block]:
    n = int(round(params.unmatched_patent_share / (1 - params.unmatched_patent_share) * n_firm_patents))
    kind = rng.choice(list(UNMATCHED_KIND_SHARES), size=n, p=list(UNMATCHED_KIND_SHARES.values()))
    growth = np.linspace(1.0, 2.0, len(YEARS))
    year = rng.choice(YEARS, size=n, p=growth / growth.sum())
    u = rng.random(n)
    university, company = names.university(rng, n), names.unrelated(rng, n)
    first = np.where(u < 0.5, university, company)
    second = np.where(u >= 0.9, company, names.empty)
    first = np.where(u >= 0.9, university, first)
    none = np.full(n, -1)
    return [_Block(k, none[kind == k], none[kind == k], year[kind == k], first[kind == k], second[kind == k])
            for k in UNMATCHED_KIND_SHARES]


def _ipc_indices(rng, kind: str, texts: patent_text.RenderedTexts, params: DgpParameters, code_index: dict[str, int]):
    """Indices (into the code dictionary) of main, second and stray codes, and whether an AI group is present."""
    n = len(texts.subject)
    empty = len(code_index)
    main, second, stray = np.zeros(n, np.int64), np.full(n, empty), np.full(n, empty)
    has_ai_ipc = np.zeros(n, dtype=bool)
    for k, template in enumerate(patent_text.TEMPLATES[kind]):
        rows = np.flatnonzero(texts.template == k)
        if not len(rows):
            continue
        subject = texts.subject[rows]
        first_code, other_code = _pick_two(rng, [s.codes for s in template.subjects], subject, code_index)
        if kind == "ai":
            it_first, it_other = _pick_two(rng, [s.it_codes for s in template.subjects], subject, code_index)
            has_ai = rng.random(len(rows)) < params.ai_ipc_given_ai_text
            ai_main = has_ai & (rng.random(len(rows)) < AI_MAIN_GIVEN_AI_IPC)
            main[rows] = np.where(ai_main, first_code, it_first)
            second[rows] = np.where(ai_main, np.where(rng.random(len(rows)) < 0.5, it_first, empty),
                                    np.where(has_ai, first_code, it_other))
            has_ai_ipc[rows] = has_ai
        else:
            main[rows] = first_code
            second[rows] = np.where(rng.random(len(rows)) < SECOND_CODE_RATE, other_code, empty)
    if kind != "ai":
        stray_codes = np.array([code_index[c] for c in patent_text.STRAY_AI_CODES])
        has_ai_ipc = rng.random(n) < params.ai_ipc_given_other_text
        stray = np.where(has_ai_ipc, stray_codes[rng.integers(0, len(stray_codes), n)], empty)
    return main, second, stray, has_ai_ipc


def _pick_two(rng, code_lists: list[tuple[str, ...]], subject: np.ndarray, code_index: dict[str, int]):
    """Per row: a random code of its subject's list, and the list's other code (or the empty code)."""
    empty = len(code_index)
    padded = np.array([[code_index[c] for c in codes] + [empty] * (2 - len(codes)) for codes in code_lists])
    counts = np.array([len(codes) for codes in code_lists])[subject]
    pick = (rng.random(len(subject)) * counts).astype(np.int64)
    first = padded[subject, pick]
    other = np.where(counts == 2, padded[subject, 1 - pick], empty)
    return first, other


def _application_numbers(rng, years: np.ndarray, type_digits: np.ndarray, days: np.ndarray) -> tuple[pa.Array, np.ndarray]:
    """Unique CNIPA numbers, in sorted order, whose serials rise with the filing day within (year, type).

    Returns the numbers and the row order (indices into the inputs) they belong to.
    """
    order = np.lexsort((days, type_digits, years))
    y, d = years[order], type_digits[order]
    group_start = np.r_[True, (y[1:] != y[:-1]) | (d[1:] != d[:-1])]
    group_id = np.cumsum(group_start) - 1
    largest_group = np.bincount(group_id).max() if len(group_id) else 1
    if largest_group > MAX_SERIAL - FIRST_SERIAL:
        raise ValueError(f"scale too large: {largest_group} applications of one year and type exceed the serial range")
    max_gap = max(1, min(3, (MAX_SERIAL - FIRST_SERIAL) // largest_group))
    cumulative = np.cumsum(rng.integers(1, max_gap + 1, len(order)))
    serial = FIRST_SERIAL + cumulative - cumulative[np.flatnonzero(group_start)][group_id]
    twelve = (y.astype(np.int64) * 10 + d) * 10_000_000 + serial
    weighted = np.zeros(len(twelve), dtype=np.int64)
    for power, weight in zip(range(11, -1, -1), CHECK_WEIGHTS):
        weighted += (twelve // 10**power) % 10 * weight
    check = weighted % 11
    check_text = pa.array([str(i) for i in range(10)] + ["X"], pa.string()).take(pa.array(check))
    number_text = pc.cast(pa.array(twelve), pa.string())  # years >= 1000 give exactly 12 digits
    numbers = pc.binary_join_element_wise("CN", number_text, ".", check_text, "")
    return numbers, order


def build_patents(rng: np.random.Generator, params: DgpParameters, firms: FirmPopulation, panel: Panel) -> PatentTables:
    names = _Names(rng, firms)
    blocks = _firm_blocks(rng, params, firms, panel, names)
    n_firm_patents = sum(len(b.owner) for b in blocks)
    blocks += _unmatched_block(rng, params, n_firm_patents, names)

    code_dictionary = patent_text.all_codes()
    code_index = {code: i for i, code in enumerate(code_dictionary)}
    codes = pa.array(list(code_dictionary) + [""], pa.string())
    empty_code = len(code_dictionary)

    pieces: dict[str, list] = {key: [] for key in ("kind", "owner", "partner", "year", "first", "second", "title",
                                                   "abstract", "type", "main", "second_code", "stray", "ai_ipc")}
    for kind in patent_text.KINDS:
        parts = [b for b in blocks if b.kind == kind]
        n = sum(len(b.owner) for b in parts)
        texts = patent_text.render(rng, kind, n)
        main, second_code, stray, ai_ipc = _ipc_indices(rng, kind, texts, params, code_index)
        pieces["kind"].append(np.full(n, patent_text.KINDS.index(kind)))
        for key, attribute in (("owner", "owner"), ("partner", "partner"), ("year", "year"),
                               ("first", "first_applicant"), ("second", "second_applicant")):
            pieces[key].append(np.concatenate([getattr(b, attribute) for b in parts])[texts.order])
        pieces["title"].append(texts.title)
        pieces["abstract"].append(texts.abstract)
        pieces["type"].append(texts.patent_type)
        for key, values in (("main", main), ("second_code", second_code), ("stray", stray), ("ai_ipc", ai_ipc)):
            pieces[key].append(values)
    merged = {key: pa.chunked_array(v) if key in ("title", "abstract") else np.concatenate(v) for key, v in pieces.items()}

    n = len(merged["owner"])
    years = merged["year"].astype(np.int64)
    type_digits = np.select([merged["type"] == name for name in TYPE_DIGIT], list(TYPE_DIGIT.values()))
    days = rng.integers(0, 365, n)
    numbers, order = _application_numbers(rng, years, type_digits, days)
    # Rows are written in application-number order: permute the cheap index columns, then build strings.
    merged = {key: values.take(pa.array(order)) if isinstance(values, pa.ChunkedArray) else values[order]
              for key, values in merged.items()}
    dates = (years[order] - 1970).astype("datetime64[Y]").astype("datetime64[D]") + days[order].astype("timedelta64[D]")

    def separated(code: np.ndarray) -> pa.Array:
        separator = pa.array([";", ""], pa.string()).take(pa.array((code == empty_code).astype(np.int64)))
        return pc.binary_join_element_wise(separator, codes.take(pa.array(code)), "")

    main_text = codes.take(pa.array(merged["main"]))
    patents = pa.table({
        "application_number": numbers,
        "application_date": pa.array(dates, pa.date32()),
        "patent_type": pa.array(merged["type"].tolist(), pa.string()),
        "title": merged["title"],
        "abstract": merged["abstract"],
        "main_ipc": main_text,
        "ipc_codes": pc.binary_join_element_wise(main_text, separated(merged["second_code"]), separated(merged["stray"]), ""),
        "applicants": names.join(merged["first"], merged["second"]),
    })

    applicant_firm_map = pa.table({
        "applicant_name": pa.array(list(firms.legal_name) + list(names.subsidiaries), pa.string()),
        "stock_code": pa.array(list(firms.stock_code) + list(firms.stock_code[names.sub_owner]), pa.string()),
        "relation": pa.array(["parent"] * firms.size + ["subsidiary"] * len(names.subsidiaries), pa.string()),
    })
    kind_names = np.array(patent_text.KINDS)[merged["kind"]]
    planted_counts = _planted_counts(firms, panel, merged, kind_names, n_firm_patents)
    planted_counts["applicant_names_mapped"] = applicant_firm_map.num_rows
    return PatentTables(patents=patents, applicant_firm_map=applicant_firm_map, planted_counts=planted_counts)


def _planted_counts(firms, panel, merged, kind_names, n_firm_patents) -> dict[str, int]:
    sample = panel.in_sample(firms)
    year_index = merged["year"].astype(np.int64) - YEARS[0]
    owner, partner = merged["owner"], merged["partner"]

    def credited_in_sample(mask: np.ndarray) -> int:
        """Patents in `mask` credited to sample firm-years (a joint filing by two firms counts for both)."""
        first = (owner >= 0) & mask
        second = (partner >= 0) & mask
        return int(sample[owner[first], year_index[first]].sum() + sample[partner[second], year_index[second]].sum())

    return {
        "patents": len(owner),
        "firm_patents": n_firm_patents,
        "unmatched_patents": len(owner) - n_firm_patents,
        "keyword_ai_true": int((kind_names == "ai").sum()),
        "keyword_false_positives": int((kind_names == "false_positive").sum()),
        "decoys": int((kind_names == "decoy").sum()),
        "green_ipc": int((kind_names == "green").sum()),
        "ai_ipc": int(merged["ai_ipc"].sum()),
        "sample_keyword_ai_patents": credited_in_sample(np.isin(kind_names, KEYWORD_KINDS)),
        "sample_ai_ipc_patents": credited_in_sample(merged["ai_ipc"]),
        "sample_green_patents": int(np.where(sample, panel.n_green, 0).sum()),
    }
