"""Vendor exports -> a contract vintage (``nqp import``).

Declarative: one YAML profile per vendor family in ``profiles/`` says, per contract column, which
vendor table.field feeds it, its unit, code recodings, row selection and derivations; the engine in
``engine.py`` applies any profile, ``readers.py`` turns every file quirk into clean string frames and
``vendor_writer.py`` writes a synthetic vintage back out as a vendor download (``nqp synth --as``).
No Dagster import anywhere in this package, and nothing heavy at import time.
"""
