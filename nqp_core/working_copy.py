"""Write-audit-publish on the file system: the working copy and the atomic publication.

A run never writes ``data/warehouse.duckdb``. It starts from a fresh copy of it (the
*working copy*, ``data/work/<vintage>/warehouse.duckdb``), builds and audits there, and
only a run whose blocking checks all passed replaces the published file, in one
``os.replace`` of a complete, fsynced copy in the same directory. POSIX rename is
atomic: a reader opening the path gets the old file or the new one, never a mix, and a
reader that already has the old file open keeps reading the old inode (still intact,
since nothing writes into a published file: it is only ever replaced).

Kept beside the published file:

- ``warehouse.previous.duckdb``: the file the last publication replaced (a hard link to
  its inode, so keeping it costs no copy);
- ``publications/<vintage>__<UTC time>.duckdb``: a copy of every publication, the newest
  :data:`DEFAULT_KEEP_PUBLICATIONS` kept (``NQP_KEEP_PUBLICATIONS`` overrides), so an
  analyst can pin one and a bad publication can be rolled back by copying one back.

No Dagster import: the publish asset, ``nqp`` and the tests share this module.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import duckdb

from nqp_core import settings

DEFAULT_KEEP_PUBLICATIONS = 5
KEEP_PUBLICATIONS_ENV = "NQP_KEEP_PUBLICATIONS"
_LOCK_FILE = ".publish.lock"


class PublishConflict(RuntimeError):
    """The published warehouse changed after this run copied it: publishing would lose that change."""


@dataclass(frozen=True)
class Publication:
    vintage_id: str
    published: Path
    archive: Path
    previous: Path | None
    sha256: str
    bytes: int
    removed_archives: tuple[Path, ...]


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def working_copy_path(vintage_id: str) -> Path:
    """The working database of a run building ``vintage_id``."""
    return settings.work_dir() / vintage_id / "warehouse.duckdb"


def _wal(path: Path) -> Path:
    return path.with_name(path.name + ".wal")


def _base_record(working: Path) -> Path:
    """Beside the working copy: which published file it started from."""
    return working.with_name(working.name + ".base.json")


def _fsync_directory(folder: Path) -> None:
    descriptor = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def _copy_durably(source: Path, target: Path) -> None:
    """Copy ``source`` to ``target`` (same directory as its final name) and fsync it."""
    with source.open("rb") as reader, target.open("wb") as writer:
        shutil.copyfileobj(reader, writer, 1 << 22)
        writer.flush()
        os.fsync(writer.fileno())


def start_working_copy(working: Path) -> str | None:
    """Replace ``working`` by a fresh copy of the published warehouse (or nothing, if none yet).

    Leftovers of an interrupted run (a half-built database, its WAL) are discarded, so a
    killed run never leaks into the next one. Returns the published file's SHA-256 (None
    when nothing is published yet), also recorded beside the copy for the publish step.
    """
    published = settings.warehouse_path()
    working.parent.mkdir(parents=True, exist_ok=True)
    for leftover in (working, _wal(working)):
        leftover.unlink(missing_ok=True)
    base_sha256 = None
    if published.exists():
        # The writer's pid in the name lets recovery tell a killed run's leftover from a live copy.
        partial = working.with_name(f"{working.name}.partial-{os.getpid()}")
        _copy_durably(published, partial)
        os.replace(partial, working)
        base_sha256 = file_sha256(working)
    _base_record(working).write_text(
        json.dumps({"published": str(published), "base_sha256": base_sha256,
                    "copied_at": datetime.now(UTC).isoformat(timespec="seconds")}),
        encoding="utf-8",
    )
    return base_sha256


def _recorded_base(working: Path) -> str | None:
    record = _base_record(working)
    if not record.exists():
        raise PublishConflict(f"{working} has no {record.name}: it was not started by start_working_copy")
    return json.loads(record.read_text(encoding="utf-8"))["base_sha256"]


@contextmanager
def publish_lock(folder: Path, *, blocking: bool = True) -> Iterator[bool]:
    """One publication at a time per data folder (runs launched by the sensor may overlap).

    Yields True once held; with ``blocking=False`` it yields False at once if another
    process holds it (recovery then leaves that publication alone).
    """
    folder.mkdir(parents=True, exist_ok=True)
    with (folder / _LOCK_FILE).open("w") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX if blocking else fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            yield False
            return
        try:
            yield True
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def checkpoint(working: Path) -> None:
    """Fold DuckDB's write-ahead log into the file, so the file alone is the whole database."""
    with duckdb.connect(str(working)) as conn:
        conn.execute("checkpoint")
    if _wal(working).exists() and _wal(working).stat().st_size:
        raise RuntimeError(f"{_wal(working)} is not empty after a checkpoint: another process holds {working}")


def keep_publications() -> int:
    value = os.environ.get(KEEP_PUBLICATIONS_ENV, str(DEFAULT_KEEP_PUBLICATIONS))
    if not value.isdigit() or int(value) < 1:
        raise ValueError(f"{KEEP_PUBLICATIONS_ENV} must be a positive integer, got {value!r}")
    return int(value)


def publish_working_copy(working: Path, vintage_id: str) -> Publication:
    """Atomically make ``working`` the published warehouse; the working copy is removed after.

    Refuses (PublishConflict) when the published file is no longer the one the working
    copy started from: another run published meanwhile and its vintage would be lost.
    """
    published = settings.warehouse_path()
    folder = published.parent
    archives = settings.publications_dir()
    previous_path = settings.previous_warehouse_path()
    checkpoint(working)
    base_sha256 = _recorded_base(working)
    with publish_lock(folder):
        current = file_sha256(published) if published.exists() else None
        if current != base_sha256:
            raise PublishConflict(
                f"{published} changed since this run copied it (now {str(current)[:12]}, copied {str(base_sha256)[:12]}): "
                f"another run published meanwhile; rerun vintage {vintage_id} to build on top of it"
            )
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")
        archives.mkdir(parents=True, exist_ok=True)
        archive = archives / f"{vintage_id}__{stamp}.duckdb"
        partial_archive = archives / f".{archive.name}.partial"
        _copy_durably(working, partial_archive)
        os.replace(partial_archive, archive)
        sha256 = file_sha256(archive)

        previous = None
        if published.exists():
            linked = folder / f".{previous_path.name}.partial"
            linked.unlink(missing_ok=True)
            os.link(published, linked)
            os.replace(linked, previous_path)
            previous = previous_path

        staged = staged_publication(folder, os.getpid())
        _copy_durably(archive, staged)
        os.replace(staged, published)
        _fsync_directory(folder)
        _fsync_directory(archives)
        removed = _apply_retention(archives, keep_publications())
    for leftover in (working, _wal(working), _base_record(working)):
        leftover.unlink(missing_ok=True)
    if working.parent != settings.work_dir() and not any(working.parent.iterdir()):
        working.parent.rmdir()
    return Publication(vintage_id, published, archive, previous, sha256, published.stat().st_size, removed)


def staged_publication(folder: Path, pid: int) -> Path:
    """The complete copy a publication renames onto the published file (named after its writer)."""
    return folder / f".{settings.warehouse_path().name}.publishing-{pid}"


def _apply_retention(archives: Path, keep: int) -> tuple[Path, ...]:
    """Delete all but the newest ``keep`` publications (names sort by publication time)."""
    files = sorted(archives.glob("*__*.duckdb"), key=lambda p: p.name.rsplit("__", 1)[1])
    doomed = tuple(files[:-keep])
    for path in doomed:
        path.unlink()
    return doomed


def publications(archives: Path | None = None) -> list[Path]:
    """Kept publications, oldest first."""
    archives = archives or settings.publications_dir()
    return sorted(archives.glob("*__*.duckdb"), key=lambda p: p.name.rsplit("__", 1)[1]) if archives.exists() else []
