"""Reports of the firm-level evidence: Tables 5-10 rendered from the warehouse, and Figure 1."""

from dagster import AssetExecutionContext, AssetKey, MaterializeResult, MetadataValue, asset

from dagster_project.defs.common.resources import VintageSelection, WorkingWarehouse
from analysis.matching import plot_densities, score_densities_of
from analysis.tables import SYNTHETIC_BANNER, SYNTHETIC_EXPLANATION, write_table
from nqp_core import settings
from dagster_project.defs.reporting.assets import coefficient_report, table_provenance, written_report
from dagster_project.defs.reporting.paper_tables import build_table

FIGURE01_PNG = "figure01.png"
FIGURE01_TITLE = "Figure 1. Propensity score densities before and after matching"


table05_report = coefficient_report("table05", "table05_robustness")
table06_report = coefficient_report("table06", "table06_iv")
table08_report = coefficient_report("table08", "table08_mechanisms")
table09_report = coefficient_report("table09", "table09_heterogeneity")
table10_report = coefficient_report("table10", "table10_group_differences")

PSM = AssetKey(["results", "table07_psm"])


@asset(key=["reports", "table07"], deps=[PSM], group_name="reporting", kinds={"python"})
def table07_report(context: AssetExecutionContext, warehouse: WorkingWarehouse, vintage: VintageSelection):
    """Table 7 rendered from results.balance (and the matching counts in results.model_stats)."""
    with vintage.session(warehouse) as (conn, provenance):
        table = build_table("table07", conn, provenance.vintage_id, table_provenance(provenance))
    return written_report(write_table(table, settings.reports_dir()))


@asset(key=["reports", "figure01"], deps=[PSM], group_name="reporting", kinds={"python"})
def figure01_report(context: AssetExecutionContext, warehouse: WorkingWarehouse, vintage: VintageSelection):
    """Figure 1: kernel densities of the propensity score by group, before and after matching
    (PNG under reports/figures/, with a Markdown page carrying the provenance)."""
    with vintage.session(warehouse) as (conn, provenance):
        matched = conn.execute(
            "select treated, propensity_score, match_weight from analysis.psm_matched where vintage_id = ? "
            "order by stock_code, fiscal_year",
            [provenance.vintage_id],
        ).df()
    header = table_provenance(provenance)
    caption = header.line()
    if header.is_synthetic:
        caption = f"{SYNTHETIC_BANNER}: {SYNTHETIC_EXPLANATION}\n{caption}"
    densities = score_densities_of(
        matched["propensity_score"].to_numpy(), matched["treated"].to_numpy(), matched["match_weight"].to_numpy()
    )
    figures = settings.reports_dir() / "figures"
    figures.mkdir(parents=True, exist_ok=True)
    png = plot_densities(densities, figures / FIGURE01_PNG, title=FIGURE01_TITLE, caption=caption,
                         also_as=("pdf", "svg"))
    page = figures / "figure01.md"
    lines = []
    if header.is_synthetic:
        lines += [f"> **{SYNTHETIC_BANNER}**: {SYNTHETIC_EXPLANATION}", ""]
    lines += [
        header.line(), "", f"**{FIGURE01_TITLE}**", "", f"![{FIGURE01_TITLE}]({FIGURE01_PNG})", "",
        "Gaussian kernel densities (Scott's bandwidth) of the estimated propensity score of AI_Did; after "
        "matching, the treated firm-years on support and the controls used (weighted by their psmatch2 weights).",
    ]
    page.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return MaterializeResult(
        metadata={
            "files": MetadataValue.json([str(png), str(png.with_suffix(".pdf")), str(png.with_suffix(".svg")),
                                         str(page)]),
            "firm_years": len(matched),
            "preview": MetadataValue.md(page.read_text(encoding="utf-8")),
        }
    )


FIRM_LEVEL_REPORTS = [
    table05_report,
    table06_report,
    table07_report,
    table08_report,
    table09_report,
    table10_report,
    figure01_report,
]
