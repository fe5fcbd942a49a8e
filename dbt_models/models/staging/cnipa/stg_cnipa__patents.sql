with source as (

    select * from {{ source('cnipa', 'patents') }}
    where vintage_id = {{ selected_vintage() }}

),

renamed as (

    select
        cast(application_number as varchar) as application_number,
        cast(application_date as date)      as application_date,
        cast(patent_type as varchar)        as patent_type,
        cast(title as varchar)              as title,
        cast(abstract as varchar)           as abstract,
        cast(main_ipc as varchar)           as main_ipc,
        cast(ipc_codes as varchar)          as ipc_codes,
        cast(applicants as varchar)         as applicants,
        vintage_id,
        source_file,
        source_row

    from source

)

select * from renamed
