"""The firm population: codes, names, provinces, industries and life dates."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from synthetic.parameters import DgpParameters
from nqp_core.reference import ReferenceData

FIRST_PANEL_YEAR = 2013  # patents are filed from 2013; statements start 2014; the sample starts 2015
LAST_YEAR = 2023

# Relative numbers of A-share listed companies by province (about 2023, rounded; central provinces
# scaled by 0.85) so that ~75 / 14.5 / 10.5 % of firm-years fall in the east / central / west belts
# like the paper's Table 9.
PROVINCE_WEIGHTS = {
    "110000": 460, "120000": 70, "130000": 75, "140000": 34, "150000": 25, "210000": 85,
    "220000": 42, "230000": 34, "310000": 420, "320000": 690, "330000": 680, "340000": 145,
    "350000": 170, "360000": 72, "370000": 300, "410000": 94, "420000": 123, "430000": 119,
    "440000": 850, "450000": 40, "460000": 40, "500000": 75, "510000": 170, "520000": 35,
    "530000": 42, "540000": 22, "610000": 75, "620000": 35, "630000": 11, "640000": 15,
    "650000": 60,
}

# Relative numbers of listed firms by CSRC 2012 manufacturing division (rounded), nudged so that
# heavy-polluting firms are ~28 % and high-tech ~59 % of firm-years as in the paper's Table 10
# (6,797 and 14,398 of 24,302).
MANUFACTURING_WEIGHTS = {
    "C13": 1.3, "C14": 1.8, "C15": 1.8, "C16": 0.1, "C17": 1.5, "C18": 1.3, "C19": 0.4,
    "C20": 0.3, "C21": 1.0, "C22": 0.9, "C23": 0.4, "C24": 0.7, "C25": 0.4, "C26": 6.5,
    "C27": 6.0, "C28": 0.8, "C29": 2.8, "C30": 3.0, "C31": 0.9, "C32": 2.0, "C33": 2.3,
    "C34": 5.0, "C35": 10.5, "C36": 4.0, "C37": 3.0, "C38": 12.5, "C39": 21.0, "C40": 3.3,
    "C41": 0.5, "C42": 0.3, "C43": 0.1,
}
NONMANUFACTURING_WEIGHTS = {
    "A01": 4, "B06": 5, "B07": 2, "B08": 1, "B09": 3, "D44": 12, "E48": 10, "F51": 10, "F52": 6,
    "G54": 4, "I63": 4, "I64": 8, "I65": 17, "K70": 8, "L72": 5, "M73": 2, "N77": 4, "R86": 3,
}
FINANCIAL_WEIGHTS = {"J66": 40, "J67": 35, "J68": 10, "J69": 15}

# A-share IPOs per year (rounded; 2013 had the IPO freeze), used as the listing-year distribution.
# Listings up to 2003 are weighted by a quarter: few 1990s manufacturing listings survive to 2014,
# and this keeps Age = ln(year - incorporation year + 1) near the paper's Table 3 (mean 2.2).
IPOS_BEFORE_2015 = {
    1991: 2, 1992: 10, 1993: 30, 1994: 28, 1995: 6, 1996: 50, 1997: 52, 1998: 25, 1999: 24,
    2000: 34, 2001: 20, 2002: 18, 2003: 17, 2004: 100, 2005: 15, 2006: 65, 2007: 120, 2008: 77,
    2009: 99, 2010: 347, 2011: 282, 2012: 155, 2013: 0, 2014: 125,
}
IPOS_FROM_2015 = {2015: 223, 2016: 227, 2017: 438, 2018: 105, 2019: 203, 2020: 437, 2021: 524, 2022: 424, 2023: 313}

# Code ranges by board; a board that runs out spills into the Beijing-exchange-style 8xxxxx range.
BOARD_RANGES = {
    "sh_main_old": [(600000, 601999)],
    "sz_main_old": [(1, 999)],
    "sz_sme": [(2001, 4999)],
    "chinext": [(300001, 301999)],
    "sh_main_new": [(603000, 603999), (605000, 605999)],
    "star": [(688001, 688999)],
    "sz_main_new": [(1201, 1999)],
}
OVERFLOW_RANGE = (800000, 899999)
BOARD_MIX = (  # (first listing year, last listing year, {board: probability})
    (1990, 2003, {"sh_main_old": 0.6, "sz_main_old": 0.4}),
    (2004, 2008, {"sz_sme": 0.6, "sh_main_old": 0.4}),
    (2009, 2018, {"chinext": 0.35, "sz_sme": 0.35, "sh_main_new": 0.3}),
    (2019, 2023, {"star": 0.3, "chinext": 0.35, "sh_main_new": 0.25, "sz_main_new": 0.1}),
)

NAME_CHARACTERS = (
    "华中国东南西北新天宏金海恒盛达通信创远航联瑞康泰安永兴隆昌丰和宇星光明德正鑫鼎博润嘉豪宝富佳立峰成晶汇"
    "源合力凯欣美威顺益诚捷浩锦亿万方圆长江山川云龙凤鹏腾飞扬启迪卓越精工英杰环球振邦银河春秋晨曦彩虹蓝天"
)
INDUSTRY_NAME_SUFFIX = {
    "C13": "农业", "C14": "食品", "C15": "酒业", "C16": "烟草", "C17": "纺织", "C18": "服饰", "C19": "鞋业",
    "C20": "木业", "C21": "家居", "C22": "纸业", "C23": "印务", "C24": "文体", "C25": "石化", "C26": "化工",
    "C27": "药业", "C28": "化纤", "C29": "塑胶", "C30": "建材", "C31": "钢铁", "C32": "有色", "C33": "金属",
    "C34": "机械", "C35": "装备", "C36": "汽车", "C37": "船舶", "C38": "电气", "C39": "电子", "C40": "仪器",
    "C41": "制造", "C42": "环保", "C43": "重工",
}
DEFAULT_NAME_SUFFIX = "股份"
CITIES = (
    "苏州", "无锡", "宁波", "杭州", "深圳", "东莞", "佛山", "成都", "武汉", "合肥", "西安", "青岛", "厦门",
    "长沙", "郑州", "天津", "重庆", "南京", "常州", "嘉兴", "珠海", "惠州", "南通", "昆山", "烟台", "大连",
)


@dataclass(frozen=True)
class FirmPopulation:
    stock_code: np.ndarray  # str
    short_name: np.ndarray  # str, unique
    legal_name: np.ndarray  # str: the parent applicant name in patents
    province: np.ndarray  # int index into ReferenceData.province_codes
    industry: np.ndarray  # int index into ReferenceData.industry_codes
    manufacturing: np.ndarray
    financial: np.ndarray
    heavy_polluting: np.ndarray
    high_tech: np.ndarray
    east: np.ndarray
    central: np.ndarray
    anchor: np.ndarray  # forced listed, normal and solvent in every year
    incorporation_date: np.ndarray  # datetime64[D]
    listing_date: np.ndarray  # datetime64[D]
    delisting_date: np.ndarray  # datetime64[D], NaT while listed

    @property
    def size(self) -> int:
        return len(self.stock_code)

    def years_of(self, dates: np.ndarray) -> np.ndarray:
        return dates.astype("datetime64[Y]").astype(int) + 1970


def _weighted_choice(rng: np.random.Generator, weights: dict, size: int) -> np.ndarray:
    keys = list(weights)
    p = np.array([weights[k] for k in keys], dtype=float)
    return np.array(keys, dtype=object)[rng.choice(len(keys), size=size, p=p / p.sum())]


def _random_dates(rng: np.random.Generator, years: np.ndarray) -> np.ndarray:
    starts = (np.asarray(years) - 1970).astype("datetime64[Y]").astype("datetime64[D]")
    return starts + rng.integers(0, 365, size=len(starts)).astype("timedelta64[D]")


def _stock_codes(rng: np.random.Generator, listing_years: np.ndarray) -> np.ndarray:
    boards = np.empty(len(listing_years), dtype=object)
    for first, last, mix in BOARD_MIX:
        in_period = (listing_years >= first) & (listing_years <= last)
        boards[in_period] = _weighted_choice(rng, mix, int(in_period.sum()))
    codes = np.zeros(len(listing_years), dtype=np.int64)
    overflow: list[np.ndarray] = []
    for board, ranges in BOARD_RANGES.items():
        members = np.flatnonzero(boards == board)
        pool = np.concatenate([np.arange(lo, hi + 1) for lo, hi in ranges])
        taken = min(len(members), len(pool))
        codes[members[:taken]] = rng.choice(pool, size=taken, replace=False)
        overflow.append(members[taken:])
    spill = np.concatenate(overflow)
    lo, hi = OVERFLOW_RANGE
    if len(spill) > hi - lo + 1:
        raise ValueError(f"scale too large: {len(listing_years)} firms exceed the six-digit code space")
    codes[spill] = lo + rng.choice(hi - lo + 1, size=len(spill), replace=False)
    return np.char.zfill(codes.astype(str), 6).astype(object)


def _short_names(rng: np.random.Generator, industries: np.ndarray, reference: ReferenceData) -> np.ndarray:
    chars = np.array(list(dict.fromkeys(NAME_CHARACTERS)), dtype=object)
    k = len(chars)
    n = len(industries)
    # Two-character stems while they suffice, three-character ones otherwise; stems are unique.
    stem_length = 2 if n <= (k * k) // 2 else 3
    picks = rng.choice(k**stem_length, size=n, replace=False)
    stems = np.full(n, "", dtype=object)
    for _ in range(stem_length):
        stems = chars[picks % k] + stems
        picks //= k
    codes = np.array(reference.industry_codes, dtype=object)[industries]
    suffix = np.array([INDUSTRY_NAME_SUFFIX.get(code, DEFAULT_NAME_SUFFIX) for code in codes], dtype=object)
    return stems + suffix


def build_firms(rng: np.random.Generator, params: DgpParameters, scale: float, reference: ReferenceData) -> FirmPopulation:
    n_provinces = len(reference.province_codes)
    n_man = int(round(params.n_manufacturing_firms * scale))
    n_non = max(1, int(round(params.n_nonmanufacturing_firms * scale)))
    n_fin = max(1, int(round(params.n_financial_firms * scale)))
    if n_man < n_provinces:
        raise ValueError(
            f"scale={scale} gives {n_man} manufacturing firms; at least one per province ({n_provinces}) is needed"
        )
    # Small scales keep one anchor per province so that anchors never crowd out the other firms.
    anchors_per_province = max(1, min(params.anchors_per_province, n_man // (2 * n_provinces)))
    n_anchor = anchors_per_province * n_provinces
    n = n_man + n_non + n_fin

    industry_index = {code: i for i, code in enumerate(reference.industry_codes)}
    industry_codes = np.concatenate([
        _weighted_choice(rng, MANUFACTURING_WEIGHTS, n_man),
        _weighted_choice(rng, NONMANUFACTURING_WEIGHTS, n_non),
        _weighted_choice(rng, FINANCIAL_WEIGHTS, n_fin),
    ])
    industry = np.array([industry_index[code] for code in industry_codes])

    province_index = {code: i for i, code in enumerate(reference.province_codes)}
    province = np.array([province_index[c] for c in _weighted_choice(rng, PROVINCE_WEIGHTS, n)])
    anchor = np.zeros(n, dtype=bool)
    anchor[:n_anchor] = True
    province[:n_anchor] = np.repeat(np.arange(n_provinces), anchors_per_province)

    before = rng.random(n) < params.share_listed_before_2015
    listing_year = np.where(
        before,
        _weighted_choice(rng, IPOS_BEFORE_2015, n).astype(int),
        _weighted_choice(rng, IPOS_FROM_2015, n).astype(int),
    )
    listing_year[anchor] = np.minimum(listing_year[anchor], 2012)
    listing_date = _random_dates(rng, listing_year)
    gap_days = np.round(rng.exponential(params.incorporation_gap_mean_years * 365.25, n)).astype("timedelta64[D]")
    incorporation_date = listing_date - np.timedelta64(120, "D") - gap_days

    delisted = (rng.random(n) < params.share_delisted) & ~anchor
    delisting_year = np.maximum(listing_year + 2, rng.integers(2016, LAST_YEAR + 1, n))
    delisted &= delisting_year <= LAST_YEAR
    delisting_date = np.where(
        delisted, _random_dates(rng, np.minimum(delisting_year, LAST_YEAR)), np.datetime64("NaT", "D")
    )

    short_name = _short_names(rng, industry, reference)
    regions = np.array(reference.province_regions, dtype=object)[province]
    return FirmPopulation(
        stock_code=_stock_codes(rng, listing_year),
        short_name=short_name,
        legal_name=short_name + "股份有限公司",
        province=province,
        industry=industry,
        manufacturing=reference.industry_manufacturing[industry],
        financial=reference.industry_financial[industry],
        heavy_polluting=reference.industry_heavy_polluting[industry],
        high_tech=reference.industry_high_tech[industry],
        east=regions == "east",
        central=regions == "central",
        anchor=anchor,
        incorporation_date=incorporation_date,
        listing_date=listing_date,
        delisting_date=delisting_date,
    )
