"""Benchmark taar-spark-similarity on generated clients_daily (run with the job's venv python).

    .venv/spark_similarity/bin/python jobs/spark_similarity/bench/bench_spark_similarity.py \
        [--clients 100000 --clients 1000000] [--days 7] [--data-dir DIR]

Generates (seeded, taar_fixtures) clients_daily once per size under the data dir (reused
when present), runs the job as a subprocess on local[2] and prints one JSON line per size:
wall time, input rows per second, CPU seconds of the process tree, the load average
(the machine is shared: wall time under load says little), and the peak RSS of the Python driver and of the JVM
(in local mode the JVM is driver and executor at once).
"""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import click
import pyarrow.parquet as pq
from taar_fixtures.amo import generate_catalogue
from taar_fixtures.telemetry import write_clients_daily

DAY = dt.date(2026, 11, 27)
SEED = 20261127


def dataset(data_dir: Path, n_clients: int, days: int) -> tuple[Path, Path, int]:
    """(clients_daily root, whitelist file, input rows), generated unless already there."""
    folder = data_dir / f"clients{n_clients}-days{days}-seed{SEED}"
    done = folder / ".complete"
    guids = sorted(generate_catalogue(600, seed=SEED).guids)
    whitelist = folder / "only_guids_top_200.json"
    if not done.exists():
        started = time.monotonic()
        dates = [DAY - dt.timedelta(days=k) for k in range(days - 1, -1, -1)]
        write_clients_daily(folder, n_clients=n_clients, dates=dates, seed=SEED, addon_guids=guids)
        whitelist.write_text(json.dumps(guids[::3][:200]))
        done.write_text("ok")
        print(f"generated {folder} in {time.monotonic() - started:.0f}s", file=sys.stderr)
    root = folder / "clients_daily"
    rows = sum(pq.ParquetFile(path).metadata.num_rows for path in root.rglob("*.parquet"))
    return root, whitelist, rows


def _tree(pid: int) -> list[int]:
    """`pid` and its descendants (from /proc)."""
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


def _cpu_s(pid: int) -> float:
    """User + system CPU seconds of `pid` so far."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _peak_rss_kib(pid: int) -> tuple[int, str]:
    try:
        status = Path(f"/proc/{pid}/status").read_text()
        name = Path(f"/proc/{pid}/comm").read_text().strip()
    except OSError:
        return 0, ""
    for line in status.splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]), name
    return 0, name


def run_job(root: Path, whitelist: Path, days: int, out: Path) -> dict:
    """Run the job once; wall time, summary and peak RSS per process kind."""
    command = [
        sys.executable, "-m", "taar_spark_similarity",
        "--input", str(root), "--whitelist-url", str(whitelist),
        "--date", f"{DAY:%Y%m%d}", "--from-date", f"{DAY - dt.timedelta(days=days - 1):%Y%m%d}",
        "--bucket", str(out), "--master", "local[2]", "--seed", "1",
    ]  # fmt: skip
    peaks: dict[str, int] = {"python": 0, "java": 0}
    cpu: dict[int, float] = {}
    load_before = os.getloadavg()[0]
    started = time.monotonic()
    with tempfile.TemporaryFile() as stdout, tempfile.TemporaryFile() as stderr:
        process = subprocess.Popen(command, stdout=stdout, stderr=stderr)
        while process.poll() is None:
            for pid in _tree(process.pid):
                rss, name = _peak_rss_kib(pid)
                kind = "java" if name == "java" else "python"
                peaks[kind] = max(peaks[kind], rss)
                cpu[pid] = max(cpu.get(pid, 0.0), _cpu_s(pid))
            time.sleep(0.2)
        wall = time.monotonic() - started
        stdout.seek(0)
        stderr.seek(0)
        lines = [line for line in stdout.read().decode().splitlines() if line.startswith("{")]
        if process.returncode != 0 or not lines:
            tail = stderr.read().decode()[-3000:]
            raise SystemExit(f"job failed (exit {process.returncode}):\n{tail}")
    return {
        "wall_s": round(wall, 1),
        "summary": json.loads(lines[-1]),
        "peak_rss_kib": peaks,
        "cpu_s": round(sum(cpu.values()), 1),
        "load_avg_1m": [round(load_before, 1), round(os.getloadavg()[0], 1)],
    }


@click.command()
@click.option("--clients", "sizes", type=int, multiple=True, default=[100_000], show_default=True)
@click.option("--days", type=click.IntRange(1), default=7, show_default=True, help="Days of clients_daily read.")
@click.option(
    "--data-dir",
    type=click.Path(path_type=Path),
    default=Path(tempfile.gettempdir()) / "taar-bench-similarity",
    show_default=True,
    help="Where generated inputs are kept and reused.",
)
def main(sizes: tuple[int, ...], days: int, data_dir: Path) -> None:
    for n_clients in sizes:
        root, whitelist, rows = dataset(data_dir, n_clients, days)
        with tempfile.TemporaryDirectory() as out:
            result = run_job(root, whitelist, days, Path(out))
        summary = result["summary"]
        print(
            json.dumps(
                {
                    "job": "spark_similarity",
                    "clients": n_clients,
                    "days": days,
                    "input_rows": rows,
                    "candidate_clients": summary["counts"].get("candidate_clients"),
                    "donors": summary["counts"].get("donors"),
                    "wall_s": result["wall_s"],
                    "rows_per_s": round(rows / result["wall_s"]),
                    "stages_s": summary["durations_s"],
                    "driver_python_peak_rss_mib": round(result["peak_rss_kib"]["python"] / 1024),
                    "jvm_peak_rss_mib": round(result["peak_rss_kib"]["java"] / 1024),
                    "cpu_s": result["cpu_s"],
                    "load_avg_1m_before_after": result["load_avg_1m"],
                    "master": "local[2]",
                }
            ),
            flush=True,
        )


if __name__ == "__main__":
    main()
