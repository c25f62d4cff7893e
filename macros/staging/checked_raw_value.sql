{#
    Staging's guard against silently wrong data: `parsed_column` holds the typed value of the raw
    text `raw_column`; where the raw text is present but did not parse, the build stops with a
    message that names the file, the column, the rule and the offending value with its row
    number. Parse in one CTE and check in the next, so each value is parsed once.

    `rule` is the text of the rule; `rule_sql`, when given, an SQL string expression that says
    what is wrong with this value in particular (evaluated only for a value that failed).
    `required`: a blank value stops the build too, naming the row; `blank_line_column` says
    whether every field of the line is blank, for a clearer message.
#}
{% macro checked_raw_value(parsed_column, raw_column, column_name, rule, row_number_column="raw_row_number", rule_sql=none, required=false, blank_line_column="is_blank_line") %}
    {%- set file = "Raw orders file " ~ raw_orders_path_setting() -%}
    {%- set file_and_column = file ~ ": column " ~ column_name ~ " " -%}
    {%- set parts = [string_literal(file_and_column), rule_sql] if rule_sql is not none
        else [string_literal(file_and_column ~ rule)] -%}
    {%- set row_text = dbt.safe_cast(row_number_column, string_type()) -%}
    case
        {%- if required %}
        when {{ blank_line_column }}
            then {{ raise_error(dbt.concat([
                string_literal(file ~ ": data row "), row_text,
                string_literal(" is blank (every field is empty, a line such as ,,,,,,,): remove it"),
            ])) }}
        when {{ raw_column }} is null
            then {{ raise_error(dbt.concat([
                string_literal(file_and_column ~ "is empty on data row "), row_text,
                string_literal(": every line needs InvoiceNo, StockCode, Quantity, InvoiceDate and UnitPrice"),
            ])) }}
        {%- endif %}
        when {{ raw_column }} is not null and {{ parsed_column }} is null
            then {{ raise_error(dbt.concat(parts + [
                string_literal("; found '"),
                raw_column,
                string_literal("' on data row "),
                row_text,
            ])) }}
        else {{ parsed_column }}
    end
{% endmacro %}


{#-
    A whole number written in digits, as an exact bigint: never through a float, which merges
    numbers above 2^53. The fast path takes text that is already the number's own spelling
    (`6`, `-6`, `17850`); the slower pattern `pattern` is tried only on the rest (`6.0`, `+6`),
    which keeps the cost at a cast and a comparison per value. NULL for anything else: a
    fraction, an exponent, NaN, infinity, more digits than the pattern allows.
-#}
{% macro exact_whole_number(raw_sql, pattern="[+-]?[0-9]{1,19}([.]0*)?") %}
    {%- set as_bigint = dbt.safe_cast(raw_sql, dbt.type_bigint()) -%}
    case
        when {{ dbt.safe_cast(as_bigint, string_type()) }} = {{ raw_sql }}
            then {{ as_bigint }}
        when {{ text_matches(raw_sql, pattern) }}
            then {{ dbt.safe_cast(dbt.split_part(raw_sql, "'.'", 1), dbt.type_bigint()) }}
    end
{% endmacro %}


{#- Why a raw whole number was refused, as an SQL string expression (see exact_whole_number). -#}
{% macro whole_number_rule(raw_sql) %}
    case
        when {{ text_matches(raw_sql, "(?i)[+-]?(nan|inf|infinity)") }}
            then 'must be a whole number, not NaN or infinity'
        when {{ text_matches(raw_sql, "[+-]?[0-9]{19,}([.][0-9]*)?") }}
            then 'must be a whole number from -9223372036854775808 to 9223372036854775807'
        else 'must be a whole number'
    end
{% endmacro %}


{#-
    A raw price as numeric(18, 4), or NULL (refused) when rounding it to 4 decimals changes it by
    more than 1%: a price finer than the kept decimals (0.00006353, bitcoin) would become 0.0001
    or 0 and its amounts round to 0.00, so customers would look refunded. Float noise
    (2.5500000000000003) and the real data's 3 decimals stay exact enough.
-#}
{% macro unit_price_at_four_decimals(raw_sql) %}
    {%- set as_double = dbt.safe_cast(raw_sql, double_type()) -%}
    {%- set rounded = dbt.safe_cast(raw_sql, 'numeric(18, 4)') -%}
    case
        when {{ as_double }} <> 0
            and abs(cast({{ rounded }} as {{ double_type() }}) - {{ as_double }})
            > 0.01 * abs({{ as_double }})
            then null
        else {{ rounded }}
    end
{% endmacro %}


{#- Why a raw price was refused, as an SQL string expression (the type is numeric(18, 4)). -#}
{% macro unit_price_rule(raw_sql) %}
    case
        when {{ text_matches(raw_sql, "(?i)[+-]?(nan|inf|infinity)") }}
            then 'must be a number, not NaN or infinity'
        when {{ text_matches(raw_sql, "[+-]?[0-9]{15,}([.][0-9]*)?|[+-]?[0-9.]+[eE][+-]?[0-9]+") }}
            then 'must be a number below 100,000,000,000,000 (at most 14 digits before the dot)'
        when {{ dbt.safe_cast(raw_sql, double_type()) }} is not null
            then '{{ "has more decimals than the 4 kept, and rounding it to 4 changes it by "
                ~ "more than 1% (amounts are kept to the cent): scale the prices first, e.g. "
                ~ "a currency with finer units such as bitcoin in satoshi" }}'
        else 'must be a number with a dot as decimal separator'
    end
{% endmacro %}


{#-
    A customer id written in digits, as an exact whole number (see exact_whole_number):
    `17850` and `17850.0` (float exports, Parquet float columns) are 17850; a leading zero, an
    exponent, a `+` or a fraction gives NULL, so that two distinct spellings can never become
    one id. NULL too beyond the bigint range.
-#}
{% macro exact_customer_id(raw_sql) %}
    {{ return(exact_whole_number(raw_sql, pattern="(0|[1-9][0-9]{0,18})([.]0*)?")) }}
{% endmacro %}


{#- Why a raw customer id was refused, as an SQL string expression (see exact_customer_id). -#}
{% macro customer_id_rule(raw_sql) %}
    case
        when {{ text_matches(raw_sql, "[+-]?[0-9]*[.]?[0-9]+[eE][+-]?[0-9]+") }}
            then 'is in scientific notation, which has lost digits (Excel shows 4012830000000001 as 4.01283E+15): export the column as text or as whole numbers'
        when {{ text_matches(raw_sql, "0[0-9].*") }}
            then 'has a leading zero, so 017850 and 17850 would become one customer: write ids without leading zeros'
        when {{ text_matches(raw_sql, "[0-9]{19,}([.]0*)?") }}
            then 'is beyond the largest customer id, 9223372036854775807'
        else 'must be a whole number written in digits (17850 or 17850.0), or blank'
    end
{% endmacro %}


{#-
    Why a raw invoice date was refused, as an SQL string expression: `parsed_sql` is the date
    read with any year, which is set when the only fault is a year below 1000.
-#}
{% macro invoice_date_rule(parsed_sql) %}
    {%- set layouts = raw_orders_timestamp_formats_setting() | join(" | ") -%}
    case
        when {{ parsed_sql }} is not null
            then 'has a two-digit year, which the layout %Y reads as a year below 1000: write years with four digits, or, for a file with two-digit years throughout, list a layout with %y first in the var raw_orders_timestamp_formats (%y reads 00-68 as 2000-2068 and 69-99 as 1969-1999)'
        else {{ string_literal("must be a date in one of the layouts of the var raw_orders_timestamp_formats (" ~ layouts ~ ")") }}
    end
{% endmacro %}


{#- Trimmed text, NULL when blank. -#}
{% macro blank_to_null(raw_sql) %}
    nullif(trim({{ raw_sql }}), '')
{% endmacro %}
