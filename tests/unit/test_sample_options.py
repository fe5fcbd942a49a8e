"""The off-by-default sample options reach dbt as vars only when switched on.

What the options do to the data is checked by the dbt unit tests
``sa_index_hadlock_pierce_caps_bound_size_and_age`` and
``st_exclusion_by_firm_drops_every_year_of_an_ever_st_firm``
(dbt_models/models/intermediate/firm_years/_firm_years__models.yml), which the real dbt
build of tests/unit/test_dbt_models.py runs.
"""

from __future__ import annotations

import pytest
import yaml
from pydantic import ValidationError

from nqp_core import settings
from dagster_project.defs.transform.assets import SampleOptionsConfig, dbt_vars


def test_default_options_pass_only_the_vintage():
    assert dbt_vars("2024-06", SampleOptionsConfig()) == {"vintage_id": "2024-06"}
    assert dbt_vars("2024-06", None) == {"vintage_id": "2024-06"}


def test_switched_on_options_become_dbt_vars():
    options = SampleOptionsConfig(sa_hadlock_pierce_caps=True, st_exclusion="firm")
    assert dbt_vars("2024-06", options) == {
        "vintage_id": "2024-06", "sa_hadlock_pierce_caps": True, "st_exclusion": "firm",
    }
    with pytest.raises(ValidationError):
        SampleOptionsConfig(st_exclusion="ever")


def test_dbt_defaults_are_the_papers_choices():
    project = yaml.safe_load((settings.DBT_PROJECT_DIR / "dbt_project.yml").read_text(encoding="utf-8"))
    defaults = project["vars"]
    assert defaults["sa_hadlock_pierce_caps"] is False
    assert defaults["st_exclusion"] == "firm_year"
    assert defaults["sa_age_cap_years"] == 37
