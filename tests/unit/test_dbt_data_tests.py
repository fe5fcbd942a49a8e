"""Every dbt model declares its key, and every model that names firms or patents ties them to the staged ones.

Read from the project's YAML only (no dbt run): the key tests themselves run in every
``dbt build`` (tests/unit/test_dbt_models.py builds the project and counts them).
"""

from __future__ import annotations

from pathlib import Path

import yaml

from nqp_core import settings

MODELS_DIR = settings.DBT_PROJECT_DIR / "models"
# The tests that state a key: the project's one-scan primary_key and unique_combination, dbt's unique.
KEY_TESTS = ("primary_key", "unique_combination", "unique")


def _declared_models() -> dict[str, dict]:
    return {model["name"]: model for path in MODELS_DIR.rglob("*.yml")
            for model in (yaml.safe_load(path.read_text(encoding="utf-8")).get("models") or [])}


def _test_names(tests: list) -> list[str]:
    return [test if isinstance(test, str) else next(iter(test)) for test in tests or []]


def _column_tests(model: dict) -> dict[str, list[str]]:
    return {column["name"]: _test_names(column.get("data_tests")) for column in model.get("columns", [])}


def test_every_model_is_declared_in_yaml():
    sql_models = {path.stem for path in Path(MODELS_DIR).rglob("*.sql")}
    assert sql_models == set(_declared_models())


def test_every_model_has_a_key_test():
    missing = []
    for name, model in _declared_models().items():
        tests = _test_names(model.get("data_tests")) + [t for ts in _column_tests(model).values() for t in ts]
        if not any(test in KEY_TESTS for test in tests):
            missing.append(name)
    assert not missing, f"models without a key test: {missing}"


def test_stock_codes_and_application_numbers_point_to_the_staged_firms_and_patents():
    """Outside staging's own keys, every stock_code and application_number column has a relationships test."""
    own_keys = {"stg_wind__firms": "stock_code", "stg_cnipa__patents": "application_number"}
    missing = []
    for name, model in _declared_models().items():
        for column, tests in _column_tests(model).items():
            if column in ("stock_code", "application_number") and own_keys.get(name) != column \
                    and "relationships" not in tests:
                missing.append(f"{name}.{column}")
    # Models whose YAML does not list these columns at all are caught here too.
    for name in ("dim_firms", "int_firm_years_patent_counted", "int_firm_years_ratios_computed",
                 "int_firm_years_filtered", "int_patent_applicants_matched", "int_patents_classified"):
        assert {"stock_code", "application_number"} & set(_column_tests(_declared_models()[name])), name
    assert not missing, f"columns without a relationships test: {missing}"
