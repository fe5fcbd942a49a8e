-- One row per patent application and listed firm among its applicants. A firm files
-- through its own name or a subsidiary's; when several applicants of one patent belong
-- to the same firm (parent plus subsidiary) the patent still counts once for that firm,
-- and a joint filing by two listed firms counts once for each of them.

with patents as (

    select application_number, applicants
    from {{ ref('stg_cnipa__patents') }}

),

applicant_names as (

    select
        application_number,
        unnest({{ split_list('applicants') }}) as applicant_name
    from patents

),

applicant_firm_links as (

    select distinct trim(applicant_name) as applicant_name, stock_code, relation
    from {{ ref('stg_cnipa__applicant_firm_links') }}

),

matched as (

    select
        applicant_names.application_number,
        applicant_firm_links.stock_code,
        applicant_firm_links.applicant_name,
        applicant_firm_links.relation
    from applicant_names
    inner join applicant_firm_links
        on applicant_names.applicant_name = applicant_firm_links.applicant_name

)

select
    application_number,
    stock_code,
    count(distinct applicant_name)                           as matched_applicant_count,
    string_agg(distinct applicant_name, ';' order by applicant_name) as matched_applicants,
    bool_or(relation = 'parent')                             as filed_by_parent,
    bool_or(relation = 'subsidiary')                         as filed_by_subsidiary
from matched
group by application_number, stock_code
