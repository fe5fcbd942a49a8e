{#- Every non-NULL value of each listed column lies in its [min, max]. `ranges` maps a
    column to [min, max]; either bound may be null (open). One scan of the model checks
    every column; a failing column comes back as one row with the count of values out
    of range. NULLs pass: whether a column may be NULL is not_null_columns' business.
    Integer flags are checked with [0, 1], which for an integer column is exactly
    "0 or 1". -#}
{% test in_range(model, ranges) %}
    {%- if ranges is not mapping or ranges | length == 0 -%}
        {{ exceptions.raise_compiler_error("in_range on " ~ model ~ ": `ranges` must map columns to [min, max]") }}
    {%- endif -%}
    {%- for column, bounds in ranges.items() -%}
        {%- if bounds is string or bounds | length != 2 or (bounds[0] is none and bounds[1] is none) -%}
            {{ exceptions.raise_compiler_error(
                "in_range on " ~ model ~ "." ~ column ~ ": give [min, max] with at least one bound, got " ~ bounds
            ) }}
        {%- endif -%}
    {%- endfor %}
    with out_of_range as (
        select
        {%- for column, bounds in ranges.items() %}
            count(*) filter (
                where false
                {%- if bounds[0] is not none %} or "{{ column }}" < {{ bounds[0] }}{% endif %}
                {%- if bounds[1] is not none %} or "{{ column }}" > {{ bounds[1] }}{% endif %}
            ) as "{{ column }}"{% if not loop.last %},{% endif %}
        {%- endfor %}
        from {{ model }}
    )

    select column_name, rows_out_of_range
    from (unpivot out_of_range on columns(*) into name column_name value rows_out_of_range)
    where rows_out_of_range > 0
{% endtest %}
