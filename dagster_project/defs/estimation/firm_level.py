"""Firm-level evidence (paper Tables 5-10, and the inputs of Figure 1) as assets.

Each asset loads the firm-year frame, calls the estimators of ``analysis`` and writes tidy
rows to ``results.coefficients`` / ``results.model_stats`` (table ids table05 ... table10),
plus the tables whose shape differs: ``analysis.firm_year_tfp`` (Levinsohn-Petrin TFP per
firm-year), ``analysis.psm_matched`` (every firm-year that entered the matching, with its
score and psmatch2 weight) and ``results.balance`` (Table 7). Every random step draws from a
``numpy.random.Generator`` seeded from the asset's config (defaults below), and the seed is
stored in ``results.model_stats`` beside the numbers it produced. Specification choices are
documented in docs/firm_level_tables.md.
"""

import time

import numpy as np
import pandas as pd
from dagster import AssetExecutionContext, AssetKey, Config, MaterializeResult, MetadataValue, asset
from pydantic import Field

from dagster_project.defs.common.resources import VintageSelection, WorkingWarehouse
from analysis.fixed_effects import fit_ols
from analysis.iv import fit_iv, group_mean, lagged
from analysis.matching import (
    MATCH_WEIGHT_COLUMN,
    average_treatment_effect_on_treated,
    balance_table,
    match_nearest_neighbour,
)
from analysis.mediation import fit_mediation
from analysis.paper_models import (
    CONTROLS,
    FIRM_CLUSTER,
    TABLE05,
    TABLE06_INSTRUMENTS,
    TABLE06_LEAVE_ONE_OUT_COLUMN,
    TABLE07_COVARIATES,
    TABLE07_TREATMENT,
    TABLE08_MEDIATORS,
    TABLE09_REGIONS,
    TABLE10_SPLITS,
    YEAR_PROVINCE_FE,
    ModelSpec,
)
from analysis.permutation import PermutationTestResult, permutation_coefficient_difference
from analysis.production import fit_levinsohn_petrin
from analysis.results import RegressionResult
from dagster_project.defs.estimation.assets import NPRO, tidy_rows, write_vcov
from dagster_project.defs.estimation.frames import load_firm_year_frame
from dagster_project.defs.estimation.headline import (
    DECIMALS,
    coefficients_markdown,
    headline_metadata,
    p_value_text,
    provenance_metadata,
    provenance_tags,
)
from dagster_project.defs.estimation.progress import progress_logger
from dagster_project.defs.common.metadata import column_schema_metadata
from nqp_core.warehouse import replace_rows

FIRM_YEARS = AssetKey(["marts", "fct_firm_years"])
TFP = AssetKey(["analysis", "firm_year_tfp"])
PSM = AssetKey(["results", "table07_psm"])

# Fixed default seeds: a rerun of the same vintage reproduces every draw. Each is stored in
# results.model_stats (stat "seed") with the table it produced.
TFP_SEED = 20250501
PSM_SEED = 20250507
MEDIATION_SEED = 20250508
PERMUTATION_SEED = 20250510

TFP_BOOTSTRAP_DRAWS = 200
"""Firm-block bootstrap draws of the LP elasticities: about 5 s at scale 1 (docs/tfp_method.md)."""
MEDIATION_BOOTSTRAP_DRAWS = 1000
PERMUTATION_DRAWS = 1000

TFP_OUTPUT = "ln_output"
"""Left-hand side of the LP value-added algorithm: ln operating income (the mart has no value
added; docs/tfp_method.md explains the choice)."""
TFP_INPUTS = {"free": ("ln_labour",), "state": ("ln_capital",), "proxy": "ln_intermediate"}
INDUSTRY_YEAR = ("industry_code", "fiscal_year")


# --------------------------------------------------------------------------- tidy rows


def stat_rows(table_id: str, column_id: str, values: dict[str, object]) -> pd.DataFrame:
    """results.model_stats rows for one column: numbers in ``value``, anything else in ``text``."""
    rows = []
    for stat, value in values.items():
        if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, float, np.integer, np.floating)):
            rows.append((table_id, column_id, stat, np.nan, str(value)))
        else:
            rows.append((table_id, column_id, stat, float(value), None))
    return pd.DataFrame(rows, columns=["table_id", "column_id", "stat", "value", "text"])


def coefficient_rows(table_id: str, column_id: str, tidy: pd.DataFrame) -> pd.DataFrame:
    """results.coefficients rows for one column from an estimator's ``tidy()`` frame."""
    rows = tidy.copy()
    rows.insert(0, "column_id", column_id)
    rows.insert(0, "table_id", table_id)
    return rows


def regression_rows(
    table_id: str, column_id: str, result: RegressionResult, extra_stats: dict[str, object] | None = None
) -> tuple[pd.DataFrame, pd.DataFrame]:
    coefficients, model_stats = tidy_rows(table_id, {column_id: result})
    if extra_stats:
        model_stats = pd.concat([model_stats, stat_rows(table_id, column_id, extra_stats)], ignore_index=True)
    return coefficients, model_stats


def permutation_rows(table_id: str, column_id: str, test: PermutationTestResult, seed: int) -> pd.DataFrame:
    """Table 10's difference column: bdiff's b0 - b1, its empirical p-values and how they were drawn."""
    return stat_rows(
        table_id,
        column_id,
        {
            **{stat: test.stats[stat] for stat in (
                "observed_difference", "p_value", "p_value_upper", "p_value_lower", "p_value_two_sided",
                "n_draws", "n_units_group0", "n_units_group1",
            )},
            "seed": seed,
            "group": test.info["group"],
            "difference": test.info["difference"],
            "permutation_unit": test.info["permutation_unit"],
        },
    )


def _concat(parts: list[tuple[pd.DataFrame, pd.DataFrame]]) -> tuple[pd.DataFrame, pd.DataFrame]:
    return (
        pd.concat([coefficients for coefficients, _ in parts], ignore_index=True),
        pd.concat([model_stats for _, model_stats in parts], ignore_index=True),
    )


def _write(conn, provenance, table_id: str, coefficients: pd.DataFrame, model_stats: pd.DataFrame,
           fitted: dict[str, object]) -> None:
    """The table's coefficients, model statistics and (``fitted``: column id -> result) covariances."""
    replace_rows(conn, "results.coefficients", coefficients, provenance, table_id=table_id)
    replace_rows(conn, "results.model_stats", model_stats, provenance, table_id=table_id)
    write_vcov(conn, provenance, table_id, fitted)


def _fit_spec(frame: pd.DataFrame, spec: ModelSpec) -> RegressionResult:
    return fit_ols(
        frame,
        depvar=spec.depvar,
        regressors=list(spec.regressors),
        fixed_effects=list(spec.fixed_effects),
        cluster=spec.cluster,
    )


def _estimate(coefficients: pd.DataFrame, column_id: str, term: str) -> float:
    row = coefficients[(coefficients["column_id"] == column_id) & (coefficients["term"] == term)]
    return round(float(row["estimate"].iloc[0]), DECIMALS) if len(row) else float("nan")


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


# --------------------------------------------------------------------------- TFP


class TfpConfig(Config):
    seed: int = Field(default=TFP_SEED, description="Seed of the firm-block bootstrap")
    n_boot: int = Field(default=TFP_BOOTSTRAP_DRAWS, description="Firm-block bootstrap draws")


@asset(key=["analysis", "firm_year_tfp"], metadata=column_schema_metadata("analysis.firm_year_tfp"),
       deps=[FIRM_YEARS], group_name="estimation", kinds={"python", "duckdb"})
def firm_year_tfp(
    context: AssetExecutionContext, config: TfpConfig, warehouse: WorkingWarehouse, vintage: VintageSelection
):
    """Levinsohn-Petrin (value added) log TFP per firm-year; elasticities in results (table_id tfp_lp)."""
    started = time.perf_counter()
    with vintage.session(warehouse) as (conn, provenance):
        inputs = [TFP_OUTPUT, *TFP_INPUTS["free"], *TFP_INPUTS["state"], TFP_INPUTS["proxy"]]
        frame = conn.execute(
            f"select stock_code, fiscal_year, {', '.join(inputs)} from marts.fct_firm_years "
            "where vintage_id = ? order by stock_code, fiscal_year",
            [provenance.vintage_id],
        ).df()
        result = fit_levinsohn_petrin(
            frame, FIRM_CLUSTER, "fiscal_year", TFP_OUTPUT, **TFP_INPUTS,
            n_boot=config.n_boot, rng=np.random.default_rng(config.seed),
            progress=progress_logger(context.log, "Levinsohn-Petrin bootstrap"),
        )
        tfp = frame[[FIRM_CLUSTER, "fiscal_year"]].assign(tfp_lp=result.tfp).dropna(subset=["tfp_lp"])
        replace_rows(conn, "analysis.firm_year_tfp", tfp, provenance)
        coefficients = coefficient_rows("tfp_lp", "levinsohn_petrin", result.tidy())
        model_stats = stat_rows(
            "tfp_lp",
            "levinsohn_petrin",
            {"nobs": result.nobs, **dict(result.stats), **dict(result.info), "seed": config.seed, "output": TFP_OUTPUT},
        )
        _write(conn, provenance, "tfp_lp", coefficients, model_stats, {"levinsohn_petrin": result})
    return MaterializeResult(
        tags=provenance_tags(provenance),
        metadata={
            **provenance_metadata(provenance),
            "firm_years": len(tfp),
            **{f"elasticity_{term}": float(value) for term, value in result.params.items()},
            **{f"se_{term}": float(value) for term, value in result.std_errors.items()},
            "seed": config.seed,
            "seconds": round(time.perf_counter() - started, 2),
        }
    )


# --------------------------------------------------------------------------- Table 7


class PsmConfig(Config):
    seed: int = Field(default=PSM_SEED, description="Seed of the random processing order of treated firm-years")
    model: str = Field(default="logit", description="Propensity model: logit (paper) or probit (psmatch2 default)")
    caliper: float = Field(default=0.01, description="Maximum score distance of a match")
    replace: bool = Field(default=False, description="Match with replacement (the paper's N suggests without)")
    order: str = Field(default="random", description="Processing order without replacement (analysis.matching)")


@asset(key=["results", "table07_psm"], metadata=column_schema_metadata("results.balance"),
       deps=[NPRO], group_name="estimation", kinds={"python", "duckdb"})
def table07_psm(context: AssetExecutionContext, config: PsmConfig, warehouse: WorkingWarehouse, vintage: VintageSelection):
    """Table 7: 1:1 nearest-neighbour PSM of AI_Did on the controls; balance in pstest's convention."""
    started = time.perf_counter()
    with vintage.session(warehouse) as (conn, provenance):
        frame = load_firm_year_frame(conn, provenance.vintage_id)
        match = match_nearest_neighbour(
            frame, TABLE07_TREATMENT, covariates=list(TABLE07_COVARIATES), caliper=config.caliper,
            replace=config.replace, rng=np.random.default_rng(config.seed), model=config.model, order=config.order,
        )
        balance = balance_table(frame, TABLE07_TREATMENT, list(TABLE07_COVARIATES), match).rename(
            columns={"pct_bias": "bias_pct", "pct_reduction_abs_bias": "bias_reduction_pct", "p_value": "p"}
        )
        balance["sample"] = balance["sample"].map({"U": "unmatched", "M": "matched"})
        balance.insert(0, "table_id", "table07")
        replace_rows(conn, "results.balance", balance, provenance, table_id="table07")

        keys = frame.loc[match.treated.index, [FIRM_CLUSTER, "fiscal_year"]]
        matched = keys.assign(
            treated=match.treated.astype(int).to_numpy(),
            propensity_score=match.scores.to_numpy(),
            on_support=match.on_support.to_numpy(),
            match_weight=match.weights.to_numpy(),
        )
        replace_rows(conn, "analysis.psm_matched", matched, provenance)

        att = average_treatment_effect_on_treated(match, "npro")
        parts = [
            (
                coefficient_rows("table07", "propensity_model", match.tidy()),
                stat_rows(
                    "table07",
                    "propensity_model",
                    {"nobs": match.nobs, **dict(match.propensity.stats), **dict(match.stats), **dict(match.info),
                     "seed": config.seed},
                ),
            ),
            regression_rows("table07", "att_npro", att),
        ]
        coefficients, model_stats = _concat(parts)
        _write(conn, provenance, "table07", coefficients, model_stats, {"propensity_model": match, "att_npro": att})
    matched_rows = balance[balance["sample"] == "matched"]
    return MaterializeResult(
        tags=provenance_tags(provenance),
        metadata={
            **headline_metadata(coefficients, model_stats, "att_npro", "ATT", provenance),
            **{name: int(value) for name, value in match.stats.items()},
            "max_abs_bias_pct_matched": float(matched_rows["bias_pct"].abs().max()),
            "att_npro": float(att.params["ATT"]),
            "seed": config.seed,
            "balance": MetadataValue.md(balance.drop(columns="table_id").round(3).to_markdown(index=False)),
            "seconds": round(time.perf_counter() - started, 2),
        }
    )


# --------------------------------------------------------------------------- Table 5


@asset(key=["results", "table05_robustness"], metadata=column_schema_metadata("results.coefficients"),
       deps=[NPRO, TFP, PSM], group_name="estimation", kinds={"python", "duckdb"})
def table05_robustness(context: AssetExecutionContext, warehouse: WorkingWarehouse, vintage: VintageSelection):
    """Table 5: firm FE; + Both; LP TFP outcome; AI_Patent regressor; the PSM-matched sample."""
    started = time.perf_counter()
    with vintage.session(warehouse) as (conn, provenance):
        frame = load_firm_year_frame(conn, provenance.vintage_id)
        tfp = conn.execute(
            "select stock_code, fiscal_year, tfp_lp from analysis.firm_year_tfp where vintage_id = ?",
            [provenance.vintage_id],
        ).df()
        matched_keys = conn.execute(
            f"select stock_code, fiscal_year, {MATCH_WEIGHT_COLUMN} from analysis.psm_matched "
            f"where vintage_id = ? and {MATCH_WEIGHT_COLUMN} > 0",
            [provenance.vintage_id],
        ).df()
        frame = frame.merge(tfp, on=[FIRM_CLUSTER, "fiscal_year"], how="left", validate="one_to_one")
        samples = {
            spec.column_id: frame.merge(matched_keys, on=[FIRM_CLUSTER, "fiscal_year"], validate="one_to_one")
            if spec.column_id == "psm_matched_sample"
            else frame
            for spec in TABLE05
        }
        results = {spec.column_id: _fit_spec(samples[spec.column_id], spec) for spec in TABLE05}
        coefficients, model_stats = tidy_rows("table05", results)
        model_stats = pd.concat(
            [
                model_stats,
                stat_rows("table05", "tfp_lp_outcome", {"outcome_source": "analysis.firm_year_tfp (table_id tfp_lp)"}),
                stat_rows("table05", "psm_matched_sample",
                          {"sample_source": f"analysis.psm_matched, {MATCH_WEIGHT_COLUMN} > 0 (table_id table07)"}),
            ],
            ignore_index=True,
        )
        _write(conn, provenance, "table05", coefficients, model_stats, results)
    return MaterializeResult(
        tags=provenance_tags(provenance),
        metadata={
            **headline_metadata(coefficients, model_stats, "add_both", "ai", provenance),
            **{f"{spec.column_id}_{spec.regressors[0]}": _estimate(coefficients, spec.column_id, spec.regressors[0])
               for spec in TABLE05},
            "coefficients": coefficients_markdown(coefficients),
            "seconds": round(time.perf_counter() - started, 2),
        }
    )


# --------------------------------------------------------------------------- Table 6


class IvConfig(Config):
    leave_one_out: bool = Field(
        default=False, description="Industry-year mean of AI without the firm's own value (Mean_AI instrument)"
    )
    leave_one_out_column: bool = Field(
        default=False,
        description="Add a column instrumented by the leave-one-out industry-year mean of AI (mean_ai_loo)",
    )


IV_DIAGNOSTICS = (
    "first_stage_f[ai]", "first_stage_f_p[ai]", "partial_r2[ai]", "cragg_donald_f", "kleibergen_paap_f",
    "sanderson_windmeijer_f[ai]", "sanderson_windmeijer_f_p[ai]", "underid_lm", "underid_lm_df", "underid_lm_p",
    "first_stage_df1", "diagnostics_df2", "stock_wright_s", "stock_wright_s_df", "stock_wright_s_p",
)


@asset(key=["results", "table06_iv"], metadata=column_schema_metadata("results.coefficients"),
       deps=[NPRO], group_name="estimation", kinds={"python", "duckdb"})
def table06_iv(context: AssetExecutionContext, config: IvConfig, warehouse: WorkingWarehouse, vintage: VintageSelection):
    """Table 6: 2SLS of Npro on AI instrumented by L.AI, L2.AI or the industry-year mean of AI,
    with controls, year and province FE, firm-clustered SEs and ivreg2's diagnostics."""
    started = time.perf_counter()
    with vintage.session(warehouse) as (conn, provenance):
        frame = add_instruments(load_firm_year_frame(conn, provenance.vintage_id), config.leave_one_out,
                                config.leave_one_out_column)
        instruments = {**TABLE06_INSTRUMENTS, **(TABLE06_LEAVE_ONE_OUT_COLUMN if config.leave_one_out_column else {})}
        parts, fitted = [], {}
        for instrument in instruments:
            fit = fit_iv(
                frame, "npro", "ai", [instrument], list(CONTROLS),
                fixed_effects=list(YEAR_PROVINCE_FE), cluster=FIRM_CLUSTER,
            )
            diagnostics = {name: fit.diagnostics[name] for name in IV_DIAGNOSTICS}
            instrument_text = {"instrument": instrument, "leave_one_out": config.leave_one_out}
            parts.append(regression_rows("table06", f"{instrument}_stage1", fit.first_stage["ai"],
                                         {**diagnostics, **instrument_text}))
            parts.append(regression_rows("table06", f"{instrument}_stage2", fit.second_stage,
                                         {**diagnostics, **instrument_text}))
            fitted |= {f"{instrument}_stage1": fit.first_stage["ai"], f"{instrument}_stage2": fit.second_stage}
        coefficients, model_stats = _concat(parts)
        _write(conn, provenance, "table06", coefficients, model_stats, fitted)
    return MaterializeResult(
        tags=provenance_tags(provenance),
        metadata={
            **headline_metadata(coefficients, model_stats, "l1_ai_stage2", "ai", provenance),
            **{f"{instrument}_stage2_ai": _estimate(coefficients, f"{instrument}_stage2", "ai")
               for instrument in instruments},
            "leave_one_out": config.leave_one_out,
            "coefficients": coefficients_markdown(coefficients),
            "seconds": round(time.perf_counter() - started, 2),
        }
    )


# --------------------------------------------------------------------------- Table 8


class MediationConfig(Config):
    seed: int = Field(default=MEDIATION_SEED, description="Seed of the firm-cluster bootstrap")
    n_boot: int = Field(default=MEDIATION_BOOTSTRAP_DRAWS, description="Bootstrap draws per mediator")


@asset(key=["results", "table08_mechanisms"], metadata=column_schema_metadata("results.coefficients"),
       deps=[NPRO], group_name="estimation", kinds={"python", "duckdb"})
def table08_mechanisms(
    context: AssetExecutionContext, config: MediationConfig, warehouse: WorkingWarehouse, vintage: VintageSelection
):
    """Table 8: green innovation, |SA| and human capital as mediators of AI -> Npro (paths, Sobel,
    Aroian, Goodman, firm-cluster bootstrap CIs of the indirect effect)."""
    started = time.perf_counter()
    # One generator for the three mediators, used in their fixed order: reproducible from the seed.
    rng = np.random.default_rng(config.seed)
    with vintage.session(warehouse) as (conn, provenance):
        frame = load_firm_year_frame(conn, provenance.vintage_id)
        parts, indirect, fitted = [], {}, {}
        for mediator in TABLE08_MEDIATORS:
            fit = fit_mediation(
                frame, "npro", "ai", mediator, list(CONTROLS), list(YEAR_PROVINCE_FE), cluster=FIRM_CLUSTER,
                n_boot=config.n_boot, rng=rng,
                progress=progress_logger(context.log, f"{mediator} mediation bootstrap"),
            )
            parts.append(regression_rows("table08", f"{mediator}_path_a", fit.path_a))
            parts.append(regression_rows("table08", f"{mediator}_path_b", fit.path_b))
            parts.append(
                (
                    coefficient_rows("table08", f"{mediator}_mediation", fit.tidy()),
                    stat_rows("table08", f"{mediator}_mediation",
                              {"nobs": fit.nobs, **dict(fit.stats), **dict(fit.info), "seed": config.seed}),
                )
            )
            indirect[mediator] = float(fit.params["indirect"])
            fitted |= {f"{mediator}_path_a": fit.path_a, f"{mediator}_path_b": fit.path_b,
                       f"{mediator}_mediation": fit}
        coefficients, model_stats = _concat(parts)
        _write(conn, provenance, "table08", coefficients, model_stats, fitted)
    return MaterializeResult(
        tags=provenance_tags(provenance),
        metadata={
            **headline_metadata(coefficients, model_stats, "green_path_a", "ai", provenance),
            **{f"{mediator}_path_a_ai": _estimate(coefficients, f"{mediator}_path_a", "ai") for mediator in indirect},
            **{f"{mediator}_indirect": value for mediator, value in indirect.items()},
            "seed": config.seed,
            "n_boot": config.n_boot,
            "seconds": round(time.perf_counter() - started, 2),
        }
    )


# --------------------------------------------------------------------------- Tables 9 and 10


def _subsample_spec(column_id: str) -> ModelSpec:
    return ModelSpec(column_id, "npro", ("ai", *CONTROLS), YEAR_PROVINCE_FE)


@asset(key=["results", "table09_heterogeneity"], metadata=column_schema_metadata("results.coefficients"),
       deps=[NPRO], group_name="estimation", kinds={"python", "duckdb"})
def table09_heterogeneity(context: AssetExecutionContext, warehouse: WorkingWarehouse, vintage: VintageSelection):
    """Table 9: the benchmark model (column 3 of Table 4) in the east, central and west subsamples."""
    started = time.perf_counter()
    with vintage.session(warehouse) as (conn, provenance):
        frame = load_firm_year_frame(conn, provenance.vintage_id)
        results = {
            region: _fit_spec(frame[frame["region"] == region], _subsample_spec(region)) for region in TABLE09_REGIONS
        }
        coefficients, model_stats = tidy_rows("table09", results)
        _write(conn, provenance, "table09", coefficients, model_stats, results)
    return MaterializeResult(
        tags=provenance_tags(provenance),
        metadata={
            **headline_metadata(coefficients, model_stats, "east", "ai", provenance),
            **{f"{region}_ai": _estimate(coefficients, region, "ai") for region in TABLE09_REGIONS},
            **{f"{region}_nobs": results[region].nobs for region in TABLE09_REGIONS},
            "seconds": round(time.perf_counter() - started, 2),
        }
    )


class PermutationConfig(Config):
    seed: int = Field(default=PERMUTATION_SEED, description="Seed of the permutation draws")
    n_draws: int = Field(default=PERMUTATION_DRAWS, description="Permutation draws per split")
    permute_firms: bool = Field(
        default=False, description="Permute whole firms (a firm never straddles groups) instead of firm-years (bdiff)"
    )


def table10_rows(
    frame: pd.DataFrame, n_draws: int, rng: np.random.Generator, permute_by: str | None, seed: int,
    log=None,
) -> tuple[pd.DataFrame, pd.DataFrame, dict[str, PermutationTestResult], dict[str, float]]:
    """Table 10's tidy rows: per split, the two group regressions (column ids from
    TABLE10_SPLITS) and the difference column ``<split>_difference`` with bdiff's b0 - b1;
    also the tests themselves and the seconds each took (fits and draws). With a ``log``
    (a Dagster logger) the draws report their progress to it."""
    parts, differences, tests, seconds = [], [], {}, {}
    for split, (flag, group0, group1) in TABLE10_SPLITS.items():
        started = time.perf_counter()
        test = permutation_coefficient_difference(
            frame, flag, "npro", ["ai", *CONTROLS], "ai", list(YEAR_PROVINCE_FE), cluster=FIRM_CLUSTER,
            n_draws=n_draws, rng=rng, permute_by=permute_by,
            progress=progress_logger(log, f"{split} permutation draws") if log is not None else None,
        )
        parts.append(regression_rows("table10", group0, test.fit_group0))
        parts.append(regression_rows("table10", group1, test.fit_group1))
        differences.append(permutation_rows("table10", f"{split}_difference", test, seed))
        tests[split] = test
        seconds[split] = time.perf_counter() - started
    coefficients, model_stats = _concat(parts)
    return coefficients, pd.concat([model_stats, *differences], ignore_index=True), tests, seconds


@asset(key=["results", "table10_group_differences"], metadata=column_schema_metadata("results.coefficients"),
       deps=[NPRO], group_name="estimation", kinds={"python", "duckdb"})
def table10_group_differences(
    context: AssetExecutionContext, config: PermutationConfig, warehouse: WorkingWarehouse, vintage: VintageSelection
):
    """Table 10: heavy- vs non-heavy-polluting and high- vs low-tech subsamples, with the
    between-group difference of the AI coefficient by Fisher's permutation test (bdiff)."""
    started = time.perf_counter()
    with vintage.session(warehouse) as (conn, provenance):
        frame = load_firm_year_frame(conn, provenance.vintage_id)
        coefficients, model_stats, tests, seconds = table10_rows(
            frame, config.n_draws, np.random.default_rng(config.seed),
            FIRM_CLUSTER if config.permute_firms else None, config.seed, log=context.log,
        )
        fitted = {}
        for split, (_, group0, group1) in TABLE10_SPLITS.items():
            fitted |= {group0: tests[split].fit_group0, group1: tests[split].fit_group1}
        _write(conn, provenance, "table10", coefficients, model_stats, fitted)
    return MaterializeResult(
        tags=provenance_tags(provenance),
        metadata={
            **headline_metadata(coefficients, model_stats, "non_heavy_polluting", "ai", provenance),
            **{f"{split}_difference": round(float(test.observed_difference), DECIMALS) for split, test in tests.items()},
            **{f"{split}_p_value": p_value_text(test.p_value) for split, test in tests.items()},
            **{f"seconds_permutation_test_{split}": round(value, 2) for split, value in seconds.items()},
            "n_draws": config.n_draws,
            "seed": config.seed,
            "seconds": round(time.perf_counter() - started, 2),
        }
    )


FIRM_LEVEL_ASSETS = [
    firm_year_tfp,
    table05_robustness,
    table06_iv,
    table07_psm,
    table08_mechanisms,
    table09_heterogeneity,
    table10_group_differences,
]
