{#
    The raw-file step on Spark (dispatched from register_raw_orders): the same checks and
    messages as on DuckDB, then the view the `online_retail.order_lines` source points at.

    - CSV is copied as text into raw.online_retail_order_lines_loaded (Parquet), each line with
      the Spark partition that read it and its position in that partition. Spark splits a file
      into byte ranges in file order, so (partition, position) is file order; the line number is
      the lines of all earlier partitions (a one-row-per-partition aggregate, stored in
      raw.online_retail_order_lines_offsets) plus the position. Every line is read and written
      in parallel: nothing goes through one partition, as row_number() over () would.
    - Parquet is read in place: Spark's `_metadata.row_index` is the row's position in the file.

    Paths are whatever Spark reads (a local path here; hdfs://, s3a://... on a cluster).
#}

{% macro spark__register_raw_orders() %}
    {%- set path = raw_orders_path_setting() -%}
    {%- set relation = api.Relation.create(
        schema=raw_schema_setting(), identifier="online_retail_order_lines") -%}
    {%- set loaded = api.Relation.create(
        schema=raw_schema_setting(), identifier="online_retail_order_lines_loaded") -%}
    {%- set offsets = api.Relation.create(
        schema=raw_schema_setting(), identifier="online_retail_order_lines_offsets") -%}
    {%- do adapter.create_schema(relation) -%}

    {#-
        A relative path is read from the folder dbt runs in, as DuckDB does; Spark would read a
        relative table location from the schema's folder in the warehouse instead.
    -#}
    {%- if not modules.re.match("^([a-zA-Z][a-zA-Z0-9+.-]*:|/)", path) -%}
        {%- set working_directory = run_query(
            "select reflect('java.lang.System', 'getProperty', 'user.dir')").columns[0].values()[0] -%}
        {%- set file = working_directory ~ "/" ~ path -%}
    {%- else -%}
        {%- set file = path -%}
    {%- endif -%}
    {%- set facts = spark_raw_orders_file_facts(file) -%}
    {%- if facts.files == 0 -%}
        {#- Spark's file listing leaves out 0-byte files: an empty file looks absent. -#}
        {%- do exceptions.raise_compiler_error(
            "Raw orders file not found (or empty: 0 bytes): " ~ path ~ " (relative paths are "
            ~ "read from the project folder). " ~ raw_orders_setting_hint()
            ~ " To produce the default data run: make data") -%}
    {%- endif -%}
    {%- if facts.files > 1 -%}
        {%- do exceptions.raise_compiler_error(
            "Raw orders path " ~ path ~ " matches " ~ facts.files ~ " files; name one file. "
            ~ raw_orders_setting_hint()) -%}
    {%- endif -%}

    {%- set is_parquet = raw_orders_is_parquet(path) -%}
    {#-
        As on DuckDB, an unchanged CSV file (same path, size, modification time and settings)
        is not loaded again by a later invocation (`dbt test`, spark_runner's later steps);
        --full-refresh always loads. The signature is a table property of the copy.
    -#}
    {%- set canonical_columns = [] -%}
    {%- for canonical in raw_orders_column_aliases() -%}
        {%- do canonical_columns.append("lines." ~ adapter.quote(canonical)) -%}
    {%- endfor -%}
    {%- set signature = "file=" ~ file ~ "; bytes=" ~ facts.size ~ "; modified=" ~ facts.modified
        ~ "; encoding=" ~ var("raw_orders_encoding") ~ "; delimiter=" ~ var("raw_orders_delimiter") -%}
    {%- if not is_parquet and not flags.FULL_REFRESH
            and spark_raw_orders_load_signature(loaded, offsets) == signature -%}
        {{ log("Raw orders: " ~ path ~ " is unchanged since it was loaded into " ~ loaded
               ~ ": the copy is reused (--full-refresh loads it again)", info=true) }}
        {%- do run_query("create or replace view " ~ relation ~ " as "
            ~ spark_raw_orders_numbered_sql(loaded, offsets, canonical_columns)) -%}
        {{ return("") }}
    {%- endif -%}

    {%- set encoding = "utf-8" if is_parquet else spark_raw_orders_encoding(file, facts.size) -%}
    {%- set reader = spark_raw_orders_reader(file, encoding) -%}
    {%- set file_columns = run_query("select * from " ~ reader ~ " limit 0").column_names | list -%}
    {%- set mapping = raw_orders_column_names(path, file_columns) -%}
    {%- set has_rows = run_query("select 1 from " ~ reader ~ " limit 1").rows | length -%}
    {%- if has_rows == 0 -%}
        {%- do exceptions.raise_compiler_error(
            "Raw orders file " ~ path ~ " has a header but no data rows. "
            ~ raw_orders_setting_hint()) -%}
    {%- endif -%}

    {%- set text_columns = [] -%}
    {%- for canonical, file_column in mapping.items() -%}
        {%- do text_columns.append("cast(" ~ adapter.quote(file_column) ~ " as string) as "
            ~ adapter.quote(canonical)) -%}
    {%- endfor -%}
    {%- if is_parquet -%}
        {#- No copy; a table loaded by an earlier build from a CSV file is dropped. -#}
        {%- do run_query("drop table if exists " ~ loaded) -%}
        {%- do run_query("drop table if exists " ~ offsets) -%}
        {%- set view_sql = "select _metadata.row_index + 1 as raw_row_number, "
            ~ (text_columns | join(", ")) ~ " from " ~ reader -%}
    {%- else -%}
        {%- do run_query("drop table if exists " ~ loaded) -%}
        {%- do run_query("create table " ~ loaded ~ " using parquet as select "
            ~ "spark_partition_id() as file_partition, "
            ~ "monotonically_increasing_id() as partition_line_id, "
            ~ (text_columns | join(", ")) ~ " from " ~ reader) -%}
        {%- do run_query("drop table if exists " ~ offsets) -%}
        {%- do run_query("create table " ~ offsets ~ " using parquet as "
            ~ "select file_partition, "
            ~ "shiftleft(cast(file_partition as bigint), 33) as first_line_id, "
            ~ "coalesce(sum(count(*)) over (order by file_partition rows between unbounded "
            ~ "preceding and 1 preceding), 0) as lines_before "
            ~ "from " ~ loaded ~ " group by file_partition") -%}
        {%- do run_query("alter table " ~ loaded ~ " set tblproperties "
            ~ "('customer_segments.load_signature' = " ~ string_literal(signature) ~ ")") -%}
        {%- set view_sql = spark_raw_orders_numbered_sql(loaded, offsets, canonical_columns) -%}
    {%- endif -%}
    {%- do run_query("create or replace view " ~ relation ~ " as " ~ view_sql) -%}
    {{ log("Raw orders: " ~ path ~ " (" ~ encoding ~ ") registered as " ~ relation, info=true) }}
    {{ return("") }}
{% endmacro %}


{% macro spark_raw_orders_numbered_sql(loaded, offsets, canonical_columns) %}
    {#- monotonically_increasing_id() = partition << 33 + position in the partition -#}
    {{- return("select offsets.lines_before + (lines.partition_line_id "
        ~ "- offsets.first_line_id) + 1 as raw_row_number, "
        ~ (canonical_columns | join(", ")) ~ " from " ~ loaded ~ " as lines "
        ~ "inner join " ~ offsets ~ " as offsets "
        ~ "on lines.file_partition = offsets.file_partition") -}}
{% endmacro %}


{% macro spark_raw_orders_load_signature(loaded, offsets) %}
    {#- The signature of the file the copy was loaded from; none without a complete copy. -#}
    {%- for table in [offsets, loaded] -%}
        {%- if run_query("show tables in " ~ table.schema ~ " like "
                ~ string_literal(table.identifier)).rows | length == 0 -%}
            {{ return(none) }}
        {%- endif -%}
    {%- endfor -%}
    {%- for row in run_query("show tblproperties " ~ loaded).rows -%}
        {%- if row[0] == "customer_segments.load_signature" -%}
            {{ return(row[1]) }}
        {%- endif -%}
    {%- endfor -%}
    {{ return(none) }}
{% endmacro %}


{% macro spark_raw_orders_file_facts(path) %}
    {#-
        How many files the path names (0-byte files are not listed), without reading them. A
        binaryFile table lists its location lazily, and lists an absent location as empty
        (a path-based read would fail on it with Spark's own message).
    -#}
    {%- set listing = api.Relation.create(
        schema=raw_schema_setting(), identifier="online_retail_order_lines_listing") -%}
    {%- do run_query("drop table if exists " ~ listing) -%}
    {%- do run_query("create table " ~ listing ~ " using binaryFile location "
        ~ string_literal(path)) -%}
    {%- set row = run_query("select count(*), coalesce(max(length), 0), "
        ~ "cast(max(modificationTime) as string) from " ~ listing).rows[0] -%}
    {%- do run_query("drop table if exists " ~ listing) -%}
    {{ return({"files": row[0], "size": row[1], "modified": row[2]}) }}
{% endmacro %}


{% macro spark_raw_orders_reader(path, encoding) %}
    {#- A path-based read of the file: every CSV column as text, RFC 4180 quotes like DuckDB's. -#}
    {%- if raw_orders_is_parquet(path) -%}
        {{- return("parquet.`" ~ (path | replace("`", "``")) ~ "`") -}}
    {%- endif -%}
    {%- set options = {
        "path": path,
        "header": "true",
        "sep": spark_raw_orders_delimiter(path),
        "quote": '"',
        "escape": '"',
        "encoding": {"latin-1": "ISO-8859-1", "utf-8": "UTF-8", "utf-16": "UTF-16"}[encoding],
        "mode": "FAILFAST",
    } -%}
    {%- set view = "online_retail_order_lines_csv" -%}
    {%- set options_sql = [] -%}
    {%- for key, value in options.items() -%}
        {%- do options_sql.append(key ~ " " ~ string_literal(value)) -%}
    {%- endfor -%}
    {%- do run_query("create or replace temporary view " ~ view ~ " using csv options ("
        ~ (options_sql | join(", ")) ~ ")") -%}
    {{- return(view) -}}
{% endmacro %}


{% macro spark_raw_orders_encoding(path, size) %}
    {#- As on DuckDB: the var, or with `auto` utf-8 when every line is valid UTF-8. -#}
    {%- set setting = var("raw_orders_encoding") | string | trim | lower -%}
    {%- if setting not in ("auto", "utf-8", "latin-1", "utf-16") -%}
        {%- do exceptions.raise_compiler_error(
            "The dbt var raw_orders_encoding must be auto, utf-8, latin-1 or utf-16; got: "
            ~ (setting | truncate(40, true, "..."))) -%}
    {%- endif -%}
    {%- if setting != "auto" -%}
        {{ return(setting) }}
    {%- endif -%}
    {%- if size > raw_orders_encoding_sniff_max_bytes_setting() -%}
        {{ log("Raw orders file " ~ path ~ " is larger than raw_orders_encoding_sniff_max_bytes: "
               ~ "read as latin-1 (set the var raw_orders_encoding to change)", info=true) }}
        {{ return("latin-1") }}
    {%- endif -%}
    {#- The text source keeps each line's bytes as they are; is_valid_utf8 is Spark 4. -#}
    {%- set invalid = run_query("select 1 from text.`" ~ (path | replace("`", "``"))
        ~ "` where not is_valid_utf8(value) limit 1").rows | length -%}
    {{ return("latin-1" if invalid else "utf-8") }}
{% endmacro %}


{% macro spark_raw_orders_delimiter(path) %}
    {#-
        The var raw_orders_delimiter, or with `auto` the most frequent of , ; tab | in the
        header line (Spark has no sniffer; the header has no quoted delimiters).
    -#}
    {%- set setting = var("raw_orders_delimiter") | string -%}
    {%- if setting != "auto" -%}
        {{ return(setting) }}
    {%- endif -%}
    {%- set header = run_query("select value from text.`" ~ (path | replace("`", "``"))
        ~ "` limit 1").columns[0].values()[0] or "" -%}
    {%- set best = namespace(delimiter=",", count=0) -%}
    {%- for delimiter in [",", ";", "\t", "|"] -%}
        {%- if header.count(delimiter) > best.count -%}
            {%- set best.count = header.count(delimiter) -%}
            {%- set best.delimiter = delimiter -%}
        {%- endif -%}
    {%- endfor -%}
    {{ return(best.delimiter) }}
{% endmacro %}
