"""import_report.md: the human-readable twin of import_report.json."""

from __future__ import annotations

from importer.run import ImportReport


def render_markdown(report: ImportReport) -> str:
    lines = [f"# Import report: vintage `{report.vintage_id}`", "",
             "Sources: " + ", ".join(f"`{s}`" for s in report.sources) + f". Import time {report.seconds} s.", "",
             "## Contract columns", "",
             "| Column | Source (vendor table.field) | Unit applied | Rows | Coverage (non-null) |", "|---|---|---|---|---|"]
    for c in report.columns:
        lines.append(f"| `{c.table}.{c.column}` | {c.source} | {c.unit} | {c.rows:,} | {c.coverage:.1%} |")
    lines += ["", "## Vendor tables", "",
              "| Table | Files | Rows read | Header rows dropped | Dropped by rule | Duplicates resolved | Rows kept |",
              "|---|---|---|---|---|---|---|"]
    for name, t in report.tables.items():
        rules = "; ".join(f"{rule}: {count:,}" for rule, count in t["dropped_by_rule"].items()) or "-"
        lines.append(f"| {name} | {len(t['files'])} | {t['rows_read']:,} | {t['header_rows_dropped'] + t['footer_rows_dropped']:,} "
                     f"| {rules} | {t['duplicates_resolved']:,} | {t['rows_kept']:,} |")
    lines += ["", "## Firms in one table but not another", "",
              "Each contract table takes its rows from one vendor table; the others are joined to it.", "",
              "| Contract table | Rows from | Joined table | Row keys missing there | Keys only there |", "|---|---|---|---|---|"]
    for table, entry in report.row_coverage.items():
        for joined, overlap in entry.items():
            if isinstance(overlap, dict):
                lines.append(f"| {table} | {entry['rows_from']} | {joined} | {overlap['missing_here']:,} "
                             f"{overlap['examples_missing']} | {overlap['only_here']:,} {overlap['examples_only_here']} |")
    unclassified = {n: t["unclassified_lines"] for n, t in report.tables.items() if t["unclassified_lines"]}
    lines += ["", "## Unclassified note lines", ""]
    if unclassified:
        lines.append("Lines no keyword of profiles/line_keywords.yaml matched (not counted in any column):")
        lines.append("")
        for table, items in unclassified.items():
            for item, count in sorted(items.items(), key=lambda kv: -kv[1]):
                lines.append(f"- {table}: `{item}` ({count:,} lines)")
    else:
        lines.append("None.")
    m = report.applicant_matching
    lines += ["", "## Applicant-to-firm map", "",
              f"{m.get('names_matched', 0):,} of {m.get('distinct_applicant_names', 0):,} distinct applicant names "
              f"matched to a listed firm ({m.get('name_match_rate', 0):.1%}); patents with a matched applicant: "
              f"{m.get('patents_with_a_matched_applicant', 0):.1%}. Routes available: "
              f"{', '.join(m.get('routes_available', [])) or 'none'}; names matched by route: {m.get('names_matched_by_route', {})}."]
    if report.not_filled:
        lines += ["", "## What a free (tushare/akshare) vintage cannot fill", "",
                  "A free source alone stops at these; in this import they came from the other sources "
                  "(see the column table):", ""] + [f"- {gap}" for gap in report.not_filled]
    return "\n".join(lines) + "\n"
