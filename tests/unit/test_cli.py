"""The `nqp` command's refusals: bad input is one clear message (exit 2) and writes nothing."""

from __future__ import annotations

import os
import subprocess
import sys

from nqp_core.settings import PROJECT_ROOT


def test_run_of_a_vintage_that_was_never_delivered_is_refused_before_anything_is_written(tmp_path):
    env = {**os.environ, "NQP_DATA_DIR": str(tmp_path / "data"), "NQP_REPORTS_DIR": str(tmp_path / "reports"),
           "DAGSTER_HOME": str(tmp_path / "dagster_home")}
    out = subprocess.run([sys.executable, "-m", "dagster_project.cli", "run", "--vintage", "nosuch"],
                         capture_output=True, text=True, env=env, cwd=PROJECT_ROOT, timeout=120)
    assert out.returncode == 2 and "Traceback" not in out.stderr
    assert "no vintage folder" in out.stderr and "complete vintages: none" in out.stderr
    assert not (tmp_path / "data").exists()  # no ops row, no generated default vintage, no lock file


def test_the_export_formats_of_the_parser_are_the_exporters():
    from dagster_project.cli import EXPORT_FORMATS
    from dagster_project.defs.exports.files import FORMATS

    assert EXPORT_FORMATS == FORMATS
