-- Every firm-year of int_firm_years_ratios_computed with one flag per sample rule and
-- the first rule it fails (exclusion_reason, rules in the order of the CASE below), so
-- that the audit can count the drops step by step. is_in_sample marks the analysis
-- sample of the paper (section 4.3.1): A-share manufacturing firms 2015-2023 without
-- financial, ST/*ST/PT or insolvent firm-years, listed in the year, with every model
-- variable defined. The year window is checked first: the 2014 statements are there
-- only to give 2015 its opening total assets and have no status record, so a later
-- rule would misname their exclusion.

{%- set model_variables = [
    'roa', 'size', 'top1', 'lev', 'inde', 'age', 'ai',
    'rd_salary_share', 'rd_staff_share', 'fixed_asset_share', 'manufacturing_cost_share',
    'rd_depreciation_share', 'rd_lease_share', 'rd_direct_input_share',
    'intangible_asset_share', 'asset_turnover', 'inverse_equity_multiplier',
] %}
{#- high_edu_share is not here: where bachelor staff are undisclosed fct_firm_years
    imputes it instead of dropping the firm-year (the paper's Npro N = 24,302 against
    HumanCapital N = 5,763). human_capital, green, sa_abs, both and the LP inputs only
    enter some tables, whose estimators drop their own missing rows (Table 5 col. 2
    and 3, Table 8 col. 3). #}

with firm_years as (

    select * from {{ ref('int_firm_years_ratios_computed') }}

),

firms as (

    select stock_code, industry_code, listing_date, delisting_date
    from {{ ref('stg_wind__firms') }}

),

statuses as (

    select stock_code, fiscal_year, trading_status
    from {{ ref('stg_wind__firm_statuses') }}

),

flagged as (

    select
        firm_years.*,
        firms.industry_code,
        statuses.trading_status,
        firm_years.fiscal_year between {{ var('sample_first_year') }} and {{ var('sample_last_year') }}
                                                                           as passes_sample_years,
        {{ is_manufacturing_industry('firms.industry_code') }}             as passes_manufacturing,
        not {{ is_financial_industry('firms.industry_code') }}             as passes_not_financial,
        -- ST, *ST and PT firm-years are dropped; a suspension alone is not. A firm-year
        -- without a status record cannot be shown to be 'normal' and is dropped too.
        -- With var st_exclusion = 'firm' every year of a firm that is ever ST, *ST or PT
        -- within the sample years is dropped as well (the default 'firm_year' is the paper's).
        coalesce(statuses.trading_status = 'normal', false)
        {%- if var('st_exclusion') == 'firm' %}
        and not coalesce(bool_or(
            statuses.trading_status <> 'normal'
            and firm_years.fiscal_year between {{ var('sample_first_year') }} and {{ var('sample_last_year') }}
        ) over (partition by firm_years.stock_code), false)
        {%- elif var('st_exclusion') != 'firm_year' %}
        {{ exceptions.raise_compiler_error("var st_exclusion must be 'firm_year' or 'firm', got " ~ var('st_exclusion')) }}
        {%- endif %}
                                                                           as passes_normal_status,
        coalesce(firm_years.total_liabilities <= firm_years.total_assets, false)
                                                                           as passes_solvent,
        coalesce(
            firms.listing_date <= make_date(firm_years.fiscal_year, 12, 31)
            and (
                firms.delisting_date is null
                or firms.delisting_date >= make_date(firm_years.fiscal_year, 1, 1)
            ),
            false
        )                                                                  as passes_listed,
        (
            {%- for variable in model_variables %}
            firm_years.{{ variable }} is not null{% if not loop.last %} and{% endif %}
            {%- endfor %}
        )                                                                  as passes_complete_variables
    from firm_years
    left join firms
        on firm_years.stock_code = firms.stock_code
    left join statuses
        on firm_years.stock_code = statuses.stock_code
        and firm_years.fiscal_year = statuses.fiscal_year

)

select
    *,
    case
        when not passes_sample_years then 'outside_sample_years'
        when not passes_manufacturing then 'not_manufacturing'
        when not passes_not_financial then 'financial'
        when not passes_normal_status then 'special_treatment'
        when not passes_solvent then 'insolvent'
        when not passes_listed then 'not_listed'
        when not passes_complete_variables then 'missing_model_variable'
    end                                                                    as exclusion_reason,
    passes_sample_years
        and passes_manufacturing
        and passes_not_financial
        and passes_normal_status
        and passes_solvent
        and passes_listed
        and passes_complete_variables                                      as is_in_sample
from flagged
