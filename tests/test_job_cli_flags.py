"""Every job's console script (and the fixtures' and report's), as built in its own env,
answers -h, -v and --version alike.

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


CLI_DIRS = [*JOB_DIRS, ROOT / "libs" / "taar_fixtures", ROOT / "libs" / "taar_report"]


@pytest.mark.parametrize("job_dir", CLI_DIRS, ids=[p.name for p in CLI_DIRS])
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
    if job_dir in JOB_DIRS and "--date" in short_help.stdout:  # one default for the jobs and the demo: the data day
        assert "yesterday, UTC: the data day" in " ".join(short_help.stdout.split()), f"{script} --date default"


# Every option that names a storage location; profile_bigtable's need a stage to run.
LOCATION_OPTIONS = [
    ("amodump", ["--bucket"]),
    ("amodump", ["--previous"]),
    ("amowhitelist", ["--dump-url"]),
    ("update_whitelist", ["--bucket"]),
    ("spark_lite", ["--input"]),
    ("spark_lite", ["--whitelist-url"]),
    ("spark_locale", ["--input"]),
    ("spark_similarity", ["--whitelist-url"]),
    ("spark_collaborative", ["--input"]),
    ("spark_ensemble", ["--donors-url"]),
    ("spark_ensemble", ["--item-matrix-url"]),
    ("profile_bigtable", ["--wipe-avro", "--avro-gcs-bucket"]),
]


@pytest.mark.parametrize(("job", "flags"), LOCATION_OPTIONS, ids=[f"{j}{f[-1]}" for j, f in LOCATION_OPTIONS])
@pytest.mark.parametrize("url", ["ftp://user:hunter2pass@host/x", "gs://bucket/../escaped", "file://etc/x"])
def test_bad_locations_are_refused_when_parsed_with_credentials_masked(job, flags, url):
    """Before any work (no Spark, no HTTP): exit 2 naming the option and the URL, no traceback."""
    job_dir = ROOT / "jobs" / job
    script, _, _ = console_script(job_dir)
    refused = run(ROOT / ".venv" / job / "bin" / script, *flags, url)
    assert refused.returncode == 2, f"{script} {flags} {url}: exit {refused.returncode}\n{refused.stderr[-1500:]}"
    assert f"Invalid value for '{flags[-1]}'" in refused.stderr
    assert "hunter2pass" not in refused.stderr + refused.stdout and "Traceback" not in refused.stderr
    assert ("host/x" if "ftp" in url else url.split("//")[1].split("/")[0]) in refused.stderr
