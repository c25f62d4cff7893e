{#
    Staging's guard against silently wrong data: `parsed_sql` is the typed value of the raw text
    `raw_sql`; where the raw text is present but does not parse, the build stops with a message
    that names the file, the column, the rule and the offending value with its row number.
#}
{% macro parse_raw_value(parsed_sql, raw_sql, column_name, rule, row_number_sql="raw_row_number") %}
    case
        when {{ raw_sql }} is not null and {{ parsed_sql }} is null
            then {{ raise_error(dbt.concat([
                "'Raw orders file " ~ (var('raw_orders_path') | replace("'", "''"))
                    ~ ": column " ~ column_name ~ " " ~ rule ~ "; found '''",
                raw_sql,
                "''' on data row '",
                dbt.safe_cast(row_number_sql, api.Column.translate_type("string")),
            ])) }}
        else {{ parsed_sql }}
    end
{% endmacro %}


{#-
    The value of raw text when it is a whole number ("17850" or "17850.0"), else NULL. Parsed as
    a double, exact for whole numbers up to 2^53, and six times faster than a wide decimal.
-#}
{% macro whole_number_from_text(raw_sql) %}
    case
        when {{ dbt.safe_cast(raw_sql, "double precision") }}
            = floor({{ dbt.safe_cast(raw_sql, "double precision") }})
            then cast({{ dbt.safe_cast(raw_sql, "double precision") }} as bigint)
    end
{% endmacro %}


{#- Trimmed text, NULL when blank. -#}
{% macro blank_to_null(raw_sql) %}
    nullif(trim({{ raw_sql }}), '')
{% endmacro %}
