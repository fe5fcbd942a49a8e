"""Reporting: paper-style tables rendered from the warehouse into reports/."""
