-- The analysis sample: one row per firm-year passing every rule of
-- int_firm_years_filtered. Continuous variables are winsorized at the pooled 1st and
-- 99th percentiles of this sample (paper, section 4.3.1); the log counts ai,
-- ai_patent and green, the dummies and the raw counts are not (docs/transformations.md).

with sample as (

    select * from {{ ref('int_firm_years_filtered') }}
    where is_in_sample

),

firms as (

    select stock_code, province_code, region, industry_code, heavy_polluting, high_tech
    from {{ ref('dim_firms') }}

)

select
    sample.stock_code,
    sample.fiscal_year,
    firms.province_code,
    firms.region,
    firms.industry_code,
    firms.heavy_polluting,
    firms.high_tech,

    sample.ai,
    sample.ai_patent,
    -- Treatment of the PSM analysis (Table 7): AI above its sample mean.
    cast(sample.ai > avg(sample.ai) over () as integer)             as ai_did,
    sample.ai_count,
    sample.ai_patent_count,

    {{ winsorize('sample.roa') }}                                   as roa,
    {{ winsorize('sample.size') }}                                  as size,
    {{ winsorize('sample.top1') }}                                  as top1,
    {{ winsorize('sample.lev') }}                                   as lev,
    {{ winsorize('sample.inde') }}                                  as inde,
    {{ winsorize('sample.age') }}                                   as age,
    sample.both,
    sample.green,
    {{ winsorize('sample.sa_abs') }}                                as sa_abs,
    {{ winsorize('sample.human_capital') }}                         as human_capital,

    {{ winsorize('sample.rd_salary_share') }}                       as rd_salary_share,
    {{ winsorize('sample.rd_staff_share') }}                        as rd_staff_share,
    {{ winsorize('sample.high_edu_share') }}                        as high_edu_share,
    {{ winsorize('sample.fixed_asset_share') }}                     as fixed_asset_share,
    {{ winsorize('sample.manufacturing_cost_share') }}              as manufacturing_cost_share,
    {{ winsorize('sample.rd_depreciation_share') }}                 as rd_depreciation_share,
    {{ winsorize('sample.rd_lease_share') }}                        as rd_lease_share,
    {{ winsorize('sample.rd_direct_input_share') }}                 as rd_direct_input_share,
    {{ winsorize('sample.intangible_asset_share') }}                as intangible_asset_share,
    {{ winsorize('sample.asset_turnover') }}                        as asset_turnover,
    {{ winsorize('sample.inverse_equity_multiplier') }}             as inverse_equity_multiplier,

    {{ winsorize('sample.ln_output') }}                             as ln_output,
    {{ winsorize('sample.ln_capital') }}                            as ln_capital,
    {{ winsorize('sample.ln_labour') }}                             as ln_labour,
    {{ winsorize('sample.ln_intermediate') }}                       as ln_intermediate,

    sample.vintage_id
from sample
left join firms
    on sample.stock_code = firms.stock_code
