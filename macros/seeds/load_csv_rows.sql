{#-
    dbt-spark's seed loader on Spark, picked up through the `dispatch` setting in
    dbt_project.yml. dbt-spark's own sends the values as bindings, and its session method
    pastes them into the SQL unescaped: a quote in a cell ("Can't Lose Them") breaks the insert,
    an empty cell becomes the text 'None', a `%` in a cell breaks the formatting. Here every
    value is written as an escaped literal (NULL for an empty cell) and no bindings are sent.
-#}
{% macro spark__load_csv_rows(model, agate_table) %}
    {%- set column_override = model["config"].get("column_types", {}) -%}
    {%- set types = [] -%}
    {%- for column_name in agate_table.column_names -%}
        {%- do types.append(column_override.get(
            column_name, adapter.convert_type(agate_table, loop.index0))) -%}
    {%- endfor -%}
    {%- set statements = [] -%}
    {%- for chunk in agate_table.rows | batch(get_batch_size()) -%}
        {%- set rows_sql = [] -%}
        {%- for row in chunk -%}
            {%- set values_sql = [] -%}
            {%- for value in row -%}
                {%- if value is none -%}
                    {%- set literal = "null" -%}
                {%- elif value is sameas true or value is sameas false -%}
                    {%- set literal = (value | string | lower) -%}
                {%- elif value is number -%}
                    {%- set literal = value | string -%}
                {%- else -%}
                    {#- text, and dates as ISO text: the cast below types them -#}
                    {%- set literal = string_literal(value.isoformat() if value.isoformat is defined else value) -%}
                {%- endif -%}
                {%- do values_sql.append("cast(" ~ literal ~ " as " ~ types[loop.index0] ~ ")") -%}
            {%- endfor -%}
            {%- do rows_sql.append("(" ~ (values_sql | join(", ")) ~ ")") -%}
        {%- endfor -%}
        {%- set sql = "insert into " ~ this.render() ~ " values\n" ~ (rows_sql | join(",\n")) -%}
        {%- do adapter.add_query(sql, abridge_sql_log=True) -%}
        {%- do statements.append(sql) -%}
    {%- endfor -%}
    {#- The first insert is what dbt writes as the seed's compiled SQL. -#}
    {{ return(statements[0] if statements else "") }}
{% endmacro %}
