{#
    The rule personas of the seed cluster_personas (assigned_by = rule: refunded, no_purchase),
    as one SQL expression judged per customer: the key of the first rule (by match_priority) the
    customer meets, else NULL (the customer is clustered). The rules are the seed's own `rule`
    text, read when the model runs, so the Python fit and the SQL assignment judge the same
    rule; each may only compare a column (`columns_prefix` + measure) with a number, and
    anything else stops the build.
#}
{% macro rule_persona_key(columns_prefix="") %}
    {%- set personas = ref('cluster_personas') -%}
    {%- if not execute -%}
        {{ return("cast(null as " ~ string_type() ~ ")") }}
    {%- endif -%}
    {#- Compiled before the seeds are loaded (sqlfluff, `dbt compile` on a new warehouse): an
        expression that stops the query if it ever runs, never a silent NULL. -#}
    {%- if load_relation(personas) is none -%}
        {{ return("cast(" ~ raise_error(string_literal(
            "the seed cluster_personas is not loaded in " ~ personas
            ~ ": run dbt seed or dbt build")) ~ " as " ~ string_type() ~ ")") }}
    {%- endif -%}
    {%- set rules = run_query(
        "select persona_key, rule from " ~ personas
        ~ " where assigned_by = 'rule' order by match_priority") -%}
    {%- set measures = ["frequency", "monetary", "recency_days", "tenure_days"] -%}
    {%- set condition = "(" ~ (measures | join("|")) ~ ")\s*(<=|>=|<|>|=|!=)\s*(-?[0-9]+(\.[0-9]+)?)" -%}
    {%- if rules.rows | length == 0 -%}
        {{ return("cast(null as " ~ string_type() ~ ")") }}
    {%- endif -%}
    case
    {%- for row in rules.rows %}
        {%- set parts = [] -%}
        {%- for clause in modules.re.split("\s+and\s+", row[1] | trim) -%}
            {%- set match = modules.re.fullmatch(condition, clause | trim) -%}
            {%- if not match or not modules.re.fullmatch("[a-z][a-z0-9_]*", row[0]) -%}
                {%- do exceptions.raise_compiler_error(
                    "Seed cluster_personas: the rule of rule persona " ~ row[0] ~ " must compare "
                    ~ "a measure (" ~ (measures | join(", ")) ~ ") with a number, clauses joined "
                    ~ "by `and`; got: " ~ row[1]) -%}
            {%- endif -%}
            {%- do parts.append(columns_prefix ~ match.group(1) ~ " " ~ match.group(2) ~ " "
                ~ match.group(3)) -%}
        {%- endfor %}
        when {{ parts | join(" and ") }} then {{ string_literal(row[0]) }}
    {%- endfor %}
    end
{% endmacro %}
