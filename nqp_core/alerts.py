"""Alerts: what a failed validation tells the people who own the data.

One call, :func:`raise_alerts`, delivers every alert four ways, so that nobody has to
watch the Dagster UI to learn that a vintage was rejected:

1. a row in ``ops.alerts`` of the ops store (``data/ops.duckdb``), which survives the
   rejected vintage because it is not part of the published warehouse;
2. a readable Markdown file under ``<reports_dir>/alerts/`` (one per asset and call);
3. an ERROR event in the Dagster run log (or any ``logging``-style logger);
4. a JSON POST to the URL in ``NQP_ALERT_WEBHOOK_URL`` when that variable is set (off by
   default). Delivery is best effort: a dead endpoint is logged, never raised, because a
   broken chat hook must not hide the validation failure it was reporting.

This module imports no Dagster symbol: ingest, the asset checks, the publish step and
the tests call it alike. The format is documented in ``docs/data_quality.md``.
"""

from __future__ import annotations

import json
import logging
import os
import re
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol

from nqp_core import settings
from nqp_core.data_dictionary import ensure_comments

WEBHOOK_ENV = "NQP_ALERT_WEBHOOK_URL"
WEBHOOK_TIMEOUT_S = 5.0  # a run must not hang on a slow hook; the alert is already stored
SEVERITIES = ("error", "warning")
EXAMPLES_KEPT = 5  # enough to recognise the pattern, small enough for a chat message

_ALERTS_DDL = """
create table if not exists ops.alerts (
    alert_id varchar primary key,
    vintage_id varchar not null,
    asset varchar not null,
    rule varchar not null,
    severity varchar not null,
    failing_count bigint not null,
    message varchar not null,
    examples json not null,
    file varchar,
    column_name varchar,
    run_id varchar,
    raised_at timestamp not null
)
"""

ALERTS_DESCRIPTIONS = {
    "ops.alerts": (
        "One row per alert raised by a run: a failed validation rule of a vintage, with examples.",
        {
            "alert_id": "Random UUID of the alert.",
            "vintage_id": "Vintage the failing data belong to.",
            "asset": "Dagster asset (or check) that found the failure.",
            "rule": "Validation rule that failed (expectation, dbt test or contract rule).",
            "severity": "error (the vintage is rejected) or warning (published with the alert).",
            "failing_count": "Number of failing rows or values.",
            "message": "What failed, in words.",
            "examples": "JSON list of up to five failing rows or values.",
            "file": "Raw file of the vintage the failure is in; NULL if not file-specific.",
            "column_name": "Column the rule checks; NULL if not column-specific.",
            "run_id": "Dagster run that raised the alert; NULL outside a run.",
            "raised_at": "When the alert was raised.",
        },
    ),
}

_fallback_log = logging.getLogger(__name__)


class _Logger(Protocol):
    def error(self, msg: str) -> Any: ...

    def warning(self, msg: str) -> Any: ...


class _OpsConnection(Protocol):
    def connection(self): ...


@dataclass(frozen=True)
class Alert:
    """One broken rule in one vintage: who (asset, file, column), what (rule), how much, examples."""

    vintage_id: str
    asset: str  # asset key as a path, 'raw/financials', or 'ingest' for a refused vintage
    rule: str
    severity: str  # 'error' blocks publication, 'warning' does not
    failing_count: int
    message: str  # a complete sentence naming file or table, column, rule, count and examples
    examples: tuple[Mapping[str, Any], ...] = field(default=())
    file: str | None = None
    column: str | None = None

    def __post_init__(self) -> None:
        if self.severity not in SEVERITIES:
            raise ValueError(f"Alert.severity must be one of {', '.join(SEVERITIES)}, got {self.severity!r}")
        object.__setattr__(self, "examples", tuple(dict(e) for e in self.examples)[:EXAMPLES_KEPT])
        object.__setattr__(self, "failing_count", int(self.failing_count))

    def as_json(self) -> dict[str, Any]:
        return json.loads(json.dumps(asdict(self), default=_json_scalar))

    def log_line(self) -> str:
        where = ", ".join(f"{k} {v}" for k, v in (("file", self.file), ("column", self.column)) if v)
        return (
            f"ALERT [{self.severity}] vintage {self.vintage_id} / {self.asset} / rule {self.rule}"
            f"{' (' + where + ')' if where else ''}: {self.failing_count} failing: {self.message}"
        )


def _json_scalar(value: Any) -> Any:
    """numpy scalars, timestamps and dates as plain JSON values."""
    if hasattr(value, "item") and callable(value.item):
        try:
            return value.item()
        except (ValueError, TypeError):
            pass
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return str(value)


def raise_alerts(
    alerts: Sequence[Alert], *, ops: _OpsConnection, log: _Logger | None = None, run_id: str | None = None
) -> list[Path]:
    """Store, write, log and (optionally) post ``alerts``; return the Markdown files written.

    ``ops`` is the :class:`~nqp_core.ops_store.OpsStore` resource (anything whose
    ``connection()`` yields a DuckDB connection); ``log`` is ``context.log`` in Dagster.
    """
    alerts = list(alerts)
    if not alerts:
        return []
    log = log or _fallback_log
    raised_at = datetime.now(UTC).replace(tzinfo=None)
    _store(alerts, ops, run_id, raised_at)
    paths = [_write_markdown(group, run_id, raised_at) for group in _by_vintage_and_asset(alerts)]
    for alert in alerts:
        log.error(alert.log_line())
    url = os.environ.get(WEBHOOK_ENV, "").strip()
    if url:
        _post(url, alerts, paths, run_id, raised_at, log)
    return paths


def _store(alerts: list[Alert], ops: _OpsConnection, run_id: str | None, raised_at: datetime) -> None:
    with ops.connection() as conn:
        conn.execute(_ALERTS_DDL)
        ensure_comments(conn, ALERTS_DESCRIPTIONS)
        conn.executemany(
            "insert into ops.alerts values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [
                [
                    str(uuid.uuid4()), a.vintage_id, a.asset, a.rule, a.severity, a.failing_count, a.message,
                    json.dumps(a.as_json()["examples"], ensure_ascii=False), a.file, a.column, run_id, raised_at,
                ]
                for a in alerts
            ],
        )


def _by_vintage_and_asset(alerts: list[Alert]) -> Iterable[list[Alert]]:
    groups: dict[tuple[str, str], list[Alert]] = {}
    for alert in alerts:
        groups.setdefault((alert.vintage_id, alert.asset), []).append(alert)
    return groups.values()


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "_", text).strip("_") or "alert"


def _markdown_cell(value: Any) -> str:
    return str(_json_scalar(value) if not isinstance(value, str) else value).replace("|", "\\|").replace("\n", " ")


def _write_markdown(alerts: list[Alert], run_id: str | None, raised_at: datetime) -> Path:
    first = alerts[0]
    folder = settings.reports_dir() / "alerts"
    folder.mkdir(parents=True, exist_ok=True)
    stamp = raised_at.strftime("%Y%m%dT%H%M%S%fZ")
    path = folder / f"{stamp}_{_slug(first.vintage_id)}_{_slug(first.asset)}.md"
    lines = [
        f"# Alert: vintage `{first.vintage_id}`, `{first.asset}`",
        "",
        f"Raised {raised_at.isoformat(timespec='seconds')} UTC"
        + (f" by Dagster run `{run_id}`" if run_id else "")
        + f"; {len(alerts)} rule(s) broken. Stored in `ops.alerts` (see docs/data_quality.md).",
        "",
        "| Severity | Rule | File | Column | Failing |",
        "|---|---|---|---|---|",
        *(
            f"| {a.severity} | `{a.rule}` | {a.file or '-'} | {a.column or '-'} | {a.failing_count} |"
            for a in alerts
        ),
    ]
    for alert in alerts:
        lines += ["", f"## `{alert.rule}`" + (f" on `{alert.column}`" if alert.column else ""), "", alert.message]
        if alert.examples:
            columns = list(dict.fromkeys(k for example in alert.examples for k in example))
            lines += [
                "",
                "First failing rows:",
                "",
                "| " + " | ".join(columns) + " |",
                "|" + "---|" * len(columns),
                *("| " + " | ".join(_markdown_cell(e.get(c, "")) for c in columns) + " |" for e in alert.examples),
            ]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _post(
    url: str, alerts: list[Alert], paths: list[Path], run_id: str | None, raised_at: datetime, log: _Logger
) -> None:
    payload = {
        "source": "nqp-warehouse",
        "raised_at": raised_at.isoformat(timespec="seconds") + "Z",
        "run_id": run_id,
        "text": "\n".join(a.log_line() for a in alerts),
        "alerts": [a.as_json() for a in alerts],
        "reports": [str(p) for p in paths],
    }
    request = urllib.request.Request(
        url,
        data=json.dumps(payload, ensure_ascii=False).encode("utf-8"),
        headers={"Content-Type": "application/json; charset=utf-8"},
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=WEBHOOK_TIMEOUT_S) as response:
            response.read()
    except (urllib.error.URLError, OSError, ValueError) as error:
        log.warning(f"alert webhook {url} not reached ({error.__class__.__name__}: {error}); alerts are stored in ops.alerts")
