{#- Clip a column to its pooled [lower, upper] quantiles, as a window expression over
    the rows of the query it is used in (optionally per partition).

    Quantiles are DuckDB quantile_cont: linear interpolation between order statistics,
    Hyndman-Fan type 7 (numpy's default, R's default). Stata's winsor2 calls _pctile,
    whose default is type 2 (inverse empirical cdf, averaging at discontinuities); the
    two bounds differ by less than the gap between adjacent order statistics in the
    tails. docs/transformations.md quantifies the difference on a full-size vintage.

    NULL stays NULL (both comparisons are unknown, so the CASE returns the column):
    least()/greatest() would not do, as DuckDB's greatest() skips NULL arguments and
    would turn a missing value into the lower bound. -#}
{% macro winsorize(column, lower=0.01, upper=0.99, partition_by=none) -%}
    {%- if not (0 <= lower < upper <= 1) -%}
        {{ exceptions.raise_compiler_error(
            "winsorize(" ~ column ~ "): need 0 <= lower < upper <= 1, got lower=" ~ lower ~ ", upper=" ~ upper
        ) }}
    {%- endif -%}
    {%- set window -%}
        over ({% if partition_by is not none %}partition by {{ partition_by }}{% endif %})
    {%- endset -%}
    (case
        when {{ column }} < quantile_cont({{ column }}, {{ lower }}) {{ window }}
            then quantile_cont({{ column }}, {{ lower }}) {{ window }}
        when {{ column }} > quantile_cont({{ column }}, {{ upper }}) {{ window }}
            then quantile_cont({{ column }}, {{ upper }}) {{ window }}
        else {{ column }}
    end)
{%- endmacro %}
