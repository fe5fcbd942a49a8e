{#- Each listed column on its own identifies at most one row (NULLs aside, as in dbt's
    built-in unique test). One scan of the model checks every column; a failing column
    comes back as one row with the number of surplus rows sharing a value. -#}
{% test unique_columns(model, columns) %}
    {%- if columns is string or columns | length == 0 -%}
        {{ exceptions.raise_compiler_error("unique_columns on " ~ model ~ ": `columns` must be a non-empty list") }}
    {%- endif %}
    with surplus_counts as (
        select
        {%- for column in columns %}
            count("{{ column }}") - count(distinct "{{ column }}") as "{{ column }}"{% if not loop.last %},{% endif %}
        {%- endfor %}
        from {{ model }}
    )

    select column_name, duplicate_rows
    from (unpivot surplus_counts on columns(*) into name column_name value duplicate_rows)
    where duplicate_rows > 0
{% endtest %}
