-- Fails (severity error) for every province-year of marts.fct_province_years without a
-- single sample firm: the spatial tables need a balanced 31 x T panel, and a mean over
-- no firm is not a number to estimate with. Each failing row names the province-year.
{{ config(severity='error') }}

select province_code, province_name_en, fiscal_year, n_firms
from {{ ref('fct_province_years') }}
where n_firms = 0
