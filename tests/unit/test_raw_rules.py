"""The patterns, dates and tolerances the raw suites rely on, on hand-made true and false cases (no GX needed)."""

from __future__ import annotations

import re
from datetime import date

import pytest
from pydantic import ValidationError

from dagster_project.defs.quality.checks import QualityCheckConfig
from expectations.config import DEFAULT_TOLERANCES
from expectations.raw_common import MOJIBAKE_PATTERN, STOCK_CODE_PATTERN, vintage_reference_date
from expectations.raw_rules import APPLICATION_NUMBER_PATTERN, IPC_PATTERN

CLEAN_TEXT = (
    "一种基于深度学习的锂电池极片缺陷检测方法及系统",
    "隆汇电气股份有限公司;清华大学",
    "本发明公开了一种（CNN）模型——用于图像识别，准确率≥99%。",
    "5G通信模块 Wi-Fi 6E",
)


@pytest.mark.parametrize("text", CLEAN_TEXT)
def test_well_formed_chinese_text_is_not_mojibake(text):
    assert not re.search(MOJIBAKE_PATTERN, text)


@pytest.mark.parametrize("text", CLEAN_TEXT[:3])
@pytest.mark.parametrize(
    "garble",
    [
        lambda s: s.encode("utf-8").decode("latin-1"),  # UTF-8 read as ISO-8859-1
        lambda s: s.encode("utf-8").decode("cp1252", errors="replace"),  # UTF-8 read as Windows-1252
        lambda s: s.encode("gb18030").decode("utf-8", errors="replace"),  # GBK bytes read as UTF-8
    ],
    ids=["latin1", "cp1252", "gbk_as_utf8"],
)
def test_the_usual_decoding_accidents_are_mojibake(text, garble):
    assert re.search(MOJIBAKE_PATTERN, garble(text))


@pytest.mark.parametrize(
    "code", ["000001", "002594", "003816", "300750", "301236", "600519", "605499", "688981", "830799", "430047"]
)
def test_a_share_codes_are_well_formed(code):
    assert re.fullmatch(STOCK_CODE_PATTERN, code)


@pytest.mark.parametrize("code", ["1", "651", "00651", "0006510", "200002", "900901", "510300", "60051A", " 600519"])
def test_malformed_or_non_a_share_codes_are_not(code):
    assert not re.fullmatch(STOCK_CODE_PATTERN, code)


def test_patent_number_and_ipc_patterns():
    assert re.fullmatch(APPLICATION_NUMBER_PATTERN, "CN201310001000.9")
    assert re.fullmatch(APPLICATION_NUMBER_PATTERN, "CN202080012345.X")
    assert not re.fullmatch(APPLICATION_NUMBER_PATTERN, "CN20131000100.9")  # serial one digit short
    assert not re.fullmatch(APPLICATION_NUMBER_PATTERN, "201310001000.9")
    assert re.fullmatch(IPC_PATTERN, "G06N 3/08") and re.fullmatch(IPC_PATTERN, "H01M 10/0525")
    assert not re.fullmatch(IPC_PATTERN, "G06N3/08") and not re.fullmatch(IPC_PATTERN, "g06n 3/08")


def test_vintage_reference_date():
    loaded = date(2024, 7, 3)
    assert vintage_reference_date("2024-06", loaded) == date(2024, 6, 30)
    assert vintage_reference_date("2024-02-fix", loaded) == date(2024, 2, 29)  # leap year
    assert vintage_reference_date("2024-13", loaded) == loaded  # not a month: fall back to the load date
    assert vintage_reference_date("csmar-refresh", loaded) == loaded


def test_tolerances_are_overridable_by_name_in_run_config():
    overridden = QualityCheckConfig(tolerances={"max_revised_share": 0.2}).resolved()
    assert overridden.max_revised_share == 0.2
    assert overridden.identity_relative_tolerance == DEFAULT_TOLERANCES.identity_relative_tolerance
    with pytest.raises(ValidationError, match="max_revisd_share"):  # a typo must not be ignored silently
        QualityCheckConfig(tolerances={"max_revisd_share": 0.2}).resolved()
