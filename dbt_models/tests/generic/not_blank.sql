{#- No value is empty or whitespace only. Matters for dictionaries matched as
    substrings: contains(text, '') is true for every text. -#}
{% test not_blank(model, column_name) %}
    select {{ column_name }}
    from {{ model }}
    where trim({{ column_name }}) = ''
{% endtest %}
