"""Ingest: raw vintages from data/landing/ into the append-only raw schema."""
