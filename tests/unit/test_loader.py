"""The ingest loader enforces the raw data contract and is append-only and idempotent."""

from __future__ import annotations

import shutil

import duckdb
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from nqp_core.loader import VintageContractError, load_vintage
from nqp_core.contract import RAW_TABLES, READY_MARKER
from synthetic import generate_vintage

TINY_SCALE = 0.02


@pytest.fixture(scope="module")
def pristine_vintage(tmp_path_factory):
    return generate_vintage(tmp_path_factory.mktemp("landing"), vintage_id="2024-06", seed=3, scale=TINY_SCALE)


@pytest.fixture
def vintage(pristine_vintage, tmp_path):
    copy = tmp_path / "landing" / pristine_vintage.name
    shutil.copytree(pristine_vintage, copy)
    return copy


@pytest.fixture
def conn():
    with duckdb.connect() as connection:
        yield connection


def _rewrite(path, frame):
    pq.write_table(pa.Table.from_pandas(frame, preserve_index=False), path)


def test_loads_every_table_with_lineage(vintage, conn):
    report = load_vintage(conn, vintage)
    assert report.status == "loaded" and report.is_synthetic
    for table in RAW_TABLES:
        rows = pq.read_metadata(vintage / f"{table.name}.parquet").num_rows
        assert report.row_counts[table.name] == rows
        first = conn.execute(
            f"select vintage_id, source_file, min(source_row), max(source_row) from raw.{table.name} group by 1, 2"
        ).fetchall()
        assert first == [("2024-06", f"2024-06/{table.name}.parquet", 1, rows)]


def test_reload_is_a_no_op_and_changed_content_is_refused(vintage, conn):
    load_vintage(conn, vintage)
    assert load_vintage(conn, vintage).status == "already_loaded"
    assert conn.execute("select count(*) from raw.vintages").fetchone()[0] == 1
    firms = pd.read_parquet(vintage / "firms.parquet")
    firms.loc[0, "firm_name"] = firms.loc[0, "firm_name"] + "X"
    _rewrite(vintage / "firms.parquet", firms)
    with pytest.raises(VintageContractError, match="immutable_vintage"):
        load_vintage(conn, vintage)


def test_missing_file_is_named(vintage, conn):
    (vintage / "governance.parquet").unlink()
    with pytest.raises(VintageContractError, match=r"governance\.parquet: missing file"):
        load_vintage(conn, vintage)
    assert conn.execute("select count(*) from raw.firms").fetchone()[0] == 0


def test_missing_and_extra_columns_are_named(vintage, conn):
    path = vintage / "financials.parquet"
    frame = pd.read_parquet(path)
    _rewrite(path, frame.drop(columns=["rd_lease"]))
    with pytest.raises(VintageContractError, match=r"financials\.parquet: missing column\(s\) rd_lease"):
        load_vintage(conn, vintage)
    _rewrite(path, frame.assign(note="x"))
    with pytest.raises(VintageContractError, match=r"unexpected column\(s\) note"):
        load_vintage(conn, vintage)


def test_wrong_type_is_named(vintage, conn):
    path = vintage / "firms.parquet"
    frame = pd.read_parquet(path)
    _rewrite(path, frame.assign(stock_code=frame["stock_code"].astype(int)))
    with pytest.raises(VintageContractError, match=r"firms\.parquet: column stock_code has type BIGINT, expected VARCHAR"):
        load_vintage(conn, vintage)


def test_csv_value_errors_name_file_row_column_and_rule(vintage, conn):
    frame = pd.read_parquet(vintage / "governance.parquet")
    frame.loc[4, "board_size"] = None
    (vintage / "governance.parquet").unlink()
    frame.astype({"board_size": "object"}).fillna({"board_size": "nine"}).to_csv(vintage / "governance.csv", index=False)
    with pytest.raises(VintageContractError) as error:
        load_vintage(conn, vintage)
    message = str(error.value)
    assert "governance.csv" in message and "board_size" in message and "column_type" in message
    assert "row 5: 'nine'" in message


def test_required_null_is_refused(vintage, conn):
    path = vintage / "patents.parquet"
    frame = pd.read_parquet(path)
    frame.loc[2, "title"] = None
    _rewrite(path, frame)
    with pytest.raises(VintageContractError, match=r"patents\.parquet: column title: 1 row\(s\) break rule not_null \(required value is empty\); first: row 3"):
        load_vintage(conn, vintage)


def test_csv_vintage_loads_like_parquet(vintage, conn, tmp_path):
    csv_dir = tmp_path / "csv" / "2024-07"
    csv_dir.mkdir(parents=True)
    for table in RAW_TABLES:
        pd.read_parquet(vintage / f"{table.name}.parquet", dtype_backend="numpy_nullable").to_csv(csv_dir / f"{table.name}.csv", index=False)
    (csv_dir / READY_MARKER).touch()
    load_vintage(conn, vintage)
    load_vintage(conn, csv_dir)
    for table in RAW_TABLES:
        columns = ", ".join(table.column_names)
        differing = conn.execute(
            f"select count(*) from ((select {columns} from raw.{table.name} where vintage_id = '2024-06') "
            f"except all (select {columns} from raw.{table.name} where vintage_id = '2024-07'))"
        ).fetchone()[0]
        assert differing == 0, table.name


def test_incomplete_folder_is_refused(vintage, conn):
    (vintage / READY_MARKER).unlink()
    with pytest.raises(VintageContractError, match="_READY"):
        load_vintage(conn, vintage)
