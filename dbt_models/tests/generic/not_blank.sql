{#- Every value is present and not empty or whitespace only: NULL fails too, so a
    dictionary column needs no separate not_null test. Matters for dictionaries matched
    as substrings: contains(text, '') is true for every text. -#}
{% test not_blank(model, column_name) %}
    select {{ column_name }}
    from {{ model }}
    where {{ column_name }} is null or trim({{ column_name }}) = ''
{% endtest %}
