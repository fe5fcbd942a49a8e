"""export_relation: a path with a quote in it, and the .dta's data label says vintage, SYNTHETIC and code version."""

from __future__ import annotations

import duckdb
import pandas as pd
import pytest

from dagster_project.defs.exports.files import FORMATS, export_relation
from nqp_core.provenance import code_version


@pytest.fixture
def conn():
    with duckdb.connect() as connection:
        connection.execute("create schema marts")
        connection.execute("create table marts.panel as select * from (values "
                           "('600001', 2020, 0.5::double, '2024-06', true), ('600002', 2020, 0.7::double, '2024-06', true)) "
                           "as t(stock_code, fiscal_year, npro, vintage_id, is_synthetic)")
        connection.execute("comment on column marts.panel.npro is 'New quality productivity index'")
        yield connection


@pytest.mark.parametrize("fmt", FORMATS)
def test_a_quote_in_the_output_path_is_written_there(conn, tmp_path, fmt):
    path = export_relation(conn, "marts.panel", fmt, tmp_path / "o'brien's exports" / f"panel.{fmt}")
    assert path.exists() and path.parent.name == "o'brien's exports"
    read = {"csv": pd.read_csv, "parquet": pd.read_parquet, "dta": pd.read_stata}[fmt]
    assert read(path)["npro"].tolist() == [0.5, 0.7]


def test_the_stata_data_label_names_synthetic_vintage_and_code_version(conn, tmp_path):
    path = export_relation(conn, "marts.panel", "dta", tmp_path / "panel.dta")
    with pd.read_stata(path, iterator=True) as reader:
        label = reader.data_label
        assert reader.variable_labels()["npro"] == "New quality productivity index"
    assert label.startswith("SYNTHETIC | NQP marts.panel | vintage 2024-06 | code ")
    assert code_version()[:20] in label
