{#- Each listed column was clipped at the pooled quantiles of its unwinsorized values:
    its minimum equals the lower quantile and its maximum the upper one. (Clipping at
    the quantile q of x makes min = max(min(x), q) = q, since q >= min(x); likewise for
    the maximum.) The quantiles are recomputed with ordinary aggregates over the
    unwinsorized relation, independently of the window expression in the winsorize
    macro. One scan of each relation checks every column; a failing column comes back
    as one row with its observed extremes and the expected bounds. -#}
{% test winsorized_at_pooled_quantiles(model, columns, unwinsorized, sample_condition='true', lower=0.01, upper=0.99) %}
    {%- if columns is string or columns | length == 0 -%}
        {{ exceptions.raise_compiler_error("winsorized_at_pooled_quantiles on " ~ model ~ ": `columns` must be a non-empty list") }}
    {%- endif %}
    with bounds as (
        select
        {%- for column in columns %}
            quantile_cont("{{ column }}", {{ lower }}) as "{{ column }}__lower",
            quantile_cont("{{ column }}", {{ upper }}) as "{{ column }}__upper"{% if not loop.last %},{% endif %}
        {%- endfor %}
        from {{ unwinsorized }}
        where {{ sample_condition }}
    ),

    observed as (
        select
        {%- for column in columns %}
            min("{{ column }}") as "{{ column }}__min",
            max("{{ column }}") as "{{ column }}__max"{% if not loop.last %},{% endif %}
        {%- endfor %}
        from {{ model }}
    ),

    compared as (
        {%- for column in columns %}
        select
            '{{ column }}'             as column_name,
            "{{ column }}__min"        as min_value,
            "{{ column }}__lower"      as lower_bound,
            "{{ column }}__max"        as max_value,
            "{{ column }}__upper"      as upper_bound
        from bounds cross join observed
        {% if not loop.last %}union all{% endif %}
        {%- endfor %}
    )

    select *
    from compared
    where min_value is distinct from lower_bound
       or max_value is distinct from upper_bound
{% endtest %}
