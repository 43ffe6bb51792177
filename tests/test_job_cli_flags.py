"""Every job's console script, as built in its own env, answers -h, -v and --version alike.

The flags come from taar_common's shared options; a job whose CLI skips them (or declares
its own -h/-v differently) fails here, by name.
"""

from __future__ import annotations

import re
import subprocess
import tomllib

import pytest
from conftest import JOB_DIRS, ROOT


def console_script(job_dir) -> tuple[str, str, str]:
    """(script name, distribution name, version) from the job's pyproject."""
    project = tomllib.loads((job_dir / "pyproject.toml").read_text())["project"]
    (script,) = project["scripts"]
    return script, project["name"], project["version"]


def run(script_path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([str(script_path), *args], capture_output=True, text=True, timeout=120)


@pytest.mark.parametrize("job_dir", JOB_DIRS, ids=[p.name for p in JOB_DIRS])
def test_job_cli_has_help_verbose_and_version(job_dir):
    script, distribution, version = console_script(job_dir)
    path = ROOT / ".venv" / job_dir.name / "bin" / script
    if not path.exists():
        pytest.fail(f"{path} missing: run `make envs` (or `bin/taar {job_dir.name} -h`) first")
    short_help, long_help = run(path, "-h"), run(path, "--help")
    assert short_help.returncode == 0, f"{script} -h: {short_help.stderr[-1000:]}"
    assert short_help.stdout == long_help.stdout
    options = re.findall(r"^\s+(-[\w-]+(?:, --[\w-]+)?)", short_help.stdout, re.M)
    assert "-h, --help" in options and "--version" in options, f"{script}: {options}"
    assert "-v, --verbose" in options, f"{script} has no -v/--verbose: {options}"
    shown = run(path, "--version")
    assert shown.returncode == 0 and shown.stdout.strip() == f"{distribution} {version}", shown
    if "--date" in short_help.stdout:  # one default for every job and the demo: the data day
        assert "yesterday, UTC: the data day" in " ".join(short_help.stdout.split()), f"{script} --date default"
