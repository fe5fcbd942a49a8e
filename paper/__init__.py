"""The paper: one spec per table (``paper.specs``), the models and column ids behind them
(``paper.models``), how each is estimated (``paper.firm``, ``paper.spatial``) and printed
(``paper.layouts``). Pure Python on top of ``analysis``: no Dagster, no DuckDB."""
