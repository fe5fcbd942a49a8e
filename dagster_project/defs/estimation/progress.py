"""Progress of long steps (bootstraps, permutation draws) in the Dagster run log."""

from __future__ import annotations

import time
from collections.abc import Callable

REPORTS_PER_STEP = 10  # about every 10% of the draws


def progress_logger(log, what: str, reports: int = REPORTS_PER_STEP) -> Callable[[int, int], None]:
    """A ``progress(done, total)`` callback that logs "``what``: done/total (pct) after s" about
    ``reports`` times over the step, and at its end."""
    started = time.perf_counter()
    logged = [0]

    def report(done: int, total: int) -> None:
        mark = done * reports // max(total, 1)
        if done >= total or mark > logged[0]:
            logged[0] = mark
            log.info(f"{what}: {done}/{total} ({100 * done / max(total, 1):.0f}%) "
                     f"after {time.perf_counter() - started:.1f} s")

    return report
