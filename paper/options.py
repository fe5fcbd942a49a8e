"""The run options of the tables that draw or switch something: seeds, draw counts, switches.

Each table's spec (``paper.specs``) names its options class; the defaults are the paper's run,
and the Dagster launchpad shows each field as config of the table's asset with its sentence.
Every seed is stored in ``results.model_stats`` beside the numbers it produced. Kept apart from
the estimations so that the specs (and the Dagster definitions) load without the estimators.
"""

from __future__ import annotations

from dataclasses import dataclass, field


def option(default, description: str):
    """A run option with its default and the sentence the Dagster launchpad shows."""
    return field(default=default, metadata={"description": description})


# Levinsohn-Petrin TFP (Table 5 (3))
@dataclass(frozen=True)
class TfpOptions:
    seed: int = option(20250501, "Seed of the firm-block bootstrap")
    # about 5 s at scale 1 (docs/tfp_method.md)
    n_boot: int = option(200, "Firm-block bootstrap draws")


# Table 6
@dataclass(frozen=True)
class IvOptions:
    leave_one_out: bool = option(False, "Industry-year mean of AI without the firm's own value (Mean_AI instrument)")
    leave_one_out_column: bool = option(
        False, "Add columns (7)-(8) instrumented by the leave-one-out industry-year mean of AI (mean_ai_loo)")


# Table 7
@dataclass(frozen=True)
class PsmOptions:
    seed: int = option(20250507, "Seed of the random processing order of treated firm-years")
    model: str = option("logit", "Propensity model: logit (paper) or probit (psmatch2 default)")
    caliper: float = option(0.01, "Maximum score distance of a match")
    replace: bool = option(False, "Match with replacement (the paper's N suggests without)")
    order: str = option("random", "Processing order without replacement (analysis.matching)")


# Table 8
@dataclass(frozen=True)
class MediationOptions:
    seed: int = option(20250508, "Seed of the firm-cluster bootstrap")
    n_boot: int = option(1000, "Bootstrap draws per mediator")


# Table 10
@dataclass(frozen=True)
class PermutationOptions:
    seed: int = option(20250510, "Seed of the permutation draws")
    n_draws: int = option(1000, "Permutation draws per split")
    permute_firms: bool = option(
        False, "Permute whole firms (a firm never straddles groups) instead of firm-years (bdiff)")


# Table 11
@dataclass(frozen=True)
class MoranOptions:
    seed: int = option(20250611, "Seed of the Moran's I permutations")
    permutations: int = option(999, "Random permutations per year and matrix (the permutation p-value)")


# Table 14
@dataclass(frozen=True)
class EffectsOptions:
    seed: int = option(20250612, "Seed of the draws of (beta, theta, rho) behind the effects' SEs")
    n_draws: int = option(1000, "Draws from the estimated distribution of the SDM parameters")
