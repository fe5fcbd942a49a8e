"""Assemble a synthetic vintage in the raw contract's shape and write it atomically."""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from nqp_core import contract as raw_contract
from synthetic.firms import build_firms
from synthetic.panel import SAMPLE_FIRST_YEAR, STATEMENTS_FIRST_YEAR, YEARS, Panel, simulate_panel
from synthetic.parameters import DEFAULT_PARAMETERS, DgpParameters
from synthetic.patents import build_patents
from nqp_core.reference import load_reference_data

GENERATOR_VERSION = "1.0.0"
DEFAULT_SEED = 42
DEFAULT_VINTAGE_ID = "2024-06"
FILE_FORMATS = ("parquet", "csv")
POPULATION_VALUES_FILE = Path(__file__).with_name("population_values.json")

ARROW_TYPES = {
    "VARCHAR": pa.string(),
    "DOUBLE": pa.float64(),
    "INTEGER": pa.int32(),
    "DATE": pa.date32(),
    "BOOLEAN": pa.bool_(),
}

SAMPLE_RULE = (
    "firm-year kept when: industry sector letter C with division 13-43; industry not J66-J69; "
    "fiscal_year 2015-2023; listing_date <= Dec 31 of fiscal_year and (delisting_date is null or "
    ">= Jan 1 of fiscal_year); trading_status = 'normal' (suspension alone does not drop); "
    "total_liabilities <= total_assets"
)


@dataclass(frozen=True)
class SyntheticVintage:
    tables: dict[str, pa.Table]
    truth: dict


def contract_schema(table: raw_contract.RawTable) -> pa.Schema:
    return pa.schema([pa.field(c.name, ARROW_TYPES[c.dtype], nullable=c.nullable) for c in table.columns])


def _conform(table: raw_contract.RawTable, columns: dict[str, object]) -> pa.Table:
    schema = contract_schema(table)
    return pa.table({f.name: pa.array(columns[f.name], f.type) if not isinstance(columns[f.name], pa.Array)
                     else columns[f.name].cast(f.type) for f in schema}, schema=schema)


def _firm_year_rows(panel: Panel, first_year: int) -> tuple[np.ndarray, np.ndarray]:
    """(firm, year) indices of rows a database holds: the firm is listed, from `first_year` on."""
    keep = panel.listed & (YEARS >= first_year)[None, :]
    return np.nonzero(keep)


def build_vintage(seed: int, scale: float, vintage_id: str, params: DgpParameters = DEFAULT_PARAMETERS,
                  progress: Callable[[str], None] | None = None) -> SyntheticVintage:
    """All six raw tables and truth.json's content, in memory."""
    report = progress or (lambda message: None)
    reference = load_reference_data()
    rng = np.random.default_rng(seed)
    report("firms")
    firms = build_firms(rng, params, scale, reference)
    report("firm-year panel")
    panel = simulate_panel(rng, params, firms, reference)
    report("patents")
    patents = build_patents(rng, params, firms, panel)

    tables: dict[str, pa.Table] = {}
    province_codes = np.array(reference.province_codes, dtype=object)
    industry_codes = np.array(reference.industry_codes, dtype=object)
    tables["firms"] = _conform(raw_contract.FIRMS, {
        "stock_code": firms.stock_code,
        "firm_name": firms.short_name,
        "province_code": province_codes[firms.province],
        "industry_code": industry_codes[firms.industry],
        "incorporation_date": firms.incorporation_date,
        "listing_date": firms.listing_date,
        "delisting_date": pa.array(firms.delisting_date, pa.date32(), mask=np.isnat(firms.delisting_date)),
    })

    firm, year = _firm_year_rows(panel, STATEMENTS_FIRST_YEAR)
    financial_columns: dict[str, object] = {"stock_code": firms.stock_code[firm], "fiscal_year": YEARS[year]}
    for name, values in panel.accounts.items():
        financial_columns[name] = values[firm, year]
    bachelor = panel.accounts["bachelor_staff"][firm, year]
    financial_columns["bachelor_staff"] = pa.array(bachelor, pa.int32(), mask=bachelor < 0)
    tables["financials"] = _conform(raw_contract.FINANCIALS, financial_columns)

    firm, year = _firm_year_rows(panel, SAMPLE_FIRST_YEAR)
    governance = {"stock_code": firms.stock_code[firm], "fiscal_year": YEARS[year]}
    governance.update({name: values[firm, year] for name, values in panel.governance.items()})
    tables["governance"] = _conform(raw_contract.GOVERNANCE, governance)
    tables["firm_status"] = _conform(raw_contract.FIRM_STATUS, {
        "stock_code": firms.stock_code[firm],
        "fiscal_year": YEARS[year],
        "trading_status": panel.status[firm, year],
        "suspended": panel.suspended[firm, year],
    })
    tables["patents"] = patents.patents.cast(contract_schema(raw_contract.PATENTS))
    tables["applicant_firm_map"] = patents.applicant_firm_map.cast(contract_schema(raw_contract.APPLICANT_FIRM_MAP))

    sample = panel.in_sample(firms)
    eligible = panel.eligible(firms)
    truth = {
        "synthetic": True,
        "generator_version": GENERATOR_VERSION,
        "seed": seed,
        "scale": scale,
        "vintage_id": vintage_id,
        "dgp_fingerprint": params.fingerprint(),
        "expected_sample_firm_years": int(sample.sum()),
        "sample_rule": SAMPLE_RULE,
        "planted_counts": {
            "firms": firms.size,
            "manufacturing_firms": int(firms.manufacturing.sum()),
            "financial_firms": int(firms.financial.sum()),
            "sample_firm_years_by_region": {
                "east": int(sample[firms.east].sum()),
                "central": int(sample[firms.central].sum()),
                "west": int(sample[~firms.east & ~firms.central].sum()),
            },
            "sample_bachelor_disclosed": int((sample & (panel.accounts["bachelor_staff"] >= 0)).sum()),
            "dropped_special_treatment": int((eligible & (panel.status != "normal")).sum()),
            "dropped_insolvent_only": int((eligible & (panel.status == "normal")
                                           & panel.insolvent).sum()),
            **patents.planted_counts,
        },
        "structural": params.structural(),
        "derived": _population_values(),
    }
    return SyntheticVintage(tables=tables, truth=truth)


def _population_values() -> dict:
    """Pipeline-derived population estimands (with their provenance), when the lead has computed them."""
    if POPULATION_VALUES_FILE.exists():
        return json.loads(POPULATION_VALUES_FILE.read_text(encoding="utf-8"))
    return {}


def _validate(landing_dir: Path, vintage_id: str, seed: int, scale: float, file_format: str) -> Path:
    problem = raw_contract.vintage_id_problem(vintage_id)
    if problem:
        raise ValueError(problem)
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ValueError(f"seed must be a non-negative integer, got {seed!r}")
    if not isinstance(scale, (int, float)) or not math.isfinite(scale) or scale <= 0:
        raise ValueError(f"scale must be a positive finite number, got {scale!r}")
    if file_format not in FILE_FORMATS:
        raise ValueError(f"file_format must be one of {FILE_FORMATS}, got {file_format!r}")
    target = Path(landing_dir) / vintage_id
    if target.exists():
        raise FileExistsError(f"vintage folder {target} already exists; refusing to overwrite it "
                              "(choose another vintage_id or delete the folder)")
    return target


def _write_table(table: pa.Table, path: Path, file_format: str) -> None:
    if file_format == "parquet":
        pq.write_table(table, path, compression="zstd")
    else:
        pacsv.write_csv(table, path, pacsv.WriteOptions(include_header=True, delimiter=","))


def generate_vintage(
    landing_dir: Path,
    vintage_id: str = DEFAULT_VINTAGE_ID,
    seed: int = DEFAULT_SEED,
    scale: float = 1.0,
    file_format: str = "parquet",
    progress: Callable[[str], None] | None = None,
) -> Path:
    """Write a synthetic vintage to ``landing_dir/<vintage_id>/`` and return that folder.

    The six contract files and ``truth.json`` are written into a hidden temporary sibling folder,
    which is renamed into place; ``_READY`` is created last. The same seed and scale give
    byte-identical files.
    """
    target = _validate(landing_dir, vintage_id, seed, scale, file_format)
    report = progress or (lambda message: None)
    vintage = build_vintage(int(seed), float(scale), vintage_id, progress=report)
    return write_vintage_folder(target, vintage, file_format, report)


def write_vintage_folder(target: Path, vintage: SyntheticVintage, file_format: str,
                         report: Callable[[str], None]) -> Path:
    """Write the tables and truth.json into a hidden sibling folder, rename it to ``target``, then ``_READY``."""
    with raw_contract.staged_vintage_folder(target) as staging:
        for table in raw_contract.RAW_TABLES:
            report(f"writing {table.name}")
            _write_table(vintage.tables[table.name], staging / f"{table.name}.{file_format}", file_format)
        (staging / raw_contract.TRUTH_FILE).write_text(
            json.dumps(vintage.truth, indent=2, ensure_ascii=False) + "\n", encoding="utf-8"
        )
    report(f"vintage {target.name} ready at {target}")
    return target
