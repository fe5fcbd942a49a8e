with source as (

    select * from {{ source('wind', 'firm_status') }}
    where vintage_id = {{ selected_vintage() }}

),

renamed as (

    select
        cast(stock_code as varchar)     as stock_code,
        cast(fiscal_year as integer)    as fiscal_year,
        cast(trading_status as varchar) as trading_status,
        cast(suspended as boolean)      as is_suspended,
        vintage_id,
        source_file,
        source_row

    from source

)

select * from renamed
