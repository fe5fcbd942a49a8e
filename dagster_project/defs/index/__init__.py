"""Index: the entropy-weighted new quality productivity index."""
