{#
    Staging's guard against silently wrong data: `parsed_column` holds the typed value of the raw
    text `raw_column`; where the raw text is present but did not parse, the build stops with a
    message that names the file, the column, the rule and the offending value with its row
    number. Parse in one CTE and check in the next, so each value is parsed once.
#}
{% macro checked_raw_value(parsed_column, raw_column, column_name, rule, row_number_column="raw_row_number") %}
    case
        when {{ raw_column }} is not null and {{ parsed_column }} is null
            then {{ raise_error(dbt.concat([
                string_literal("Raw orders file " ~ var('raw_orders_path')
                    ~ ": column " ~ column_name ~ " " ~ rule ~ "; found '"),
                raw_column,
                string_literal("' on data row "),
                dbt.safe_cast(row_number_column, string_type()),
            ])) }}
        else {{ parsed_column }}
    end
{% endmacro %}


{#-
    The whole number held by a number (a double, exact for whole numbers up to 2^53), or NULL
    when it has a fraction: `17850.0` is customer 17850, `17850.5` is nobody.
-#}
{% macro whole_number(number_column) %}
    case when {{ number_column }} = floor({{ number_column }}) then cast({{ number_column }} as bigint) end
{% endmacro %}


{#- Trimmed text, NULL when blank. -#}
{% macro blank_to_null(raw_sql) %}
    nullif(trim({{ raw_sql }}), '')
{% endmacro %}
