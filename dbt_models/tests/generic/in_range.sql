{#- Every non-NULL value lies in [min_value, max_value] (either bound may be omitted).
    NULLs pass: whether a column may be NULL is the not_null test's business. -#}
{% test in_range(model, column_name, min_value=none, max_value=none) %}
    {%- if min_value is none and max_value is none -%}
        {{ exceptions.raise_compiler_error("in_range on " ~ column_name ~ ": give min_value, max_value or both") }}
    {%- endif -%}
    select {{ column_name }}
    from {{ model }}
    where {{ column_name }} is not null
      and (
        false
        {%- if min_value is not none %} or {{ column_name }} < {{ min_value }}{% endif %}
        {%- if max_value is not none %} or {{ column_name }} > {{ max_value }}{% endif %}
      )
{% endtest %}
