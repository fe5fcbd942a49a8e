{#- The distinct, trimmed, non-empty items of a delimited text field ('A公司; B大学;'
    -> ['A公司', 'B大学']). Used for patent applicants and IPC codes so that a stray
    space, a trailing separator or a repeated name never creates a phantom item. -#}
{% macro split_list(column, separator=';') -%}
    list_distinct(list_filter(
        list_transform(string_split({{ column }}, '{{ separator }}'), lambda item: trim(item)),
        lambda item: item <> ''
    ))
{%- endmacro %}
