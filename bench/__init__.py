"""Benchmark suite: the dbt build against a pandas notebook and a single DuckDB query.

See ``bench/README.md`` for what is measured and how to run it; ``bench/RESULTS.md`` holds the
last results.
"""
