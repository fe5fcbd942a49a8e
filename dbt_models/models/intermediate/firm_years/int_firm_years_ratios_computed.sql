-- One row per firm-year with financial statements in the vintage: every variable of the
-- analysis, before sample filters and winsorization. Definitions and the paper
-- passages they follow: docs/transformations.md. Undefined ratios and logs (zero
-- denominator, non-positive argument) are NULL, never inf or nan.

with financials as (

    select
        *,
        -- Last year's total assets only when last year's statement exists; a gap in
        -- the panel must not pair this year with an older year.
        case
            when lag(fiscal_year) over firm_history = fiscal_year - 1
                then lag(total_assets) over firm_history
        end as prior_total_assets
    from {{ ref('stg_wind__financials') }}
    window firm_history as (partition by stock_code order by fiscal_year)

),

governance as (

    select * from {{ ref('stg_wind__governance') }}

),

firms as (

    select stock_code, incorporation_date from {{ ref('stg_wind__firms') }}

),

patent_counts as (

    select * from {{ ref('int_firm_years_patent_counted') }}

),

joined as (

    select
        financials.*,
        governance.top1_share_pct,
        governance.board_size,
        governance.independent_directors,
        governance.is_chair_ceo_duality,
        financials.fiscal_year - year(firms.incorporation_date)            as firm_age_years,
        coalesce(patent_counts.patent_count, 0)                           as patent_count,
        coalesce(patent_counts.ai_count, 0)                               as ai_count,
        coalesce(patent_counts.ai_patent_count, 0)                        as ai_patent_count,
        coalesce(patent_counts.green_count, 0)                            as green_count,
        -- Table 1 manufacturing-cost share: operating cash outflows plus the non-cash
        -- charges, i.e. the firm's total operating cost base.
        financials.operating_cash_outflows
            + financials.depreciation_fixed_assets
            + financials.amortization_intangibles
            + financials.impairment_provisions                            as operating_cost_base
    from financials
    left join governance
        on financials.stock_code = governance.stock_code
        and financials.fiscal_year = governance.fiscal_year
    left join firms
        on financials.stock_code = firms.stock_code
    left join patent_counts
        on financials.stock_code = patent_counts.stock_code
        and financials.fiscal_year = patent_counts.fiscal_year

),

computed as (

    select
        stock_code,
        fiscal_year,
        vintage_id,

        -- inputs the sample filters need
        total_assets,
        total_liabilities,

        -- explanatory variables: log(1 + count), unwinsorized counts kept beside them
        ai_count,
        ai_patent_count,
        green_count,
        patent_count,
        ln(1 + ai_count)                                                  as ai,
        ln(1 + ai_patent_count)                                           as ai_patent,
        ln(1 + green_count)                                               as green,

        -- controls (Table 2)
        {{ safe_divide('net_profit', 'total_assets') }}                   as roa,
        {{ safe_ln('total_assets') }}                                     as size,
        top1_share_pct / 100.0                                            as top1,
        {{ safe_divide('total_liabilities', 'total_assets') }}            as lev,
        {{ safe_divide('independent_directors', 'board_size') }}          as inde,
        {{ safe_ln('firm_age_years + 1') }}                               as age,
        cast(is_chair_ceo_duality as integer)                             as both,

        -- mechanism variables (Table 8). The paper's SA index uses size and age as they are;
        -- var sa_hadlock_pierce_caps applies Hadlock and Pierce's (2010) caps: assets at
        -- sa_size_cap_cny_million (their USD 4.5 billion) and age at sa_age_cap_years (37).
        {%- if var('sa_hadlock_pierce_caps') %}
        abs(
            -0.737 * {{ safe_ln('least(total_assets / 1e6, ' ~ var('sa_size_cap_cny_million') ~ ')') }}
            + 0.043 * power({{ safe_ln('least(total_assets / 1e6, ' ~ var('sa_size_cap_cny_million') ~ ')') }}, 2)
            - 0.040 * least(firm_age_years, {{ var('sa_age_cap_years') }})
        )                                                                 as sa_abs,
        {%- else %}
        abs(
            -0.737 * {{ safe_ln('total_assets / 1e6') }}
            + 0.043 * power({{ safe_ln('total_assets / 1e6') }}, 2)
            - 0.040 * firm_age_years
        )                                                                 as sa_abs,
        {%- endif %}
        -- Also the disclosed values of the Table 1 indicator high_edu_share, which
        -- fct_firm_years completes by imputation over the analysis sample.
        {{ safe_divide('bachelor_staff', 'employees') }}                  as human_capital,

        -- the Table 1 indicators (high_edu_share: see human_capital)
        {{ safe_divide('rd_salaries', 'operating_income') }}              as rd_salary_share,
        {{ safe_divide('rd_staff', 'employees') }}                        as rd_staff_share,
        {{ safe_divide('fixed_assets', 'total_assets') }}                 as fixed_asset_share,
        {{ safe_divide(
            'operating_cost_base - cash_paid_goods_services - cash_paid_employees',
            'operating_cost_base'
        ) }}                                                              as manufacturing_cost_share,
        {{ safe_divide('rd_depreciation_amortization', 'operating_income') }} as rd_depreciation_share,
        {{ safe_divide('rd_lease', 'operating_income') }}                 as rd_lease_share,
        {{ safe_divide('rd_direct_inputs', 'operating_income') }}         as rd_direct_input_share,
        {{ safe_divide('intangible_assets', 'total_assets') }}            as intangible_asset_share,
        -- Average of opening and closing total assets; year-end assets when the prior
        -- year's statement is missing (a firm's first year in the data).
        {{ safe_divide(
            'operating_income',
            'coalesce((total_assets + prior_total_assets) / 2, total_assets)'
        ) }}                                                              as asset_turnover,
        {{ safe_divide('total_equity', 'total_assets') }}                 as inverse_equity_multiplier,

        -- Levinsohn-Petrin production-function inputs (Table 5 column 3)
        {{ safe_ln('operating_income') }}                                 as ln_output,
        {{ safe_ln('fixed_assets') }}                                     as ln_capital,
        {{ safe_ln('employees') }}                                        as ln_labour,
        {{ safe_ln('cash_paid_goods_services') }}                         as ln_intermediate,

        source_file,
        source_row
    from joined

)

select * from computed
