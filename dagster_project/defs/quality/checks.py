"""Great Expectations suites as blocking asset checks; a failure stops everything downstream and raises alerts.

One check per suite, on the asset it judges: ``gx_raw_<table>`` on each ``raw/<table>``
(run right after ingest, so a bad vintage never reaches dbt) and ``gx_fct_firm_years``
on ``marts/fct_firm_years``. Each validates only the run's vintage. GX is imported once
per process (``expectations.runner`` caches the context), so the first check pays the
import and the others do not. Failed expectations go to the check metadata (rule,
columns, counts, example rows) and, through :func:`~nqp_core.alerts.raise_alerts`,
to ``ops.alerts``, ``reports/alerts/``, the run log and the webhook.

Tolerances (``expectations/config.py``) can be overridden per run by giving a check the
config ``{"tolerances": {"max_revised_share": 0.2}}`` (launchpad or run config).
"""

import dataclasses
import time

from dagster import (
    AssetCheckExecutionContext,
    AssetCheckResult,
    AssetCheckSeverity,
    AssetKey,
    Config,
    MetadataValue,
    asset_check,
)
from pydantic import Field

from dagster_project.defs.common.resources import OpsResource, VintageSelection, WorkingWarehouse
from nqp_core import vintages
from nqp_core.ops_store import OpsStore
from nqp_core.warehouse import table_exists
from nqp_core.alerts import Alert, raise_alerts
from nqp_core.contract import RAW_TABLES
from expectations.config import QualityTolerances
from expectations.marts import (
    DERIVED_KEY_COLUMNS,
    KEY_COLUMNS,
    MartFacts,
    collect_mart_facts,
    derived_measure_frame,
    derived_measure_suite,
    derived_measures,
    fct_firm_years_suite,
)
from expectations.raw import validate_raw_table
from expectations.raw_common import collect_facts
from expectations.runner import SuiteOutcome, validate_frame

FIRM_YEARS = AssetKey(["marts", "fct_firm_years"])


class QualityCheckConfig(Config):
    tolerances: dict[str, float] = Field(
        default_factory=dict, description="overrides of expectations.config.QualityTolerances fields, by name"
    )
    acknowledged_warnings: dict[str, list[str]] = Field(
        default_factory=dict,
        description=(
            "vintage id -> rules (an expectation's meta rule, else its GX type) whose warnings were reviewed "
            "for that vintage; they are still raised, marked acknowledged, and recorded in ops.alerts"
        ),
    )

    def resolved(self) -> QualityTolerances:
        return QualityTolerances(**self.tolerances)


def outcome_alerts(
    outcome: SuiteOutcome, vintage_id: str, asset: AssetKey, acknowledged: tuple[str, ...] = ()
) -> list[Alert]:
    """One alert per failed expectation of a suite; ``acknowledged`` warnings say so in their message."""
    files = ", ".join(outcome.source_files) or None

    def message(failure) -> str:
        text = failure.message(outcome.table)
        if failure.severity != "warning":
            return text
        if failure.check in acknowledged:
            return f"WARNING (acknowledged for vintage {vintage_id}): {text}"
        return (f"WARNING (published; acknowledge it in data/acknowledged_warnings.yaml with "
                f"'{vintage_id}': [{failure.check}]): {text}")

    return [
        Alert(
            vintage_id=vintage_id,
            asset="/".join(asset.path),
            rule=failure.rule,
            severity=failure.severity,
            failing_count=failure.unexpected_count,
            message=message(failure),
            examples=failure.examples,
            file=files,
            column=", ".join(failure.columns) or None,
        )
        for failure in outcome.failures
    ]


def _result(
    context: AssetCheckExecutionContext, ops: OpsStore, outcome: SuiteOutcome, vintage_id: str, asset: AssetKey,
    started: float, extra: dict | None = None, acknowledged: tuple[str, ...] = (),
) -> AssetCheckResult:
    alerts = outcome_alerts(outcome, vintage_id, asset, acknowledged)
    alert_files = raise_alerts(alerts, ops=ops, log=context.log, run_id=context.op_execution_context.run_id)
    # Warnings only: the check fails with severity WARN, which does not block what follows.
    return AssetCheckResult(
        passed=not outcome.failures,
        severity=AssetCheckSeverity.ERROR if not outcome.success else AssetCheckSeverity.WARN,
        metadata={
            "vintage_id": vintage_id,
            "table": outcome.table,
            "rows": outcome.rows,
            "expectations_evaluated": outcome.evaluated,
            "expectations_failed": len(outcome.failures),
            "warnings": sum(f.severity == "warning" for f in outcome.failures),
            "failing_rows": sum(f.unexpected_count for f in outcome.failures),
            "failures": MetadataValue.md("\n".join(f"- {a.message}" for a in alerts) or "none"),
            "failed_expectations": MetadataValue.json([
                {key: a.as_json()[key] for key in ("rule", "column", "failing_count", "examples")} for a in alerts
            ]),
            "alerts": MetadataValue.json([str(p) for p in alert_files]),
            "seconds": round(time.perf_counter() - started, 2),
            **(extra or {}),
        },
    )


def _raw_check(table_name: str):
    asset = AssetKey(["raw", table_name])

    @asset_check(
        asset=asset,
        name=f"gx_raw_{table_name}",
        blocking=True,
        description=(f"Great Expectations suite of raw.{table_name}, generated from the contract (expectations/raw.py), "
                     f"on the run's vintage"),
    )
    def check(
        context: AssetCheckExecutionContext, config: QualityCheckConfig, warehouse: WorkingWarehouse,
        vintage: VintageSelection, ops: OpsResource,
    ) -> AssetCheckResult:
        started = time.perf_counter()
        with warehouse.get_connection() as conn:
            vintage_id = vintage.resolve(conn)
            facts = collect_facts(conn, vintage_id)
            outcome = validate_raw_table(conn, table_name, facts, config.resolved())
        note = (
            f"compared with previous vintage {facts.previous_vintage_id}" if facts.previous_vintage_id
            else "first vintage: no row-count or revision comparison"
        )
        return _result(context, ops, outcome, vintage_id, asset, started, {"previous_vintage": note},
                       tuple(config.acknowledged_warnings.get(vintage_id, ())))

    return check


RAW_CHECKS = [_raw_check(table.name) for table in RAW_TABLES]


def _published_mart_rows(published, previous: str | None) -> tuple[str | None, int | None]:
    """(vintage, rows) of the ``previous`` vintage's analysis sample in the published warehouse
    (``published``: a read-only connection to it, None when nothing is published).

    Under write-audit-publish the run builds the working copy, and the published file still holds
    the last published sample: that is the sample the new one is compared with, when it is of
    the same kind (``nqp_core.vintages.previous_vintage``: synthetic and real are never compared).
    """
    if previous is None or published is None or not table_exists(published, "marts.fct_firm_years"):
        return None, None
    row = published.execute(
        "select vintage_id, count(*) from marts.fct_firm_years where vintage_id = ? group by 1", [previous]
    ).fetchone()
    return (row[0], int(row[1])) if row else (None, None)


@asset_check(
    asset=FIRM_YEARS,
    name="gx_fct_firm_years",
    blocking=True,
    description=(
        "Great Expectations suite expectations/marts.py: keys, nulls, codes, plausible ranges, winsorized "
        "variables inside their pooled 1st-99th percentile bounds, row count against the last published sample"
    ),
)
def gx_fct_firm_years(
    context: AssetCheckExecutionContext, config: QualityCheckConfig, warehouse: WorkingWarehouse,
    vintage: VintageSelection, ops: OpsResource,
) -> AssetCheckResult:
    started = time.perf_counter()
    with warehouse.get_connection() as conn, warehouse.read_published() as published:
        vintage_id = vintage.resolve(conn)
        previous_vintage, previous_rows = _published_mart_rows(published, vintages.previous_vintage(conn, vintage_id))
        facts: MartFacts = collect_mart_facts(conn, vintage_id, previous_vintage, previous_rows)
        frame = conn.execute("select * from marts.fct_firm_years where vintage_id = ?", [vintage_id]).df()
        current_measures = derived_measures(conn, vintage_id) if previous_vintage else None
        previous_measures = derived_measures(published, previous_vintage) if previous_vintage else None
    tolerances = config.resolved()
    outcome = validate_frame(
        frame, "marts.fct_firm_years", lambda: fct_firm_years_suite(facts, tolerances), KEY_COLUMNS
    )
    if previous_vintage:
        drifted = validate_frame(
            derived_measure_frame(previous_measures, current_measures, previous_vintage, tolerances),
            "marts.fct_firm_years derived measures", lambda: derived_measure_suite(previous_vintage, tolerances),
            DERIVED_KEY_COLUMNS,
        )
        outcome = dataclasses.replace(outcome, evaluated=outcome.evaluated + drifted.evaluated,
                                      failures=outcome.failures + drifted.failures)
    note = f"compared with published vintage {previous_vintage}" if previous_vintage else "no earlier publication"
    return _result(context, ops, outcome, vintage_id, FIRM_YEARS, started, {"previous_vintage": note},
                   tuple(config.acknowledged_warnings.get(vintage_id, ())))


QUALITY_CHECKS = [*RAW_CHECKS, gx_fct_firm_years]
