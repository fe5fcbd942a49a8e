{#- None of the listed columns holds a NULL. One scan of the model checks every column;
    a failing column comes back as one row with its count of NULLs. -#}
{% test not_null_columns(model, columns) %}
    {%- if columns is string or columns | length == 0 -%}
        {{ exceptions.raise_compiler_error("not_null_columns on " ~ model ~ ": `columns` must be a non-empty list") }}
    {%- endif %}
    with null_counts as (
        select
        {%- for column in columns %}
            count(*) filter (where "{{ column }}" is null) as "{{ column }}"{% if not loop.last %},{% endif %}
        {%- endfor %}
        from {{ model }}
    )

    select column_name, null_rows
    from (unpivot null_counts on columns(*) into name column_name value null_rows)
    where null_rows > 0
{% endtest %}
