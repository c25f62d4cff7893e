{#-
    A strftime layout (the var raw_orders_timestamp_formats) as a Java DateTimeFormatter
    pattern, for Spark. Unknown codes stop the build instead of parsing nothing.
-#}
{% macro strftime_to_java_pattern(format) %}
    {%- set codes = {
        "%Y": "yyyy", "%y": "yy", "%m": "M", "%d": "d", "%H": "H", "%I": "h", "%M": "m",
        "%S": "s", "%f": "SSSSSS", "%p": "a", "%b": "MMM", "%B": "MMMM", "%j": "D",
    } -%}
    {%- set pattern = namespace(text="") -%}
    {%- for token in modules.re.findall("%.|[^%]+", format) -%}
        {%- if token.startswith("%") -%}
            {%- if token not in codes -%}
                {%- do exceptions.raise_compiler_error(
                    "Timestamp layout " ~ format ~ ": " ~ token ~ " has no Spark equivalent here; "
                    ~ "use " ~ (codes.keys() | join(" "))) -%}
            {%- endif -%}
            {%- set pattern.text = pattern.text ~ codes[token] -%}
        {%- elif modules.re.search("[A-Za-z']", token) -%}
            {%- set pattern.text = pattern.text ~ "'" ~ (token | replace("'", "''")) ~ "'" -%}
        {%- else -%}
            {%- set pattern.text = pattern.text ~ token -%}
        {%- endif -%}
    {%- endfor -%}
    {{- return(pattern.text) -}}
{% endmacro %}
