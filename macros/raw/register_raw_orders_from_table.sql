{#
    The raw source from a table that a loading tool fills (the var raw_orders_table,
    `schema.table` or `database.schema.table`), on any engine: the same checks of the columns
    as for a file, then the view the `online_retail.order_lines` source points at, with the
    Kaggle column names, text values and the table's line number column
    (raw_orders_row_number_column) as raw_row_number. Nothing is copied.
#}
{% macro register_raw_orders_from_table() %}
    {%- set name = var("raw_orders_table") | string | trim -%}
    {%- set parts = name.split(".") -%}
    {%- if parts | length not in (2, 3) -%}
        {%- do exceptions.raise_compiler_error(
            "The dbt var raw_orders_table must be schema.table or database.schema.table; got: "
            ~ (name | truncate(80, true, "..."))) -%}
    {%- endif -%}
    {#- Spark has no database level: target.database is undefined there. -#}
    {%- set database = target.database or none -%}
    {%- set table = adapter.get_relation(
        database=(parts[0] if parts | length == 3 else database),
        schema=parts[-2], identifier=parts[-1]) -%}
    {%- if table is none -%}
        {%- do exceptions.raise_compiler_error(
            "Raw orders table not found: " ~ name ~ " (the dbt var raw_orders_table). Unset it "
            ~ "to read the file raw_orders_path instead.") -%}
    {%- endif -%}
    {%- set table_columns = adapter.get_columns_in_relation(table) | map(attribute="name") | list -%}
    {%- set row_number_column = var("raw_orders_row_number_column") | string | trim -%}
    {%- set found = table_columns | select("equalto", row_number_column) | list -%}
    {%- if not found -%}
        {%- set found = table_columns | map("lower") | select("equalto", row_number_column | lower) | list -%}
    {%- endif -%}
    {%- if not found -%}
        {%- do exceptions.raise_compiler_error(
            "Raw orders table " ~ name ~ " has no line number column " ~ row_number_column
            ~ " (the dbt var raw_orders_row_number_column). Columns found in the table: "
            ~ (table_columns | join(", ")) ~ ".") -%}
    {%- endif -%}
    {%- set mapping = raw_orders_column_names(
        name, table_columns | reject("equalto", found[0]) | list, kind="table") -%}

    {%- set relation = api.Relation.create(
        database=database, schema=raw_schema_setting(), identifier="online_retail_order_lines") -%}
    {%- do adapter.create_schema(relation) -%}
    {%- set columns_sql = ["cast(" ~ adapter.quote(found[0]) ~ " as bigint) as raw_row_number"] -%}
    {%- for canonical, table_column in mapping.items() -%}
        {%- do columns_sql.append("cast(" ~ adapter.quote(table_column) ~ " as " ~ string_type()
            ~ ") as " ~ adapter.quote(canonical)) -%}
    {%- endfor -%}
    {%- do run_query("create or replace view " ~ relation ~ " as select "
        ~ (columns_sql | join(", ")) ~ " from " ~ table) -%}
    {{ log("Raw orders: table " ~ name ~ " registered as " ~ relation, info=true) }}
    {{ return("") }}
{% endmacro %}
