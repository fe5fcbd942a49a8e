-- Patent applications per listed firm and application year (firm-years without any
-- application are absent; the ratios model fills them with zero). Counts are of
-- applications, by application date, as in the paper.

with firm_patents as (

    select
        matched.stock_code,
        classified.application_year,
        classified.patent_type,
        classified.is_ai_keyword,
        classified.is_ai_ipc,
        classified.is_green,
        classified.is_independent
    from {{ ref('int_patent_applicants_matched') }} as matched
    inner join {{ ref('int_patents_classified') }} as classified
        on matched.application_number = classified.application_number

)

select
    stock_code,
    application_year                                      as fiscal_year,
    count(*)                                              as patent_count,
    count(*) filter (where is_ai_keyword)                 as ai_count,
    count(*) filter (where is_ai_ipc)                     as ai_patent_count,
    -- Green innovation (Table 8): green invention and green utility-model applications
    -- filed independently; design patents carry no technical IPC content.
    count(*) filter (
        where is_green and is_independent and patent_type = 'invention'
    )                                                     as green_invention_count,
    count(*) filter (
        where is_green and is_independent and patent_type = 'utility_model'
    )                                                     as green_utility_model_count,
    count(*) filter (
        where is_green and is_independent and patent_type in ('invention', 'utility_model')
    )                                                     as green_count
from firm_patents
group by stock_code, application_year
