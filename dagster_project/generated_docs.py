"""Render the parts of the docs that are generated from code, and keep them in step.

* ``docs/raw_data.md``: the raw data contract tables, from ``nqp_core/contract.py``;
* ``docs/synthetic_dgp.md``: the planted parameter table, from ``synthetic/parameters.py``.

``python -m dagster_project.generated_docs`` rewrites each generated section (between its
BEGIN/END markers); a unit test fails when a committed doc is out of step with the code.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from nqp_core import contract as raw_contract
from nqp_core.settings import PROJECT_ROOT

RAW_DATA_DOC = PROJECT_ROOT / "docs" / "raw_data.md"
SYNTHETIC_DGP_DOC = PROJECT_ROOT / "docs" / "synthetic_dgp.md"
CONTRACT_SECTION = "raw contract tables"
PARAMETER_SECTION = "synthetic DGP parameters"


def _cell(text: object) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def render_table_markdown(table: raw_contract.RawTable) -> str:
    lines = [
        f"### `{table.name}`",
        "",
        f"File `{table.name}.parquet` or `{table.name}.csv`; {table.grain}. "
        f"Key: {', '.join(f'`{k}`' for k in table.key)}. Source: {table.source}.",
        "",
        "| Column | Type | Unit | Key | Nullable | Meaning | Source field |",
        "|---|---|---|---|---|---|---|",
    ]
    for column in table.columns:
        lines.append(
            f"| `{column.name}` | {column.dtype} | {_cell(column.unit)} | {'yes' if column.name in table.key else ''} "
            f"| {'yes' if column.nullable else 'no'} | {_cell(column.meaning)} | {_cell(column.source_field)} |"
        )
    return "\n".join(lines)


def render_contract_markdown() -> str:
    """All tables of the contract, in contract order, as one Markdown block."""
    return "\n\n".join(render_table_markdown(table) for table in raw_contract.RAW_TABLES) + "\n"


def render_parameters_markdown() -> str:
    """The planted DGP parameters (name, value, meaning) in declaration order."""
    from synthetic.parameters import DEFAULT_PARAMETERS

    lines = ["| Parameter | Value | Meaning |", "|---|---|---|"]
    for name, entry in DEFAULT_PARAMETERS.structural().items():
        lines.append(f"| `{name}` | {entry['value']} | {_cell(entry['meaning'])} |")
    lines.append("")
    lines.append(f"DGP fingerprint: `{DEFAULT_PARAMETERS.fingerprint()}`.")
    return "\n".join(lines) + "\n"


GENERATED_SECTIONS: dict[Path, dict[str, Callable[[], str]]] = {
    RAW_DATA_DOC: {CONTRACT_SECTION: render_contract_markdown},
    SYNTHETIC_DGP_DOC: {PARAMETER_SECTION: render_parameters_markdown},
}


def markers(section: str) -> tuple[str, str]:
    return (f"<!-- BEGIN GENERATED: {section} (python -m dagster_project.generated_docs) -->",
            f"<!-- END GENERATED: {section} -->")


def generated_section(document: str, section: str) -> str:
    """The text between a section's markers (raises ValueError naming a missing marker)."""
    begin, end = markers(section)
    for marker in (begin, end):
        if marker not in document:
            raise ValueError(f"marker {marker!r} not found in the document")
    return document[document.index(begin) + len(begin):document.index(end)].strip("\n") + "\n"


def update_generated_docs() -> list[Path]:
    """Rewrite every generated section in place; returns the files written."""
    for path, sections in GENERATED_SECTIONS.items():
        document = path.read_text(encoding="utf-8")
        for section, render in sections.items():
            generated_section(document, section)  # both markers must be present
            begin, end = markers(section)
            head = document[: document.index(begin) + len(begin)]
            tail = document[document.index(end):]
            document = f"{head}\n{render()}{tail}"
        path.write_text(document, encoding="utf-8")
    return list(GENERATED_SECTIONS)


if __name__ == "__main__":
    for written in update_generated_docs():
        print(f"updated {written}")
