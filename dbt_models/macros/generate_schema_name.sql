{#- Custom schemas are used verbatim (seeds -> reference, staging -> staging, ...), not
    prefixed with the target schema as dbt does by default: the Python side of the
    warehouse addresses these schemas by their plain names. -#}
{% macro generate_schema_name(custom_schema_name, node) -%}
    {%- if custom_schema_name is none -%}
        {{ target.schema }}
    {%- else -%}
        {{ custom_schema_name | trim }}
    {%- endif -%}
{%- endmacro %}
