{#- The column was clipped at the pooled quantiles of its unwinsorized values: its
    minimum equals the lower quantile and its maximum the upper one. (Clipping at the
    quantile q of x makes min = max(min(x), q) = q, since q >= min(x); likewise for the
    maximum.) The quantiles are recomputed here with an ordinary aggregate, independently
    of the window expression in the winsorize macro. -#}
{% test winsorized_at_pooled_quantiles(model, column_name, unwinsorized, sample_condition='true', lower=0.01, upper=0.99) %}
    with bounds as (
        select
            quantile_cont({{ column_name }}, {{ lower }}) as lower_bound,
            quantile_cont({{ column_name }}, {{ upper }}) as upper_bound
        from {{ unwinsorized }}
        where {{ sample_condition }}
    ),

    winsorized as (
        select min({{ column_name }}) as min_value, max({{ column_name }}) as max_value
        from {{ model }}
    )

    select *
    from winsorized cross join bounds
    where min_value is distinct from lower_bound
       or max_value is distinct from upper_bound
{% endtest %}
