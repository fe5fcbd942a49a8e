"""Estimation: each paper table as an asset writing tidy results to the warehouse."""
