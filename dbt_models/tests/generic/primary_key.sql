{#- The columns are the model's key: together they identify each row, and none is NULL
    (jaffle-shop writes this as unique + not_null on its id columns; dbt_constraints calls it
    primary_key, which cannot be installed offline). One scan; each failing row names a key
    that is NULL in part or shared, and how many rows hold it. -#}
{% test primary_key(model, columns) %}
    {%- if columns is string or columns | length == 0 -%}
        {{ exceptions.raise_compiler_error("primary_key on " ~ model ~ ": `columns` must be a non-empty list") }}
    {%- endif %}
    {%- set key = columns | join(', ') %}
    select {{ key }}, count(*) as rows_with_this_key
    from {{ model }}
    group by {{ key }}
    having count(*) > 1
    {%- for column in columns %} or {{ column }} is null{% endfor %}
{% endtest %}
