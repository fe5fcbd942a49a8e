"""How the firm-level tables are estimated: Table 3's descriptives, Tables 4-10 and the
Levinsohn-Petrin TFP that Table 5 (3) uses, plus Figure 1's plot.

Each ``estimate_*`` takes the frames its spec names, the spec's options (seeds, draws,
switches) and a progress factory, calls the estimators of ``analysis`` and returns tidy
rows (``paper.spec.Estimates``). Every random step draws from a ``numpy.random.Generator``
seeded from the options, and the seed is stored in ``results.model_stats`` beside the
numbers it produced. Specification choices: docs/firm_level_tables.md.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any, Mapping

import numpy as np
import pandas as pd

from analysis.descriptives import describe
from analysis.fixed_effects import fit_ols
from analysis.iv import fit_iv, group_mean, lagged
from analysis.matching import (
    MATCH_WEIGHT_COLUMN,
    average_treatment_effect_on_treated,
    balance_table,
    match_nearest_neighbour,
    plot_densities,
    score_densities_of,
)
from analysis.mediation import fit_mediation
from analysis.permutation import PermutationTestResult, permutation_coefficient_difference
from analysis.production import fit_levinsohn_petrin
from analysis.tables import TableProvenance
from paper.models import (
    CONTROLS,
    DESCRIPTIVE_VARIABLES,
    FIRM_CLUSTER,
    TABLE06_INSTRUMENTS,
    TABLE06_LEAVE_ONE_OUT_COLUMN,
    TABLE07_ATT,
    TABLE07_COVARIATES,
    TABLE07_PROPENSITY,
    TABLE07_TREATMENT,
    TABLE08_MEDIATORS,
    TABLE10_SPLITS,
    YEAR_PROVINCE_FE,
    BENCHMARK,
    ModelSpec,
    table06_columns,
    table08_columns,
)
from paper.options import IvOptions, MediationOptions, PermutationOptions, PsmOptions, TfpOptions
from paper.spec import (
    Estimates,
    Markdown,
    Progress,
    combine,
    estimate_of,
    markdown_table,
    model_stat_rows,
    regression_estimates,
)

FIRM_YEAR = (FIRM_CLUSTER, "fiscal_year")
INDUSTRY_YEAR = ("industry_code", "fiscal_year")


def _seconds(started: float) -> float:
    return round(time.perf_counter() - started, 2)


def fit_model(frame: pd.DataFrame, spec: ModelSpec):
    """``spec`` fitted by OLS with its absorbed fixed effects and clusters, on the rows of
    ``frame`` that satisfy its ``where``."""
    for column, value in spec.where:
        frame = frame[frame[column] == value]
    return fit_ols(frame, depvar=spec.depvar, regressors=list(spec.regressors),
                   fixed_effects=list(spec.fixed_effects), cluster=spec.cluster)


def fit_models(models: tuple[ModelSpec, ...], samples: Mapping[str, pd.DataFrame]) -> dict[str, Any]:
    """Column id -> fitted model, each on the sample its spec names."""
    return {spec.column_id: fit_model(samples[spec.sample], spec) for spec in models}


# --------------------------------------------------------------------------- TFP (Table 5 (3))

TFP_OUTPUT = "ln_output"
"""Left-hand side of the LP value-added algorithm: ln operating income (the mart has no value
added; docs/tfp_method.md explains the choice)."""
TFP_INPUTS = {"free": ("ln_labour",), "state": ("ln_capital",), "proxy": "ln_intermediate"}
TFP_COLUMN = "levinsohn_petrin"


def estimate_tfp(inputs: Mapping[str, Any], options: TfpOptions, progress: Progress) -> Estimates:
    """Levinsohn-Petrin (value added) log TFP per firm-year and the elasticities behind it."""
    columns = [TFP_OUTPUT, *TFP_INPUTS["free"], *TFP_INPUTS["state"], TFP_INPUTS["proxy"]]
    frame = inputs["firm_year_mart"][[*FIRM_YEAR, *columns]]
    result = fit_levinsohn_petrin(
        frame, FIRM_CLUSTER, "fiscal_year", TFP_OUTPUT, **TFP_INPUTS,
        n_boot=options.n_boot, rng=np.random.default_rng(options.seed),
        progress=progress("Levinsohn-Petrin bootstrap"),
    )
    tfp = frame[list(FIRM_YEAR)].assign(tfp_lp=result.tfp).dropna(subset=["tfp_lp"])
    estimates = regression_estimates({TFP_COLUMN: result}, {TFP_COLUMN: {"seed": options.seed, "output": TFP_OUTPUT}})
    estimates.analysis = {"analysis.firm_year_tfp": tfp}
    estimates.metadata = {
            "firm_years": len(tfp),
            **{f"elasticity_{term}": float(value) for term, value in result.params.items()},
            **{f"se_{term}": float(value) for term, value in result.std_errors.items()},
            "seed": options.seed,
    }
    return estimates


# --------------------------------------------------------------------------- Tables 3 and 4


def estimate_table03(inputs: Mapping[str, Any], options: None, progress: Progress) -> Estimates:
    """N, mean, sd, min, median, max of Npro, AI and the controls."""
    stats = describe(inputs["firm_years"], list(DESCRIPTIVE_VARIABLES)).reset_index(names="variable")
    return Estimates(results={"results.descriptives": stats},
                     metadata={"N": int(stats["n"].max()), "table": markdown_table(stats.round(3))})


def regressions(models: tuple[ModelSpec, ...]):
    """The estimate of a table whose columns are ``models``, all on the firm-year frame."""

    def estimate(inputs: Mapping[str, Any], options: None, progress: Progress) -> Estimates:
        return regression_estimates(fit_models(models, {"firm_years": inputs["firm_years"]}))

    return estimate


# --------------------------------------------------------------------------- Table 5


def estimate_table05(models: tuple[ModelSpec, ...]):
    """Table 5: (3) takes Tfp_lp from analysis.firm_year_tfp, (5) is fitted on the firm-years
    the Table 7 match kept (psmatch2 weight > 0)."""

    def estimate(inputs: Mapping[str, Any], options: None, progress: Progress) -> Estimates:
        frame = inputs["firm_years"].merge(inputs["tfp"][[*FIRM_YEAR, "tfp_lp"]], on=list(FIRM_YEAR), how="left",
                                           validate="one_to_one")
        matched = inputs["psm_matched"]
        matched = matched.loc[matched[MATCH_WEIGHT_COLUMN] > 0, [*FIRM_YEAR, MATCH_WEIGHT_COLUMN]]
        samples = {"firm_years": frame,
                   "psm_matched": frame.merge(matched, on=list(FIRM_YEAR), validate="one_to_one")}
        fitted = fit_models(models, samples)
        sources = {}
        for spec in models:
            if spec.depvar == "tfp_lp":
                sources[spec.column_id] = {"outcome_source": "analysis.firm_year_tfp (table_id tfp_lp)"}
            if spec.sample == "psm_matched":
                sources[spec.column_id] = {
                    "sample_source": f"analysis.psm_matched, {MATCH_WEIGHT_COLUMN} > 0 (table_id table07)"}
        estimates = regression_estimates(fitted, sources)
        coefficients = estimates.results["results.coefficients"]
        estimates.metadata = {f"{spec.column_id}_{spec.regressors[0]}":
                              estimate_of(coefficients, spec.column_id, spec.regressors[0]) for spec in models}
        return estimates

    return estimate


# --------------------------------------------------------------------------- Table 6


def add_instruments(frame: pd.DataFrame, leave_one_out: bool, leave_one_out_column: bool = False) -> pd.DataFrame:
    """The frame with Table 6's instruments: AI one and two fiscal years earlier (true lags of
    the same firm; a gap leaves them missing) and the industry-year mean of AI; with
    ``leave_one_out_column`` also ``mean_ai_loo``, the mean without the firm itself."""
    instruments = {
        "l1_ai": lagged(frame, "ai", FIRM_CLUSTER, "fiscal_year", 1),
        "l2_ai": lagged(frame, "ai", FIRM_CLUSTER, "fiscal_year", 2),
        "mean_ai": group_mean(frame, "ai", INDUSTRY_YEAR, leave_one_out=leave_one_out),
    }
    if leave_one_out_column:
        instruments["mean_ai_loo"] = group_mean(frame, "ai", INDUSTRY_YEAR, leave_one_out=True)
    return frame.assign(**instruments)


def estimate_table06(inputs: Mapping[str, Any], options: IvOptions, progress: Progress) -> Estimates:
    """2SLS of Npro on AI instrumented by L.AI, L2.AI or the industry-year mean of AI, with the
    controls, year and province FE, firm-clustered SEs and ivreg2's diagnostics."""
    frame = add_instruments(inputs["firm_years"], options.leave_one_out, options.leave_one_out_column)
    instruments = {**TABLE06_INSTRUMENTS, **(TABLE06_LEAVE_ONE_OUT_COLUMN if options.leave_one_out_column else {})}
    columns, extra = {}, {}
    for instrument, (stage1, stage2) in table06_columns(instruments).items():
        fit = fit_iv(frame, "npro", "ai", [instrument], list(CONTROLS),
                     fixed_effects=list(YEAR_PROVINCE_FE), cluster=FIRM_CLUSTER)
        # Both stages report ivreg2's diagnostics (IVResult.reported_diagnostics) beside their own statistics.
        columns |= {stage1: fit.first_stage_column("ai"), stage2: fit}
        instrument_text = {"instrument": instrument, "leave_one_out": options.leave_one_out}
        extra |= {stage1: instrument_text, stage2: instrument_text}
    estimates = regression_estimates(columns, extra)
    coefficients = estimates.results["results.coefficients"]
    estimates.metadata = {
        **{f"{instrument}_stage2_ai": estimate_of(coefficients, stage2, "ai")
           for instrument, (_, stage2) in table06_columns(instruments).items()},
        "leave_one_out": options.leave_one_out,
    }
    return estimates


# --------------------------------------------------------------------------- Table 7


def estimate_table07(inputs: Mapping[str, Any], options: PsmOptions, progress: Progress) -> Estimates:
    """1:1 nearest-neighbour PSM of AI_Did on the controls; balance in pstest's convention;
    every firm-year that entered the matching with its score and psmatch2 weight."""
    frame = inputs["firm_years"]
    match = match_nearest_neighbour(
        frame, TABLE07_TREATMENT, covariates=list(TABLE07_COVARIATES), caliper=options.caliper,
        replace=options.replace, rng=np.random.default_rng(options.seed), model=options.model, order=options.order,
    )
    balance = balance_table(frame, TABLE07_TREATMENT, list(TABLE07_COVARIATES), match).rename(
        columns={"pct_bias": "bias_pct", "pct_reduction_abs_bias": "bias_reduction_pct", "p_value": "p"}
    )
    balance["sample"] = balance["sample"].map({"U": "unmatched", "M": "matched"})
    matched = frame.loc[match.treated.index, list(FIRM_YEAR)].assign(
        treated=match.treated.astype(int).to_numpy(),
        propensity_score=match.scores.to_numpy(),
        on_support=match.on_support.to_numpy(),
        match_weight=match.weights.to_numpy(),
    )
    att = average_treatment_effect_on_treated(match, "npro")
    matched_rows = balance[balance["sample"] == "matched"]
    estimates = regression_estimates({TABLE07_PROPENSITY: match, TABLE07_ATT: att},
                                     {TABLE07_PROPENSITY: {"seed": options.seed}}, metadata={
        **{name: int(value) for name, value in match.stats.items()},
        "max_abs_bias_pct_matched": float(matched_rows["bias_pct"].abs().max()),
        "att_npro": float(att.params["ATT"]),
        "seed": options.seed,
    })
    estimates.results["results.balance"] = balance
    estimates.analysis = {"analysis.psm_matched": matched}
    estimates.metadata["balance"] = markdown_table(balance.round(3))
    return estimates


# --------------------------------------------------------------------------- Table 8


def estimate_table08(inputs: Mapping[str, Any], options: MediationOptions, progress: Progress) -> Estimates:
    """Green innovation, |SA| and human capital as mediators of AI -> Npro (paths, Sobel,
    Aroian, Goodman, firm-cluster bootstrap CIs of the indirect effect)."""
    frame = inputs["firm_years"]
    # One generator for the three mediators, used in their fixed order: reproducible from the seed.
    rng = np.random.default_rng(options.seed)
    parts, metadata = [], {}
    for mediator in TABLE08_MEDIATORS:
        ids = table08_columns(mediator)
        fit = fit_mediation(
            frame, "npro", "ai", mediator, list(CONTROLS), list(YEAR_PROVINCE_FE), cluster=FIRM_CLUSTER,
            n_boot=options.n_boot, rng=rng, progress=progress(f"{mediator} mediation bootstrap"),
        )
        # Column k prints path a; its footer reads path b and the tests of a*b (the mediation result).
        parts.append(regression_estimates({ids["path_a"]: fit.path_a, ids["path_b"]: fit.path_b, ids["mediation"]: fit},
                                          {ids["mediation"]: {"seed": options.seed}}))
        metadata[f"{mediator}_path_a_ai"] = round(float(fit.path_a.params["ai"]), 4)
        metadata[f"{mediator}_indirect"] = float(fit.params["indirect"])
    return combine(*parts, metadata={**metadata, "seed": options.seed, "n_boot": options.n_boot})


# --------------------------------------------------------------------------- Tables 9 and 10


def table10_estimates(frame: pd.DataFrame, n_draws: int, rng: np.random.Generator, permute_by: str | None,
                      seed: int, progress: Progress) -> tuple[Estimates, dict[str, PermutationTestResult]]:
    """Per split, the two group regressions (the benchmark model) and the difference column
    with bdiff's b0 - b1 (paper.models.TABLE10_SPLITS); also the tests themselves."""
    parts, tests = [], {}
    for split, columns in TABLE10_SPLITS.items():
        started = time.perf_counter()
        test = permutation_coefficient_difference(
            frame, columns.flag, BENCHMARK.depvar, list(BENCHMARK.regressors), "ai", list(BENCHMARK.fixed_effects),
            cluster=BENCHMARK.cluster, n_draws=n_draws, rng=rng, permute_by=permute_by,
            progress=progress(f"{split} permutation draws"),
        )
        # The group fits are printed columns of their own; the test reports the difference column
        # (model statistics only, as bdiff prints it).
        groups = regression_estimates({columns.group0_column: test.fit_group0, columns.group1_column: test.fit_group1})
        difference = Estimates(results={"results.model_stats": model_stat_rows(columns.difference_column, test,
                                                                                {"seed": seed})})
        parts.append(combine(groups, difference, metadata={
            f"{split}_difference": round(float(test.observed_difference), 4),
            f"{split}_p_value": round(float(test.p_value), 3),
            f"seconds_permutation_test_{split}": _seconds(started),
        }))
        tests[split] = test
    return combine(*parts), tests


def estimate_table10(inputs: Mapping[str, Any], options: PermutationOptions, progress: Progress) -> Estimates:
    """Heavy- vs non-heavy-polluting and high- vs low-tech subsamples, with the between-group
    difference of the AI coefficient by Fisher's permutation test (bdiff)."""
    estimates, _ = table10_estimates(inputs["firm_years"], options.n_draws, np.random.default_rng(options.seed),
                                     FIRM_CLUSTER if options.permute_firms else None, options.seed, progress)
    estimates.metadata |= {"n_draws": options.n_draws, "seed": options.seed}
    return estimates


# --------------------------------------------------------------------------- Figure 1

FIGURE01_PNG = "figure01.png"
FIGURE01_TITLE = "Figure 1. Propensity score densities before and after matching"


def render_figure01(matched: pd.DataFrame, provenance: TableProvenance, reports_dir: Path):
    """Kernel densities of the propensity score by group, before and after matching (PNG, PDF
    and SVG under reports/figures/, with a Markdown page carrying the provenance)."""
    matched = matched.sort_values(list(FIRM_YEAR), kind="stable")
    caption = provenance.caption_banner() + provenance.line()
    densities = score_densities_of(
        matched["propensity_score"].to_numpy(), matched["treated"].to_numpy(), matched["match_weight"].to_numpy()
    )
    figures = reports_dir / "figures"
    figures.mkdir(parents=True, exist_ok=True)
    png = plot_densities(densities, figures / FIGURE01_PNG, title=FIGURE01_TITLE, caption=caption,
                         also_as=("pdf", "svg"))
    page = figures / "figure01.md"
    lines = provenance.markdown_banner()
    lines += [
        provenance.line(), "", f"**{FIGURE01_TITLE}**", "", f"![{FIGURE01_TITLE}]({FIGURE01_PNG})", "",
        "Gaussian kernel densities (Scott's bandwidth) of the estimated propensity score of AI_Did; after "
        "matching, the treated firm-years on support and the controls used (weighted by their psmatch2 weights).",
    ]
    page.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return ([png, png.with_suffix(".pdf"), png.with_suffix(".svg"), page],
            {"firm_years": len(matched), "preview": Markdown(page.read_text(encoding="utf-8"))})
