-- The one wide analysis panel a researcher exports: every column of the firm-year
-- sample (marts.fct_firm_years) with the Python-computed Npro, Levinsohn-Petrin TFP and
-- the propensity-score matching flags of the same vintage, one row per firm-year.
-- A view: it holds no data of its own, so it can never disagree with the tables it joins.
-- TFP is missing where the LP estimator had no row (first year of a firm, missing inputs);
-- the PSM columns are missing where the firm-year was not in the matching sample.
{{ config(materialized='view') }}

select
    firm_years.*,
    npro.npro,
    tfp.tfp_lp,
    psm.treated                                                     as psm_treated,
    psm.propensity_score                                            as psm_propensity_score,
    psm.on_support                                                  as psm_on_support,
    psm.match_weight                                                as psm_match_weight,
    coalesce(psm.match_weight > 0, false)                           as psm_matched,
    npro.is_synthetic
from {{ ref('fct_firm_years') }} as firm_years
inner join {{ source('analysis', 'firm_year_npro') }} as npro
    on  npro.stock_code = firm_years.stock_code
    and npro.fiscal_year = firm_years.fiscal_year
    and npro.vintage_id = firm_years.vintage_id
left join {{ source('analysis', 'firm_year_tfp') }} as tfp
    on  tfp.stock_code = firm_years.stock_code
    and tfp.fiscal_year = firm_years.fiscal_year
    and tfp.vintage_id = firm_years.vintage_id
left join {{ source('analysis', 'psm_matched') }} as psm
    on  psm.stock_code = firm_years.stock_code
    and psm.fiscal_year = firm_years.fiscal_year
    and psm.vintage_id = firm_years.vintage_id
where firm_years.vintage_id = {{ selected_vintage() }}
