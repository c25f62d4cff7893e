{#
    Reading files is the only engine-specific part of the project (Spark:
    register_raw_orders_spark.sql). This on-run-start hook checks
    the raw order file named by the `raw_orders_path` var (or the RAW_ORDERS_PATH environment
    variable), loads a CSV file into the table raw.online_retail_order_lines_loaded (the "EL" of
    ELT; a Parquet file is read in place) and exposes it as the view that the
    `online_retail.order_lines` source points at. On another warehouse the same source is a
    table loaded by an EL tool and this hook is not needed.

    The view keeps the Kaggle column names whatever the layout of the file (Kaggle data.csv,
    Online Retail II, or Parquet with either naming), every value as text, and numbers the lines
    in file order so that every raw line can be traced through the audit.
#}

{% macro raw_orders_column_aliases() %}
    {#- canonical column -> accepted header names, compared lower-case without spaces/_ -#}
    {{ return({
        "InvoiceNo": ["invoiceno", "invoice"],
        "StockCode": ["stockcode"],
        "Description": ["description"],
        "Quantity": ["quantity"],
        "InvoiceDate": ["invoicedate"],
        "UnitPrice": ["unitprice", "price"],
        "CustomerID": ["customerid"],
        "Country": ["country"],
    }) }}
{% endmacro %}


{% macro raw_orders_is_parquet(path) %}
    {{- return((path | lower).endswith('.parquet')) -}}
{% endmacro %}


{% macro raw_orders_reader(path, encoding, file_row_number=false) %}
    {%- set quoted_path = "'" ~ (path | replace("'", "''")) ~ "'" -%}
    {%- set delimiter = var("raw_orders_delimiter") | string -%}
    {%- if raw_orders_is_parquet(path) -%}
        read_parquet({{ quoted_path }}{{ ", file_row_number = true" if file_row_number }})
    {%- else -%}
        read_csv(
            {{ quoted_path }},
            header = true,
            all_varchar = true,
            {%- if delimiter != "auto" %}
            delim = '{{ delimiter | replace("'", "''") }}',
            {%- endif %}
            quote = '"',
            escape = '"',
            encoding = '{{ encoding }}'
        )
    {%- endif -%}
{% endmacro %}


{% macro raw_orders_encoding(path, quoted_path, size) %}
    {#-
        The var raw_orders_encoding, or with `auto` (the default): utf-8 when the whole file is
        valid UTF-8 (a pure-ASCII file reads the same either way), else latin-1 (ISO-8859-1, the
        Kaggle file). Files above raw_orders_encoding_sniff_max_bytes are not read whole: they
        are taken as latin-1 unless the var says otherwise.
    -#}
    {%- set setting = var("raw_orders_encoding") | string | trim | lower -%}
    {%- if setting not in ("auto", "utf-8", "latin-1", "utf-16") -%}
        {%- do exceptions.raise_compiler_error(
            "The dbt var raw_orders_encoding must be auto, utf-8, latin-1 or utf-16; got: "
            ~ (setting | truncate(40, true, "..."))) -%}
    {%- endif -%}
    {%- if setting != "auto" or raw_orders_is_parquet(path) -%}
        {{ return(setting) }}
    {%- endif -%}
    {%- if size > var("raw_orders_encoding_sniff_max_bytes") | int -%}
        {{ log("Raw orders file " ~ path ~ " is larger than raw_orders_encoding_sniff_max_bytes: "
               ~ "read as latin-1 (set the var raw_orders_encoding to change)", info=true) }}
        {{ return("latin-1") }}
    {%- endif -%}
    {%- set is_utf8 = run_query(
        "select try(decode(content)) is not null from read_blob(" ~ quoted_path ~ ")"
    ).columns[0].values()[0] -%}
    {{ return("utf-8" if is_utf8 else "latin-1") }}
{% endmacro %}


{% macro raw_orders_setting_hint() %}
    {{- return("Set the dbt var raw_orders_path (dbt build --vars '{raw_orders_path: <file>}') "
               ~ "or the environment variable RAW_ORDERS_PATH.") -}}
{% endmacro %}


{% macro match_raw_orders_columns(path, file_columns, kind="file") %}
    {#- Map the file's header to the canonical columns by name, never by position. -#}
    {%- set aliases = raw_orders_column_aliases() -%}
    {%- set mapping = {} -%}
    {%- set missing = [] -%}
    {%- for canonical, accepted in aliases.items() -%}
        {%- set matches = [] -%}
        {%- for file_column in file_columns -%}
            {%- set normalized = modules.re.sub('[^a-z0-9]', '', file_column | lower) -%}
            {%- if normalized in accepted -%}
                {%- do matches.append(file_column) -%}
            {%- endif -%}
        {%- endfor -%}
        {%- if matches | length == 0 -%}
            {%- do missing.append(canonical ~ " (accepted headers: " ~ (accepted | join(", ")) ~ ")") -%}
        {%- elif matches | length > 1 -%}
            {%- do exceptions.raise_compiler_error(
                "Raw orders " ~ kind ~ " " ~ path ~ ": column " ~ canonical ~ " appears more than once in "
                ~ "the header (" ~ (matches | join(", ")) ~ "). Keep one of them."
            ) -%}
        {%- else -%}
            {%- do mapping.update({canonical: matches[0]}) -%}
        {%- endif -%}
    {%- endfor -%}
    {%- if missing -%}
        {%- set hint = "" -%}
        {%- if file_columns | length == 1 -%}
            {%- set hint = " The header was read as a single column: set the dbt var "
                ~ "raw_orders_delimiter to the file's delimiter (now: "
                ~ var("raw_orders_delimiter") ~ ")." -%}
        {%- endif -%}
        {%- do exceptions.raise_compiler_error(
            "Raw orders " ~ kind ~ " " ~ path ~ ": required column(s) missing: " ~ (missing | join("; "))
            ~ ". Columns found in the " ~ kind ~ ": " ~ (file_columns | join(", ")) ~ "." ~ hint
        ) -%}
    {%- endif -%}
    {{ return(mapping) }}
{% endmacro %}


{% macro register_raw_orders() %}
    {#-
        The source is either a table that a loading tool fills (the var raw_orders_table, the
        same on every engine) or the file raw_orders_path, read by the engine's own macro.
    -#}
    {%- if not execute -%}
        {{ return("") }}
    {%- endif -%}
    {%- if (var("raw_orders_table", none) or "") | string | trim not in ("", "none", "None") -%}
        {{ return(register_raw_orders_from_table()) }}
    {%- endif -%}
    {{ return(adapter.dispatch("register_raw_orders", "customer_segments")()) }}
{% endmacro %}


{% macro default__register_raw_orders() %}
    {%- do exceptions.raise_compiler_error(
        "Reading the raw orders file needs an implementation for the " ~ target.type
        ~ " adapter; or set the dbt var raw_orders_table to a table that a loading tool fills.") -%}
{% endmacro %}


{% macro duckdb__register_raw_orders() %}
    {%- set path = var("raw_orders_path") | string | trim -%}
    {%- if path == "" -%}
        {%- do exceptions.raise_compiler_error(
            "No raw orders file is set. " ~ raw_orders_setting_hint()) -%}
    {%- endif -%}
    {%- set quoted_path = "'" ~ (path | replace("'", "''")) ~ "'" -%}

    {%- set found = run_query("select count(*) from glob(" ~ quoted_path ~ ")").columns[0].values()[0] -%}
    {%- if found == 0 -%}
        {%- do exceptions.raise_compiler_error(
            "Raw orders file not found: " ~ path ~ " (relative paths are read from the project "
            ~ "folder). " ~ raw_orders_setting_hint()
            ~ " To produce the default data run: make data") -%}
    {%- endif -%}

    {%- if found > 1 -%}
        {%- do exceptions.raise_compiler_error(
            "Raw orders path " ~ path ~ " matches " ~ found ~ " files; name one file. "
            ~ raw_orders_setting_hint()) -%}
    {%- endif -%}
    {%- set file_facts = run_query(
        "select size, cast(last_modified as varchar) as modified from read_blob(" ~ quoted_path ~ ")") -%}
    {%- set size = file_facts.columns[0].values()[0] -%}
    {%- set modified = file_facts.columns[1].values()[0] -%}
    {%- if size == 0 -%}
        {%- do exceptions.raise_compiler_error(
            "Raw orders file " ~ path ~ " is empty (0 bytes). " ~ raw_orders_setting_hint()) -%}
    {%- endif -%}

    {%- set encoding = raw_orders_encoding(path, quoted_path, size) -%}
    {%- set reader = raw_orders_reader(path, encoding) -%}
    {%- set described = run_query("describe select * from " ~ reader) -%}
    {%- set file_columns = described.columns[0].values() | list -%}
    {%- set mapping = match_raw_orders_columns(path, file_columns) -%}
    {%- set has_rows = run_query(
        "select count(*) from (select 1 from " ~ reader ~ " limit 1) as first_row"
    ).columns[0].values()[0] -%}
    {%- if has_rows == 0 -%}
        {%- do exceptions.raise_compiler_error(
            "Raw orders file " ~ path ~ " has a header but no data rows. "
            ~ raw_orders_setting_hint()) -%}
    {%- endif -%}

    {%- set relation = api.Relation.create(
        database=target.database, schema=var("raw_schema"), identifier="online_retail_order_lines") -%}
    {%- set loaded = api.Relation.create(
        database=target.database, schema=var("raw_schema"),
        identifier="online_retail_order_lines_loaded") -%}
    {%- do adapter.create_schema(relation) -%}
    {%- set text_columns, canonical_columns = [], [] -%}
    {%- for canonical, file_column in mapping.items() -%}
        {%- do text_columns.append("cast(" ~ adapter.quote(file_column) ~ " as varchar) as "
            ~ adapter.quote(canonical)) -%}
        {%- do canonical_columns.append(adapter.quote(canonical)) -%}
    {%- endfor -%}
    {%- if raw_orders_is_parquet(path) -%}
        {#-
            Parquet numbers its rows itself (file_row_number), so the view reads the file
            directly, in parallel: no copy (at 50M lines the copy took 11 s). A table loaded
            by an earlier build from a CSV file is dropped, so no stale copy stays behind.
        -#}
        {%- do run_query("drop table if exists " ~ loaded) -%}
        {%- set row_number_sql = "file_row_number + 1" -%}
        {%- set columns_sql = text_columns | join(", ") -%}
        {%- set from_sql = raw_orders_reader(path, encoding, file_row_number=true) -%}
    {%- else -%}
        {%- do load_raw_orders_copy(loaded, path, reader, text_columns,
            "file=" ~ path ~ "; bytes=" ~ size ~ "; modified=" ~ modified ~ "; encoding="
            ~ encoding ~ "; delimiter=" ~ var("raw_orders_delimiter")
            ~ "; columns=" ~ (mapping.values() | join(","))) -%}
        {%- set row_number_sql = "rowid + 1" -%}
        {%- set columns_sql = canonical_columns | join(", ") -%}
        {%- set from_sql = loaded | string -%}
    {%- endif -%}
    {%- do run_query("create or replace view " ~ relation ~ " as select " ~ row_number_sql
        ~ " as raw_row_number, " ~ columns_sql ~ " from " ~ from_sql) -%}
    {{ log("Raw orders: " ~ path ~ " (" ~ encoding ~ ") registered as " ~ relation, info=true) }}
    {{ return("") }}
{% endmacro %}


{% macro load_raw_orders_copy(loaded, path, reader, text_columns, load_signature) %}
    {#-
        Load, then number. The file is copied into `loaded` as text in one parallel scan that
        keeps the file's order (DuckDB preserves insertion order), so a row's rowid is its place
        in the file. Numbering while reading (row_number() over ()) would make the whole read
        single-threaded: at 50M lines it cost 54 s against 25 s for the load and 14 s for
        staging.

        The copy is kept between invocations: `dbt test` or `dbt run -s <model>` on an unchanged
        file (same path, size to the byte, modification time to the microsecond, encoding,
        delimiter and columns: `load_signature`) reuse it rather than copying 50M lines again
        (20 s). --full-refresh always copies. The signature is the table's comment.
    -#}
    {%- set previous = run_query(
        "select comment from duckdb_tables() where database_name = '" ~ loaded.database
        ~ "' and schema_name = '" ~ loaded.schema
        ~ "' and table_name = '" ~ loaded.identifier ~ "'") -%}
    {%- if not flags.FULL_REFRESH and previous.rows | length == 1
            and previous.columns[0].values()[0] == load_signature -%}
        {{ log("Raw orders: " ~ path ~ " is unchanged since it was loaded into " ~ loaded
               ~ ": the copy is reused (--full-refresh loads it again)", info=true) }}
        {{ return("") }}
    {%- endif -%}
    {#-
        The numbering rests on the load keeping the file's order, which a profile may have
        switched off (preserve_insertion_order: false, DuckDB's advice to save memory): it is
        switched on for the load alone, then put back as it was.
    -#}
    {%- set keeps_order = run_query(
        "select current_setting('preserve_insertion_order')").columns[0].values()[0] -%}
    {%- if not keeps_order -%}
        {%- do run_query("set preserve_insertion_order = true") -%}
    {%- endif -%}
    {%- do run_query("create or replace table " ~ loaded ~ " as select "
        ~ (text_columns | join(", ")) ~ " from " ~ reader) -%}
    {%- if not keeps_order -%}
        {%- do run_query("set preserve_insertion_order = false") -%}
    {%- endif -%}
    {%- do run_query("comment on table " ~ loaded ~ " is '"
        ~ (load_signature | replace("'", "''")) ~ "'") -%}
    {{ return("") }}
{% endmacro %}
