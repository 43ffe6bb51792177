"""Each job installs into a fresh virtualenv with only what it declares, and runs.

A job that imports something it does not declare fails here, not in production.
"""

from __future__ import annotations

import os
import shutil
import subprocess

import pytest
from conftest import JOB_DIRS, ROOT

UV = ROOT / ".venv" / "tools" / "bin" / "uv"
SCRATCH = ROOT / ".venv" / "declared-deps"
WHEELHOUSE = ROOT / ".venv" / "wheelhouse"  # tools/ensure-venv builds pyspark's wheel here once

IMPORT_EVERY_MODULE = """
import importlib, pkgutil, sys
package = importlib.import_module(sys.argv[1])
prefix = sys.argv[1] + "."
names = [m.name for m in pkgutil.walk_packages(package.__path__, prefix) if not m.name.endswith(".__main__")]
for name in names:
    importlib.import_module(name)
print(len(names) + 1)
"""


def fresh_venv(name: str, *requirements: str) -> tuple[str, dict[str, str]]:
    if not UV.exists():
        pytest.fail(f"{UV} missing: run `make envs` first")
    venv = SCRATCH / name
    shutil.rmtree(venv, ignore_errors=True)
    subprocess.run([UV, "venv", "--quiet", "--python", "python3", venv], check=True)
    install = [UV, "pip", "install", "--quiet", "--find-links", WHEELHOUSE, "--python", venv / "bin" / "python"]
    install += requirements
    result = subprocess.run(install, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr[-3000:]
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    env["PATH"] = f"{venv / 'bin'}:{env['PATH']}"
    return str(venv / "bin" / "python"), env


@pytest.mark.parametrize("job", [p.name for p in JOB_DIRS])
def test_job_runs_from_its_declared_dependencies(job):
    python, env = fresh_venv(job, str(ROOT / "libs" / "taar_common"), str(ROOT / "jobs" / job))
    imported = subprocess.run(
        [python, "-c", IMPORT_EVERY_MODULE, f"taar_{job}"], capture_output=True, text=True, env=env, cwd=SCRATCH
    )
    assert imported.returncode == 0, f"jobs/{job} imports something it does not declare:\n{imported.stderr[-3000:]}"
    script = "taar-" + job.replace("_", "-")
    helped = subprocess.run([script, "--help"], capture_output=True, text=True, env=env, cwd=SCRATCH)
    assert helped.returncode == 0 and "--help" in helped.stdout, helped.stderr[-2000:]
    as_module = subprocess.run([python, "-m", f"taar_{job}", "--help"], capture_output=True, text=True, env=env)
    assert as_module.returncode == 0 and "--help" in as_module.stdout, as_module.stderr[-2000:]
    shutil.rmtree(SCRATCH / job, ignore_errors=True)


def test_taar_common_runs_from_its_declared_dependencies():
    python, env = fresh_venv("taar_common", str(ROOT / "libs" / "taar_common"))
    modules = [
        "storage",
        "publish",
        "artifacts",
        "logs",
        "summary",
        "options",
        "amo",
        "http",
        "sensor",
        "hashing",
        "dates",
    ]
    code = "import importlib\n" + "".join(f"importlib.import_module('taar_common.{m}')\n" for m in modules)
    imported = subprocess.run([python, "-c", code], capture_output=True, text=True, env=env, cwd=SCRATCH)
    assert imported.returncode == 0, imported.stderr[-3000:]
    helped = subprocess.run(["taar-wait-for", "--help"], capture_output=True, text=True, env=env)
    assert helped.returncode == 0 and "--poke-interval" in helped.stdout
    shutil.rmtree(SCRATCH / "taar_common", ignore_errors=True)
