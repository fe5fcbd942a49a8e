-- The single regex built from the AI dictionary (macros/keyword_pattern.sql) classifies
-- patents exactly as plain substring tests against every keyword would. Checked on a
-- deterministic 1-in-50 sample of applications: the full contains() join is the slow
-- path the regex replaces.
with sampled as (

    select application_number, title, abstract
    from {{ ref('stg_cnipa__patents') }}
    where hash(application_number) % 50 = 0

),

by_substring as (

    select
        sampled.application_number,
        exists (
            select 1
            from {{ ref('ai_keywords') }} as keywords
            where trim(keywords.keyword_zh) <> ''
              and (
                contains(sampled.title, trim(keywords.keyword_zh))
                or contains(sampled.abstract, trim(keywords.keyword_zh))
              )
        ) as is_ai_keyword
    from sampled

)

select
    by_substring.application_number,
    by_substring.is_ai_keyword as by_substring,
    classified.is_ai_keyword   as by_regex
from by_substring
inner join {{ ref('int_patents_classified') }} as classified
    on by_substring.application_number = classified.application_number
where by_substring.is_ai_keyword <> classified.is_ai_keyword
