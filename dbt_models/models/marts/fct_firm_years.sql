-- The analysis sample: one row per firm-year passing every rule of
-- int_firm_years_filtered. Every continuous variable, the log counts ai, ai_patent and
-- green included, is winsorized at the pooled 1st and 99th percentiles of this sample
-- (paper, section 4.3.1); the dummies and the raw counts are not. high_edu_share is
-- imputed where undisclosed before it is winsorized (docs/transformations.md).

with sample as (

    select * from {{ ref('int_firm_years_filtered') }}
    where is_in_sample

),

firms as (

    select stock_code, province_code, region, heavy_polluting, high_tech
    from {{ ref('dim_firms') }}

),

imputed as (

    select
        sample.*,
        firms.province_code,
        firms.region,
        firms.heavy_polluting,
        firms.high_tech,
        -- Table 1 high_edu_share: the disclosed bachelor share, else the median of the
        -- disclosed shares of the sample's firm-years in the same CSRC industry and
        -- year, else in the same year (DuckDB median = quantile_cont 0.5; NULLs do
        -- not count). Filling with 0 would make the indicator near-binary and give it
        -- ~0.26 of the entropy weight against the paper's 0.027.
        coalesce(
            sample.human_capital,
            median(sample.human_capital) over (partition by sample.industry_code, sample.fiscal_year),
            median(sample.human_capital) over (partition by sample.fiscal_year)
        )                                                                 as high_edu_share,
        cast(sample.human_capital is null as integer)                     as high_edu_imputed
    from sample
    left join firms
        on sample.stock_code = firms.stock_code

),

winsorized as (

    select
        stock_code,
        fiscal_year,
        province_code,
        region,
        industry_code,
        heavy_polluting,
        high_tech,

        {{ winsorize('ai') }}                                             as ai,
        {{ winsorize('ai_patent') }}                                      as ai_patent,
        ai_count,
        ai_patent_count,

        {{ winsorize('roa') }}                                            as roa,
        {{ winsorize('size') }}                                           as size,
        {{ winsorize('top1') }}                                           as top1,
        {{ winsorize('lev') }}                                            as lev,
        {{ winsorize('inde') }}                                           as inde,
        {{ winsorize('age') }}                                            as age,
        "both",
        {{ winsorize('green') }}                                          as green,
        {{ winsorize('sa_abs') }}                                         as sa_abs,
        -- Disclosed values only: the mechanism variable is not imputed (Table 8
        -- column 3 has N = 5,763).
        {{ winsorize('human_capital') }}                                  as human_capital,

        {{ winsorize('rd_salary_share') }}                                as rd_salary_share,
        {{ winsorize('rd_staff_share') }}                                 as rd_staff_share,
        {{ winsorize('high_edu_share') }}                                 as high_edu_share,
        high_edu_imputed,
        {{ winsorize('fixed_asset_share') }}                              as fixed_asset_share,
        {{ winsorize('manufacturing_cost_share') }}                       as manufacturing_cost_share,
        {{ winsorize('rd_depreciation_share') }}                          as rd_depreciation_share,
        {{ winsorize('rd_lease_share') }}                                 as rd_lease_share,
        {{ winsorize('rd_direct_input_share') }}                          as rd_direct_input_share,
        {{ winsorize('intangible_asset_share') }}                         as intangible_asset_share,
        {{ winsorize('asset_turnover') }}                                 as asset_turnover,
        {{ winsorize('inverse_equity_multiplier') }}                      as inverse_equity_multiplier,

        {{ winsorize('ln_output') }}                                      as ln_output,
        {{ winsorize('ln_capital') }}                                     as ln_capital,
        {{ winsorize('ln_labour') }}                                      as ln_labour,
        {{ winsorize('ln_intermediate') }}                                as ln_intermediate,

        vintage_id
    from imputed

)

-- ai_did needs the winsorized ai, and window functions cannot nest: hence this last
-- step. After ai_did come the remaining columns in the order of `winsorized`.
select
    stock_code,
    fiscal_year,
    province_code,
    region,
    industry_code,
    heavy_polluting,
    high_tech,
    ai,
    ai_patent,
    -- Treatment of the PSM analysis (Table 7): winsorized AI above its sample mean.
    cast(ai > avg(ai) over () as integer)                                 as ai_did,
    * exclude (
        stock_code, fiscal_year, province_code, region, industry_code, heavy_polluting, high_tech, ai, ai_patent
    )
from winsorized
