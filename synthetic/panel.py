"""Firm-year latent processes: AI patenting, size, controls, distress, productivity q and accounts.

Everything is an (n_firms, n_years) array over 2013-2023; the writer later keeps the rows a
real database would hold (statements while listed from 2014, governance and status from 2015).
Equations and parameter meanings: docs/synthetic_dgp.md and parameters.py.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from synthetic.firms import FIRST_PANEL_YEAR, LAST_YEAR, FirmPopulation
from synthetic.parameters import DgpParameters
from nqp_core.reference import ReferenceData

YEARS = np.arange(FIRST_PANEL_YEAR, LAST_YEAR + 1)
SAMPLE_FIRST_YEAR = 2015
STATEMENTS_FIRST_YEAR = 2014
SIZE_CENTRE = 22.3  # log total assets around which elasticities are written
LN_MILLION = np.log(1e6)
MAX_SOLVENT_LEVERAGE = 0.97  # logistic leverage is capped so solvency is decided only by the planted flag

# Levels of the Table 1 ratios at q = mean(q) (typical A-share manufacturing magnitudes).
RD_SALARY_LEVEL = 0.022  # R&D salaries / operating income
RD_DEPRECIATION_LEVEL = 0.003
RD_LEASE_LEVEL = 0.0005
RD_DIRECT_LEVEL = 0.012
RD_OTHER_LEVEL = 0.004
RD_STAFF_SHARE_LEVEL = 0.13
INTANGIBLE_SHARE_LEVEL = 0.045
FIXED_SHARE_LEVEL = 0.22
TURNOVER_LEVEL = 0.62
REVENUE_PER_EMPLOYEE = 1.4e6  # yuan
NONMANUFACTURING_RD_SHIFT = -1.2  # log shift of R&D ratios outside manufacturing
REGULAR_DISCLOSER_RATE = 0.85  # yearly bachelor disclosure probability of a regular discloser
OCCASIONAL_DISCLOSER_RATE = 0.08


@dataclass(frozen=True)
class Panel:
    listed: np.ndarray  # bool (n, T)
    n_ai: np.ndarray  # true AI patents
    n_green: np.ndarray  # independent green invention + utility-model patents (counted by the pipeline)
    n_other: np.ndarray  # all other patents of the firm-year
    ai_intensity: np.ndarray  # true AI intensity A* = ln(1 + n_ai), the regressor of the planted effect
    q: np.ndarray  # latent new quality productivity (not written; for diagnostics and population studies)
    status: np.ndarray  # object: normal / ST / *ST / PT
    suspended: np.ndarray
    insolvent: np.ndarray
    accounts: dict[str, np.ndarray]  # financials columns (float yuan or int persons); bachelor_staff -1 = undisclosed
    governance: dict[str, np.ndarray]

    def eligible(self, firms: FirmPopulation) -> np.ndarray:
        """Listed manufacturing, non-financial firm-years of 2015-2023, before the distress filters."""
        years_ok = (YEARS >= SAMPLE_FIRST_YEAR)[None, :]
        industry_ok = (firms.manufacturing & ~firms.financial)[:, None]
        return self.listed & years_ok & industry_ok

    def in_sample(self, firms: FirmPopulation) -> np.ndarray:
        """The paper's filters as planted: the rule docs/synthetic_dgp.md states for the dbt models."""
        return self.eligible(firms) & (self.status == "normal") & ~self.insolvent


def _listed(firms: FirmPopulation) -> np.ndarray:
    listing_year = firms.years_of(firms.listing_date)
    delisted = ~np.isnat(firms.delisting_date)
    delisting_year = np.where(delisted, firms.years_of(np.where(delisted, firms.delisting_date, firms.listing_date)), 9999)
    return (listing_year[:, None] <= YEARS[None, :]) & (delisting_year[:, None] >= YEARS[None, :])


def _ar1(rng: np.random.Generator, n: int, rho: float, sd: float) -> np.ndarray:
    """Stationary AR(1) paths along the year axis."""
    out = np.empty((n, len(YEARS)))
    out[:, 0] = rng.normal(0.0, sd / np.sqrt(1.0 - rho**2), n)
    for t in range(1, len(YEARS)):
        out[:, t] = rho * out[:, t - 1] + rng.normal(0.0, sd, n)
    return out


def _standardise(x: np.ndarray) -> np.ndarray:
    return (x - x.mean()) / x.std()


def _expit(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


def _spatial_shock(rng: np.random.Generator, params: DgpParameters, reference: ReferenceData) -> np.ndarray:
    """(n_provinces, T) province-year shocks: a coast-inland gradient plus SAR draws (I - rho W)^-1 (zeta + nu_t)."""
    n_prov = len(reference.province_codes)
    innovations = rng.normal(0.0, params.spatial_province_sd, (n_prov, 1)) + rng.normal(
        0.0, params.spatial_year_sd, (n_prov, len(YEARS))
    )
    sar = np.linalg.solve(np.eye(n_prov) - params.spatial_rho * reference.contiguity, innovations)
    longitude = reference.province_capital_lon
    return sar + params.spatial_longitude_gradient * ((longitude - longitude.mean()) / 10.0)[:, None]


def _distress(rng: np.random.Generator, params: DgpParameters, firms: FirmPopulation, listed: np.ndarray):
    """ST episodes (a hazard scaled by firm frailty), PT/ST/*ST labels, insolvency and suspension."""
    n, n_years = listed.shape
    frailty = np.exp(rng.normal(-0.5 * params.st_frailty_sd**2, params.st_frailty_sd, n))
    hazard = params.st_episode_rate * frailty
    in_st = np.zeros((n, n_years), dtype=bool)
    remaining = np.zeros(n, dtype=int)
    for t in range(n_years):
        start = (remaining == 0) & (rng.random(n) < hazard)
        remaining = np.where(start, 1 + rng.poisson(params.st_episode_mean_years - 1.0, n), remaining)
        in_st[:, t] = remaining > 0
        remaining = np.maximum(remaining - 1, 0)
    # Firms are special-treated in their last two listed years before a delisting.
    delisted = ~np.isnat(firms.delisting_date)
    last_year = np.where(delisted, firms.years_of(np.where(delisted, firms.delisting_date, firms.listing_date)), 0)
    in_st |= delisted[:, None] & (YEARS[None, :] >= last_year[:, None] - 1)
    in_st &= ~firms.anchor[:, None]

    label = rng.random((n, n_years))
    status = np.full((n, n_years), "normal", dtype=object)
    status[in_st & (label < 0.45)] = "ST"
    status[in_st & (label >= 0.45) & (label < 0.97)] = "*ST"
    status[in_st & (label >= 0.97)] = "PT"
    insolvent = np.where(in_st, rng.random((n, n_years)) < params.insolvent_given_st,
                         rng.random((n, n_years)) < params.insolvent_given_normal)
    insolvent &= ~firms.anchor[:, None]
    suspended = np.where(in_st, rng.random((n, n_years)) < params.suspended_given_st,
                         rng.random((n, n_years)) < params.suspended_given_normal)
    return status, insolvent, suspended


def simulate_panel(
    rng: np.random.Generator, params: DgpParameters, firms: FirmPopulation, reference: ReferenceData
) -> Panel:
    n, n_years = firms.size, len(YEARS)
    year_grid = np.broadcast_to(YEARS, (n, n_years))
    listed = _listed(firms)
    high, heavy, east, central = (a.astype(float) for a in (firms.high_tech, firms.heavy_polluting, firms.east, firms.central))
    manufacturing = firms.manufacturing.astype(float)
    listing_year = firms.years_of(firms.listing_date)

    # Persistent firm traits; eta is the AI propensity, alpha the productivity firm effect.
    nonadopter = rng.random(n) < params.ai_nonadopter_share
    eta = (params.ai_propensity_sd * rng.standard_normal(n) + params.ai_nonadopter_shift * nonadopter + params.ai_high_tech * high
           + params.ai_heavy_polluting * heavy + params.ai_east * east + params.ai_central * central
           + params.ai_recent_listing * (listing_year >= 2010))
    eta_std = _standardise(eta)
    rho_a = params.q_firm_ai_correlation
    alpha = params.q_firm_sd * (rho_a * eta_std + np.sqrt(1 - rho_a**2) * rng.standard_normal(n)) + params.q_high_tech * high
    size_2013 = params.size_mean_2013 + params.size_sd * rng.standard_normal(n) - 0.08 * eta_std
    patent_effect = params.other_patents_firm_sd * rng.standard_normal(n)
    patent_scale = np.where(firms.manufacturing, 1.0, params.nonmanufacturing_patent_factor)
    patent_scale = np.where(firms.financial, 0.02, patent_scale)
    green_effect = params.green_firm_sd * rng.standard_normal(n)

    # AI patents and asset growth are solved year by year because each feeds the other.
    ai_shock = _ar1(rng, n, params.ai_shock_rho, params.ai_shock_sd)
    size = np.empty((n, n_years))
    n_ai = np.empty((n, n_years), dtype=np.int64)
    previous_size = size_2013
    for t in range(n_years):
        log_mean = (params.ai_intercept + eta + params.ai_trend * (YEARS[t] - 2018)
                    + params.ai_size * (previous_size - SIZE_CENTRE) + ai_shock[:, t])
        mean = np.exp(log_mean) * patent_scale
        r = params.ai_dispersion
        n_ai[:, t] = rng.poisson(rng.gamma(r, mean / r))
        growth = params.size_growth + params.size_growth_ai * np.log1p(n_ai[:, t]) + params.size_growth_sd * rng.standard_normal(n)
        size[:, t] = size_2013 if t == 0 else previous_size + growth
        previous_size = size[:, t]
    ai_intensity = np.log1p(n_ai)
    centred_size = size - SIZE_CENTRE

    n_green = rng.poisson(np.exp(
        params.green_intercept + params.green_size * centred_size + params.green_heavy_polluting * heavy[:, None]
        + params.green_ai * ai_intensity + green_effect[:, None]
    ) * patent_scale[:, None])
    n_other = rng.poisson(np.exp(
        params.other_patents_intercept + params.other_patents_size * centred_size + patent_effect[:, None]
        + 0.3 * rng.standard_normal((n, n_years))
    ) * patent_scale[:, None])

    status, insolvent, suspended = _distress(rng, params, firms, listed)
    special = status != "normal"

    # Controls.
    roa = (params.roa_mean + params.roa_firm_sd * rng.standard_normal(n) + params.roa_ai_propensity * eta_std)[:, None]
    loss_shock = (rng.random((n, n_years)) < params.roa_loss_rate) * np.abs(rng.normal(0.08, 0.04, (n, n_years)))
    roa = roa + _ar1(rng, n, 0.4, params.roa_shock_sd) - loss_shock - 0.07 * special - 0.10 * insolvent
    roa = np.clip(roa, -0.6, 0.4)
    lev_logit = (params.lev_logit_mean + params.lev_logit_firm_sd * rng.standard_normal(n))[:, None]
    lev = _expit(lev_logit + params.lev_size * centred_size + _ar1(rng, n, 0.6, params.lev_logit_shock_sd) + 0.5 * special)
    lev = np.minimum(lev, MAX_SOLVENT_LEVERAGE)
    lev = np.where(insolvent, 1.01 + rng.exponential(0.12, (n, n_years)), lev)
    top1_firm = params.top1_mean_pct + params.top1_sd_pct * rng.standard_normal(n) + params.top1_ai_propensity * eta_std
    top1_pct = np.clip(top1_firm[:, None] + _ar1(rng, n, 0.8, 1.2), 4.0, 89.0)
    incorporation_year = firms.years_of(firms.incorporation_date)
    age_years = year_grid - incorporation_year[:, None]
    ln_age = np.log(np.maximum(age_years, 0) + 1.0)

    # Mediators: bachelor share and the SA financing-constraint index.
    bachelor_firm = (params.bachelor_share_mean + params.bachelor_share_firm_sd * rng.standard_normal(n)
                     + params.bachelor_share_high_tech * (high - high.mean()) + params.bachelor_share_ai_propensity * eta_std)
    bachelor_share = np.clip(bachelor_firm[:, None] + params.bachelor_share_ai * (ai_intensity - 1.0)
                             + 0.02 * rng.standard_normal((n, n_years)), 0.02, 0.95)
    size_million = size - LN_MILLION
    sa_abs = np.abs(-0.737 * size_million + 0.043 * size_million**2 - 0.040 * age_years)

    beta = (params.beta_ai_base + params.beta_ai_high_tech * high + params.beta_ai_heavy_polluting * heavy
            + params.beta_ai_east * east + params.beta_ai_central * central)
    province_shock = _spatial_shock(rng, params, reference)[firms.province]
    q = (alpha[:, None] + _ar1(rng, n, params.q_ar_rho, params.q_ar_sd) + beta[:, None] * ai_intensity
         + params.theta_green * np.log1p(n_green) + params.theta_sa_abs * sa_abs
         + params.theta_human_capital * bachelor_share + params.gamma_roa * roa + params.gamma_top1 * top1_pct / 100.0
         + params.gamma_lev * lev + params.gamma_age * ln_age + province_shock
         + params.q_noise_sd * rng.standard_normal((n, n_years)))
    reference_rows = listed & firms.manufacturing[:, None] & (YEARS >= SAMPLE_FIRST_YEAR)[None, :]
    q_dev = q - q[reference_rows].mean()

    accounts = _accounts(rng, params, firms, size, roa, lev, q_dev, bachelor_share, manufacturing)
    governance = _governance(rng, params, n, top1_pct)
    return Panel(listed=listed, n_ai=n_ai, n_green=n_green, n_other=n_other, ai_intensity=ai_intensity, q=q,
                 status=status, suspended=suspended, insolvent=insolvent, accounts=accounts, governance=governance)


def _log_ratio(rng, level, loading, q_dev, sd, persistence, shift=0.0):
    """exp(ln level + loading * q + persistent firm effect + yearly noise), split by `persistence`."""
    n, n_years = q_dev.shape
    firm = np.sqrt(persistence) * sd * rng.standard_normal((n, 1))
    year = np.sqrt(1.0 - persistence) * sd * rng.standard_normal((n, n_years))
    return np.exp(np.log(level) + loading * q_dev + firm + year + shift)


def _accounts(rng, params, firms, size, roa, lev, q_dev, bachelor_share, manufacturing) -> dict[str, np.ndarray]:
    n, n_years = size.shape
    persistence = params.indicator_persistence
    rd_shift = (NONMANUFACTURING_RD_SHIFT * (1.0 - manufacturing))[:, None]
    total_assets = np.round(np.exp(size))
    total_liabilities = np.round(lev * total_assets)
    total_equity = total_assets - total_liabilities
    net_profit = np.round(roa * total_assets)

    weak = params.indicator_loading_weak
    turnover = _log_ratio(rng, TURNOVER_LEVEL, weak, q_dev, 0.45, persistence)
    operating_income = np.round(turnover * total_assets) + 1.0  # strictly positive: it is a denominator
    fixed_share = np.clip(_log_ratio(rng, FIXED_SHARE_LEVEL, weak, q_dev, 0.5, persistence), 0.005, 0.75)
    intangible_share = np.clip(
        _log_ratio(rng, INTANGIBLE_SHARE_LEVEL, params.indicator_loading_intangible, q_dev, 0.6, persistence), 0.001, 0.2
    )
    fixed_assets = np.round(fixed_share * total_assets)
    intangible_assets = np.round(intangible_share * total_assets)

    outflows = np.round(operating_income * np.exp(np.log(0.88) + 0.08 * rng.standard_normal((n, n_years))))
    goods_share = _expit(np.log(0.68 / 0.32) - weak * q_dev + 0.45 * rng.standard_normal((n, n_years)))
    employee_share = (1.0 - goods_share) * _expit(np.log(0.4 / 0.6) + 0.3 * rng.standard_normal((n, n_years)))
    cash_goods = np.floor(goods_share * outflows)
    cash_employees = np.floor(employee_share * outflows)
    depreciation = np.round(fixed_assets * 0.08 * np.exp(0.2 * rng.standard_normal((n, n_years))))
    amortization = np.round(intangible_assets * 0.06 * np.exp(0.3 * rng.standard_normal((n, n_years))))
    impairment = np.round(total_assets * np.exp(np.log(0.003) + 0.9 * rng.standard_normal((n, n_years))))
    impairment = np.where(rng.random((n, n_years)) < 0.1, 0.0, impairment)

    loading = params.indicator_loading_rd
    rd_parts = {
        "rd_salaries": _log_ratio(rng, RD_SALARY_LEVEL, loading, q_dev, params.rd_salary_sd, persistence, rd_shift),
        "rd_depreciation_amortization": _log_ratio(rng, RD_DEPRECIATION_LEVEL, loading, q_dev, params.rd_depreciation_sd, persistence, rd_shift),
        "rd_lease": _log_ratio(rng, RD_LEASE_LEVEL, loading, q_dev, params.rd_lease_sd, persistence, rd_shift),
        "rd_direct_inputs": _log_ratio(rng, RD_DIRECT_LEVEL, loading, q_dev, params.rd_direct_sd, persistence, rd_shift),
    }
    rd_amounts = {name: np.round(np.minimum(ratio, 0.3) * operating_income) for name, ratio in rd_parts.items()}
    rd_other = np.round(operating_income * _log_ratio(rng, RD_OTHER_LEVEL, 0.0, q_dev, 0.5, 0.5, rd_shift))
    rd_expense = sum(rd_amounts.values()) + rd_other

    employees = np.maximum(
        np.round(operating_income / REVENUE_PER_EMPLOYEE * np.exp(0.35 * rng.standard_normal((n, 1))
                                                             + 0.08 * rng.standard_normal((n, n_years)))), 30
    ).astype(np.int64)
    rd_staff_share = np.clip(
        _log_ratio(rng, RD_STAFF_SHARE_LEVEL, params.indicator_loading_labour, q_dev, 0.35, persistence, 0.5 * rd_shift), 0.002, 0.8
    )
    rd_staff = np.floor(rd_staff_share * employees).astype(np.int64)
    regular_share = (params.bachelor_disclosure_rate - OCCASIONAL_DISCLOSER_RATE) / (REGULAR_DISCLOSER_RATE - OCCASIONAL_DISCLOSER_RATE)
    disclosure_rate = np.where(rng.random(n) < regular_share, REGULAR_DISCLOSER_RATE, OCCASIONAL_DISCLOSER_RATE)
    disclosed = rng.random((n, n_years)) < disclosure_rate[:, None]
    bachelor_staff = np.where(disclosed, np.floor(bachelor_share * employees), -1).astype(np.int64)

    return {
        "total_assets": total_assets,
        "total_liabilities": total_liabilities,
        "total_equity": total_equity,
        "net_profit": net_profit,
        "operating_income": operating_income,
        "fixed_assets": fixed_assets,
        "intangible_assets": intangible_assets,
        "operating_cash_outflows": outflows,
        "cash_paid_goods_services": cash_goods,
        "cash_paid_employees": cash_employees,
        "depreciation_fixed_assets": depreciation,
        "amortization_intangibles": amortization,
        "impairment_provisions": impairment,
        "rd_expense": rd_expense,
        **rd_amounts,
        "employees": employees,
        "rd_staff": rd_staff,
        "bachelor_staff": bachelor_staff,
    }


BOARD_SIZES = np.array([5, 6, 7, 8, 9, 10, 11, 12, 13, 15])
BOARD_SIZE_WEIGHTS = np.array([0.02, 0.04, 0.2, 0.13, 0.43, 0.05, 0.08, 0.03, 0.015, 0.005])


def _governance(rng, params, n, top1_pct) -> dict[str, np.ndarray]:
    n_years = top1_pct.shape[1]
    p = BOARD_SIZE_WEIGHTS / BOARD_SIZE_WEIGHTS.sum()
    board = np.repeat(rng.choice(BOARD_SIZES, size=(n, 1), p=p), n_years, axis=1)
    extra = np.repeat(rng.random((n, 1)) < params.extra_independent_rate, n_years, axis=1)
    redraw = rng.random((n, n_years)) < 0.08  # occasional board reshuffles
    board = np.where(redraw, rng.choice(BOARD_SIZES, size=(n, n_years), p=p), board)
    extra = np.where(redraw, rng.random((n, n_years)) < params.extra_independent_rate, extra)
    independent = np.minimum(-(-board // 3) + extra, board)
    duality = np.repeat(rng.random((n, 1)) < params.duality_rate, n_years, axis=1)
    duality ^= rng.random((n, n_years)) < 0.04  # chair/CEO roles occasionally split or merge
    return {
        "top1_share_pct": np.round(top1_pct, 2),
        "board_size": board.astype(np.int64),
        "independent_directors": independent.astype(np.int64),
        "chair_ceo_duality": duality,
    }
