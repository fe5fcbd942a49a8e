"""The dbt manifest, prepared once outside any import, and dbt's parsed project per process.

The code location reads ``dbt_models/target/manifest.json`` to declare the dbt assets, and
it never parses the project itself. ``make setup``, ``nqp run``, ``nqp ui``, the bench and
the test session prepare the manifest beforehand with :func:`prepare_manifest`. That function
parses only when a project file is newer than the manifest. A missing or stale manifest
stops the import with :class:`ManifestNotPrepared`, which says what to run.

No Dagster import, so ``make setup`` and the CLI prepare the manifest without loading Dagster.

    .venv/bin/python -m dagster_project.defs.transform.manifest    # what `make setup` runs
"""

from __future__ import annotations

import fcntl
import json
import sys
import threading
from pathlib import Path
from typing import Any

from nqp_core import settings

# profiles.yml reads the warehouse file from this var. Parsing never opens the file, but the
# file's stem names the DuckDB catalog that the parsed nodes refer to. Every working copy
# and the published file are named warehouse.duckdb, so the placeholder is too. The parse
# vars never change, so dbt's partial parsing stays valid from one parse to the next.
WAREHOUSE_PATH_VAR = "warehouse_path"
PARSE_VARS = {WAREHOUSE_PATH_VAR: "warehouse.duckdb"}

TARGET_DIR = settings.DBT_PROJECT_DIR / "target"
MANIFEST_PATH = TARGET_DIR / "manifest.json"
_GENERATED_DIRS = {"target", "logs", "dbt_packages"}
_PREPARE_LOCK = TARGET_DIR / ".prepare.lock"


class ManifestNotPrepared(RuntimeError):
    """The code location cannot declare the dbt assets: the manifest is missing or stale."""


def dbt_project_args() -> list[str]:
    return ["--project-dir", str(settings.DBT_PROJECT_DIR), "--profiles-dir", str(settings.DBT_PROJECT_DIR)]


def _newest_project_file() -> tuple[float, Path | None]:
    newest, newest_path = 0.0, None
    root = settings.DBT_PROJECT_DIR
    for path in root.rglob("*"):
        relative = path.relative_to(root)
        if relative.parts[0] in _GENERATED_DIRS or relative.name.startswith("."):
            continue
        if path.is_file() and path.stat().st_mtime > newest:
            newest, newest_path = path.stat().st_mtime, path
    return newest, newest_path


def stale_reason() -> str | None:
    """Why target/manifest.json cannot be used as it is, or None when it is current."""
    if not MANIFEST_PATH.exists():
        return f"{MANIFEST_PATH} does not exist"
    newest, path = _newest_project_file()
    if MANIFEST_PATH.stat().st_mtime < newest:
        return f"{path} changed after {MANIFEST_PATH} was written"
    return None


def checked_manifest_path() -> Path:
    """target/manifest.json, if it is current: what the code location declares its dbt assets from."""
    reason = stale_reason()
    if reason is not None:
        raise ManifestNotPrepared(
            f"the dbt manifest is not prepared: {reason}. Prepare it with `make setup` or "
            "`.venv/bin/python -m dagster_project.defs.transform.manifest` (`nqp run` and `nqp ui` do it themselves)."
        )
    return MANIFEST_PATH


def parse_project(*, write_artifacts: bool) -> Any:
    """``dbt parse`` in this process, partial when target/partial_parse.msgpack is current; dbt's Manifest.

    With ``write_artifacts`` it also writes target/manifest.json, the file the code
    location reads.
    """
    from dbt.cli.main import dbtRunner

    args = ["parse", *dbt_project_args(), "--vars", json.dumps(PARSE_VARS), "--quiet"]
    if not write_artifacts:
        args.append("--no-write-json")
    result = dbtRunner().invoke(args)
    if not result.success:
        raise RuntimeError(f"dbt parse of {settings.DBT_PROJECT_DIR} failed: {result.exception}")
    return result.result


_process_manifest_lock = threading.Lock()
_process_manifest: list[Any] = []


def process_manifest() -> Any:
    """dbt's Manifest object for this process: parsed once, then reused by every dbt invocation."""
    with _process_manifest_lock:
        if not _process_manifest:
            _process_manifest.append(parse_project(write_artifacts=False))
        return _process_manifest[0]


def prepare_manifest() -> Path:
    """Write target/manifest.json if it is missing or stale. A file lock keeps concurrent
    preparations (test workers, a bench next to ``nqp ui``) from writing it at once."""
    TARGET_DIR.mkdir(parents=True, exist_ok=True)
    with _PREPARE_LOCK.open("a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if stale_reason() is not None:
            manifest = parse_project(write_artifacts=True)
            with _process_manifest_lock:
                _process_manifest[:] = [manifest]
    return MANIFEST_PATH


def main() -> int:
    print(f"dbt manifest ready: {prepare_manifest()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
