{#- An IPC prefix is a subclass ('G06N'), optionally followed by a space, a main group
    and a '/' with a possibly partial subgroup ('G06F 18/', 'B25J 9/16', 'C10L 5/4').
    A main group without its '/' ('G06F 18') would also match 'G06F 180/..', and a
    missing space would match nothing in codes written 'G06N 3/08'. NULL is not a
    prefix and fails too, so the column needs no separate not_null test. -#}
{% test well_formed_ipc_prefix(model, column_name) %}
    select {{ column_name }}
    from {{ model }}
    where {{ column_name }} is null
       or not regexp_full_match({{ column_name }}, '[A-H][0-9]{2}[A-Z]( [0-9]{1,4}/[0-9]{0,6})?')
{% endtest %}
