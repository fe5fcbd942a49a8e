"""``nqp fetch akshare CODES``: save raw akshare frames for ``nqp import --from akshare:FOLDER``.

A thin, optional step: akshare is not a dependency of the warehouse. The importer never calls an
API; it reads only the frames saved here, so an import is reproducible from the saved files.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path

import pandas as pd

STATEMENTS = ("stock_balance_sheet_by_report_em", "stock_profit_sheet_by_report_em",
              "stock_cash_flow_sheet_by_report_em")
INSTALL_HINT = ".tools/bin/uv pip install --python .venv/bin/python akshare"


def fetch_akshare(codes: list[str], out: Path, progress: Callable[[str], None]) -> int:
    try:
        import akshare
    except ImportError:
        print(f"nqp fetch: akshare is not installed (it is optional). Install it with:\n  {INSTALL_HINT}",
              file=sys.stderr)
        return 2
    out.mkdir(parents=True, exist_ok=True)
    for statement in STATEMENTS:
        frames = []
        for code in codes:
            symbol = ("SH" if code.startswith("6") else "BJ" if code[:1] in "48" else "SZ") + code
            progress(f"akshare {statement}({symbol})")
            try:
                frames.append(getattr(akshare, statement)(symbol=symbol))
            except Exception as error:  # akshare raises whatever its HTTP stack raises
                print(f"nqp fetch: akshare {statement}({symbol}) failed: {error}. Is the machine online? "
                      "Nothing more was fetched; frames saved so far stay in place.", file=sys.stderr)
                return 2
        target = out / f"{statement}.csv"
        pd.concat(frames, ignore_index=True).to_csv(target, index=False, encoding="utf-8")
        progress(f"saved {target}")
    return 0
