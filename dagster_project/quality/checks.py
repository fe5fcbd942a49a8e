"""Great Expectations suites as asset checks: a failure blocks everything downstream."""

from dagster import AssetCheckExecutionContext, AssetCheckResult, AssetCheckSeverity, AssetKey, MetadataValue, asset_check
from dagster_duckdb import DuckDBResource

from dagster_project.vintage import VintageSelection
from expectations.marts import KEY_COLUMNS, fct_firm_years_suite
from expectations.runner import validate_frame

FIRM_YEARS = AssetKey(["marts", "fct_firm_years"])


@asset_check(asset=FIRM_YEARS, name="gx_fct_firm_years", blocking=True,
             description="Great Expectations suite expectations/marts.py: keys, nulls, codes and plausible ranges")
def gx_fct_firm_years(context: AssetCheckExecutionContext, warehouse: DuckDBResource, vintage: VintageSelection):
    with warehouse.get_connection() as conn:
        vintage_id = vintage.resolve(conn)
        frame = conn.execute("select * from marts.fct_firm_years where vintage_id = ?", [vintage_id]).df()
    outcome = validate_frame(frame, "marts.fct_firm_years", fct_firm_years_suite, KEY_COLUMNS)
    messages = [failure.message("marts.fct_firm_years") for failure in outcome.failures]
    for message in messages:
        context.log.error(message)
    return AssetCheckResult(
        passed=outcome.success,
        severity=AssetCheckSeverity.ERROR,
        metadata={
            "vintage_id": vintage_id,
            "rows": outcome.rows,
            "expectations_evaluated": outcome.evaluated,
            "expectations_failed": len(outcome.failures),
            "failures": MetadataValue.md("\n".join(f"- {m}" for m in messages) or "none"),
        },
    )
