{#- A combination of columns identifies at most one row (dbt_utils'
    unique_combination_of_columns, which cannot be installed offline). Rows where any of
    the columns is NULL are counted too: a NULL key part is a defect the not_null tests
    report separately. -#}
{% test unique_combination(model, combination_of_columns) %}
    {%- set columns = combination_of_columns | join(', ') -%}
    select {{ columns }}, count(*) as rows_with_this_key
    from {{ model }}
    group by {{ columns }}
    having count(*) > 1
{% endtest %}
