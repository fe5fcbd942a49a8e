-- marts.fct_province_years holds exactly one row per province of the seed and sample
-- year (31 x 9 = 279 for 2015-2023); a different count comes back as one failing row.
-- It reads two models; the meta names the one Dagster attaches the asset check to.
{{ config(severity='error', meta={'dagster': {'ref': {'name': 'fct_province_years'}}}) }}

with expected as (

    select count(*) * ({{ var('sample_last_year') }} - {{ var('sample_first_year') }} + 1) as expected_rows
    from {{ ref('provinces') }}

),

actual as (

    select count(*) as actual_rows from {{ ref('fct_province_years') }}

)

select expected_rows, actual_rows
from expected cross join actual
where expected_rows <> actual_rows
