"""The next vintage of an existing one: the same firms one fiscal year later, with some history revised.

What a quarterly refresh of the Wind/CSMAR/CNIPA exports looks like, in miniature:

- one more fiscal year (the base's last year + 1): every firm still listed on 1 January
  of that year gets a financials, governance and firm_status row; amounts and head
  counts grow by a firm-specific factor exp(g), g ~ N(:data:`GROWTH_MEAN`,
  :data:`GROWTH_SD`) (the DGP's asset growth), so every accounting identity of the base
  row still holds; governance and status carry over;
- that year's patents: each patent filed in the base's last year is filed again one year
  later by the same applicants (new CNIPA numbers, same texts and IPC codes);
- revised history: :data:`REVISED_SHARE` of the earlier financials rows get
  operating_income revised by a relative amount drawn uniformly from
  +-[:data:`REVISION_MIN`, :data:`REVISION_MAX`], and a quarter of those also net_profit
  (restatements touch the income statement, leaving the balance-sheet identity intact);
- firms, the applicant map and everything else unchanged.

The planted changes are listed in truth.json under ``next_of`` (new year, row counts,
every revision with its old and new value), which is how the diff report is tested.
The same base folder always gives byte-identical files.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import date
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from nqp_core import contract as raw_contract
from synthetic.patents import TYPE_DIGIT, _application_numbers
from synthetic.vintage import (
    SyntheticVintage,
    contract_schema,
    write_vintage_folder,
)

GROWTH_MEAN = 0.055  # mean yearly log growth, as size_growth in parameters.py
GROWTH_SD = 0.11  # as size_growth_sd in parameters.py
REVISED_SHARE = 0.02  # a realistic refresh restates a few percent of firm-years
REVISION_MIN, REVISION_MAX = 0.01, 0.05  # relative size of a restatement
NET_PROFIT_REVISED_SHARE = 0.25  # of the revised firm-years, also restate net_profit
_SEED_SALT = 20_240_601  # separates this stream from the base generator's


def _read_table(folder: Path, table: raw_contract.RawTable) -> tuple[pa.Table, str]:
    path = raw_contract.vintage_file(folder, table)
    if path is None:
        raise FileNotFoundError(f"{folder} has no {table.name}.parquet or {table.name}.csv")
    schema = contract_schema(table)
    if path.suffix == ".parquet":
        return pq.read_table(path).cast(schema), "parquet"
    options = pacsv.ConvertOptions(column_types=schema, strings_can_be_null=False)
    return pacsv.read_csv(path, convert_options=options).select(schema.names).cast(schema), "csv"


def default_next_id(vintage_id: str) -> str:
    """'2024-06' -> '2025-06': the same refresh a year later."""
    year, _, rest = vintage_id.partition("-")
    if not year.isdigit() or len(year) != 4:
        raise ValueError(f"cannot derive the next vintage id from {vintage_id!r}; pass one explicitly")
    return f"{int(year) + 1}{'-' + rest if rest else ''}"


def _shift_dates_one_year(dates: pa.Array) -> pa.Array:
    """Same day of the year, one year later (29 February becomes 28 February)."""
    values = dates.to_numpy(zero_copy_only=False).astype("datetime64[D]")
    years = values.astype("datetime64[Y]")
    day_of_year = (values - years.astype("datetime64[D]")).astype(np.int64)
    next_years = years + 1
    days_in_next = ((next_years + 1).astype("datetime64[D]") - next_years.astype("datetime64[D]")).astype(np.int64)
    shifted = next_years.astype("datetime64[D]") + np.minimum(day_of_year, days_in_next - 1).astype("timedelta64[D]")
    return pa.array(shifted, pa.date32())


def _grown_year(financials: pa.Table, continuing: np.ndarray, growth: np.ndarray, new_year: int) -> pa.Table:
    rows = financials.filter(pa.array(continuing))
    columns = {}
    for column in raw_contract.FINANCIALS.columns:
        values = rows[column.name]
        if column.name == "fiscal_year":
            columns[column.name] = pa.array(np.full(rows.num_rows, new_year), pa.int32())
        elif column.dtype == "DOUBLE":
            columns[column.name] = pc.multiply(values, pa.array(growth))
        elif column.dtype == "INTEGER":
            scaled = np.rint(values.to_numpy(zero_copy_only=False).astype(float) * growth)
            columns[column.name] = pa.array(scaled, pa.int32(), from_pandas=True)
        else:
            columns[column.name] = values
    return pa.table(columns, schema=contract_schema(raw_contract.FINANCIALS))


def _carried_over(table: pa.Table, last_year: int, codes: pa.Array, spec: raw_contract.RawTable) -> pa.Table:
    mask = pc.and_(pc.equal(table["fiscal_year"], last_year), pc.is_in(table["stock_code"], value_set=codes))
    rows = table.filter(mask)
    index = rows.schema.get_field_index("fiscal_year")
    return rows.set_column(index, rows.schema.field(index), pc.add(rows["fiscal_year"], 1).cast(pa.int32()))


def _next_year_patents(rng: np.random.Generator, patents: pa.Table, last_year: int) -> pa.Table:
    refiled = patents.filter(pc.equal(pc.year(patents["application_date"]), last_year))
    dates = _shift_dates_one_year(refiled["application_date"].combine_chunks())
    day_of_year = pc.subtract(pc.day_of_year(dates), 1).to_numpy(zero_copy_only=False).astype(np.int64)
    type_digits = np.array([TYPE_DIGIT[t] for t in refiled["patent_type"].to_pylist()], dtype=np.int64)
    years = np.full(refiled.num_rows, last_year + 1, dtype=np.int64)
    numbers, order = _application_numbers(rng, years, type_digits, day_of_year)
    order_array = pa.array(order)
    reordered = refiled.take(order_array)
    return reordered.set_column(0, reordered.schema.field(0), numbers).set_column(
        1, reordered.schema.field(1), dates.take(order_array))


def _revise_history(rng: np.random.Generator, financials: pa.Table, new_year: int) -> tuple[pa.Table, list[dict]]:
    history = np.flatnonzero(financials["fiscal_year"].to_numpy() < new_year)
    chosen = np.sort(rng.choice(history, size=max(1, round(REVISED_SHARE * len(history))), replace=False))
    revisions = []
    for column, rows in (("operating_income", chosen),
                         ("net_profit", chosen[rng.random(len(chosen)) < NET_PROFIT_REVISED_SHARE])):
        values = financials[column].to_numpy().copy()
        sizes = rng.uniform(REVISION_MIN, REVISION_MAX, len(rows)) * rng.choice([-1.0, 1.0], len(rows))
        old = values[rows].copy()
        values[rows] = old * (1.0 + sizes)
        index = financials.schema.get_field_index(column)
        financials = financials.set_column(index, financials.schema.field(index), pa.array(values))
        codes = financials["stock_code"].take(pa.array(rows)).to_pylist()
        years = financials["fiscal_year"].take(pa.array(rows)).to_pylist()
        revisions += [
            {"stock_code": code, "fiscal_year": year, "column": column, "old": float(o), "new": float(n)}
            for code, year, o, n in zip(codes, years, old, values[rows], strict=True)
        ]
    return financials, revisions


def build_next_vintage(base: Path, vintage_id: str) -> tuple[SyntheticVintage, str]:
    """The next vintage's tables and truth, and the base's file format."""
    tables: dict[str, pa.Table] = {}
    formats = set()
    for table in raw_contract.RAW_TABLES:
        tables[table.name], file_format = _read_table(base, table)
        formats.add(file_format)
    truth = json.loads((base / raw_contract.TRUTH_FILE).read_text(encoding="utf-8"))
    last_year = int(pc.max(tables["financials"]["fiscal_year"]).as_py())
    new_year = last_year + 1
    rng = np.random.default_rng([int(truth.get("seed", 0)), _SEED_SALT, new_year])

    firms = tables["firms"]
    still_listed = pc.fill_null(pc.greater_equal(firms["delisting_date"], pa.scalar(date(new_year, 1, 1))), True)
    listed_codes = firms["stock_code"].filter(still_listed)
    financials = tables["financials"]
    continuing = pc.and_(pc.equal(financials["fiscal_year"], last_year),
                         pc.is_in(financials["stock_code"], value_set=listed_codes)).to_numpy(zero_copy_only=False)
    growth = np.exp(rng.normal(GROWTH_MEAN, GROWTH_SD, int(continuing.sum())))
    revised, revisions = _revise_history(rng, financials, new_year)
    new_rows = _grown_year(financials, continuing, growth, new_year)
    new_codes = new_rows["stock_code"]
    tables["financials"] = pa.concat_tables([revised, new_rows])
    for spec in (raw_contract.GOVERNANCE, raw_contract.FIRM_STATUS):
        tables[spec.name] = pa.concat_tables(
            [tables[spec.name], _carried_over(tables[spec.name], last_year, new_codes, spec)])
    new_patents = _next_year_patents(rng, tables["patents"], last_year)
    tables["patents"] = pa.concat_tables([tables["patents"], new_patents.cast(tables["patents"].schema)])

    truth["vintage_id"] = vintage_id
    truth["next_of"] = {
        "base_vintage_id": base.name,
        "new_fiscal_year": new_year,
        "firm_years_added": new_rows.num_rows,
        "patents_added": new_patents.num_rows,
        "revised_share": REVISED_SHARE,
        "revision_range": [REVISION_MIN, REVISION_MAX],
        "revisions": revisions,
    }
    return SyntheticVintage(tables=tables, truth=truth), formats.pop() if len(formats) == 1 else "parquet"


def generate_next_vintage(base: Path, landing_dir: Path, vintage_id: str | None = None,
                          progress: Callable[[str], None] | None = None) -> Path:
    """Write the next vintage of ``base`` to ``landing_dir/<vintage_id>/`` (default: the base id a year later)."""
    base = Path(base).resolve()
    if not (base / raw_contract.READY_MARKER).exists():
        raise ValueError(f"{base} is not a complete vintage (no {raw_contract.READY_MARKER})")
    vintage_id = vintage_id or default_next_id(base.name)
    problem = raw_contract.vintage_id_problem(vintage_id)
    if problem:
        raise ValueError(problem)
    target = Path(landing_dir) / vintage_id
    if target.exists():
        raise FileExistsError(f"vintage folder {target} already exists; refusing to overwrite it")
    report = progress or (lambda message: None)
    vintage, file_format = build_next_vintage(base, vintage_id)
    return write_vintage_folder(target, vintage, file_format, report)
