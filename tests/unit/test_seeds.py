"""Integrity of the reference seeds in dbt_models/seeds (read with the csv module, as dbt would see the text)."""

from __future__ import annotations

import csv
import re
from collections import defaultdict

import pytest

from nqp_core.settings import SEEDS_DIR

REGIONS = {"east", "central", "west"}
# The NBS three-belt split used by the paper's Table 9 (11 east, 8 central, 12 west provinces).
EXPECTED_REGION_SIZES = {"east": 11, "central": 8, "west": 12}
BOOLEAN_TEXT = {"true", "false"}
# 'G06N' (whole subclass) or 'G06F 18/' (main group) or 'B25J 9/16' (subgroup stem).
IPC_PREFIX_PATTERN = re.compile(r"^[A-H]\d{2}[A-Z]( \d{1,4}/(\d{1,6})?)?$")
# Mainland China's land borders: 68 province pairs (counted from the national map).
EXPECTED_LAND_PAIRS = 68
HAINAN = "460000"
GUANGDONG = "440000"


def read_seed(name: str) -> list[dict[str, str]]:
    with open(SEEDS_DIR / f"{name}.csv", encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


@pytest.fixture(scope="module")
def provinces() -> list[dict[str, str]]:
    return read_seed("provinces")


@pytest.fixture(scope="module")
def adjacency() -> list[dict[str, str]]:
    return read_seed("province_adjacency")


@pytest.fixture(scope="module")
def industries() -> list[dict[str, str]]:
    return read_seed("csrc_industries")


def test_provinces_are_the_31_mainland_units(provinces):
    codes = [row["gb_code"] for row in provinces]
    assert len(codes) == 31
    assert len(set(codes)) == 31
    assert all(re.fullmatch(r"[1-6]\d0000", code) for code in codes)
    assert {row["region"] for row in provinces} <= REGIONS
    sizes = {region: sum(row["region"] == region for row in provinces) for region in REGIONS}
    assert sizes == EXPECTED_REGION_SIZES
    for row in provinces:
        # Mainland capitals lie between Haikou (20.0 N) and Harbin (45.8 N), Urumqi (87.6 E) and Shenyang (123.4 E).
        assert 18.0 < float(row["capital_lat"]) < 54.0
        assert 73.0 < float(row["capital_lon"]) < 135.0
        assert row["name_zh"] and row["name_en"]


def test_adjacency_pairs_are_ordered_unique_and_known(provinces, adjacency):
    known = {row["gb_code"] for row in provinces}
    pairs = [(row["gb_code_a"], row["gb_code_b"]) for row in adjacency]
    assert len(pairs) == len(set(pairs))
    for a, b in pairs:
        assert a in known and b in known
        assert a < b, f"pair {a}-{b} must be written with gb_code_a < gb_code_b"
    assert {row["kind"] for row in adjacency} == {"land", "hainan_link"}
    assert sum(row["kind"] == "land" for row in adjacency) == EXPECTED_LAND_PAIRS


def test_every_province_but_hainan_has_a_land_neighbour(provinces, adjacency):
    land_neighbours: dict[str, set[str]] = defaultdict(set)
    for row in adjacency:
        if row["kind"] == "land":
            land_neighbours[row["gb_code_a"]].add(row["gb_code_b"])
            land_neighbours[row["gb_code_b"]].add(row["gb_code_a"])
    for row in provinces:
        if row["gb_code"] != HAINAN:
            assert land_neighbours[row["gb_code"]], f"{row['name_en']} has no land neighbour"
    assert not land_neighbours[HAINAN]
    hainan_rows = [row for row in adjacency if HAINAN in (row["gb_code_a"], row["gb_code_b"])]
    assert [(r["gb_code_a"], r["gb_code_b"], r["kind"]) for r in hainan_rows] == [(GUANGDONG, HAINAN, "hainan_link")]


@pytest.mark.parametrize(
    ("province", "neighbours"),
    [
        ("130000", {"110000", "120000", "140000", "150000", "210000", "370000", "410000"}),  # Hebei
        ("310000", {"320000", "330000"}),  # Shanghai
        ("510000", {"500000", "520000", "530000", "540000", "610000", "620000", "630000"}),  # Sichuan
        ("650000", {"540000", "620000", "630000"}),  # Xinjiang
    ],
)
def test_known_neighbourhoods(adjacency, province, neighbours):
    found = {
        row["gb_code_b"] if row["gb_code_a"] == province else row["gb_code_a"]
        for row in adjacency
        if row["kind"] == "land" and province in (row["gb_code_a"], row["gb_code_b"])
    }
    assert found == neighbours


def test_industries_cover_manufacturing_and_flags_are_consistent(industries):
    codes = [row["industry_code"] for row in industries]
    assert len(codes) == len(set(codes))
    manufacturing = {row["industry_code"] for row in industries if row["is_manufacturing"] == "true"}
    assert manufacturing == {f"C{division}" for division in range(13, 44)}
    financial = {row["industry_code"] for row in industries if row["is_financial"] == "true"}
    assert financial == {"J66", "J67", "J68", "J69"}
    for row in industries:
        assert re.fullmatch(r"[A-S]\d{2}", row["industry_code"])
        assert row["sector_letter"] == row["industry_code"][0]
        for flag in ("is_manufacturing", "is_financial", "heavy_polluting", "high_tech"):
            assert row[flag] in BOOLEAN_TEXT, f"{row['industry_code']}.{flag} = {row[flag]!r}"
    # Non-manufacturing divisions the generator's dropped firms use must exist.
    assert {"A01", "B06", "D44", "I65", "K70"} <= set(codes)


def test_ai_keywords_are_unique_chinese_terms():
    rows = read_seed("ai_keywords")
    keywords = [row["keyword_zh"] for row in rows]
    assert 40 <= len(keywords) <= 70
    assert len(keywords) == len(set(keywords))
    assert all(re.fullmatch(r"[\u4e00-\u9fff]{2,8}", keyword) for keyword in keywords)
    assert all(row["gloss_en"] and row["source"] for row in rows)


@pytest.mark.parametrize("seed", ["ai_ipc_groups", "green_ipc_codes"])
def test_ipc_prefixes_are_well_formed(seed):
    rows = read_seed(seed)
    prefixes = [row["ipc_prefix"] for row in rows]
    assert len(prefixes) == len(set(prefixes))
    for prefix in prefixes:
        assert IPC_PREFIX_PATTERN.fullmatch(prefix), f"{seed}: malformed prefix {prefix!r}"
    assert all(row["source"] for row in rows)


def test_green_inventory_is_large_enough_and_disjoint_from_ai_groups():
    green = {row["ipc_prefix"] for row in read_seed("green_ipc_codes")}
    ai = {row["ipc_prefix"] for row in read_seed("ai_ipc_groups")}
    assert len(green) >= 40
    assert not any(g.startswith(a) or a.startswith(g) for g in green for a in ai)


def test_main_group_prefix_does_not_swallow_a_shorter_group():
    # 'G06F 18/' must not match 'G06F 1/' (the reason the trailing slash is required).
    ai = {row["ipc_prefix"] for row in read_seed("ai_ipc_groups")}
    assert "G06F 18/" in ai
    assert not any("G06F 1/16".startswith(prefix) for prefix in ai)
