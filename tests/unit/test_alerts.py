"""Alerts reach ops.alerts, a Markdown file, the log and a webhook; a dead webhook never raises."""

from __future__ import annotations

import json
import logging
import socket
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer

import numpy as np
import pandas as pd
import pytest

from nqp_core.ops_store import OpsStore
from nqp_core.alerts import WEBHOOK_ENV, Alert, raise_alerts


@pytest.fixture
def folders(tmp_path, monkeypatch):
    monkeypatch.setenv("NQP_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("NQP_REPORTS_DIR", str(tmp_path / "reports"))
    monkeypatch.delenv(WEBHOOK_ENV, raising=False)
    return tmp_path


def _alerts() -> list[Alert]:
    return [
        Alert(
            vintage_id="2024-09", asset="raw/financials", rule="accounting_identity", severity="error",
            failing_count=3,
            message="raw.financials (2024-09/financials.parquet): total_liabilities + total_equity != total_assets in 3 row(s)",
            examples=[{"stock_code": "600001", "fiscal_year": np.int64(2019), "total_assets": np.float64(1.5e9)}],
            file="2024-09/financials.parquet", column="total_assets",
        ),
        Alert(
            vintage_id="2024-09", asset="raw/financials", rule="expect_column_values_to_not_be_null",
            severity="error", failing_count=1, message="raw.financials: net_profit null in 1 row(s)",
            examples=[{"stock_code": "600002", "fiscal_year": 2020, "listing": pd.Timestamp("2010-01-04")}],
            column="net_profit",
        ),
    ]


class _Recorder(logging.Handler):
    def __init__(self):
        super().__init__()
        self.records: list[logging.LogRecord] = []

    def emit(self, record):
        self.records.append(record)


def _logger() -> tuple[logging.Logger, _Recorder]:
    logger = logging.getLogger(f"test_alerts.{id(object())}")
    recorder = _Recorder()
    logger.addHandler(recorder)
    logger.setLevel(logging.DEBUG)
    logger.propagate = False
    return logger, recorder


def test_alerts_are_stored_written_and_logged(folders):
    ops = OpsStore()
    logger, recorder = _logger()
    paths = raise_alerts(_alerts(), ops=ops, log=logger, run_id="run-1")

    with ops.reader() as conn:
        rows = conn.execute(
            "select vintage_id, asset, rule, severity, failing_count, examples, file, column_name, run_id "
            "from ops.alerts order by rule"
        ).fetchall()
    assert [r[2] for r in rows] == ["accounting_identity", "expect_column_values_to_not_be_null"]
    assert rows[0][:5] == ("2024-09", "raw/financials", "accounting_identity", "error", 3)
    assert json.loads(rows[0][5]) == [{"stock_code": "600001", "fiscal_year": 2019, "total_assets": 1.5e9}]
    assert json.loads(rows[1][5])[0]["listing"].startswith("2010-01-04")
    assert rows[0][6:] == ("2024-09/financials.parquet", "total_assets", "run-1")

    assert len(paths) == 1 and paths[0].parent == folders / "reports" / "alerts"
    text = paths[0].read_text(encoding="utf-8")
    assert "vintage `2024-09`" in text and "`accounting_identity`" in text and "| 600001 | 2019 |" in text

    errors = [r.getMessage() for r in recorder.records if r.levelno == logging.ERROR]
    assert len(errors) == 2 and "rule accounting_identity" in errors[0] and "3 failing" in errors[0]


def test_no_alerts_touch_nothing(folders):
    assert raise_alerts([], ops=OpsStore(), log=None) == []
    assert not (folders / "data" / "ops.duckdb").exists()


def test_severity_is_checked():
    with pytest.raises(ValueError, match="severity"):
        Alert("v", "raw/firms", "rule", "fatal", 1, "message")


class _Hook(BaseHTTPRequestHandler):
    received: list[dict] = []

    def do_POST(self):  # noqa: N802 (http.server's naming)
        body = self.rfile.read(int(self.headers["Content-Length"]))
        type(self).received.append({"content_type": self.headers["Content-Type"], "json": json.loads(body)})
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args):  # keep pytest output clean
        pass


def test_webhook_receives_the_alerts(folders, monkeypatch):
    server = HTTPServer(("127.0.0.1", 0), _Hook)
    _Hook.received = []
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        monkeypatch.setenv(WEBHOOK_ENV, f"http://127.0.0.1:{server.server_port}/hook")
        logger, recorder = _logger()
        raise_alerts(_alerts(), ops=OpsStore(), log=logger)
    finally:
        server.shutdown()
        server.server_close()
    assert len(_Hook.received) == 1
    posted = _Hook.received[0]
    assert posted["content_type"].startswith("application/json")
    assert [a["rule"] for a in posted["json"]["alerts"]] == ["accounting_identity", "expect_column_values_to_not_be_null"]
    assert posted["json"]["alerts"][0]["failing_count"] == 3 and "accounting_identity" in posted["json"]["text"]
    assert not [r for r in recorder.records if r.levelno == logging.WARNING]


def test_dead_webhook_is_logged_not_raised(folders, monkeypatch):
    with socket.socket() as probe:  # a port nobody listens on: bind, read the number, close
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    monkeypatch.setenv(WEBHOOK_ENV, f"http://127.0.0.1:{port}/hook")
    logger, recorder = _logger()
    paths = raise_alerts(_alerts(), ops=OpsStore(), log=logger)
    assert paths and paths[0].exists()
    warnings = [r.getMessage() for r in recorder.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1 and "not reached" in warnings[0]
    with OpsStore().reader() as conn:
        assert conn.execute("select count(*) from ops.alerts").fetchone()[0] == 2
