"""Exports: warehouse tables as files researchers open in Stata, R or a spreadsheet."""
