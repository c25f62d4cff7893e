"""Deterministic generator of Online Retail order lines: the project's default data, not the product.

The product (``customer_segments``) never imports this package; ``make build`` runs it once to
write ``data/online_retail.csv``, and the tests and benchmarks use it for inputs of any size.
"""
