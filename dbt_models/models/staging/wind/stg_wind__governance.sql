with source as (

    select * from {{ source('wind', 'governance') }}
    where vintage_id = {{ selected_vintage() }}

),

renamed as (

    select
        cast(stock_code as varchar)            as stock_code,
        cast(fiscal_year as integer)           as fiscal_year,
        cast(top1_share_pct as double)         as top1_share_pct,
        cast(board_size as integer)            as board_size,
        cast(independent_directors as integer) as independent_directors,
        cast(chair_ceo_duality as boolean)     as is_chair_ceo_duality,
        vintage_id,
        source_file,
        source_row

    from source

)

select * from renamed
