with source as (

    select * from {{ source('wind', 'firms') }}
    where vintage_id = {{ selected_vintage() }}

),

renamed as (

    select
        cast(stock_code as varchar)      as stock_code,
        cast(firm_name as varchar)       as firm_name,
        cast(province_code as varchar)   as province_code,
        cast(industry_code as varchar)   as industry_code,
        cast(incorporation_date as date) as incorporation_date,
        cast(listing_date as date)       as listing_date,
        cast(delisting_date as date)     as delisting_date,
        vintage_id,
        source_file,
        source_row

    from source

)

select * from renamed
