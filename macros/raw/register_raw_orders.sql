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


{#- Whether `path` names a Parquet file (by its extension), which is read in place. -#}
{% macro raw_orders_is_parquet(path) %}
    {{- return((path | lower).endswith('.parquet')) -}}
{% endmacro %}


{% macro raw_orders_reader(path, encoding, delimiter=none, column_count=none, file_row_number=false, rejects=false) %}
    {#-
        A CSV file is read with the layout its header line gives (the delimiter, the number of
        fields), never with DuckDB's sniffer: a line with a field too many or too few made the
        sniffer fall back to one column, which was then reported as a delimiter problem. Fields
        are named by position (column_000, ...). With `rejects`, a line that cannot be read
        (wrong number of fields, invalid text in the encoding) is set aside in the temporary
        table raw_orders_rejected_lines instead of failing the read without naming the file.
    -#}
    {%- set quoted_path = "'" ~ (path | replace("'", "''")) ~ "'" -%}
    {%- if raw_orders_is_parquet(path) -%}
        read_parquet({{ quoted_path }}{{ ", file_row_number = true" if file_row_number }})
    {%- else -%}
        read_csv(
            {{ quoted_path }},
            header = true,
            auto_detect = false,
            columns = {
                {%- for position in range(column_count) -%}
                '{{ raw_orders_csv_column(position) }}': 'VARCHAR'{{ ", " if not loop.last }}
                {%- endfor -%}
            },
            delim = '{{ delimiter | replace("'", "''") }}',
            quote = '"',
            escape = '"',
            encoding = '{{ encoding }}'
            {%- if rejects %},
            store_rejects = true,
            rejects_table = 'raw_orders_rejected_lines',
            rejects_scan = 'raw_orders_rejected_scans'
            {%- endif %}
        )
    {%- endif -%}
{% endmacro %}


{#- The name a CSV field gets by its position in the line (column_000, column_001, ...). -#}
{% macro raw_orders_csv_column(position) %}
    {{- return("column_%03d" | format(position)) -}}
{% endmacro %}


{% macro raw_orders_header_line(path, quoted_path, encoding) %}
    {#-
        The file's first line, whole: read with a delimiter and a quote that never occur.
        DuckDB decodes a whole buffer at a time, so a later line that is not valid in the
        encoding would fail this read too: such lines are set aside, and only a first line
        that cannot be read stops the build here (the load names the others).
    -#}
    {%- do run_query("drop table if exists temp.main.raw_orders_rejected_lines") -%}
    {%- do run_query("drop table if exists temp.main.raw_orders_rejected_scans") -%}
    {%- set rows = run_query(
        "select header_line from read_csv(" ~ quoted_path ~ ", header = false, auto_detect = false,"
        ~ " columns = {'header_line': 'VARCHAR'}, delim = E'\\x1f', quote = '', escape = '',"
        ~ " encoding = '" ~ encoding ~ "', parallel = false, store_rejects = true,"
        ~ " rejects_table = 'raw_orders_rejected_lines', rejects_scan = 'raw_orders_rejected_scans'"
        ~ ") limit 1").columns[0].values() -%}
    {%- if run_query("select count(*) from temp.main.raw_orders_rejected_lines where line = 1"
            ).columns[0].values()[0] > 0 -%}
        {%- do raise_raw_orders_rejected_lines(path, encoding) -%}
    {%- endif -%}
    {{ return(rows[0] if rows | length > 0 and rows[0] is not none else "") }}
{% endmacro %}


{% macro raw_orders_header_fields(header_line) %}
    {#-
        The header's delimiter and field names. raw_orders_delimiter, or with `auto` the one of
        , ; tab | that splits the header into the most fields (a single field: none does).
    -#}
    {%- set setting = raw_orders_delimiter_setting() -%}
    {%- set candidates = [",", ";", "\t", "|"] if setting == "auto" else [setting] -%}
    {%- set best = {"delimiter": candidates[0], "count": 0} -%}
    {%- for candidate in candidates -%}
        {%- set count = header_line.split(candidate) | length -%}
        {%- if count > best["count"] -%}
            {%- do best.update({"delimiter": candidate, "count": count}) -%}
        {%- endif -%}
    {%- endfor -%}
    {%- set fields = [] -%}
    {%- for field in header_line.split(best["delimiter"]) -%}
        {%- do fields.append(field | trim | trim('"') | trim) -%}
    {%- endfor -%}
    {{ return({"delimiter": best["delimiter"], "fields": fields}) }}
{% endmacro %}


{% macro raw_orders_is_compressed(path) %}
    {#- DuckDB decompresses these by their extension; their bytes say nothing of the text's. -#}
    {{- return((path | lower).endswith(('.gz', '.gzip', '.zst', '.zstd'))) -}}
{% endmacro %}


{% macro raw_orders_encoding(path, quoted_path, size) %}
    {#-
        The var raw_orders_encoding, or with `auto` (the default): utf-16 when the file starts
        with the UTF-16 little-endian byte-order mark (FF FE); else utf-8 when the whole file is
        valid UTF-8 (a pure-ASCII file reads the same either way); else latin-1 (ISO-8859-1, the
        Kaggle file). A big-endian byte-order mark (FE FF) stops the build: DuckDB reads UTF-16
        little-endian only. Files above raw_orders_encoding_sniff_max_bytes, and compressed
        files, are not read whole: they are taken as latin-1 unless the var says otherwise.
    -#}
    {%- set setting = raw_orders_encoding_setting() -%}
    {%- if raw_orders_is_parquet(path) or setting == "utf-8" -%}
        {{ return(setting) }}
    {%- endif -%}
    {%- if setting == "latin-1" -%}
        {%- do check_raw_orders_latin1(path, quoted_path, size, named=true) -%}
        {{ return(setting) }}
    {%- endif -%}
    {%- if raw_orders_is_compressed(path) or size > raw_orders_encoding_sniff_max_bytes_setting() -%}
        {%- if setting == "auto" -%}
            {{ log("Raw orders file " ~ path ~ " is compressed or larger than "
                   ~ "raw_orders_encoding_sniff_max_bytes: read as latin-1 (set the var "
                   ~ "raw_orders_encoding to change)", info=true) }}
            {{ return("latin-1") }}
        {%- endif -%}
        {{ return(setting) }}
    {%- endif -%}
    {%- set facts = run_query(
        "select content[1:2] = '\\xFF\\xFE'::blob as is_utf16le,"
        ~ " content[1:2] = '\\xFE\\xFF'::blob as is_utf16be,"
        ~ (" try(decode(content)) is not null" if setting == "auto" else " false")
        ~ " as is_utf8 from read_blob(" ~ quoted_path ~ ")") -%}
    {%- if facts.columns[1].values()[0] -%}
        {%- do exceptions.raise_compiler_error(
            "Raw orders file " ~ path ~ " is UTF-16 big-endian (it starts with the byte-order "
            ~ "mark FE FF), which DuckDB cannot read: save it as UTF-8 or UTF-16 little-endian, "
            ~ "for example with: iconv -f UTF-16BE -t UTF-8") -%}
    {%- endif -%}
    {%- if setting == "utf-16" or facts.columns[0].values()[0] -%}
        {{ return("utf-16") }}
    {%- endif -%}
    {%- if facts.columns[2].values()[0] -%}
        {{ return("utf-8") }}
    {%- endif -%}
    {%- do check_raw_orders_latin1(path, quoted_path, size, named=false) -%}
    {{ return("latin-1") }}
{% endmacro %}


{% macro check_raw_orders_latin1(path, quoted_path, size, named) %}
    {#-
        DuckDB's ISO-8859-1 reader refuses the bytes 0x80-0x9F (control codes in ISO-8859-1,
        curly quotes and the euro sign in Windows-1252) with an error that names neither the
        file nor the line. Look for them first (a blob cast to text writes them \x80..\x9F, a
        backslash in the data as \x5C) and name both, before anything reads the file as
        latin-1. Only for files the encoding check may read whole (about 0.3 s at 45 MB).
    -#}
    {%- if raw_orders_is_compressed(path) or size > raw_orders_encoding_sniff_max_bytes_setting() -%}
        {{ return("") }}
    {%- endif -%}
    {%- set found = run_query(
        "with escaped as (select cast(content as varchar) as text from read_blob(" ~ quoted_path
        ~ ")), first_byte as (select text, least(nullif(instr(text, '\\x8'), 0),"
        ~ " nullif(instr(text, '\\x9'), 0)) as position from escaped)"
        ~ " select substr(text, position + 2, 2) as byte,"
        ~ " (length(substr(text, 1, position)) - length(replace(substr(text, 1, position),"
        ~ " '\\x0A', ''))) // 4 + 1 as line from first_byte where position is not null") -%}
    {%- if found.rows | length > 0 -%}
        {%- do exceptions.raise_compiler_error(
            "Raw orders file " ~ path ~ " is not " ~ ("ISO-8859-1 (latin-1), the var raw_orders_encoding"
                if named else "valid UTF-8, nor ISO-8859-1 (latin-1)")
            ~ ": line " ~ found.columns[1].values()[0] ~ " holds the byte 0x"
            ~ found.columns[0].values()[0] ~ ", which ISO-8859-1 reserves for control codes "
            ~ "(Windows-1252 files use it for curly quotes, dashes or the euro sign). Save the file "
            ~ "as UTF-8 (for example: iconv -f WINDOWS-1252 -t UTF-8) and set raw_orders_encoding "
            ~ "to auto or utf-8.") -%}
    {%- endif -%}
    {{ return("") }}
{% endmacro %}


{#- The sentence every raw-file error ends with: how to point the project at another file. -#}
{% macro raw_orders_setting_hint() %}
    {{- return("Set the dbt var raw_orders_path (dbt build --vars '{raw_orders_path: <file>}') "
               ~ "or the environment variable RAW_ORDERS_PATH.") -}}
{% endmacro %}


{% macro match_raw_orders_columns(path, file_columns, kind="file") %}
    {#-
        Map the file's header (or a table's columns: kind="table") to the canonical columns by
        name, never by position: canonical column -> its position among `file_columns`
        (raw_orders_column_names gives the names).
    -#}
    {%- set aliases = raw_orders_column_aliases() -%}
    {%- set mapping = {} -%}
    {%- set missing = [] -%}
    {%- for canonical, accepted in aliases.items() -%}
        {%- set matches, positions = [], [] -%}
        {%- for file_column in file_columns -%}
            {%- set normalized = modules.re.sub('[^a-z0-9]', '', file_column | lower) -%}
            {%- if normalized in accepted -%}
                {%- do matches.append(file_column) -%}
                {%- do positions.append(loop.index0) -%}
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
            {%- do mapping.update({canonical: positions[0]}) -%}
        {%- endif -%}
    {%- endfor -%}
    {%- if missing -%}
        {%- set hint = "" -%}
        {%- if file_columns | length == 1 -%}
            {%- set hint = " The header line has no field delimiter that splits it: set the dbt "
                ~ "var raw_orders_delimiter to the file's delimiter (now: "
                ~ raw_orders_delimiter_setting() ~ ")." -%}
        {%- endif -%}
        {%- do exceptions.raise_compiler_error(
            "Raw orders " ~ kind ~ " " ~ path ~ ": required column(s) missing: " ~ (missing | join("; "))
            ~ ". Columns found in the " ~ kind ~ ": " ~ (file_columns | join(", ")) ~ "." ~ hint
        ) -%}
    {%- endif -%}
    {{ return(mapping) }}
{% endmacro %}


{% macro raw_orders_column_names(path, file_columns, kind="file") %}
    {#- match_raw_orders_columns, as canonical column -> the file's (or table's) column name. -#}
    {%- set names = {} -%}
    {%- for canonical, position in match_raw_orders_columns(path, file_columns, kind).items() -%}
        {%- do names.update({canonical: file_columns[position]}) -%}
    {%- endfor -%}
    {{ return(names) }}
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
    {%- set path = raw_orders_path_setting() -%}
    {%- set quoted_path = "'" ~ (path | replace("'", "''")) ~ "'" -%}

    {%- set found = run_query("select count(*) from glob(" ~ quoted_path ~ ")").columns[0].values()[0] -%}
    {%- if found == 0 -%}
        {#- glob lists files only; '<dir>/**/' lists a folder itself (recursing: the error path only). -#}
        {%- set folder = path.rstrip("/") -%}
        {%- set quoted_folder = "'" ~ (folder | replace("'", "''")) -%}
        {%- if run_query("select count(*) from (select 1 from glob(" ~ quoted_folder
                ~ "/**/')  limit 1) as entries").columns[0].values()[0] > 0 -%}
            {%- set inside = run_query("select file from glob(" ~ quoted_folder
                ~ "/*') order by file limit 3").columns[0].values() | list -%}
            {%- do exceptions.raise_compiler_error(
                "Raw orders path " ~ path ~ " is a folder, not a file: name the file itself"
                ~ (" (the folder holds " ~ (inside | join(", ")) ~ (", ..." if inside | length == 3 else "")
                    ~ ")" if inside else " (the folder holds no file)")
                ~ ". " ~ raw_orders_setting_hint()) -%}
        {%- endif -%}
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
    {%- set relation = api.Relation.create(
        database=target.database, schema=raw_schema_setting(), identifier="online_retail_order_lines") -%}
    {%- set loaded = api.Relation.create(
        database=target.database, schema=raw_schema_setting(),
        identifier="online_retail_order_lines_loaded") -%}
    {%- do adapter.create_schema(relation) -%}

    {%- if raw_orders_is_parquet(path) -%}
        {#-
            Parquet numbers its rows itself (file_row_number), so the view reads the file
            directly, in parallel: no copy (at 50M lines the copy took 11 s). A table loaded
            by an earlier build from a CSV file is dropped, so no stale copy stays behind.
        -#}
        {%- set reader = raw_orders_reader(path, encoding) -%}
        {%- set file_columns = run_query("describe select * from " ~ reader).columns[0].values() | list -%}
        {%- set mapping = match_raw_orders_columns(path, file_columns) -%}
        {%- set has_rows = run_query(
            "select count(*) from (select 1 from " ~ reader ~ " limit 1) as first_row"
        ).columns[0].values()[0] -%}
        {%- if has_rows == 0 -%}
            {%- do raise_raw_orders_header_only(path) -%}
        {%- endif -%}
        {%- do run_query("drop table if exists " ~ loaded) -%}
        {%- set text_columns = [] -%}
        {%- for canonical, position in mapping.items() -%}
            {%- do text_columns.append("cast(" ~ adapter.quote(file_columns[position])
                ~ " as varchar) as " ~ adapter.quote(canonical)) -%}
        {%- endfor -%}
        {%- set row_number_sql = "file_row_number + 1" -%}
        {%- set columns_sql = text_columns | join(", ") -%}
        {%- set from_sql = raw_orders_reader(path, encoding, file_row_number=true) -%}
    {%- else -%}
        {%- set header_line = raw_orders_header_line(path, quoted_path, encoding) -%}
        {%- if "\x00" in header_line or header_line.startswith(("\u00ff\u00fe", "\u00fe\u00ff", "\ufffd\ufffd")) -%}
            {%- do exceptions.raise_compiler_error(
                "Raw orders file " ~ path ~ " looks like UTF-16 text (NUL bytes or a UTF-16 "
                ~ "byte-order mark in its first line), read as " ~ encoding ~ ": set the dbt var "
                ~ "raw_orders_encoding to utf-16, or to auto, which reads the byte-order mark.") -%}
        {%- endif -%}
        {%- set header = raw_orders_header_fields(header_line) -%}
        {%- set mapping = match_raw_orders_columns(path, header["fields"]) -%}
        {%- set text_columns, canonical_columns = [], [] -%}
        {%- for canonical, position in mapping.items() -%}
            {%- do text_columns.append(raw_orders_csv_column(position) ~ " as "
                ~ adapter.quote(canonical)) -%}
            {%- do canonical_columns.append(adapter.quote(canonical)) -%}
        {%- endfor -%}
        {%- do load_raw_orders_copy(loaded, path, encoding,
            raw_orders_reader(path, encoding, header["delimiter"], header["fields"] | length,
                rejects=true),
            text_columns,
            "file=" ~ path ~ "; bytes=" ~ size ~ "; modified=" ~ modified ~ "; encoding="
            ~ encoding ~ "; delimiter=" ~ header["delimiter"]
            ~ "; header=" ~ (header["fields"] | join(",")) ~ "; columns="
            ~ (mapping.values() | join(","))) -%}
        {%- set row_number_sql = "rowid + 1" -%}
        {%- set columns_sql = canonical_columns | join(", ") -%}
        {%- set from_sql = loaded | string -%}
    {%- endif -%}
    {%- do run_query("create or replace view " ~ relation ~ " as select " ~ row_number_sql
        ~ " as raw_row_number, " ~ columns_sql ~ " from " ~ from_sql) -%}
    {{ log("Raw orders: " ~ path ~ " (" ~ encoding ~ ") registered as " ~ relation, info=true) }}
    {{ return("") }}
{% endmacro %}


{% macro load_raw_orders_copy(loaded, path, encoding, reader, text_columns, load_signature) %}
    {#-
        Load, then number. The file is copied into `loaded` as text in one parallel scan that
        keeps the file's order (DuckDB preserves insertion order), so a row's rowid is its place
        in the file. Numbering while reading (row_number() over ()) would make the whole read
        single-threaded: at 50M lines it cost 54 s against 25 s for the load and 14 s for
        staging.

        The copy is kept between invocations: `dbt test` or `dbt run -s <model>` on an unchanged
        file (same path, size to the byte, modification time to the microsecond, encoding,
        delimiter and columns: `load_signature`) reuse it rather than copying 50M lines again
        (20 s). Size and time do not prove the content unchanged (a file rewritten within the
        same second, or copied with its time kept), so only invocations that do not rebuild
        staging reuse it: whenever staging is selected (every plain `dbt build` and `dbt run`),
        and with --full-refresh, the file is copied again, and staging always reads the file
        as it is now. The signature is the table's comment.
    -#}
    {%- set rebuilds_staging = ("model." ~ project_name ~ ".stg_online_retail__order_lines")
        in selected_resources -%}
    {%- set previous = run_query(
        "select comment from duckdb_tables() where database_name = '" ~ loaded.database
        ~ "' and schema_name = '" ~ loaded.schema
        ~ "' and table_name = '" ~ loaded.identifier ~ "'") -%}
    {%- if not flags.FULL_REFRESH and not rebuilds_staging and previous.rows | length == 1
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
    {%- do run_query("drop table if exists temp.main.raw_orders_rejected_lines") -%}
    {%- do run_query("drop table if exists temp.main.raw_orders_rejected_scans") -%}
    {%- do run_query("create or replace table " ~ loaded ~ " as select "
        ~ (text_columns | join(", ")) ~ " from " ~ reader) -%}
    {%- if not keeps_order -%}
        {%- do run_query("set preserve_insertion_order = false") -%}
    {%- endif -%}
    {%- do raise_raw_orders_rejected_lines(path, encoding) -%}
    {%- if run_query("select count(*) from (select 1 from " ~ loaded ~ " limit 1) as first_row"
            ).columns[0].values()[0] == 0 -%}
        {%- do raise_raw_orders_header_only(path) -%}
    {%- endif -%}
    {#- Signed last: a load that stopped above leaves no signature, so the next run loads again. -#}
    {%- do run_query("comment on table " ~ loaded ~ " is '"
        ~ (load_signature | replace("'", "''")) ~ "'") -%}
    {{ return("") }}
{% endmacro %}


{#- Stop the build: the file at `path` has a header line and no data row. -#}
{% macro raise_raw_orders_header_only(path) %}
    {%- do exceptions.raise_compiler_error(
        "Raw orders file " ~ path ~ " has a header but no data rows. " ~ raw_orders_setting_hint()) -%}
{% endmacro %}


{% macro raise_raw_orders_rejected_lines(path, encoding) %}
    {#-
        A line the load set aside (see raw_orders_reader) stops the build, naming the file, the
        line (counted from 1, the header included) and the line itself.
    -#}
    {%- set rejected = run_query(
        "select count(*) over () as lines, line, error_type, error_message, csv_line"
        ~ " from temp.main.raw_orders_rejected_lines order by line limit 1") -%}
    {%- if rejected.rows | length == 0 -%}
        {{ return("") }}
    {%- endif -%}
    {%- set row = rejected.rows[0] -%}
    {%- if row["error_type"] in ("MISSING COLUMNS", "TOO MANY COLUMNS") -%}
        {%- set reason = "does not have the header's number of fields (" ~ row["error_message"]
            ~ "): a delimiter inside a value that is not quoted, or a line cut short?" -%}
    {%- elif row["error_type"] == "INVALID ENCODING" -%}
        {%- set reason = "is not valid " ~ encoding ~ " text: set the dbt var raw_orders_encoding "
            ~ "to the file's encoding (auto tells UTF-8, UTF-16 and ISO-8859-1 apart)" -%}
    {%- else -%}
        {%- set reason = "cannot be read: " ~ row["error_message"] -%}
    {%- endif -%}
    {%- do exceptions.raise_compiler_error(
        "Raw orders file " ~ path ~ ": line " ~ row["line"] ~ " " ~ reason ~ " The line: '"
        ~ (row["csv_line"] | string | truncate(300, true, "...")) ~ "'"
        ~ (" (" ~ row["lines"] ~ " lines cannot be read; the first is shown.)" if row["lines"] > 1 else "")) -%}
{% endmacro %}