"""Shared benchmark helpers: measure a job run as a subprocess, and keep generated inputs.

`measure_process` runs a command and samples its process tree from /proc (Linux) while it
runs: the peak RSS (VmHWM) per command name, because in Spark's local mode the JVM, not the
Python driver, holds the data; CPU seconds, because the machine is shared and wall time
under load says little; and the load average before and after. `clients_daily_dataset`
generates seeded clients_daily once per size and reuses it on later runs. Every bench's input
ends on `BENCH_DAY` and is drawn with `BENCH_SEED`.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import resource
import select
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NamedTuple

import click
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from taar_fixtures.amo import PIONEER_GUID, generate_catalogue
from taar_fixtures.telemetry import ADDON_FIELDS, write_clients_daily

COMPLETE_MARKER = ".complete"
BENCH_DAY = dt.date(2026, 11, 27)
"""The last day of every bench's generated input: the day the jobs run for."""
BENCH_SEED = 20261127
"""The seed of every bench's catalogue and generated input."""


@dataclass(frozen=True)
class Measurement:
    """One finished run of a command and what was sampled while it ran.

    `peak_rss_kib_by_name` and `cpu_s` are sampled over the whole process tree (a process that
    lives shorter than one interval can be missed); `rusage` is the command's own, from
    `os.wait4`; `largest_child_rss_kib` is getrusage's largest child reaped so far by this process.
    """

    command: list[str]
    returncode: int
    wall_s: float
    stdout: str
    stderr: str
    peak_rss_kib_by_name: dict[str, int]
    cpu_s: float
    load_avg_1m: tuple[float, float]
    rusage: resource.struct_rusage
    largest_child_rss_kib: int

    def peak_rss_kib(self, *, named: str | None = None, other_than: str | None = None) -> int:
        """Largest VmHWM in the process tree among processes whose name starts with `named`
        (or all but those starting with `other_than`): "java" is every JVM, "java:SparkSubmit" the driver."""
        return max(
            (
                kib
                for name, kib in self.peak_rss_kib_by_name.items()
                if (named is None or name.startswith(named)) and (other_than is None or not name.startswith(other_than))
            ),
            default=0,
        )

    def summary(self) -> dict[str, Any]:
        """The last JSON-object line on stdout (taar jobs print their run summary last); {} if none."""
        lines = [line for line in self.stdout.splitlines() if line.startswith("{")]
        return json.loads(lines[-1]) if lines else {}

    def checked(self) -> Measurement:
        """This measurement if the command exited 0 and printed a summary; else exit with its stderr tail."""
        if self.returncode != 0 or not self.summary():
            raise SystemExit(f"job failed (exit {self.returncode}):\n{self.stderr[-3000:]}")
        return self


def process_tree(pid: int) -> list[int]:
    """`pid` and its live descendants (from /proc)."""
    children: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        children.setdefault(int(fields[1]), []).append(int(stat.parent.name))
    found, todo = [], [pid]
    while todo:
        current = todo.pop()
        found.append(current)
        todo.extend(children.get(current, []))
    return found


def process_name(pid: int) -> str:
    """A live process's command name; for a JVM, `java:` and its Spark main class (`java:SparkSubmit`
    is the driver, `java:CoarseGrainedExecutorBackend` an executor); "" once it is gone."""
    try:
        name = Path(f"/proc/{pid}/comm").read_text().strip()
        argv = Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace").split("\0")
    except OSError:
        return ""
    mains = [a.rsplit(".", 1)[-1] for a in argv if a.startswith("org.apache.spark.")]
    return f"java:{mains[0]}" if name == "java" and mains else name


def peak_rss_kib(pid: int) -> tuple[int, str]:
    """(VmHWM in KiB, `process_name`) of a live process; (0, "") once it is gone."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return 0, ""
    name = process_name(pid)
    for line in status.splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]), name
    return 0, name


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds a live process has used so far; 0.0 once it is gone."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def measure_process(
    command: Sequence[str],
    env: Mapping[str, str] | None = None,
    cwd: str | Path | None = None,
    *,
    interval_s: float = 0.2,
    show_stderr: bool = False,
) -> Measurement:
    """Run `command` to the end, sampling its process tree every `interval_s`.

    stdout is captured; stderr too, unless `show_stderr` passes it through (progress lines).
    The process is reaped with `os.wait4`, so `rusage` is its own (and its reaped children's).
    """
    peaks: dict[str, int] = {}
    cpu: dict[int, float] = {}
    load_before = os.getloadavg()[0]
    started = time.monotonic()
    with tempfile.TemporaryFile() as stdout, tempfile.TemporaryFile() as stderr:
        process = subprocess.Popen(
            list(command), env=env, cwd=cwd, stdout=stdout, stderr=sys.stderr if show_stderr else stderr
        )
        # Waiting on a pidfd wakes up the moment the process exits, so the wall time is not
        # rounded up to the next sample.
        exited = os.pidfd_open(process.pid)
        try:
            while True:
                done, status, usage = os.wait4(process.pid, os.WNOHANG)
                if done:
                    break
                for pid in process_tree(process.pid):
                    rss, name = peak_rss_kib(pid)
                    peaks[name] = max(peaks.get(name, 0), rss)
                    cpu[pid] = max(cpu.get(pid, 0.0), cpu_seconds(pid))
                select.select([exited], [], [], interval_s)
        finally:
            os.close(exited)
        wall = time.monotonic() - started
        process.returncode = os.waitstatus_to_exitcode(status)
        stdout.seek(0)
        stderr.seek(0)
        out, err = stdout.read().decode(), stderr.read().decode()
    peaks.pop("", None)
    return Measurement(
        command=list(command),
        returncode=process.returncode,
        wall_s=wall,
        stdout=out,
        stderr=err,
        peak_rss_kib_by_name=peaks,
        cpu_s=sum(cpu.values()),
        load_avg_1m=(load_before, os.getloadavg()[0]),
        rusage=usage,
        largest_child_rss_kib=resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss,
    )


class Dataset(NamedTuple):
    """A generated clients_daily input: its folder (side files go here), Parquet root, row count."""

    folder: Path
    clients_daily: Path
    rows: int


def clients_daily_dataset(
    data_dir: Path,
    n_clients: int,
    days: int,
    seed: int,
    *,
    end: dt.date,
    addon_guids: Sequence[str],
    side_files: Mapping[str, str] | None = None,
) -> Dataset:
    """`days` days of clients_daily up to `end` (with `side_files` written next to it), generated
    unless a complete one is already there; the folder is marked complete only once all is written."""
    folder = data_dir / f"clients{n_clients}-days{days}-to{end:%Y%m%d}-seed{seed}-addons{len(addon_guids)}"
    if not (folder / COMPLETE_MARKER).exists():
        started = time.monotonic()
        dates = [end - dt.timedelta(days=k) for k in reversed(range(days))]
        write_clients_daily(folder, n_clients=n_clients, dates=dates, seed=seed, addon_guids=addon_guids)
        for name, text in (side_files or {}).items():
            (folder / name).write_text(text)
        (folder / COMPLETE_MARKER).write_text("ok")
        print(f"generated {folder} in {time.monotonic() - started:.0f}s", file=sys.stderr)
    root = folder / "clients_daily"
    rows = sum(pq.ParquetFile(path).metadata.num_rows for path in root.rglob("*.parquet"))
    return Dataset(folder, root, rows)


def run_record(job: str, data: Dataset, n_clients: int, days: int, run: Measurement) -> dict[str, Any]:
    """What every bench record of a job's run on `data` (local[2]) says: the input's size, wall time,
    throughput, stage times, peak RSS of the Python driver and of the JVM (driver and executor at
    once in local mode), CPU seconds and the load average around the run."""
    return {
        "job": job,
        "clients": n_clients,
        "days": days,
        "input_rows": data.rows,
        "wall_s": round(run.wall_s, 1),
        "rows_per_s": round(data.rows / run.wall_s),
        "stages_s": run.summary().get("durations_s"),
        "driver_python_peak_rss_mib": round(run.peak_rss_kib(other_than="java") / 1024),
        "jvm_peak_rss_mib": round(run.peak_rss_kib(named="java") / 1024),
        "cpu_s": round(run.cpu_s, 1),
        "load_avg_1m_before_after": [round(load, 1) for load in run.load_avg_1m],
        "master": "local[2]",
    }


def window_bench_options(data_dir_name: str) -> Callable[[Callable], Callable]:
    """`--clients`, `--days`, `--repeat` and `--data-dir` of a bench that reads a window of days."""

    def decorate(command: Callable) -> Callable:
        options = [
            click.option("--clients", "sizes", type=int, multiple=True, default=[100_000, 1_000_000],
                         show_default=True),
            click.option("--days", "day_counts", type=click.IntRange(1), multiple=True, default=[1, 7],
                         show_default=True, help="Days of clients_daily read; repeat for several."),
            click.option("--repeat", type=click.IntRange(1), default=1, show_default=True,
                         help="Runs per configuration (the shared machine's speed drifts)."),
            click.option("--data-dir", type=click.Path(path_type=Path), show_default=True,
                         default=Path(tempfile.gettempdir()) / data_dir_name,
                         help="Where generated inputs are kept and reused."),
        ]  # fmt: skip
        for option in reversed(options):
            command = option(command)
        return command

    return decorate


def run_window_bench(
    measure: Callable[[Dataset, int, int], dict[str, Any]],
    *,
    sizes: Sequence[int],
    day_counts: Sequence[int],
    repeat: int,
    data_dir: Path,
    seed: int,
    end: dt.date,
    addon_guids: Sequence[str],
    side_files: Mapping[str, str],
) -> None:
    """Per size and day count: the seeded dataset (generated once), then `repeat` runs of
    `measure(dataset, n_clients, days)`, each printed as one JSON line with its run number."""
    for n_clients in sizes:
        for days in day_counts:
            data = clients_daily_dataset(
                data_dir, n_clients, days, seed, end=end, addon_guids=addon_guids, side_files=side_files
            )
            for attempt in range(1, repeat + 1):
                print(json.dumps(measure(data, n_clients, days) | {"run": attempt}), flush=True)


SKEW_LOCALE = "en-US"
SKEW_LOCALE_SHARE = 0.9
HEAVY_CLIENT_ADDONS = 500


def _valid_addons(guids: Sequence[str]) -> pa.StructArray:
    """Add-on entries every job counts as valid (signed, enabled, not system) for `guids`."""
    n = len(guids)
    values = {
        "addon_id": pa.array(list(guids), pa.string()),
        "name": pa.array([f"Add-on {k}" for k in range(n)], pa.string()),
        "version": pa.array(["1.0"] * n, pa.string()),
        "scope": pa.array([1] * n, pa.int64()),
        "type": pa.array(["extension"] * n, pa.string()),
        "install_day": pa.array([20_000] * n, pa.int64()),
        "update_day": pa.array([20_000] * n, pa.int64()),
        "signed_state": pa.array([2] * n, pa.int64()),
        "is_web_extension": pa.array([True] * n, pa.bool_()),
        "multiprocess_compatible": pa.array([True] * n, pa.bool_()),
    }
    arrays = [values[name] if name in values else pa.array([False] * n, type_) for name, type_ in ADDON_FIELDS]
    return pa.StructArray.from_arrays(arrays, fields=[pa.field(name, type_) for name, type_ in ADDON_FIELDS])


def _prepend_addons(addons: pa.ListArray, prefixes: list[pa.StructArray]) -> pa.ListArray:
    """Each row's list with `prefixes[row]` in front (vectorised: one `take` over all entries)."""
    offsets = np.asarray(addons.offsets)
    values = addons.values.slice(int(offsets[0]), int(offsets[-1] - offsets[0]))
    offsets = offsets - offsets[0]
    prefix_counts = np.array([len(p) for p in prefixes])
    prefix_offsets = np.concatenate([[0], np.cumsum(prefix_counts)])
    new_offsets = offsets + prefix_offsets
    total, extra = int(new_offsets[-1]), int(prefix_offsets[-1])
    order = np.empty(total, dtype=np.int64)
    is_prefix = np.zeros(total, dtype=bool)
    prefix_positions = np.repeat(new_offsets[:-1], prefix_counts) + (
        np.arange(extra) - np.repeat(prefix_offsets[:-1], prefix_counts)
    )
    is_prefix[prefix_positions] = True
    order[prefix_positions] = len(values) + np.arange(extra)
    order[~is_prefix] = np.arange(len(values))
    merged = pa.concat_arrays([values, *prefixes]).take(pa.array(order))
    return pa.ListArray.from_arrays(pa.array(new_offsets.astype(np.int32)), merged, type=addons.type)


def skew_clients_daily(day_folder: Path, *, common_guid: str, heavy_guids: Sequence[str], seed: int) -> None:
    """Rewrite a generated day of clients_daily (its part files, in place) into the worst case the
    jobs must survive: 90% of the rows in one locale (`SKEW_LOCALE`), `common_guid` installed by
    every client, and the first row a release Firefox client with `heavy_guids` (500) more add-ons."""
    rng = np.random.default_rng([seed, 17])
    common = _valid_addons([common_guid])
    heavy = _valid_addons(heavy_guids)
    for part_index, path in enumerate(sorted(day_folder.glob("*.parquet"))):
        table = pq.read_table(path)
        n = table.num_rows
        in_locale = pa.array(rng.random(n) < SKEW_LOCALE_SHARE)
        locale = pc.if_else(in_locale, pa.scalar(SKEW_LOCALE), table["locale"].combine_chunks())
        prefixes = [common] * n
        columns = {"locale": locale}
        if part_index == 0 and n:
            prefixes[0] = pa.concat_arrays([common, heavy])
            first = np.zeros(n, dtype=bool)
            first[0] = True
            for name, value in (("channel", "release"), ("app_name", "Firefox")):
                columns[name] = pc.if_else(pa.array(first), pa.scalar(value), table[name].combine_chunks())
            columns["client_id"] = pc.if_else(
                pa.array(first), pa.scalar("0a0a0a0a-0a0a-4a0a-8a0a-0a0a0a0a0a0a"), table["client_id"].combine_chunks()
            )
        columns["active_addons"] = _prepend_addons(table["active_addons"].combine_chunks(), prefixes)
        for name, column in columns.items():
            table = table.set_column(table.schema.get_field_index(name), name, column)
        pq.write_table(table, path)


@dataclass(frozen=True)
class SkewedDay:
    """A generated day rewritten by `skew_clients_daily`, and the add-ons its clients were drawn from."""

    clients_daily: Path
    partition: Path
    guids: list[str]

    @property
    def common_guid(self) -> str:
        """The add-on every client has: the first of `guids`."""
        return self.guids[0]

    @property
    def heavy_guids(self) -> list[str]:
        """The heavy client's extra add-ons: the next `HEAVY_CLIENT_ADDONS` of `guids`."""
        return self.guids[1 : HEAVY_CLIENT_ADDONS + 1]


def write_skewed_day(root: Path, day: dt.date, *, n_clients: int, catalogue_size: int, seed: int) -> SkewedDay:
    """`n_clients` clients generated on `day` under `root` over the add-ons of a catalogue of
    `catalogue_size` (seed 0), then skewed. The Pioneer add-on is left out of the add-ons: it is
    never valid, so no assertion could follow it."""
    guids = sorted(set(generate_catalogue(catalogue_size, seed=0).guids) - {PIONEER_GUID})
    clients_daily = write_clients_daily(root, n_clients=n_clients, dates=[day], seed=seed, addon_guids=guids)
    skewed = SkewedDay(clients_daily, clients_daily / f"submission_date_s3={day:%Y%m%d}", guids)
    skew_clients_daily(skewed.partition, common_guid=skewed.common_guid, heavy_guids=skewed.heavy_guids, seed=seed)
    return skewed


ADDON_LEAVES = ("addon_id", "type", "is_system", "user_disabled", "app_disabled", "foreign_install", "blocklisted")
"""The `active_addons` fields every Spark job decodes (taar_common.spark.addon_entries)."""


def read_leaves(columns: Sequence[str], *, signed: bool = False) -> list[str]:
    """The leaf columns a job decodes: its top-level columns, with `active_addons` as its read fields."""
    leaves = [c for c in columns if c != "active_addons"]
    if "active_addons" in columns:
        leaves += [f"active_addons.{f}" for f in (*ADDON_LEAVES, *(["signed_state"] if signed else []))]
    return leaves


def scan_floor_command(
    data: Dataset, *, end: dt.date, days: int, leaves: Sequence[str], spark_config: Mapping[str, str], master: str
) -> list[str]:
    """The command of the scan floor for one job's input (run it with the job's venv python)."""
    command = [sys.executable, "-m", "taar_fixtures.bench", "scan-floor", "--input", str(data.clients_daily),
               "--date", f"{end:%Y%m%d}", "--num-days", str(days), "--master", master]  # fmt: skip
    for leaf in leaves:
        command += ["--column", leaf]
    for key, value in spark_config.items():
        command += ["--conf", f"{key}={value}"]
    return command


@click.group()
def cli() -> None:
    """Benchmark helpers run as subprocesses (inside a Spark job's venv)."""


@cli.command("scan-floor")
@click.option("--input", "input_url", required=True)
@click.option("--date", "end", required=True, help="YYYYMMDD or YYYY-MM-DD (taar_common.dates, checked when run).")
@click.option("--num-days", type=click.IntRange(1), default=1)
@click.option("--column", "columns", multiple=True, required=True, help="A leaf column, e.g. active_addons.type.")
@click.option("--conf", "confs", multiple=True, help="Spark setting KEY=VALUE (the job's local config).")
@click.option("--master", default="local[2]")
def scan_floor(
    input_url: str, end: str, num_days: int, columns: tuple[str, ...], confs: tuple[str, ...], master: str
) -> None:
    """The cheapest pass over what a job reads: the same partitions, read with the same checks by
    taar_common, the same leaf columns decoded, folded into one aggregate (no shuffle, no Python
    per row). A job's wall time over this floor's, measured in the same run, is its overhead."""
    # Imported here: only the Spark jobs' venvs (which run this) have pyspark and taar_common[spark].
    from pyspark.sql import functions as F
    from taar_common.dates import parse_date
    from taar_common.spark import read_clients_daily, spark_session
    from taar_common.storage import Storage

    started = time.monotonic()
    spark = spark_session("taar-scan-floor", master, local_config=dict(c.split("=", 1) for c in confs))
    last = parse_date(end)
    days = [last - dt.timedelta(days=k) for k in reversed(range(num_days))]
    top_level = sorted({c.split(".", 1)[0] for c in columns})
    frame = read_clients_daily(spark, Storage(), input_url, days, top_level, required=())
    row = frame.agg(
        F.count(F.lit(1)).alias("rows"), F.bit_xor(F.xxhash64(*[F.col(c) for c in columns])).alias("digest")
    ).first()
    print(json.dumps({"rows": int(row["rows"]), "digest": int(row["digest"] or 0),
                      "durations_s": {"total": round(time.monotonic() - started, 3)}}))  # fmt: skip


def bench_record(job: str, case: str, data: Dataset, n_clients: int, days: int, run: Measurement,
                 floor: Measurement) -> dict[str, Any]:  # fmt: skip
    """One bench case: the job's run next to its scan floor on the same input, in the same run."""
    return (
        {"job": job, "case": case}
        | run_record(job, data, n_clients, days, run)
        | {
            "floor_s": round(floor.wall_s, 1),
            "ratio_to_floor": round(run.wall_s / floor.wall_s, 2),
            # CPU seconds of the process trees: on a shared machine under load, the steadier ratio.
            "cpu_ratio_to_floor": round(run.cpu_s / floor.cpu_s, 2) if floor.cpu_s else None,
            "floor_cpu_s": round(floor.cpu_s, 1),
            "rows_per_s_per_core": round(data.rows / run.wall_s / 2),
        }
    )


@dataclass(frozen=True)
class SparkBench:
    """How to bench one Spark job: its module, what it reads (for the floor), its local Spark
    settings, its arguments for a dataset and window, and the generated input's recipe."""

    job: str
    module: str
    leaves: Sequence[str]
    spark_config: Mapping[str, str]
    job_args: Callable[[Dataset, int], list[str]]
    addon_guids: Sequence[str]
    side_files: Mapping[str, str]
    seed: int
    end: dt.date
    skew_guids: tuple[str, Sequence[str]] | None = None  # (the add-on every client has, the heavy client's)


def _env_sizes(name: str, default: str) -> list[int]:
    return [int(v) for v in os.environ.get(name, default).replace(",", " ").split()]


def scaling_bench_options(window_days: int) -> Callable[[Callable], Callable]:
    """`--clients`, `--window-days`, `--skew-clients`, `--data-dir`; defaults from BENCH_CLIENTS,
    BENCH_WINDOW_CLIENTS, BENCH_SKEW_CLIENTS (0 skips a case) so `make bench` can pick what fits."""

    def decorate(command: Callable) -> Callable:
        options = [
            click.option("--clients", "sizes", type=int, multiple=True, show_default=True,
                         default=_env_sizes("BENCH_CLIENTS", "100000 1000000"),
                         help="One-day cases (clients on the day); repeat. 3000000 completes the curve."),
            click.option("--window-days", type=click.IntRange(1), default=window_days, show_default=True,
                         help="Days of the deployed-window case."),
            click.option("--window-clients", type=click.IntRange(0), show_default=True,
                         default=_env_sizes("BENCH_WINDOW_CLIENTS", "100000")[0],
                         help="Clients a day of the window case (0 skips it)."),
            click.option("--skew-clients", type=click.IntRange(0), show_default=True,
                         default=_env_sizes("BENCH_SKEW_CLIENTS", "1000000")[0],
                         help="Clients of the skewed-day case (0 skips it)."),
            click.option("--data-dir", type=click.Path(path_type=Path), show_default=True,
                         default=Path(tempfile.gettempdir()) / "taar-bench-spark",
                         help="Where generated inputs are kept and reused."),
        ]  # fmt: skip
        for option in reversed(options):
            command = option(command)
        return command

    return decorate


def run_bench_job(bench: SparkBench, data: Dataset, days: int, master: str) -> Measurement:
    """The job on `data` under `master` as a subprocess, publishing into a scratch folder."""
    # Imported here: taar_testing (a test library, in every Spark job's venv) knows the environment
    # `local-cluster` needs; the bench's other users do not need it.
    from taar_testing.spark_jobs import job_environment

    with tempfile.TemporaryDirectory() as out:
        command = [sys.executable, "-m", bench.module, *bench.job_args(data, days), "--bucket", out,
                   "--master", master]  # fmt: skip
        return measure_process(command, env=job_environment()).checked()


def cluster_record(run: Measurement, master: str) -> dict[str, Any]:
    """What a `local-cluster` run adds to a case: the driver JVM's peak RSS on its own (in local[2]
    the one JVM holds the executors' data too, so its RSS grows with the input whatever the driver does)."""
    return {
        "cluster_master": master,
        "cluster_wall_s": round(run.wall_s, 1),
        "cluster_driver_jvm_peak_rss_mib": round(run.peak_rss_kib(named="java:SparkSubmit") / 1024),
        "cluster_executor_jvm_peak_rss_mib": round(run.peak_rss_kib(named="java:CoarseGrainedExecutorBackend") / 1024),
    }


def run_spark_case(
    bench: SparkBench, case: str, data: Dataset, n_clients: int, days: int, *, cluster_master: str | None = None
) -> dict[str, Any]:
    """The scan floor on `data`, then the job on it (both local[2], as subprocesses): one record.
    With `cluster_master`, the job runs once more under it for the driver JVM's own RSS."""
    floor = measure_process(
        scan_floor_command(
            data, end=bench.end, days=days, leaves=bench.leaves, spark_config=bench.spark_config, master="local[2]"
        )  # fmt: skip
    ).checked()
    run = run_bench_job(bench, data, days, "local[2]")
    record = bench_record(bench.job, case, data, n_clients, days, run, floor)
    if cluster_master:
        record |= cluster_record(run_bench_job(bench, data, days, cluster_master), cluster_master)
    return record


def run_scaling_bench(
    bench: SparkBench, *, sizes: Sequence[int], window_days: int, window_clients: int, skew_clients: int,
    data_dir: Path,
) -> None:  # fmt: skip
    """Print one JSON record per case: one day at each size, the deployed window, the skewed day (90%
    of clients in one locale, one add-on on every client, one client with 500 more). Each case's seeded
    clients_daily is generated once under `data_dir`; then the scan floor and the job run on it as
    subprocesses on local[2] (`bench_record`); each day case's job runs once more under the tests'
    `local-cluster`, where the driver JVM's RSS is its own (`cluster_record`)."""
    from taar_testing.spark_jobs import LOCAL_CLUSTER  # the tests' cluster: see `run_bench_job`

    data_dir = data_dir / bench.job
    common = {"end": bench.end, "addon_guids": bench.addon_guids, "side_files": bench.side_files}
    for n_clients in sizes:
        data = clients_daily_dataset(data_dir, n_clients, 1, bench.seed, **common)
        record = run_spark_case(bench, "day", data, n_clients, 1, cluster_master=LOCAL_CLUSTER)
        print(json.dumps(record), flush=True)
    if window_clients and window_days > 1:
        data = clients_daily_dataset(data_dir, window_clients, window_days, bench.seed, **common)
        print(json.dumps(run_spark_case(bench, f"window{window_days}", data, window_clients, window_days)), flush=True)
    if skew_clients and bench.skew_guids:
        data = clients_daily_dataset(data_dir / "skew", skew_clients, 1, bench.seed, **common)
        skewed = data.folder / ".skewed"
        if not skewed.exists():
            common_guid, heavy = bench.skew_guids
            day = data.clients_daily / f"submission_date_s3={bench.end:%Y%m%d}"
            skew_clients_daily(day, common_guid=common_guid, heavy_guids=heavy, seed=bench.seed)
            skewed.write_text("ok")
        print(json.dumps(run_spark_case(bench, "skew", data, skew_clients, 1)), flush=True)


EDITORIAL_WHITELIST = "only_guids_top_200.json"
"""The file name of the editorial whitelist an editorial bench writes beside its input."""


def editorial_scaling_bench(
    job: str, *, leaves: Sequence[str], spark_config: Mapping[str, str], job_args: Callable[[Dataset, int], list[str]],
    catalogue_size: int, whitelist_step: int, window_days: int,
) -> click.Command:  # fmt: skip
    """The scaling bench command of a job that reads the editorial whitelist: a seeded catalogue of
    `catalogue_size` add-ons, every `whitelist_step`-th of them listed (200 at most) in
    `EDITORIAL_WHITELIST`; on the skewed day every client has the first listed add-on and the heavy
    client the catalogue's next 500. The catalogue is made when the command runs, not on import."""

    @click.command()
    @scaling_bench_options(window_days=window_days)
    def main(sizes: tuple[int, ...], window_days: int, window_clients: int, skew_clients: int, data_dir: Path) -> None:
        guids = sorted(generate_catalogue(catalogue_size, seed=BENCH_SEED).guids)
        listed = guids[::whitelist_step][:200]
        bench = SparkBench(
            job=job, module=f"taar_{job}", leaves=leaves, spark_config=spark_config, job_args=job_args,
            addon_guids=guids, side_files={EDITORIAL_WHITELIST: json.dumps(listed)}, seed=BENCH_SEED, end=BENCH_DAY,
            skew_guids=(listed[0], guids[1 : HEAVY_CLIENT_ADDONS + 1]),
        )  # fmt: skip
        run_scaling_bench(bench, sizes=sizes, window_days=window_days, window_clients=window_clients,
                          skew_clients=skew_clients, data_dir=data_dir)  # fmt: skip

    return main


if __name__ == "__main__":
    cli()
