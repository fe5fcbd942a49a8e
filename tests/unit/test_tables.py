"""The table renderer: golden outputs in the three text formats, the styled page, Word, stars,
provenance, blanks, escaping."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from analysis.tables import (
    FORMATS,
    Cell,
    CoefficientBody,
    PaperTable,
    TableProvenance,
    StatRow,
    TableColumn,
    TextRow,
    ValueBody,
    format_estimate,
    format_number,
    latex_escape,
    render,
    stars,
    write_docx,
    write_table,
)

SYNTHETIC = TableProvenance("2024-06", is_synthetic=True, code_version="abc1234", generated_at="2025-01-01T00:00:00Z")
REAL = TableProvenance("2025-03", is_synthetic=False, code_version="def5678", generated_at="2025-04-01T08:00:00Z")


def tiny_table(provenance: TableProvenance = SYNTHETIC) -> PaperTable:
    # Column (2) has no constant: its cells must render blank. The "other" table's row is ignored.
    coefficients = pd.DataFrame(
        {
            "table_id": ["tiny", "tiny", "tiny", "other"],
            "column_id": ["(1)", "(1)", "(2)", "(1)"],
            "term": ["ai", "const", "ai", "ai"],
            "estimate": [0.2261, 2.208, -0.0521, 9.0],
            "std_error": [0.0061, 0.01, 0.0304, 1.0],
            "p_value": [0.0001, 0.0, 0.0866, 0.5],
        }
    )
    model_stats = pd.DataFrame(
        {
            "table_id": "tiny",
            "column_id": ["(1)", "(2)", "(1)", "(2)"],
            "stat": ["nobs", "nobs", "r2", "r2"],
            "value": [24302.0, 1200.0, 0.0642, 0.1],
        }
    )
    return PaperTable(
        table_id="tiny",
        title="Table X. AI & Npro",
        columns=[TableColumn("(1)", ("Npro",)), TableColumn("(2)", ("Npro",))],
        body=CoefficientBody({"ai": "AI", "const": "Constant"}, coefficients),
        provenance=provenance,
        footer=[
            TextRow("Year FE", {"(1)": "No", "(2)": "Yes"}),
            StatRow("Observations", "nobs", ",.0f"),
            StatRow("R-squared", "r2"),
        ],
        model_stats=model_stats,
        notes=["Robust standard errors in parentheses."],
    )


GOLDEN_MARKDOWN = """\
> **SYNTHETIC DATA**: computed from a synthetic vintage with planted effects, not from real firm data.

Data vintage: 2024-06 (synthetic); code version: abc1234; generated at: 2025-01-01T00:00:00Z

**Table X. AI & Npro**

| Variables | (1) | (2) |
|:---|:---:|:---:|
|  | Npro | Npro |
| AI | 0.226*** | -0.052* |
|  | (0.006) | (0.030) |
| Constant | 2.208*** |  |
|  | (0.010) |  |
| Year FE | No | Yes |
| Observations | 24,302 | 1,200 |
| R-squared | 0.064 | 0.100 |

Robust standard errors in parentheses.

*** p<0.01, ** p<0.05, * p<0.1.
"""

GOLDEN_HTML = """\
<div class="paper-table" id="tiny">
<p class="provenance synthetic"><strong>SYNTHETIC DATA</strong>: computed from a synthetic vintage with planted effects, not from real firm data.</p>
<p class="provenance">Data vintage: 2024-06 (synthetic); code version: abc1234; generated at: 2025-01-01T00:00:00Z</p>
<table>
<caption>Table X. AI &amp; Npro</caption>
<thead>
<tr><th>Variables</th><th>(1)</th><th>(2)</th></tr>
<tr><th></th><th>Npro</th><th>Npro</th></tr>
</thead>
<tbody>
<tr class="estimate"><th scope="row">AI</th><td>0.226<sup>***</sup></td><td>-0.052<sup>*</sup></td></tr>
<tr class="std-error"><th scope="row"></th><td>(0.006)</td><td>(0.030)</td></tr>
<tr class="estimate"><th scope="row">Constant</th><td>2.208<sup>***</sup></td><td></td></tr>
<tr class="std-error"><th scope="row"></th><td>(0.010)</td><td></td></tr>
</tbody>
<tfoot>
<tr class="footer"><th scope="row">Year FE</th><td>No</td><td>Yes</td></tr>
<tr class="footer"><th scope="row">Observations</th><td>24,302</td><td>1,200</td></tr>
<tr class="footer"><th scope="row">R-squared</th><td>0.064</td><td>0.100</td></tr>
</tfoot>
</table>
<p class="note">Robust standard errors in parentheses.</p>
<p class="note">*** p&lt;0.01, ** p&lt;0.05, * p&lt;0.1.</p>
</div>
"""

GOLDEN_LATEX = r"""% tiny: Data vintage: 2024-06 (synthetic); code version: abc1234; generated at: 2025-01-01T00:00:00Z
% requires \usepackage{booktabs}
\begin{table}[htbp]
\centering
\caption{Table X. AI \& Npro}
\label{tab:tiny}
\textbf{SYNTHETIC DATA}: computed from a synthetic vintage with planted effects, not from real firm data.\par
{\footnotesize Data vintage: 2024-06 (synthetic); code version: abc1234; generated at: 2025-01-01T00:00:00Z\par}
\medskip
\begin{tabular}{lcc}
\toprule
Variables & (1) & (2) \\
 & Npro & Npro \\
\midrule
AI & 0.226$^{***}$ & -0.052$^{*}$ \\
 & (0.006) & (0.030) \\
Constant & 2.208$^{***}$ &  \\
 & (0.010) &  \\
\midrule
Year FE & No & Yes \\
Observations & 24,302 & 1,200 \\
R-squared & 0.064 & 0.100 \\
\bottomrule
\multicolumn{3}{l}{\footnotesize Robust standard errors in parentheses.} \\
\multicolumn{3}{l}{\footnotesize *** p\textless{}0.01, ** p\textless{}0.05, * p\textless{}0.1.} \\
\end{tabular}
\end{table}
"""


@pytest.mark.parametrize(("fmt", "golden"), [("markdown", GOLDEN_MARKDOWN), ("html", GOLDEN_HTML), ("latex", GOLDEN_LATEX)])
def test_golden_output(fmt, golden):
    assert render(tiny_table(), fmt) == golden


@pytest.mark.parametrize(
    ("p_value", "expected"),
    [(0.0, "***"), (0.0099, "***"), (0.01, "**"), (0.0499, "**"), (0.05, "*"), (0.0999, "*"), (0.1, ""), (0.7, ""), (np.nan, ""), (None, "")],
)
def test_star_thresholds(p_value, expected):
    assert stars(p_value) == expected


def test_number_formatting():
    assert format_number(-0.0004) == "0.000"  # no negative zero
    assert format_number(-0.0005001) == "-0.001"
    assert format_number(24302, ",.0f") == "24,302"
    assert format_number(np.nan) == "" and format_number(None) == ""
    assert format_estimate(0.2261, 0.004) == Cell("0.226", "***")
    assert format_estimate(np.nan, 0.004) == Cell("", "")


@pytest.mark.parametrize("fmt", FORMATS)
def test_provenance_says_synthetic_only_when_synthetic(fmt):
    synthetic = render(tiny_table(SYNTHETIC), fmt)
    real = render(tiny_table(REAL), fmt)
    assert "SYNTHETIC DATA" in synthetic.split("Variables")[0]  # above the table body, not buried in it
    assert "SYNTHETIC" not in real
    for text, provenance in ((synthetic, SYNTHETIC), (real, REAL)):
        assert provenance.vintage_id in text and provenance.code_version in text and provenance.generated_at in text
    assert "(real)" in real


def test_value_table_formats_cells_and_leaves_missing_blank():
    values = pd.DataFrame(
        {"N": [24302, 24302], "Mean": [2.4701, np.nan], "I": [format_estimate(0.166, 0.03), "n/a"]},
        index=["Npro", "AI"],
    )
    table = PaperTable(
        table_id="table03",
        title="Table 3. Descriptive statistics",
        columns=[TableColumn("N"), TableColumn("Mean"), TableColumn("I"), TableColumn("Extra")],
        body=ValueBody(values, formats={"N": ",.0f"}),
        provenance=REAL,
        stub_header="Variable",
    )
    markdown = render(table, "markdown")
    assert "| Variable | N | Mean | I | Extra |" in markdown
    assert "| Npro | 24,302 | 2.470 | 0.166** |  |" in markdown
    assert "| AI | 24,302 |  | n/a |  |" in markdown
    assert "p<0.01" not in markdown  # no star legend on a value table unless its notes give one
    assert "<td>0.166<sup>**</sup></td>" in render(table, "html")


def test_html_and_latex_escape_special_characters():
    coefficients = pd.DataFrame(
        {"column_id": ["(1)"], "term": ["x"], "estimate": [1.0], "std_error": [0.5], "p_value": [0.2]}
    )
    table = PaperTable(
        table_id="esc",
        title="<script>alert('x')</script> 50% & $_#{}~^\\",
        columns=[TableColumn("(1)", ("A|B",))],
        body=CoefficientBody({"x": "x_1 <b>"}, coefficients),
        provenance=REAL,
    )
    html_text = render(table, "html")
    assert "<script>" not in html_text and "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt;" in html_text
    assert "x_1 &lt;b&gt;" in html_text
    latex = render(table, "latex")
    assert r"\&lt;" not in latex
    assert r"\textless{}script\textgreater{}alert('x')\textless{}/script\textgreater{} 50\% \& \$\_\#\{\}\textasciitilde{}\textasciicircum{}\textbackslash{}" in latex
    assert r"x\_1 \textless{}b\textgreater{}" in latex
    markdown = render(table, "markdown")
    assert "A\\|B" in markdown and "x_1 &lt;b>" in markdown
    assert latex_escape("a&b") == r"a\&b"


def test_write_table_writes_four_files(tmp_path):
    paths = write_table(tiny_table(), tmp_path / "reports")
    assert [p.name for p in paths] == ["tiny.md", "tiny.html", "tiny.tex", "tiny.docx"]
    assert paths[0].read_text(encoding="utf-8") == GOLDEN_MARKDOWN
    assert paths[2].read_text(encoding="utf-8") == GOLDEN_LATEX
    page = paths[1].read_text(encoding="utf-8")
    assert page.startswith("<!DOCTYPE html>") and '<meta charset="utf-8">' in page and "<style>" in page


def test_styled_page_aligns_decimals_and_puts_notes_in_a_spanning_row(tmp_path):
    page = write_table(tiny_table(), tmp_path)[1].read_text(encoding="utf-8")
    # stars and the closing parenthesis of a standard error sit in the fixed-width slot
    assert '<td>0.226<span class="mark"><sup>***</sup></span></td>' in page
    assert '<td>(0.006<span class="mark">)</span></td>' in page
    assert '<tr class="notes"><td colspan="3">Robust standard errors in parentheses.<br>' in page
    assert 'th[scope="row"]' in page and "text-align: left" in page and "border-top: 2px solid" in page


def test_word_document_holds_every_table_with_its_cells(tmp_path):
    import docx

    path = write_docx([tiny_table(), tiny_table(REAL)], tmp_path / "tables.docx")
    document = docx.Document(str(path))
    assert len(document.tables) == 2
    first = document.tables[0]
    assert [cell.text for cell in first.rows[0].cells] == ["Variables", "(1)", "(2)"]
    assert [cell.text for cell in first.rows[2].cells] == ["AI", "0.226***", "-0.052*"]
    assert [cell.text for cell in first.rows[-1].cells] == ["R-squared", "0.064", "0.100"]
    superscripts = [run.text for run in first.rows[2].cells[1].paragraphs[0].runs if run.font.superscript]
    assert superscripts == ["***"]
    paragraphs = [p.text for p in document.paragraphs]
    assert "Table X. AI & Npro" in paragraphs and any(p.startswith("SYNTHETIC DATA") for p in paragraphs)


def test_invalid_specs_are_rejected():
    table = tiny_table()
    with pytest.raises(ValueError, match="fmt must be one of"):
        render(table, "pdf")
    with pytest.raises(ValueError, match="column id.*repeated"):
        PaperTable("t", "T", [TableColumn("(1)"), TableColumn("(1)")], table.body, REAL)
    with pytest.raises(ValueError, match="model_stats is None"):
        PaperTable("t", "T", [TableColumn("(1)")], table.body, REAL, footer=[StatRow("N", "nobs")])
    doubled = pd.concat([table.body.coefficients, table.body.coefficients])
    with pytest.raises(ValueError, match="more than one coefficient for 'ai'"):
        render(PaperTable("tiny", "T", table.columns, CoefficientBody({"ai": "AI"}, doubled), REAL), "markdown")
    with pytest.raises(ValueError, match="lacks column.*p_value"):
        bare = table.body.coefficients.drop(columns="p_value")
        render(PaperTable("tiny", "T", table.columns, CoefficientBody({"ai": "AI"}, bare), REAL), "html")
