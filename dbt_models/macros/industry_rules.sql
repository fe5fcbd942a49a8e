{#- The sample's industry rules on a CSRC 2012 code ('C39'): manufacturing is sector C,
    divisions 13-43; financial is J66-J69 (banking, capital markets, insurance, other
    finance). One definition shared by the sample filter, dim_firms and the seed check. -#}
{% macro csrc_division(industry_code) -%}
    try_cast(substr({{ industry_code }}, 2, 2) as integer)
{%- endmacro %}

{% macro is_manufacturing_industry(industry_code) -%}
    coalesce(
        left({{ industry_code }}, 1) = 'C' and {{ csrc_division(industry_code) }} between 13 and 43,
        false
    )
{%- endmacro %}

{% macro is_financial_industry(industry_code) -%}
    coalesce(
        left({{ industry_code }}, 1) = 'J' and {{ csrc_division(industry_code) }} between 66 and 69,
        false
    )
{%- endmacro %}
