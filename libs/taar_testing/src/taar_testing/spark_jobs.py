"""Run a Spark job's CLI as a subprocess under a chosen master, and read what it published.

Used by the jobs' `local-cluster` and skew tests. `local-cluster[N,C,M]` starts a standalone
master, N worker JVMs and their executors through the scripts under `$SPARK_HOME/bin`;
pip-installed pyspark ships those scripts in its package folder, so that folder is SPARK_HOME.
While the job runs, the JVM command lines of its process tree are sampled, so a test can
check the driver heap (`-Xmx`) it really ran with.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

LOCAL_CLUSTER = "local-cluster[2,1,1024]"
"""Two workers of one core and 1 GiB each: separate executor JVMs, a shuffle between processes."""

CLUSTER_MARKER = "cluster"
"""pytest marker of the tests that start a `local-cluster` (deselect with `-m 'not cluster'`)."""


@dataclass(frozen=True)
class JobRun:
    """A finished job subprocess: exit code, its one-line summary, stderr, and the `-Xmx` of its JVMs."""

    returncode: int
    summary: dict
    stderr: str
    java_heaps_mib: dict[str, int]

    @property
    def driver_heap_mib(self) -> int | None:
        """`-Xmx` of the driver JVM (the one spark-submit started), None if no JVM was seen."""
        return self.java_heaps_mib.get("SparkSubmit")


def spark_home() -> str:
    """pyspark's package folder: it holds the bin/ scripts `local-cluster` needs."""
    import pyspark

    return str(Path(pyspark.__file__).resolve().parent)


def job_environment() -> dict[str, str]:
    """The environment a job subprocess runs in: this venv's Python on both sides, loopback only."""
    env = dict(os.environ)
    env.update(
        SPARK_HOME=spark_home(),
        # The launcher of a pip-installed Spark cannot infer the Scala version from a build folder.
        SPARK_SCALA_VERSION="2.13",
        PYSPARK_PYTHON=sys.executable,
        PYSPARK_DRIVER_PYTHON=sys.executable,
        SPARK_LOCAL_IP="127.0.0.1",
    )
    env.pop("PYSPARK_GATEWAY_PORT", None)
    return env


_XMX = re.compile(r"^-Xmx(\d+)([kKmMgG]?)$")


def _heap_mib(flag: str) -> int:
    number, unit = _XMX.match(flag).groups()  # type: ignore[union-attr]
    scale = {"k": 1 / 1024, "m": 1, "g": 1024, "": 1 / (1024 * 1024)}[unit.lower()]
    return int(int(number) * scale)


def _java_heaps(root_pid: int, seen: dict[str, int]) -> None:
    """Record `-Xmx` per JVM main class for the java processes below `root_pid`."""
    children: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            parent = int(stat.read_text().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue
        children.setdefault(parent, []).append(int(stat.parent.name))
    todo = list(children.get(root_pid, []))
    while todo:
        pid = todo.pop()
        todo.extend(children.get(pid, []))
        try:
            argv = Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace").split("\0")
        except OSError:
            continue
        if not argv or not argv[0].endswith("java"):
            continue
        heaps = [_heap_mib(a) for a in argv if _XMX.match(a)]
        mains = [a.rsplit(".", 1)[-1] for a in argv if a.startswith("org.apache.spark.")]
        if heaps and mains:
            seen[mains[0]] = heaps[-1]  # the JVM honours the last -Xmx


def run_job(module: str, args: list[str], *, master: str, timeout_s: float = 900) -> JobRun:
    """`python -m <module> <args> --master <master>`, sampling its JVMs' heaps until it exits.

    Output goes to temporary files (Spark's stderr can outgrow a pipe nobody reads while the
    process tree is sampled); a run past `timeout_s` is killed and raises TimeoutError.
    """
    command = [sys.executable, "-m", module, *args, "--master", master]
    heaps: dict[str, int] = {}
    deadline = time.monotonic() + timeout_s
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        process = subprocess.Popen(command, env=job_environment(), stdout=out, stderr=err, text=True)
        while process.poll() is None:
            if time.monotonic() > deadline:
                process.kill()
                process.wait()
                raise TimeoutError(f"{module} under {master} still running after {timeout_s:.0f}s")
            _java_heaps(process.pid, heaps)
            time.sleep(0.5)
        out.seek(0)
        err.seek(0)
        stdout, stderr = out.read(), err.read()
    lines = [line for line in stdout.splitlines() if line.startswith("{")]
    summary = json.loads(lines[-1]) if lines else {}
    return JobRun(process.returncode, summary, stderr, heaps)


def files_under(root: Path | str) -> list[str]:
    """Every file under `root`, hidden ones (a lease left behind) included: a failed run must leave
    none. Empty folders do not count: the lease's local folder is not an object on GCS or S3."""
    root = Path(root)
    return sorted(str(path.relative_to(root)) for path in root.rglob("*") if path.is_file()) if root.exists() else []


def published_files(root: Path) -> dict[str, bytes]:
    """Every artifact under `root` (relative path -> bytes), leaving out hidden files (leases)."""
    return {
        str(path.relative_to(root)): path.read_bytes()
        for path in sorted(root.rglob("*"))
        if path.is_file() and not any(part.startswith(".") for part in path.relative_to(root).parts)
    }
