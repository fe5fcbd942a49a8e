{#- The raw vintage this build reads, as a quoted SQL literal. raw keeps every vintage
    side by side (append-only), so a build without an explicit vintage would be
    ambiguous: refuse it. At parse time (dbt parse, the Dagster manifest) vars are not
    bound, hence the `execute` guard. -#}
{% macro selected_vintage() -%}
    {%- set vintage_id = var('vintage_id', none) -%}
    {%- if execute and (vintage_id is none or (vintage_id | string | trim) == '') -%}
        {{ exceptions.raise_compiler_error(
            "The dbt var 'vintage_id' is required: it names the raw vintage to build, e.g. "
            ~ "dbt build --project-dir dbt_models --profiles-dir dbt_models --vars '{vintage_id: \"2024-06\"}' "
            ~ "(loaded vintages are listed in raw.vintages)."
        ) }}
    {%- endif -%}
    '{{ vintage_id | string | trim | replace("'", "''") }}'
{%- endmacro %}
