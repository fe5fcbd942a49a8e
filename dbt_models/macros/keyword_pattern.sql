{#- One regular expression matching any keyword of a dictionary table, as a SQL string
    literal ('深度学习|神经网络|...'), read from the table when the model runs.

    Why not a join: matching ~1 million patent texts against the dictionary with a
    contains() join costs one pass over every text per keyword (20-37 s at scale 1
    on 2 cores), one RE2 alternation costs one pass (2 s). DuckDB compiles a regex
    once only when the pattern is a constant, hence the literal rather than a
    subquery (a string_agg subquery as pattern took 573 s). Keywords are regex-escaped
    so they match as plain substrings. Unit tests override this macro. -#}
{% macro keyword_pattern(dictionary, column) -%}
    {%- if not execute -%}
        {{ return("''") }}
    {%- endif -%}
    {%- set query -%}
        select distinct trim({{ column }}) as keyword
        from {{ dictionary }}
        where trim({{ column }}) <> ''
        order by keyword
    {%- endset -%}
    {%- set keywords = run_query(query).columns[0].values() -%}
    {%- if keywords | length == 0 -%}
        {{ exceptions.raise_compiler_error(
            "keyword_pattern: " ~ dictionary ~ "." ~ column ~ " holds no keyword; an empty pattern would match every text"
        ) }}
    {%- endif -%}
    {%- set escaped = [] -%}
    {%- for keyword in keywords -%}
        {%- do escaped.append(modules.re.escape(keyword)) -%}
    {%- endfor -%}
    '{{ escaped | join("|") | replace("'", "''") }}'
{%- endmacro %}
