"""Synthetic vintage generator: raw data in the contract's shape with a planted, documented DGP.

No Dagster import here: the CLI, the Dagster assets and the tests all call ``generate_vintage``.
"""

from synthetic.vintage import (
    DEFAULT_SEED,
    DEFAULT_VINTAGE_ID,
    GENERATOR_VERSION,
    build_vintage,
    generate_vintage,
)

__all__ = ["DEFAULT_SEED", "DEFAULT_VINTAGE_ID", "GENERATOR_VERSION", "build_vintage", "generate_vintage"]
