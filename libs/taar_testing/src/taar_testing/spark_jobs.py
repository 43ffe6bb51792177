"""Run a Spark job's CLI as a subprocess under a chosen master, and read what it published.

Used by the jobs' `local-cluster` and skew tests. `local-cluster[N,C,M]` starts a standalone
master, N worker JVMs and their executors through the scripts under `$SPARK_HOME/bin`;
pip-installed pyspark ships those scripts in its package folder, so that folder is SPARK_HOME.
While the job runs, the JVM command lines of its process tree are sampled, so a test can
check the driver heap (`-Xmx`) it really ran with (`run_within_driver_heap`, the skew tests), and
`local_and_cluster_artifacts` runs a job under both masters for the local-cluster tests.
`seeded_runs` makes the three runs a same-seed-same-bytes test compares.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

T = TypeVar("T")

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


def skew_clients() -> int:
    """Clients on the skew tests' day: `$TAAR_SKEW_CLIENTS`, 1,000,000 unless set (the size the
    512 MB driver-heap rule is held to)."""
    return int(os.environ.get("TAAR_SKEW_CLIENTS", "1000000"))


def run_within_driver_heap(module: str, args: list[str], *, max_heap_mib: int) -> JobRun:
    """`run_job` on local[2], failing with the stderr tail unless the job exits 0, and with the heaps
    seen unless its driver JVM ran with at most `max_heap_mib` of heap."""
    run = run_job(module, args, master="local[2]")
    if run.returncode != 0:
        raise AssertionError(f"{module} exited {run.returncode}:\n{run.stderr[-3000:]}")
    if run.driver_heap_mib is None or run.driver_heap_mib > max_heap_mib:
        raise AssertionError(f"{module}'s driver heap is not at most {max_heap_mib} MiB: {run.java_heaps_mib}")
    return run


def local_and_cluster_artifacts(module: str, args: list[str], out: Path) -> tuple[dict[str, bytes], dict[str, bytes]]:
    """What `module` published with `args` under local[2] (into `out`/local) and under `LOCAL_CLUSTER`
    (into `out`/cluster). Fails with the stderr tail unless both runs exit 0, and unless the cluster
    run had an executor JVM of its own (else it proved nothing about separate processes)."""
    local = run_job(module, [*args, "--bucket", str(out / "local")], master="local[2]")
    cluster = run_job(module, [*args, "--bucket", str(out / "cluster")], master=LOCAL_CLUSTER)
    for master, run in (("local[2]", local), (LOCAL_CLUSTER, cluster)):
        if run.returncode != 0:
            raise AssertionError(f"{module} under {master} exited {run.returncode}:\n{run.stderr[-3000:]}")
    if "CoarseGrainedExecutorBackend" not in cluster.java_heaps_mib:
        raise AssertionError(f"no executor JVM seen under {LOCAL_CLUSTER}: {cluster.java_heaps_mib}")
    return published_files(out / "local"), published_files(out / "cluster")


def seeded_runs(publish: Callable[[int, str], T], root: Path, *, seed: int) -> tuple[T, T, T]:
    """`publish(seed, bucket)` twice with `seed`, then once with `seed + 1`, into the buckets a, b and c
    under `root`: a job is deterministic when the first two agree, and seeded when the third differs."""
    first, again, other = (publish(s, str(root / name)) for s, name in ((seed, "a"), (seed, "b"), (seed + 1, "c")))
    return first, again, other
