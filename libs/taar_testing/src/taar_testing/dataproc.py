"""Run a Spark job as Dataproc does: its bundle zip and entry file under spark-submit.

The driver and executors use a Python that sees the venv's third-party packages but not
its editable installs (`python -S`, site-packages only), so the job and taar_common can
come only from `--py-files`, exactly as on a cluster image that provides the dependencies.
A job's test module gets its harness with `dataproc = dataproc_fixture("<job>")`.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import sysconfig
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from taar_testing.services import repo_root


@dataclass(frozen=True)
class DataprocBundle:
    job: str
    zip: Path
    main: Path
    requirements: Path

    def entries(self) -> set[str]:
        """The paths in the zip."""
        return set(zipfile.ZipFile(self.zip).namelist())

    def strays(self) -> list[str]:
        """Zip entries a cluster must not get: byte code, and paths of the source tree (`tests/`, `src/`)."""
        return sorted(n for n in self.entries() if "__pycache__" in n or n.startswith(("tests/", "src/")))

    def pins(self) -> set[str]:
        """The requirement lines the cluster image must provide."""
        return set(self.requirements.read_text().splitlines())


def build_bundle(job: str, out: Path) -> DataprocBundle:
    """`make dataproc-bundle JOB=<job>` into `out` (tools/dataproc_bundle.py)."""
    tool = repo_root() / "tools" / "dataproc_bundle.py"
    subprocess.run([sys.executable, str(tool), job, "--out", str(out)], check=True, capture_output=True)
    return DataprocBundle(job, out / f"{job}.zip", out / f"{job}_main.py", out / f"{job}_requirements.txt")


def cluster_environment(scratch: Path) -> tuple[Path, dict[str, str]]:
    """(python wrapper, environment) of a 'cluster' that lacks the venv's editable installs."""
    import pyspark

    wrapper = scratch / "cluster-python"
    wrapper.write_text(f'#!/bin/sh\nexec "{sys.executable}" -S "$@"\n')
    wrapper.chmod(0o755)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYSPARK_", "SPARK_", "PYTHON"))}
    env.update(
        PYTHONPATH=sysconfig.get_paths()["purelib"],
        PYSPARK_PYTHON=str(wrapper),
        PYSPARK_DRIVER_PYTHON=str(wrapper),
        SPARK_HOME=str(Path(pyspark.__file__).parent),
        SPARK_LOCAL_IP="127.0.0.1",
    )
    return wrapper, env


@dataclass(frozen=True)
class DataprocHarness:
    """A job's bundle and a 'cluster' environment that can import the job only from the bundle."""

    bundle: DataprocBundle
    python: Path
    env: dict[str, str]

    def submit(self, args: list[str], *, workdir: Path) -> dict:
        """`spark_submit` of the bundle with `args` from `workdir` (created empty); fails with the stderr
        tail unless it exits 0, and names what it left unless it leaves nothing of the job's in `workdir`.
        Returns the job's run summary (its last stdout line)."""
        result = spark_submit(self.bundle, args, workdir=workdir, env=self.env)
        submitted = f"spark-submit of {self.bundle.zip.name}"
        if result.returncode != 0:
            raise AssertionError(f"{submitted} exited {result.returncode}:\n{result.stderr[-4000:]}")
        if leftovers := job_leftovers(workdir):
            raise AssertionError(f"{submitted} left {leftovers} in its working directory {workdir}")
        return json.loads(result.stdout.strip().splitlines()[-1])


def dataproc_harness(job: str, scratch: Path) -> DataprocHarness:
    """Build `job`'s bundle into `scratch` and a cluster environment beside it, and check that the
    cluster's Python cannot import the job package without `--py-files` (else the test proves nothing)."""
    python, env = cluster_environment(scratch)
    probe = subprocess.run([str(python), "-c", f"import taar_{job}"], env=env, capture_output=True, text=True)
    if f"No module named 'taar_{job}'" not in probe.stderr:
        raise AssertionError(f"the cluster Python imports taar_{job} without the bundle: {probe.stderr[-500:]}")
    return DataprocHarness(build_bundle(job, scratch / "bundle"), python, env)


def dataproc_fixture(job: str) -> Callable[..., DataprocHarness]:
    """A module-scoped `dataproc` fixture: `job`'s harness, built once per test module."""

    @pytest.fixture(scope="module")
    def dataproc(tmp_path_factory: pytest.TempPathFactory) -> DataprocHarness:
        return dataproc_harness(job, tmp_path_factory.mktemp("dataproc"))

    return dataproc


def spark_own_files() -> set[str]:
    """Names Spark itself creates in the driver's working directory (not the job's doing).

    `spark-warehouse` always; `artifacts` on Spark before 4.1, whose ArtifactManager roots its temp
    folder in the working directory (SPARK-52396, apache/spark#51083, moved it to java.io.tmpdir).
    """
    import pyspark

    major, minor = (int(part) for part in pyspark.__version__.split(".")[:2])
    return {"spark-warehouse"} | ({"artifacts"} if (major, minor) < (4, 1) else set())


def job_leftovers(workdir: Path) -> list[str]:
    """What a spark-submit run left in its working directory besides Spark's own folders."""
    return sorted(p.name for p in workdir.iterdir() if p.name not in spark_own_files())


def spark_submit(
    bundle: DataprocBundle, args: list[str], *, workdir: Path, env: dict[str, str], timeout: float = 900
) -> subprocess.CompletedProcess:
    """`spark-submit --py-files <zip> <entry> ARGS` on local[2] from `workdir` (created empty)."""
    workdir.mkdir(parents=True, exist_ok=True)
    command = [
        str(Path(sys.executable).parent / "spark-submit"), "--master", "local[2]", "--driver-memory", "512m",
        "--conf", "spark.ui.enabled=false", "--conf", "spark.sql.shuffle.partitions=4",
        "--py-files", str(bundle.zip), str(bundle.main), *args,
    ]  # fmt: skip
    return subprocess.run(command, cwd=workdir, env=env, capture_output=True, text=True, timeout=timeout)
