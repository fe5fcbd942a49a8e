"""Run safety: one ``nqp run`` at a time, and recovery after a run killed around the publication.

A run killed with ``kill -9`` cannot clean up after itself. Depending on the moment it
leaves:

- ``.warehouse.duckdb.publishing-<pid>`` (the staged copy, before its rename) and
  ``.partial`` files (an archive or the previous-file link being written, a working
  copy being started);
- an archive in ``publications/`` of a publication that never happened (killed after the
  archive was written, before the rename), which would count toward keep-5;
- an ops status ``validated`` for a vintage that is in fact served (killed after the
  rename, before ``published`` was recorded).

:func:`recover_interrupted_publication` repairs all of it at the start of the next run
(``nqp run`` and the ingest step both call it). It only touches a publication while it
holds the publish lock without waiting, and a staged file only when its writer's pid is
dead, so a live publication of another process is never disturbed.

No Dagster import: ``nqp`` and the ingest asset share this module.
"""

from __future__ import annotations

import fcntl
import os
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from nqp_core import settings
from nqp_core.ops_store import OpsStore
from nqp_core.working_copy import publish_lock, file_sha256, publications

RUN_LOCK_FILE = ".run.lock"
RUN_LOCK_WAIT_S = 6 * 3600.0  # a queued `nqp run` waits for the running one (a scale-1 run takes minutes)
_RUN_LOCK_POLL_S = 1.0


class RunLockTimeout(RuntimeError):
    """Another ``nqp run`` held the data folder for longer than the wait allowed."""


@contextmanager
def run_lock(*, wait_s: float = RUN_LOCK_WAIT_S, say: Callable[[str], None] = lambda _: None) -> Iterator[None]:
    """Hold the data folder's run lock: a second ``nqp run`` waits instead of racing to publish.

    Without it, two runs build the same vintage from the same published file and the
    later publication is refused as a conflict. The lock is an ``flock``, so the kernel
    releases it when its holder dies (``kill -9`` included): it never needs clearing.
    """
    folder = settings.data_dir()
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / RUN_LOCK_FILE
    with path.open("a+") as handle:
        deadline = time.monotonic() + wait_s
        announced = False
        while True:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if not announced:
                    handle.seek(0)
                    holder = handle.read().strip() or "?"
                    say(f"another nqp run (pid {holder}) is building in {folder}; waiting for it to finish")
                    announced = True
                if time.monotonic() > deadline:
                    raise RunLockTimeout(f"{path} still held after {wait_s:.0f} s") from None
                time.sleep(_RUN_LOCK_POLL_S)
        try:
            handle.seek(0)
            handle.truncate()
            handle.write(str(os.getpid()))
            handle.flush()
            yield
        finally:
            handle.seek(0)
            handle.truncate()
            fcntl.flock(handle, fcntl.LOCK_UN)


@dataclass
class Recovery:
    """What recovery did (empty when there was nothing to repair)."""

    removed_files: list[Path] = field(default_factory=list)
    removed_archives: list[Path] = field(default_factory=list)
    reconciled: list[str] = field(default_factory=list)  # vintages recorded published after the fact

    def lines(self) -> list[str]:
        return ([f"removed leftover {path}" for path in self.removed_files]
                + [f"removed the archive of a publication that never happened: {path}" for path in self.removed_archives]
                + [f"vintage {v} is served but was recorded only as validated: recorded published" for v in self.reconciled])


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _writer_pid(path: Path, marker: str) -> int | None:
    tail = path.name.rsplit(marker, 1)[-1]
    return int(tail) if tail.isdigit() else None


def _remove_dead_writers_files(folder: Path, pattern: str, marker: str, recovery: Recovery) -> None:
    for path in folder.glob(pattern):
        pid = _writer_pid(path, marker)
        if pid is None or not _pid_alive(pid):
            path.unlink(missing_ok=True)
            recovery.removed_files.append(path)


def recover_interrupted_publication(ops: OpsStore) -> Recovery:
    """Clean up after a run killed around its publication; see the module docstring."""
    recovery = Recovery()
    data = settings.data_dir()
    work = settings.work_dir()
    if work.exists():
        _remove_dead_writers_files(work, "*/*.partial-*", ".partial-", recovery)
    if not data.exists():
        return recovery
    with publish_lock(data, blocking=False) as held:
        if not held:  # another process is publishing right now: its files are not leftovers
            return recovery
        _remove_dead_writers_files(data, f".{settings.warehouse_path().name}.publishing-*", ".publishing-", recovery)
        archives = settings.publications_dir()
        for folder in (data, archives):
            for path in folder.glob(".*.partial") if folder.exists() else ():
                path.unlink(missing_ok=True)
                recovery.removed_files.append(path)
        _reconcile_validated(ops, recovery)
    return recovery


def _reconcile_validated(ops: OpsStore, recovery: Recovery) -> None:
    """A vintage left at ``validated`` was killed inside its publication: finish or undo the bookkeeping.

    Publications are serialized by the publish lock, so the killed one wrote the newest
    archive. If that archive is the published file, the rename happened: record
    ``published``. If not, the rename never happened: the archive goes (it must not count
    toward the kept publications) and the vintage keeps waiting for a run.
    """
    interrupted = {v: row for v, row in ops.latest_statuses().items() if row.status == "validated"}
    kept = publications()
    if not interrupted or not kept:
        return
    newest = kept[-1]
    vintage_id = newest.name.rsplit("__", 1)[0]
    if vintage_id not in interrupted:
        return
    published = settings.warehouse_path()
    row = interrupted[vintage_id]
    if published.exists() and file_sha256(published) == file_sha256(newest):
        ops.record_status(vintage_id, "published", fingerprint=row.fingerprint, run_id=row.run_id,
                          detail=f"{published} (kept as {newest.name}); recorded at recovery after an interrupted run")
        recovery.reconciled.append(vintage_id)
    else:
        newest.unlink()
        recovery.removed_archives.append(newest)
