{#- DuckDB returns inf for x/0 and -inf/nan for ln of zero/negatives instead of NULL or
    an error; a ratio or log that is undefined must be NULL so that the sample filter
    on missing model variables sees it. -#}
{% macro safe_divide(numerator, denominator) -%}
    (cast({{ numerator }} as double) / nullif(cast({{ denominator }} as double), 0))
{%- endmacro %}

{% macro safe_ln(value) -%}
    (case when cast({{ value }} as double) > 0 then ln(cast({{ value }} as double)) end)
{%- endmacro %}
