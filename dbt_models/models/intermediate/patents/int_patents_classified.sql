-- One row per patent application with its classification flags:
--   is_ai_keyword  title or abstract contains a term of the AI keyword dictionary
--                  (the paper's AI measure, after Yao et al. 2024);
--   is_ai_ipc      one of its IPC codes starts with an AI prefix of the CNIPA
--                  strategic-emerging-industries/IPC reference table (AI_Patent);
--   is_green       one of its IPC codes starts with a WIPO IPC Green Inventory prefix;
--   is_independent exactly one applicant (filed without co-applicants).
-- Prefixes carry their own boundary ('G06F 18/' does not match 'G06F 1/16').

{%- set ai_keyword_pattern = keyword_pattern(ref('ai_keywords'), 'keyword_zh') %}

with patents as (

    select
        application_number,
        application_date,
        patent_type,
        title,
        abstract,
        ipc_codes,
        len({{ split_list('applicants') }}) as applicant_count
    from {{ ref('stg_cnipa__patents') }}

),

ipc_codes as (

    select application_number, unnest({{ split_list('ipc_codes') }}) as ipc_code
    from patents

),

ipc_prefixes as (

    select ipc_prefix, 'ai' as prefix_kind from {{ ref('ai_ipc_groups') }}
    union all
    select ipc_prefix, 'green' as prefix_kind from {{ ref('green_ipc_codes') }}

),

-- Every prefix begins with its four-character subclass (seed test
-- well_formed_ipc_prefix), so an equi-join on the subclass narrows the candidates
-- before the prefix test instead of testing every code against every prefix.
ipc_matches as (

    select
        ipc_codes.application_number,
        bool_or(ipc_prefixes.prefix_kind = 'ai')    as is_ai_ipc,
        bool_or(ipc_prefixes.prefix_kind = 'green') as is_green
    from ipc_codes
    inner join ipc_prefixes
        on left(ipc_codes.ipc_code, 4) = left(ipc_prefixes.ipc_prefix, 4)
        and starts_with(ipc_codes.ipc_code, ipc_prefixes.ipc_prefix)
    group by ipc_codes.application_number

)

select
    patents.application_number,
    patents.application_date,
    cast(year(patents.application_date) as integer)      as application_year,
    patents.patent_type,
    -- Title and abstract are matched separately so that a keyword can never be formed
    -- across the end of the title and the start of the abstract.
    coalesce(
        regexp_matches(patents.title, {{ ai_keyword_pattern }})
        or regexp_matches(patents.abstract, {{ ai_keyword_pattern }}),
        false
    )                                                     as is_ai_keyword,
    coalesce(ipc_matches.is_ai_ipc, false)                as is_ai_ipc,
    coalesce(ipc_matches.is_green, false)                 as is_green,
    patents.applicant_count,
    patents.applicant_count = 1                           as is_independent
from patents
left join ipc_matches
    on patents.application_number = ipc_matches.application_number
