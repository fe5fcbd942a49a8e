"""The applicant-to-firm map, which no vendor ships in the contract's shape.

Routes, in order of trust: (1) a listed-firm link carried by the patent export itself (a Symbol
column, as CSMAR PT_LCDETAIL has) maps that patent's first applicant; (2) a subsidiary table maps
each subsidiary name to its listed parent; (3) each firm's legal name maps to the firm as
'parent', matched to patent applicants by exact normalised name (full-width brackets and spaces
folded). The report gives the share of distinct applicant names, and of patents, each route matched.
"""

from __future__ import annotations

import pandas as pd

from importer.engine import normalise_name


def build_applicant_firm_map(patents: pd.DataFrame, firms: pd.DataFrame,
                             auxiliary: dict[str, pd.DataFrame]) -> tuple[pd.DataFrame, dict]:
    listed = set(firms["stock_code"])
    applicants = patents["applicants"].fillna("").str.split(";").explode()
    applicants = applicants[applicants != ""]
    names = applicants.drop_duplicates().reset_index(drop=True)
    spelling = dict(zip(normalise_name(names), names))  # normalised -> as written in patents
    legal = auxiliary.get("legal_names")
    legal_by_code = {}  # a missing legal name must not shadow the firm's real one
    if legal is not None:
        legal_by_code = {code: name for code, name in zip(legal["stock_code"], normalise_name(legal["legal_name"]))
                         if name}
    rows: list[tuple[str, str, str, str]] = []  # applicant, stock code, relation, route
    for code, name in legal_by_code.items():
        if code in listed and name:
            rows.append((spelling.get(name, name), code, "parent", "exact normalised legal name"))
    subsidiaries = auxiliary.get("subsidiaries")
    if subsidiaries is not None:
        for code, name in zip(subsidiaries["stock_code"], normalise_name(subsidiaries["subsidiary_name"])):
            if code in listed and name:
                rows.append((spelling.get(name, name), code, "subsidiary", "subsidiary table"))
    links = auxiliary.get("patent_links")
    if links is not None:
        first = patents.set_index("application_number")["applicants"].str.split(";").str[0]
        for number, code in zip(links["_id"], links["stock_code"]):
            if number in first.index and code in listed:
                applicant = first[number]
                relation = "parent" if normalise_name(pd.Series([applicant]))[0] == legal_by_code.get(code) else "subsidiary"
                rows.append((applicant, code, relation, "patent export link (Symbol)"))
    table = pd.DataFrame(rows, columns=["applicant_name", "stock_code", "relation", "route"])
    # One row per name and firm; a Symbol link's relation is kept over the name routes' guess.
    table = table.iloc[::-1].drop_duplicates(["applicant_name", "stock_code"], keep="first").iloc[::-1]
    matched = set(table["applicant_name"])
    by_route = table[table["applicant_name"].isin(set(names))].groupby("route")["applicant_name"].nunique()
    patent_matched = applicants.isin(matched).groupby(level=0).any().reindex(patents.index, fill_value=False)
    stats = {
        "distinct_applicant_names": int(len(names)),
        "names_matched": int(names.isin(matched).sum()),
        "name_match_rate": round(float(names.isin(matched).mean()) if len(names) else 0.0, 6),
        "names_matched_by_route": {k: int(v) for k, v in by_route.items()},
        "patents_with_a_matched_applicant": round(float(patent_matched.mean()) if len(patents) else 0.0, 6),
        "routes_available": [r for r, t in (("patent export link (Symbol)", links), ("subsidiary table", subsidiaries),
                                            ("exact normalised legal name", legal)) if t is not None],
    }
    return table.drop(columns="route").reset_index(drop=True), stats
