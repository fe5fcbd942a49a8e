"""The planted data-generating process: every structural parameter, its value and meaning.

The values are written into each synthetic vintage's ``truth.json`` (``structural``) and
hashed into ``dgp_fingerprint`` so that pipeline-derived population values computed for
one parameter set are recognised as stale once any parameter changes. Equations are in
``docs/synthetic_dgp.md``; the names below are the symbols used there.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field, fields


def _p(value: float, meaning: str) -> float:
    return field(default=value, metadata={"meaning": meaning})


@dataclass(frozen=True)
class DgpParameters:
    # Population (per unit of `scale`)
    n_manufacturing_firms: int = _p(3300, "manufacturing (C13-C43) firms ever listed in 2014-2023 at scale 1")
    n_nonmanufacturing_firms: int = _p(600, "non-manufacturing, non-financial firms (dropped by the industry filter)")
    n_financial_firms: int = _p(80, "financial firms J66-J69 (dropped by the financial filter)")
    share_listed_before_2015: float = _p(0.68, "share of firms whose IPO precedes 2015; the rest list 2015-2023")
    anchors_per_province: int = _p(2, "manufacturing firms per province forced listed, normal and solvent all years (1 at small scales)")
    share_delisted: float = _p(0.035, "share of firms delisted during 2016-2023")
    incorporation_gap_mean_years: float = _p(1.0, "mean years from incorporation to IPO (exponential)")

    # AI patenting: true AI patents ~ NegBin(mean lambda, dispersion r)
    ai_intercept: float = _p(0.85, "log mean true AI patents in 2018 of an adopter with zero propensity at the centre size (a0)")
    ai_propensity_sd: float = _p(1.1, "sd of the persistent firm AI propensity eta_i among adopters")
    ai_nonadopter_share: float = _p(0.42, "share of firms that hardly patent AI (propensity shifted down)")
    ai_nonadopter_shift: float = _p(-4.0, "propensity shift of non-adopters")
    ai_high_tech: float = _p(0.85, "AI propensity shift of high-tech industries")
    ai_heavy_polluting: float = _p(-0.35, "AI propensity shift of heavy-polluting industries")
    ai_east: float = _p(0.25, "AI propensity shift of east-belt firms")
    ai_central: float = _p(0.05, "AI propensity shift of central-belt firms")
    ai_recent_listing: float = _p(0.25, "AI propensity shift of firms listed after 2009 (younger firms)")
    ai_trend: float = _p(0.11, "yearly growth of log AI patenting (a_trend)")
    ai_size: float = _p(0.15, "elasticity of AI patenting to total assets")
    ai_shock_rho: float = _p(0.5, "AR(1) coefficient of the firm-year AI shock")
    ai_shock_sd: float = _p(0.45, "innovation sd of the firm-year AI shock")
    ai_dispersion: float = _p(2.0, "negative-binomial dispersion r of AI patent counts")
    keyword_false_positive_rate: float = _p(0.005, "share of a firm's non-AI patents whose text contains an AI keyword")
    ai_ipc_given_ai_text: float = _p(0.78, "probability an AI-text patent carries an AI IPC group")
    ai_ipc_given_other_text: float = _p(0.004, "probability a non-AI patent carries an AI IPC group")
    decoy_rate: float = _p(0.04, "share of non-AI patents whose text uses AI look-alike words (no keyword)")

    # Other patents
    other_patents_intercept: float = _p(1.75, "log mean non-AI, non-green patents per firm-year at the centre size, zero firm effect")
    other_patents_size: float = _p(0.55, "elasticity of ordinary patenting to total assets")
    other_patents_firm_sd: float = _p(0.8, "sd of the persistent firm patenting effect")
    nonmanufacturing_patent_factor: float = _p(0.25, "patenting of non-manufacturing firms relative to manufacturing")
    unmatched_patent_share: float = _p(0.06, "patents filed by universities/unrelated companies only (match no firm)")
    subsidiary_share: float = _p(0.2, "share of a firm's patents filed by one of its subsidiaries")
    joint_university_share: float = _p(0.06, "share of a firm's patents filed jointly with a university")
    joint_firm_share: float = _p(0.008, "share of a firm's patents filed jointly with another listed firm")
    joint_parent_subsidiary_share: float = _p(0.02, "share filed jointly by the firm and its own subsidiary")

    # Green patents (mediator 1): green ~ Poisson(exp(.))
    green_intercept: float = _p(0.1, "log mean independent green invention+utility patents at the centre size, zero effects")
    green_size: float = _p(0.45, "elasticity of green patenting to total assets")
    green_heavy_polluting: float = _p(0.35, "green patenting shift of heavy-polluting industries")
    green_ai: float = _p(0.22, "effect of true AI intensity ln(1+n_ai) on log green patenting (mediator path a)")
    green_firm_sd: float = _p(0.7, "sd of the persistent firm green effect")
    green_joint_extra_rate: float = _p(0.1, "extra jointly filed green patents per counted one (do not count)")

    # Size, financing constraint (mediator 2)
    size_mean_2013: float = _p(21.92, "mean log total assets (yuan) in 2013")
    size_sd: float = _p(1.2, "cross-firm sd of log total assets in 2013")
    size_growth: float = _p(0.055, "mean yearly growth of log total assets")
    size_growth_ai: float = _p(0.012, "extra asset growth per unit of true AI intensity (eases financing constraints)")
    size_growth_sd: float = _p(0.11, "sd of yearly log asset growth")

    # Profitability, leverage, ownership, board
    roa_mean: float = _p(0.047, "mean firm ROA")
    roa_firm_sd: float = _p(0.03, "sd of firm mean ROA")
    roa_shock_sd: float = _p(0.04, "sd of the yearly ROA shock")
    roa_loss_rate: float = _p(0.07, "probability of a loss-shock year (ROA lowered by |N(0.08, 0.04)|)")
    roa_ai_propensity: float = _p(-0.004, "ROA shift per sd of AI propensity (AI firms slightly less profitable)")
    lev_logit_mean: float = _p(-0.48, "mean logit leverage")
    lev_logit_firm_sd: float = _p(0.8, "sd of firm logit leverage")
    lev_logit_shock_sd: float = _p(0.3, "sd of yearly logit-leverage shock")
    lev_size: float = _p(0.25, "logit-leverage slope on log total assets")
    top1_mean_pct: float = _p(33.5, "mean largest-shareholder stake (percent)")
    top1_sd_pct: float = _p(14.0, "cross-firm sd of the largest-shareholder stake (percent)")
    top1_ai_propensity: float = _p(-2.0, "largest-stake shift (pp) per sd of AI propensity")
    duality_rate: float = _p(0.27, "share of firms whose chair is also CEO")
    extra_independent_rate: float = _p(0.15, "probability a board has one independent director above ceil(board/3)")

    # Special treatment and insolvency (dropped by the filters)
    st_episode_rate: float = _p(0.012, "yearly hazard that a normal firm enters an ST episode")
    st_frailty_sd: float = _p(1.0, "sd of log firm frailty scaling the ST hazard")
    st_episode_mean_years: float = _p(2.0, "mean length of an ST episode (years)")
    insolvent_given_st: float = _p(0.22, "probability an ST firm-year is insolvent (liabilities > assets)")
    insolvent_given_normal: float = _p(0.0025, "probability a normal firm-year is insolvent")
    suspended_given_st: float = _p(0.2, "probability an ST firm-year is suspended")
    suspended_given_normal: float = _p(0.004, "probability a normal firm-year is suspended (stays in sample)")

    # Human capital (mediator 3)
    bachelor_share_mean: float = _p(0.27, "mean share of employees with a bachelor degree")
    bachelor_share_firm_sd: float = _p(0.1, "cross-firm sd of the bachelor share")
    bachelor_share_high_tech: float = _p(0.07, "bachelor share shift of high-tech industries")
    bachelor_share_ai: float = _p(0.012, "bachelor share gain per unit of true AI intensity (mediator path a)")
    bachelor_share_ai_propensity: float = _p(0.04, "bachelor share shift per sd of AI propensity (AI firms hire graduates)")
    bachelor_disclosure_rate: float = _p(0.245, "share of firm-years disclosing bachelor_staff")

    # Latent new quality productivity q (in Npro units)
    q_firm_sd: float = _p(0.55, "sd of the firm effect alpha_i")
    q_firm_ai_correlation: float = _p(0.35, "correlation of alpha_i with AI propensity (selection)")
    q_high_tech: float = _p(0.45, "alpha shift of high-tech industries")
    q_ar_rho: float = _p(0.7, "AR(1) persistence of the firm-year productivity component u")
    q_ar_sd: float = _p(0.14, "innovation sd of u")
    q_noise_sd: float = _p(0.08, "sd of white noise in q")
    beta_ai_base: float = _p(-0.25, "effect of true AI intensity on q: low-tech, non-heavy, west baseline")
    beta_ai_high_tech: float = _p(0.26, "extra AI effect in high-tech industries")
    beta_ai_heavy_polluting: float = _p(-0.45, "extra AI effect in heavy-polluting industries")
    beta_ai_east: float = _p(0.09, "extra AI effect in the east belt")
    beta_ai_central: float = _p(0.05, "extra AI effect in the central belt")
    theta_green: float = _p(0.06, "effect of ln(1+green patents) on q (mediator path b)")
    theta_sa_abs: float = _p(-0.25, "effect of |SA| (financing constraint) on q (mediator path b)")
    theta_human_capital: float = _p(0.5, "effect of the bachelor share on q (mediator path b)")
    gamma_roa: float = _p(-2.0, "effect of ROA on q")
    gamma_top1: float = _p(-0.7, "effect of the largest stake (fraction) on q")
    gamma_lev: float = _p(-1.0, "effect of leverage on q")
    gamma_age: float = _p(-0.2, "effect of ln firm age on q")
    spatial_rho: float = _p(0.65, "SAR coefficient of the province shock on the row-standardised contiguity W")
    spatial_longitude_gradient: float = _p(0.15, "province effect per 10 degrees east of the capital's longitude (coast-inland gradient)")
    spatial_province_sd: float = _p(0.7, "sd of the persistent province innovation")
    spatial_year_sd: float = _p(0.1, "sd of the province-year innovation")

    # Table 1 indicators: ln(ratio) = mean + loading*(q - q_ref) + firm effect + noise
    indicator_loading_rd: float = _p(1.0, "loading of the four R&D/operating-income log ratios on q")
    indicator_loading_labour: float = _p(0.35, "loading of the log R&D staff share on q")
    indicator_loading_intangible: float = _p(0.3, "loading of the log intangible share on q")
    indicator_loading_weak: float = _p(0.05, "loading of fixed-asset share and asset turnover on q (minus it for the goods share of cash outflows)")
    rd_lease_sd: float = _p(1.05, "idiosyncratic log sd of R&D lease / operating income (most dispersed)")
    rd_direct_sd: float = _p(0.9, "idiosyncratic log sd of R&D direct inputs / operating income")
    rd_salary_sd: float = _p(0.55, "idiosyncratic log sd of R&D salaries / operating income")
    rd_depreciation_sd: float = _p(0.5, "idiosyncratic log sd of R&D depreciation / operating income")
    indicator_persistence: float = _p(0.8, "share of indicator idiosyncratic variance that is a persistent firm effect")

    def structural(self) -> dict[str, dict[str, object]]:
        """Name -> {value, meaning}, the form written to truth.json."""
        return {f.name: {"value": getattr(self, f.name), "meaning": f.metadata["meaning"]} for f in fields(self)}

    def fingerprint(self) -> str:
        """Stable hash of the parameter values (meanings excluded: rewording is not a new DGP)."""
        payload = json.dumps(asdict(self), sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(payload.encode("utf-8")).hexdigest()[:16]


DEFAULT_PARAMETERS = DgpParameters()
