with source as (

    select * from {{ source('cnipa', 'applicant_firm_map') }}
    where vintage_id = {{ selected_vintage() }}

),

renamed as (

    select
        cast(applicant_name as varchar) as applicant_name,
        cast(stock_code as varchar)     as stock_code,
        cast(relation as varchar)       as relation,
        vintage_id,
        source_file,
        source_row

    from source

)

select * from renamed
