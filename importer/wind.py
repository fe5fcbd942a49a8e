"""Wind's wide Excel/CSV exports -> two vendor tables the engine can key and select.

A Wind sheet has one row per security and one column per indicator and report period, with a
multi-line header (``营业收入\\n[报告期] 2018年报\\n[报表类型] 合并报表\\n[单位] 万元``) and a
``数据来源：Wind`` footer. Columns with a report period become ``WindPanel`` (one row per security
and period, amounts converted to yuan from each column's own unit, exactly, in decimal arithmetic);
the others (证券简称, 上市日期, ...) become ``WindSnapshot``. Non-consolidated columns are dropped.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal

import pandas as pd

from importer import engine, readers
from importer.readers import ImportProblem, VendorFrame

CONSOLIDATED = "合并报表"


def _to_yuan_text(values: pd.Series, unit: str | None, column: str, location: Callable[[int], str]) -> pd.Series:
    factor = engine.unit_factor(unit or "元", column, "Wind [单位]")
    text, missing, _ = engine.clean_numbers(values, location)
    if factor == 1:
        return text.where(~missing, "")
    return pd.Series([format(Decimal(v) * factor, "f") if not m else "" for v, m in zip(text, missing)],
                     index=values.index)


def read_wind_tables(files: list[readers.ExportFile], profile: dict,
                     progress: Callable[[str], None]) -> dict[str, VendorFrame]:
    code_column = profile["code_column"]
    data_files = [f for f in files if f.name.lower().endswith(readers.DATA_SUFFIXES)]
    sheets, footers = readers.read_wind(data_files, progress)
    panel_parts, snapshot_parts, sheet_codes, dropped_columns, locations = [], [], [], 0, []
    for location, headers, body in sheets:
        locations.append(location)
        names = [h.indicator for h in headers]
        if code_column not in names:
            raise ImportProblem(f"{location}: no {code_column!r} column in the Wind sheet (rule: Wind layout)")
        code = body[names.index(code_column)]
        sheet_codes.append(code)
        snapshot = {code_column: code, "_file": body["_file"], "_row": body["_row"]}
        by_year: dict[int, dict[str, pd.Series]] = {}
        for position, header in enumerate(headers):
            if header.indicator == code_column:
                continue
            if header.year is None:
                snapshot[header.indicator] = body[position]
                continue
            if header.statement_type not in (None, CONSOLIDATED):
                dropped_columns += 1
                continue
            values = _to_yuan_text(body[position], header.unit,
                                   f"{location}, column {position + 1} ({header.indicator} {header.year})",
                                   _wind_location(body, position, header))
            year_columns = by_year.setdefault(header.year, {})
            if header.indicator in year_columns:  # a column exported twice: its last non-empty value wins
                values = values.where(values.astype(str) != "", year_columns[header.indicator])
            year_columns[header.indicator] = values
        snapshot_parts.append(pd.DataFrame(snapshot))
        for year, columns in by_year.items():
            part = pd.DataFrame({code_column: code, "_period": f"{year}-12-31", **columns,
                                 "_file": body["_file"], "_row": body["_row"]})
            has_value = pd.DataFrame(columns).apply(lambda c: c.str.strip() != "").any(axis=1)
            panel_parts.append(part[has_value])
    frames = {}
    snapshot_parts = [p for p in snapshot_parts if len(p.columns) > 3]
    if snapshot_parts:
        frames["WindSnapshot"] = VendorFrame("WindSnapshot", _merge_sheets(snapshot_parts, [code_column]),
                                             locations, footer_rows_dropped=footers)
    if panel_parts:
        panel = _merge_sheets(panel_parts, [code_column, "_period"])
        # Security-major in the order the sheets list the securities, years ascending.
        first_seen = {code: i for i, code in enumerate(pd.unique(pd.concat(sheet_codes, ignore_index=True)))}
        panel = panel.sort_values([code_column, "_period"], key=lambda c: c.map(first_seen) if c.name == code_column
                                  else c, kind="stable").reset_index(drop=True)
        frames["WindPanel"] = VendorFrame("WindPanel", panel, locations, footer_rows_dropped=footers,
                                          columns_dropped={"columns not 合并报表 (consolidated)": dropped_columns})
    return frames


def _wind_location(body: pd.DataFrame, position: int, header: readers.WindHeader) -> Callable[[int], str]:
    def location(row: int) -> str:
        return (f"{body['_file'].iloc[row]}, row {body['_row'].iloc[row]}, column {position + 1} "
                f"({header.indicator} {header.year})")
    return location


def _merge_sheets(parts: list[pd.DataFrame], key: list[str]) -> pd.DataFrame:
    """Several sheets may carry different indicators of one security (-period): one row each, the
    last non-empty value of every column (a column repeated within or across sheets: the last wins)."""
    frame = pd.concat(parts, ignore_index=True).fillna("")
    if not frame.duplicated(key).any():
        return frame

    def last_value(column: pd.Series) -> str:
        filled = column[column.astype(str).str.strip() != ""]
        return filled.iloc[-1] if len(filled) else column.iloc[-1]
    return frame.groupby(key, sort=False, as_index=False).agg(last_value)
