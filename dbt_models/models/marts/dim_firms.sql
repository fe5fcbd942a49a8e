-- One row per listed firm of the vintage with its location and industry attributes.
-- is_manufacturing / is_financial use the same rule as the sample filter; the seed's
-- own flags are checked against it (tests/assert_industry_seed_flags_match_rule.sql).

with firms as (

    select * from {{ ref('stg_wind__firms') }}

),

provinces as (

    select gb_code, name_zh, name_en, region from {{ ref('provinces') }}

),

industries as (

    select industry_code, name_en, heavy_polluting, high_tech from {{ ref('csrc_industries') }}

)

select
    firms.stock_code,
    firms.firm_name,
    firms.province_code,
    provinces.name_zh                                           as province_name_zh,
    provinces.name_en                                           as province_name_en,
    provinces.region,
    firms.industry_code,
    industries.name_en                                          as industry_name_en,
    industries.heavy_polluting,
    industries.high_tech,
    {{ is_manufacturing_industry('firms.industry_code') }}      as is_manufacturing,
    {{ is_financial_industry('firms.industry_code') }}          as is_financial,
    firms.incorporation_date,
    firms.listing_date,
    firms.delisting_date,
    firms.vintage_id
from firms
left join provinces
    on firms.province_code = provinces.gb_code
left join industries
    on firms.industry_code = industries.industry_code
