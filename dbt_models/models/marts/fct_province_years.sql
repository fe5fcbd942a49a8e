-- Province-year panel of Tables 11-14 (paper section 5.6): the firm-year analysis sample
-- aggregated to the 31 provinces x sample years. Every cell of the grid provinces x
-- [sample_first_year, sample_last_year] is a row, built by a LEFT join, so a
-- province-year without any sample firm appears with n_firms = 0 (and NULL means)
-- instead of silently vanishing; the test assert_every_province_year_has_firms then
-- fails the build, and the Python spatial assets refuse such a panel as well.
-- Aggregation: unweighted means over the province's sample firm-years (each firm counts
-- once, whatever its size), matching a province panel built by averaging listed firms.
-- Each mean adds its values in stock-code order: a plain avg() adds them in whatever order
-- DuckDB's threads deliver them, so the last bits of a mean (and, through the spatial ML
-- fits, Tables 13-14 at about 1e-8) changed from run to run on a loaded machine.

with grid as (

    select
        provinces.gb_code                                           as province_code,
        provinces.name_en                                           as province_name_en,
        provinces.name_zh                                           as province_name_zh,
        years.fiscal_year
    from {{ ref('provinces') }} as provinces
    cross join (
        select cast(range as integer) as fiscal_year
        from range({{ var('sample_first_year') }}, {{ var('sample_last_year') }} + 1)
    ) as years

),

firm_years as (

    select
        firm_years.province_code,
        firm_years.fiscal_year,
        firm_years.stock_code,
        npro.npro,
        firm_years.ai,
        firm_years.roa,
        firm_years.size,
        firm_years.top1,
        firm_years.lev,
        firm_years.inde,
        firm_years.age
    from {{ ref('fct_firm_years') }} as firm_years
    inner join {{ source('analysis', 'firm_year_npro') }} as npro
        on  npro.stock_code = firm_years.stock_code
        and npro.fiscal_year = firm_years.fiscal_year
        and npro.vintage_id = firm_years.vintage_id
    where firm_years.vintage_id = {{ selected_vintage() }}

),

aggregated as (

    select
        province_code,
        fiscal_year,
        count(*)                        as n_firms,
        avg(npro order by stock_code)   as npro,
        avg(ai order by stock_code)     as ai,
        avg(roa order by stock_code)    as roa,
        avg(size order by stock_code)   as size,
        avg(top1 order by stock_code)   as top1,
        avg(lev order by stock_code)    as lev,
        avg(inde order by stock_code)   as inde,
        avg(age order by stock_code)    as age
    from firm_years
    group by province_code, fiscal_year

)

select
    grid.province_code,
    grid.province_name_en,
    grid.province_name_zh,
    grid.fiscal_year,
    coalesce(aggregated.n_firms, 0)                                 as n_firms,
    aggregated.npro,
    aggregated.ai,
    aggregated.roa,
    aggregated.size,
    aggregated.top1,
    aggregated.lev,
    aggregated.inde,
    aggregated.age,
    {{ selected_vintage() }}                                        as vintage_id
from grid
left join aggregated
    on  aggregated.province_code = grid.province_code
    and aggregated.fiscal_year = grid.fiscal_year
order by grid.province_code, grid.fiscal_year
