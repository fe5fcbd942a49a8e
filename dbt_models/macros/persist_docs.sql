{#- persist_docs for this project: the model's own YAML descriptions, and for every column
    its YAML leaves undescribed, the DuckDB comment of the same-named column of an
    upstream relation (sources and refs, in dependency order of dbt's graph).

    Why: staging columns are typed copies of raw columns, whose comments are written from
    nqp_core/contract.py by the ingest step, and intermediate models pass many
    columns through unchanged. Inheriting the upstream comment keeps one source of each
    description instead of copying it into every model's YAML. dbt builds parents first,
    so an inherited comment is itself already in place upstream. Columns computed by a
    model must be described in its YAML; tests/e2e/test_pipeline.py fails on any column
    left without a comment. Inherited comments exist in the warehouse only, not in the
    dbt manifest (dbt has no description inheritance). -#}
{% macro duckdb__persist_docs(relation, model, for_relation, for_columns) -%}
  {%- if for_relation and config.persist_relation_docs() and model.description -%}
    {%- do run_query(alter_relation_comment(relation, model.description)) -%}
  {%- endif -%}
  {%- if for_columns and config.persist_column_docs() -%}
    {%- set columns = {} -%}
    {%- for name, column in inherited_column_descriptions(relation, model).items() -%}
      {%- do columns.update({name: {'description': column, 'quote': true}}) -%}
    {%- endfor -%}
    {%- for name, column in model.columns.items() if column.description -%}
      {%- do columns.update({name: column}) -%}
    {%- endfor -%}
    {%- if columns -%}
      {%- do run_query(alter_column_comment(relation, columns)) -%}
    {%- endif -%}
  {%- endif -%}
{%- endmacro %}


{#- {column name: comment} of the same-named columns of the model's direct parents. -#}
{% macro inherited_column_descriptions(relation, model) -%}
  {%- set parents = [] -%}
  {%- for unique_id in model.depends_on.nodes -%}
    {%- set parent = graph.sources.get(unique_id) or graph.nodes.get(unique_id) -%}
    {%- if parent and parent.resource_type in ('source', 'model', 'seed') -%}
      {%- do parents.append("('" ~ parent.schema ~ "', '" ~ (parent.identifier or parent.alias) ~ "')") -%}
    {%- endif -%}
  {%- endfor -%}
  {%- set inherited = {} -%}
  {%- if parents -%}
    {%- set query -%}
      select mine.column_name, min(upstream.comment) as comment
      from duckdb_columns() as mine
      join duckdb_columns() as upstream using (column_name)
      where mine.database_name = current_database()
        and mine.schema_name = '{{ relation.schema }}' and mine.table_name = '{{ relation.identifier }}'
        and upstream.database_name = current_database()
        and (upstream.schema_name, upstream.table_name) in ({{ parents | join(', ') }})
        and upstream.comment is not null and trim(upstream.comment) <> ''
      group by mine.column_name
    {%- endset -%}
    {%- for row in run_query(query).rows -%}
      {%- do inherited.update({row[0]: row[1]}) -%}
    {%- endfor -%}
  {%- endif -%}
  {{ return(inherited) }}
{%- endmacro %}
