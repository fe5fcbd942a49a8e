with source as (

    select * from {{ source('wind', 'financials') }}
    where vintage_id = {{ selected_vintage() }}

),

renamed as (

    select
        cast(stock_code as varchar)                  as stock_code,
        cast(fiscal_year as integer)                 as fiscal_year,
        cast(total_assets as double)                 as total_assets,
        cast(total_liabilities as double)            as total_liabilities,
        cast(total_equity as double)                 as total_equity,
        cast(net_profit as double)                   as net_profit,
        cast(operating_income as double)             as operating_income,
        cast(fixed_assets as double)                 as fixed_assets,
        cast(intangible_assets as double)            as intangible_assets,
        cast(operating_cash_outflows as double)      as operating_cash_outflows,
        cast(cash_paid_goods_services as double)     as cash_paid_goods_services,
        cast(cash_paid_employees as double)          as cash_paid_employees,
        cast(depreciation_fixed_assets as double)    as depreciation_fixed_assets,
        cast(amortization_intangibles as double)     as amortization_intangibles,
        cast(impairment_provisions as double)        as impairment_provisions,
        cast(rd_expense as double)                   as rd_expense,
        cast(rd_salaries as double)                  as rd_salaries,
        cast(rd_depreciation_amortization as double) as rd_depreciation_amortization,
        cast(rd_lease as double)                     as rd_lease,
        cast(rd_direct_inputs as double)             as rd_direct_inputs,
        cast(employees as integer)                   as employees,
        cast(rd_staff as integer)                    as rd_staff,
        cast(bachelor_staff as integer)              as bachelor_staff,
        vintage_id,
        source_file,
        source_row

    from source

)

select * from renamed
