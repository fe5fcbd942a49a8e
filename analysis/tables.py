"""The one renderer of every paper table, to Markdown, HTML, LaTeX and Word (.docx).

A ``PaperTable`` declares what a table shows; the numbers come from the tidy frames the
warehouse stores (``results.coefficients``, ``results.model_stats``) or, for tables whose
cells are not coefficients (descriptives, balance tests, Moran's I, model-selection
tests), from a frame of values. Every format is produced from the same grid of cells, so
the three outputs always agree::

    table = PaperTable(
        table_id="table04",
        title="Table 4. Benchmark regression results",
        columns=[TableColumn("(1)", ("Npro",)), TableColumn("(2)", ("Npro",))],
        body=CoefficientBody(terms={"ai": "AI", "const": "Constant"}, coefficients=tidy),
        footer=[TextRow("Year FE", {"(1)": "No", "(2)": "Yes"}),
                StatRow("Observations", "nobs", ",.0f"), StatRow("R-squared", "r2")],
        model_stats=model_stats,
        notes=["Standard errors clustered by firm in parentheses."],
        provenance=TableProvenance("2024-06", is_synthetic=True, code_version="abc1234",
                                   generated_at="2025-01-01T00:00:00Z"),
    )
    write_table(table, reports_dir)   # table04.md, table04.html, table04.tex

Coefficient cells show the estimate with 3 decimals and stars (*** p<0.01, ** p<0.05,
* p<0.1) and, on the line below, the standard error in parentheses (the paper's layout).
Missing cells render blank. A table built from synthetic data says SYNTHETIC DATA at its
top in every format. The LaTeX output needs ``\\usepackage{booktabs}``.

Styled HTML uses the hand-written ``STYLESHEET`` (booktabs rules, left-aligned row labels,
numbers right-aligned in tabular figures with stars and closing parentheses in a
fixed-width slot so that the decimal points line up, notes in a spanning last row).
great_tables was weighed against it: it would render from its own data frame model, not
from the grid every other format uses, so the HTML would become a second renderer whose
cells could drift from the Markdown/LaTeX/Word ones, and it has no two-line
estimate/standard-error cell; the stylesheet is about thirty lines. Word output goes
through python-docx (``write_docx`` puts several tables into one document).
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Mapping, Sequence, Union

import numpy as np
import pandas as pd

STAR_THRESHOLDS: tuple[tuple[float, str], ...] = ((0.01, "***"), (0.05, "**"), (0.1, "*"))
STAR_NOTE = "*** p<0.01, ** p<0.05, * p<0.1."
SYNTHETIC_BANNER = "SYNTHETIC DATA"
SYNTHETIC_EXPLANATION = "computed from a synthetic vintage with planted effects, not from real firm data."
FORMATS: tuple[str, ...] = ("markdown", "html", "latex")
FILE_SUFFIXES = {"markdown": ".md", "html": ".html", "latex": ".tex", "docx": ".docx"}
# Booktabs-like rules; numbers right-aligned in tabular figures with the stars (or the closing
# parenthesis of a standard error) in a fixed-width slot, so decimal points line up (CSS has
# no working character alignment: `text-align: "."` is in no browser).
STYLESHEET = """\
body { font-family: "Times New Roman", Times, serif; margin: 2em auto; max-width: 70em; color: #111; }
table { border-collapse: collapse; margin: 0.5em 0 1.5em; border-top: 2px solid #111; border-bottom: 2px solid #111; }
caption { caption-side: top; text-align: left; font-weight: bold; padding-bottom: 0.4em; }
th, td { padding: 0.15em 0.8em; vertical-align: top; }
thead tr:last-child th { border-bottom: 1px solid #111; }
thead th { font-weight: normal; text-align: right; padding-right: 2.4em; }
thead th:first-child, th[scope="row"], td.label, th.label { text-align: left; font-weight: normal; padding-right: 0.8em; }
td, td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
td.label { white-space: normal; }
.mark { display: inline-block; width: 1.6em; text-align: left; }
tfoot tr:first-child th, tfoot tr:first-child td { border-top: 1px solid #111; }
tr.notes td { text-align: left; white-space: normal; font-size: 0.85em; border-top: 1px solid #111;
              contain: inline-size; }
tr.std-error td { padding-top: 0; }
.provenance { font-size: 0.85em; color: #444; }
.synthetic, .banner { background: #fff3cd; border: 1px solid #e0b400; padding: 0.4em 0.6em; }
tr.paper-inconsistency td { color: #6b5b00; background: #fffbe6; }
tr.unmappable td { color: #777; background: #f4f4f4; }
tr.sign-differs td, tr.stars-differ td { background: #fdecea; }
figure img { max-width: 100%; }
"""
COEFFICIENT_COLUMNS: tuple[str, ...] = ("column_id", "term", "estimate", "std_error", "p_value")
MODEL_STATS_COLUMNS: tuple[str, ...] = ("column_id", "stat", "value")


def stars(p_value: float | None) -> str:
    """Significance stars for a two-sided p-value; blank when it is missing."""
    if p_value is None or pd.isna(p_value):
        return ""
    for threshold, mark in STAR_THRESHOLDS:
        if p_value < threshold:
            return mark
    return ""


def format_number(value: object, number_format: str = ".3f") -> str:
    """``value`` in ``number_format`` (a format spec such as ".3f" or ",.0f"); blank when missing.

    Negative zero ("-0.000") prints as zero.
    """
    if value is None or (isinstance(value, (float, np.floating)) and np.isnan(value)):
        return ""
    text = format(value, number_format)
    if text.startswith("-") and not any(digit in text for digit in "123456789"):
        return text[1:]
    return text


@dataclass(frozen=True)
class Cell:
    """The text of one cell and its significance stars (rendered as a superscript where possible)."""

    text: str = ""
    stars: str = ""


def format_estimate(estimate: object, p_value: object = None, decimals: int = 3) -> Cell:
    """An estimate with its stars, e.g. Cell("0.226", "***"), for value tables that show tests."""
    text = format_number(estimate, f".{decimals}f")
    return Cell(text, stars(p_value) if text else "")


@dataclass(frozen=True)
class TableProvenance:
    """Where the numbers come from; ``generated_at`` is an ISO 8601 timestamp."""

    vintage_id: str
    is_synthetic: bool
    code_version: str
    generated_at: str

    def line(self) -> str:
        kind = "synthetic" if self.is_synthetic else "real"
        return (
            f"Data vintage: {self.vintage_id} ({kind}); code version: {self.code_version}; "
            f"generated at: {self.generated_at}"
        )

    def markdown_banner(self) -> list[str]:
        """The SYNTHETIC DATA banner as the first lines of a Markdown page (none for real data)."""
        return [f"> **{SYNTHETIC_BANNER}**: {SYNTHETIC_EXPLANATION}", ""] if self.is_synthetic else []

    def html_banner(self, css_class: str) -> list[str]:
        """The SYNTHETIC DATA banner as an HTML paragraph of class ``css_class`` (none for real data)."""
        return [f'<p class="{css_class} synthetic"><strong>{SYNTHETIC_BANNER}</strong>: '
                f'{html.escape(SYNTHETIC_EXPLANATION)}</p>'] if self.is_synthetic else []

    def caption_banner(self) -> str:
        """The banner as a plain-text line ending in a newline, for figure captions ('' for real data)."""
        return f"{SYNTHETIC_BANNER}: {SYNTHETIC_EXPLANATION}\n" if self.is_synthetic else ""


@dataclass(frozen=True)
class TableColumn:
    """A column: its id as printed on the first header line ("(1)") and further header lines."""

    column_id: str
    header_lines: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        object.__setattr__(self, "header_lines", tuple(self.header_lines))


@dataclass(frozen=True)
class CoefficientBody:
    """Coefficient rows: ``terms`` maps term -> label in display order; ``coefficients`` is a
    tidy frame with column_id, term, estimate, std_error, p_value (and optionally table_id,
    in which case only the rows of the table being rendered are used)."""

    terms: Mapping[str, str]
    coefficients: pd.DataFrame
    decimals: int = 3


@dataclass(frozen=True)
class ValueBody:
    """Rows of values: ``values`` has the row labels as index (display order) and the column
    ids as columns. Numbers are formatted by ``formats[column_id]`` (default ".3f"); strings
    and ``Cell`` objects are shown as they are; missing values are blank."""

    values: pd.DataFrame
    formats: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class StatRow:
    """A footer row read from the model_stats frame: the numeric ``value`` of ``stat`` in
    ``number_format`` or, when that is missing, its ``text``."""

    label: str
    stat: str
    number_format: str = ".3f"


@dataclass(frozen=True)
class TextRow:
    """A footer row with fixed text per column id (e.g. "Year FE": Yes/No); absent ids are blank."""

    label: str
    values: Mapping[str, str]


Body = Union[CoefficientBody, ValueBody]
FooterRow = Union[StatRow, TextRow]


@dataclass(frozen=True)
class PaperTable:
    """A paper table: ``table_id`` names the files written ("table04" -> table04.md ...) and
    selects the rows of frames that carry a table_id column; ``stub_header`` heads the
    label column; ``notes`` print below the table (coefficient tables add the star legend)."""

    table_id: str
    title: str
    columns: tuple[TableColumn, ...]
    body: Body
    provenance: TableProvenance
    footer: tuple[FooterRow, ...] = ()
    model_stats: pd.DataFrame | None = None
    notes: tuple[str, ...] = ()
    stub_header: str = "Variables"

    def __post_init__(self) -> None:
        for name in ("columns", "footer", "notes"):
            object.__setattr__(self, name, tuple(getattr(self, name)))
        if not self.columns:
            raise ValueError(f"table {self.table_id}: at least one column is needed")
        ids = [column.column_id for column in self.columns]
        repeated = sorted({column_id for column_id in ids if ids.count(column_id) > 1})
        if repeated:
            raise ValueError(f"table {self.table_id}: column id(s) repeated: {', '.join(repeated)}")
        if any(isinstance(row, StatRow) for row in self.footer) and self.model_stats is None:
            raise ValueError(f"table {self.table_id}: footer reads model statistics but model_stats is None")

    @property
    def column_ids(self) -> list[str]:
        return [column.column_id for column in self.columns]


@dataclass(frozen=True)
class _Row:
    label: str
    cells: tuple[Cell, ...]
    kind: str  # "estimate", "std-error", "value" or "footer"


@dataclass(frozen=True)
class _Grid:
    header: tuple[tuple[str, ...], ...]
    body: tuple[_Row, ...]
    footer: tuple[_Row, ...]
    notes: tuple[str, ...]


def _rows_of_table(frame: pd.DataFrame, table_id: str, required: Sequence[str], what: str) -> pd.DataFrame:
    missing = [name for name in required if name not in frame.columns]
    if missing:
        raise ValueError(f"table {table_id}: {what} frame lacks column(s) {', '.join(missing)}")
    if "table_id" in frame.columns:
        frame = frame[frame["table_id"] == table_id]
    return frame


def _coefficient_rows(table: PaperTable, body: CoefficientBody) -> list[_Row]:
    frame = _rows_of_table(body.coefficients, table.table_id, COEFFICIENT_COLUMNS, "coefficients")
    frame = frame[frame["column_id"].isin(table.column_ids) & frame["term"].isin(list(body.terms))]
    duplicated = frame.duplicated(["column_id", "term"])
    if duplicated.any():
        first = frame[duplicated].iloc[0]
        raise ValueError(
            f"table {table.table_id}: more than one coefficient for {first['term']!r} in {first['column_id']!r}"
        )
    cells = frame.set_index(["column_id", "term"])
    number_format = f".{body.decimals}f"
    rows = []
    for term, label in body.terms.items():
        estimates, std_errors = [], []
        for column_id in table.column_ids:
            if (column_id, term) in cells.index:
                cell = cells.loc[(column_id, term)]
                estimates.append(format_estimate(cell["estimate"], cell["p_value"], body.decimals))
                std_error = format_number(cell["std_error"], number_format)
                std_errors.append(Cell(f"({std_error})" if std_error else ""))
            else:
                estimates.append(Cell())
                std_errors.append(Cell())
        rows.append(_Row(label, tuple(estimates), "estimate"))
        if any(cell.text for cell in std_errors):
            rows.append(_Row("", tuple(std_errors), "std-error"))
    return rows


def _value_cell(value: object, number_format: str) -> Cell:
    if isinstance(value, Cell):
        return value
    if isinstance(value, str):
        return Cell(value)
    if value is None or pd.isna(value):
        return Cell()
    return Cell(format_number(value, number_format))


def _value_rows(table: PaperTable, body: ValueBody) -> list[_Row]:
    values = body.values
    unknown = [column_id for column_id in values.columns if column_id not in table.column_ids]
    if unknown:
        raise ValueError(f"table {table.table_id}: value column(s) {unknown} are not declared in columns")
    rows = []
    for label, record in values.iterrows():
        cells = tuple(
            _value_cell(record[column_id], body.formats.get(column_id, ".3f"))
            if column_id in values.columns
            else Cell()
            for column_id in table.column_ids
        )
        rows.append(_Row(str(label), cells, "value"))
    return rows


def _footer_rows(table: PaperTable) -> list[_Row]:
    lookup: dict[tuple[str, str], pd.Series] = {}
    if table.model_stats is not None:
        frame = _rows_of_table(table.model_stats, table.table_id, MODEL_STATS_COLUMNS, "model_stats")
        lookup = {(record["column_id"], record["stat"]): record for _, record in frame.iterrows()}
    rows = []
    for footer in table.footer:
        if isinstance(footer, TextRow):
            cells = tuple(Cell(str(footer.values.get(column_id, ""))) for column_id in table.column_ids)
        else:
            cells = []
            for column_id in table.column_ids:
                record = lookup.get((column_id, footer.stat))
                if record is None:
                    cells.append(Cell())
                    continue
                text = format_number(record["value"], footer.number_format)
                if not text and "text" in record.index and isinstance(record["text"], str):
                    text = record["text"]
                cells.append(Cell(text))
            cells = tuple(cells)
        rows.append(_Row(footer.label, cells, "footer"))
    return rows


def _grid(table: PaperTable) -> _Grid:
    depth = max(len(column.header_lines) for column in table.columns)
    header = [(table.stub_header, *table.column_ids)]
    for line in range(depth):
        header.append(
            ("", *(column.header_lines[line] if line < len(column.header_lines) else "" for column in table.columns))
        )
    if isinstance(table.body, CoefficientBody):
        body = _coefficient_rows(table, table.body)
        notes = (*table.notes, STAR_NOTE)
    elif isinstance(table.body, ValueBody):
        body = _value_rows(table, table.body)
        notes = table.notes
    else:
        raise ValueError(f"table {table.table_id}: body must be a CoefficientBody or a ValueBody")
    return _Grid(tuple(header), tuple(body), tuple(_footer_rows(table)), tuple(notes))


_MARKDOWN_TAG_START = re.compile(r"<(?=[A-Za-z/!?])")


def _markdown_text(text: str) -> str:
    """Text that Markdown shows as written: pipes escaped, "<" that could open an HTML tag
    written as an entity (so "p<0.01" stays readable), no line breaks."""
    text = text.replace("\\", "\\\\").replace("|", "\\|").replace("\n", " ")
    return _MARKDOWN_TAG_START.sub("&lt;", text)


def _render_markdown(table: PaperTable, grid: _Grid) -> str:
    lines = table.provenance.markdown_banner()
    lines += [_markdown_text(table.provenance.line()), "", f"**{_markdown_text(table.title)}**", ""]

    def row(cells: Sequence[str]) -> str:
        return "| " + " | ".join(_markdown_text(cell) for cell in cells) + " |"

    lines.append(row(grid.header[0]))
    lines.append("|" + "|".join([":---"] + [":---:"] * len(table.columns)) + "|")
    lines += [row(cells) for cells in grid.header[1:]]
    for body_row in (*grid.body, *grid.footer):
        lines.append(row([body_row.label, *(cell.text + cell.stars for cell in body_row.cells)]))
    for note in grid.notes:
        lines += ["", _markdown_text(note)]
    return "\n".join(lines) + "\n"


def _html_cell(cell: Cell) -> str:
    text = html.escape(cell.text)
    return f"{text}<sup>{html.escape(cell.stars)}</sup>" if cell.stars else text


def _styled_html_cell(cell: Cell) -> str:
    """The cell with its stars, or a closing parenthesis, in the fixed-width ``.mark`` slot."""
    text, mark = cell.text, cell.stars
    if not mark and text.endswith(")"):
        text, mark = text[:-1], ")"
    slot = f"<sup>{html.escape(mark)}</sup>" if cell.stars else html.escape(mark)
    return f'{html.escape(text)}<span class="mark">{slot}</span>' if text else ""


def _render_html(table: PaperTable, grid: _Grid, styled: bool = False) -> str:
    """The table as an HTML fragment; ``styled`` puts the notes in a spanning last row and the
    stars in the decimal-alignment slots of ``STYLESHEET``."""
    escape = html.escape
    html_cell = _styled_html_cell if styled else _html_cell
    lines = [f'<div class="paper-table" id="{escape(table.table_id)}">', *table.provenance.html_banner("provenance")]
    lines.append(f'<p class="provenance">{escape(table.provenance.line())}</p>')
    lines.append("<table>")
    lines.append(f"<caption>{escape(table.title)}</caption>")
    lines.append("<thead>")
    for cells in grid.header:
        lines.append("<tr>" + "".join(f"<th>{escape(cell)}</th>" for cell in cells) + "</tr>")
    lines.append("</thead>")
    notes_row = ""
    if styled and grid.notes:
        notes = "<br>".join(escape(note) for note in grid.notes)
        notes_row = f'<tr class="notes"><td colspan="{len(table.columns) + 1}">{notes}</td></tr>'
    for section, rows in (("tbody", grid.body), ("tfoot", grid.footer)):
        if not rows and not (section == "tfoot" and notes_row):
            continue
        lines.append(f"<{section}>")
        for body_row in rows:
            cells = "".join(f"<td>{html_cell(cell)}</td>" for cell in body_row.cells)
            lines.append(f'<tr class="{body_row.kind}"><th scope="row">{escape(body_row.label)}</th>{cells}</tr>')
        if section == "tfoot" and notes_row:
            lines.append(notes_row)
        lines.append(f"</{section}>")
    lines.append("</table>")
    if not styled:
        lines += [f'<p class="note">{escape(note)}</p>' for note in grid.notes]
    lines.append("</div>")
    return "\n".join(lines) + "\n"


_LATEX_SPECIAL = {
    "\\": r"\textbackslash{}",
    "&": r"\&",
    "%": r"\%",
    "$": r"\$",
    "#": r"\#",
    "_": r"\_",
    "{": r"\{",
    "}": r"\}",
    "~": r"\textasciitilde{}",
    "^": r"\textasciicircum{}",
    "<": r"\textless{}",
    ">": r"\textgreater{}",
}


def latex_escape(text: str) -> str:
    """``text`` with LaTeX's special characters escaped, for text mode."""
    return "".join(_LATEX_SPECIAL.get(char, char) for char in text)


def _latex_cell(cell: Cell) -> str:
    text = latex_escape(cell.text)
    return f"{text}$^{{{cell.stars}}}$" if cell.stars else text


def _render_latex(table: PaperTable, grid: _Grid) -> str:
    width = len(table.columns) + 1

    def row(cells: Sequence[str]) -> str:
        return " & ".join(cells) + r" \\"

    lines = [
        f"% {table.table_id}: {table.provenance.line()}",
        r"% requires \usepackage{booktabs}",
        r"\begin{table}[htbp]",
        r"\centering",
        rf"\caption{{{latex_escape(table.title)}}}",
        rf"\label{{tab:{latex_escape(table.table_id)}}}",
    ]
    if table.provenance.is_synthetic:
        lines.append(rf"\textbf{{{SYNTHETIC_BANNER}}}: {latex_escape(SYNTHETIC_EXPLANATION)}\par")
    lines.append(rf"{{\footnotesize {latex_escape(table.provenance.line())}\par}}")
    lines.append(r"\medskip")
    lines.append(rf"\begin{{tabular}}{{l{'c' * len(table.columns)}}}")
    lines.append(r"\toprule")
    lines += [row([latex_escape(cell) for cell in cells]) for cells in grid.header]
    lines.append(r"\midrule")
    lines += [row([latex_escape(r.label), *map(_latex_cell, r.cells)]) for r in grid.body]
    if grid.footer:
        lines.append(r"\midrule")
        lines += [row([latex_escape(r.label), *map(_latex_cell, r.cells)]) for r in grid.footer]
    lines.append(r"\bottomrule")
    lines += [rf"\multicolumn{{{width}}}{{l}}{{\footnotesize {latex_escape(note)}}} \\" for note in grid.notes]
    lines += [r"\end{tabular}", r"\end{table}"]
    return "\n".join(lines) + "\n"


_RENDERERS = {"markdown": _render_markdown, "html": _render_html, "latex": _render_latex}


def render(table: PaperTable, fmt: str) -> str:
    """The table as "markdown", "html" (a fragment) or "latex" (a table float) text."""
    if fmt not in _RENDERERS:
        raise ValueError(f"fmt must be one of {', '.join(FORMATS)}, got {fmt!r}")
    return _RENDERERS[fmt](table, _grid(table))


def styled_html_document(title: str, fragments: Sequence[str]) -> str:
    """A complete UTF-8 page with ``STYLESHEET`` inlined around HTML fragments."""
    return (
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
        f"<title>{html.escape(title)}</title>\n<style>\n{STYLESHEET}</style>\n</head>\n<body>\n"
        + "".join(fragments) + "</body>\n</html>\n"
    )


def _add_docx_table(document, table: PaperTable, grid: _Grid) -> None:
    """One paper table into a python-docx ``Document``: title, provenance, the grid with
    booktabs-like borders (python-docx has no border API, so the w:tcBorders element is set
    directly), notes below."""
    from docx.enum.table import WD_TABLE_ALIGNMENT
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn
    from docx.shared import Pt

    def borders(cell, **edges: int) -> None:
        properties = cell._tc.get_or_add_tcPr()
        element = properties.find(qn("w:tcBorders"))
        if element is None:
            element = OxmlElement("w:tcBorders")
            properties.append(element)
        for edge, size in edges.items():
            border = OxmlElement(f"w:{edge}")
            border.set(qn("w:val"), "single")
            border.set(qn("w:sz"), str(size))
            border.set(qn("w:color"), "000000")
            element.append(border)

    document.add_paragraph().add_run(table.title).bold = True
    if table.provenance.is_synthetic:
        banner = document.add_paragraph()
        banner.add_run(f"{SYNTHETIC_BANNER}: ").bold = True
        banner.add_run(SYNTHETIC_EXPLANATION)
    document.add_paragraph(table.provenance.line()).runs[0].font.size = Pt(8)
    rows = [*(("header", cells) for cells in grid.header),
            *(("body", (r.label, *r.cells)) for r in grid.body),
            *(("footer", (r.label, *r.cells)) for r in grid.footer)]
    word_table = document.add_table(rows=len(rows), cols=len(table.columns) + 1)
    word_table.alignment = WD_TABLE_ALIGNMENT.CENTER
    header_rows = len(grid.header)
    # Table.cell() rebuilds the whole cell grid on every call (quadratic in the table's size:
    # 5 of the Word file's 6 s); the grid has no merged cells, so it is read once.
    word_cells = word_table._cells
    width = len(table.columns) + 1
    for index, (section, cells) in enumerate(rows):
        for position, value in enumerate(cells):
            cell = word_cells[index * width + position]
            paragraph = cell.paragraphs[0]
            if isinstance(value, Cell):
                paragraph.add_run(value.text)
                if value.stars:
                    paragraph.add_run(value.stars).font.superscript = True
                paragraph.alignment = WD_ALIGN_PARAGRAPH.CENTER
            else:
                paragraph.add_run(str(value))
                paragraph.alignment = WD_ALIGN_PARAGRAPH.LEFT if position == 0 else WD_ALIGN_PARAGRAPH.CENTER
            for run in paragraph.runs:
                run.font.size = Pt(9)
            edges = {}
            if index == 0:
                edges["top"] = 12
            if index == header_rows - 1:
                edges["bottom"] = 6
            if section == "footer" and rows[index - 1][0] == "body":
                edges["top"] = 6
            if index == len(rows) - 1:
                edges["bottom"] = 12
            if edges:
                borders(cell, **edges)
    for note in grid.notes:
        document.add_paragraph(note).runs[0].font.size = Pt(8)


def write_docx(tables: Sequence[PaperTable], path: Path | str) -> Path:
    """All ``tables``, in the order given, into one Word document at ``path``."""
    import docx  # deferred: only the Word writers need python-docx

    document = docx.Document()
    for position, table in enumerate(tables):
        if position:
            document.add_page_break()
        _add_docx_table(document, table, _grid(table))
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    document.save(str(path))
    return path


def write_table(table: PaperTable, out_dir: Path | str) -> list[Path]:
    """Write ``<table_id>.md``, ``.html`` (a complete UTF-8 page with the stylesheet), ``.tex``
    and ``.docx`` into ``out_dir``."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = []
    grid = _grid(table)
    for fmt in FORMATS:
        if fmt == "html":
            text = styled_html_document(table.title, [_render_html(table, grid, styled=True)])
        else:
            text = _RENDERERS[fmt](table, grid)
        path = out_dir / f"{table.table_id}{FILE_SUFFIXES[fmt]}"
        path.write_text(text, encoding="utf-8")
        paths.append(path)
    paths.append(write_docx([table], out_dir / f"{table.table_id}{FILE_SUFFIXES['docx']}"))
    return paths
