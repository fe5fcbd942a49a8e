"""Shared fixtures: a small synthetic vintage pushed through the whole stack once per session."""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
E2E_SCALE = 0.1  # ~2,400 firm-years and ~75,000 patents: every stage runs, in well under a minute
E2E_VINTAGE = "2024-06"
# Tests that share the session's pipeline run, or build whole vintages through Dagster and dbt,
# run on one pytest-xdist worker, one after the other: the run is paid once, and no two jobs
# compete for dbt's project folder. Every other module is a unit of its own.
PIPELINE_GROUP = "pipeline"
PIPELINE_FIXTURES = ("pipeline_run", "webserver")


# --- pytest-xdist ----------------------------------------------------------------------------------------


def pytest_xdist_auto_num_workers(config: pytest.Config) -> int:
    """``-n auto`` (pyproject addopts): the whole suite (``make test``) on one worker per core; a run of
    chosen paths or tests stays in one process, where starting workers would cost more than it saves."""
    if config.args_source != pytest.Config.ArgsSource.TESTPATHS or config.option.keyword or config.option.markexpr:
        return 0
    return len(os.sched_getaffinity(0))


def pytest_configure(config: pytest.Config) -> None:
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    if worker:  # each worker's Dagster instance (runs, event logs) in a folder of its own
        home = ROOT / ".dagster_home" / f"pytest-{worker}"
        home.mkdir(parents=True, exist_ok=True)
        os.environ["DAGSTER_HOME"] = str(home)
    elif getattr(config.option, "numprocesses", 0):
        # Before the workers start: the dbt manifest is parsed here, once, so that no two
        # workers parse a missing or stale project into the same target folder at once.
        from dagster_project.defs.transform.assets import ensure_manifest

        ensure_manifest()


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Groups for ``--dist loadgroup``: a worker takes a whole group, so module fixtures are built once."""
    for item in items:
        path = Path(str(item.path)).relative_to(ROOT)
        pipeline = path.parts[:2] == ("tests", "e2e") or any(f in item.fixturenames for f in PIPELINE_FIXTURES)
        item.add_marker(pytest.mark.xdist_group(PIPELINE_GROUP if pipeline else str(path)))


def pytest_configure(config):
    # The code location declares its dbt assets from the prepared manifest and never parses
    # dbt at import (dagster_project/defs/transform/manifest.py); parses only when a dbt file changed.
    from dagster_project.defs.transform.manifest import prepare_manifest

    prepare_manifest()


@dataclass(frozen=True)
class PipelineRun:
    data_dir: Path
    reports_dir: Path
    vintage_dir: Path
    env: dict[str, str]
    stdout: str

    @property
    def warehouse(self) -> Path:
        return self.data_dir / "warehouse.duckdb"

    @property
    def exports_dir(self) -> Path:
        return Path(self.env["NQP_EXPORTS_DIR"])

    @property
    def truth(self) -> dict:
        return json.loads((self.vintage_dir / "truth.json").read_text(encoding="utf-8"))

    @property
    def vintage_id(self) -> str:
        return self.vintage_dir.name

    def nqp(self, *args: str) -> subprocess.CompletedProcess:
        return nqp(list(args), self.env)


def folder_digest(folder: Path) -> dict[str, str]:
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def nqp(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "dagster_project.cli", *args],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=1200,
    )


@pytest.fixture(scope="session")
def digest():
    return folder_digest


@pytest.fixture(scope="session")
def pipeline_run(tmp_path_factory) -> PipelineRun:
    base = tmp_path_factory.mktemp("e2e")
    env = {
        **os.environ,
        "NQP_DATA_DIR": str(base / "data"),
        "NQP_REPORTS_DIR": str(base / "reports"),
        "NQP_EXPORTS_DIR": str(base / "exports"),
        "DAGSTER_HOME": str(base / "dagster_home"),
    }
    synth = nqp(["synth", "--seed", "7", "--scale", str(E2E_SCALE), "--vintage", E2E_VINTAGE], env)
    assert synth.returncode == 0, synth.stderr[-4000:]
    run = nqp(["run"], env)
    assert run.returncode == 0, (run.stdout[-4000:], run.stderr[-4000:])
    return PipelineRun(base / "data", base / "reports", base / "data" / "landing" / E2E_VINTAGE, env, run.stdout)


def copy_of_published(run: PipelineRun, base: Path) -> PipelineRun:
    """A private copy of ``run``'s data folder (landing, published warehouse, ops store) under ``base``.

    Tests that publish or reject further vintages work on a copy, so the session's
    ``pipeline_run`` stays as the other tests expect it and its cost is paid once.
    """
    shutil.copytree(run.data_dir, base / "data", ignore=shutil.ignore_patterns("work"))
    env = {**run.env, "NQP_DATA_DIR": str(base / "data"), "NQP_REPORTS_DIR": str(base / "reports"),
           "NQP_EXPORTS_DIR": str(base / "exports"), "DAGSTER_HOME": str(base / "dagster_home")}
    return PipelineRun(base / "data", base / "reports", base / "data" / "landing" / run.vintage_id, env, "")


@contextlib.contextmanager
def nqp_environment(run: PipelineRun):
    """Point this process's settings at ``run``'s folders (for in-process Dagster runs), then restore."""
    keys = ("NQP_DATA_DIR", "NQP_REPORTS_DIR", "NQP_EXPORTS_DIR")
    saved = {key: os.environ.get(key) for key in keys}
    os.environ.update({key: run.env[key] for key in keys})
    try:
        yield run
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


@pytest.fixture(scope="session")
def copy_published():
    return copy_of_published


@pytest.fixture(scope="session")
def in_nqp_environment():
    return nqp_environment


@pytest.fixture(scope="session")
def webserver(pipeline_run):
    """`dagster dev` against the session's pipeline run, shared by the UI and browser tests."""
    from tests.dagster_ui import dagster_dev

    with dagster_dev(pipeline_run.env) as server:
        yield server
