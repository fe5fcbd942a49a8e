"""Great Expectations suites, written as code, one module per suite.

GX's SQL datasource fails on DuckDB (every expectation raises IndexError through
duckdb-engine), so suites validate pandas DataFrames read from the warehouse through
GX's pandas datasource. GX takes ~10 s to import: :mod:`expectations.runner` keeps one
ephemeral context per process, and nothing here imports GX at module import time.
"""
