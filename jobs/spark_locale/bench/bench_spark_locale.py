"""Benchmark taar-spark-locale on generated clients_daily (run with the job's venv python).

    .venv/spark_locale/bin/python jobs/spark_locale/bench/bench_spark_locale.py [--clients 100000 --clients 1000000]

Generates (seeded, taar_fixtures) `--days` days of clients_daily per size under the data dir
(reused when present), runs the job as a subprocess on local[2] and prints one JSON line
per size: wall time, input rows per second, per-stage times from the run summary, and the
peak RSS of the Python driver and of the JVM (in local mode the JVM is driver and
executor at once), sampled from /proc, plus getrusage's largest child.
"""

from __future__ import annotations

import datetime as dt
import json
import resource
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
TARGET_S = {1_000_000: 32.0}


def dataset(data_dir: Path, n_clients: int, days: int) -> tuple[Path, Path, int]:
    """(clients_daily root, whitelist file, input rows), generated unless already there."""
    folder = data_dir / f"clients{n_clients}-days{days}-to{DAY:%Y%m%d}-seed{SEED}"
    done = folder / ".complete"
    guids = sorted(generate_catalogue(2_000, seed=SEED).guids)
    whitelist = folder / "only_guids_top_200.json"
    if not done.exists():
        started = time.monotonic()
        dates = [DAY - dt.timedelta(days=k) for k in reversed(range(days))]
        write_clients_daily(folder, n_clients=n_clients, dates=dates, seed=SEED, addon_guids=guids)
        whitelist.write_text(json.dumps(guids[::7][:200]))
        done.write_text("ok")
        print(f"generated {folder} in {time.monotonic() - started:.0f}s", file=sys.stderr)
    root = folder / "clients_daily"
    rows = sum(pq.ParquetFile(path).metadata.num_rows for path in root.rglob("*.parquet"))
    return root, whitelist, rows


def process_tree(pid: int) -> list[int]:
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


def peak_rss_kib(pid: int) -> tuple[int, str]:
    """(VmHWM in KiB, command name) of a live process; (0, "") once it is gone."""
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
    """Run the job once as a subprocess; wall time, its summary and peak RSS per process kind."""
    command = [
        sys.executable, "-m", "taar_spark_locale", "--date", f"{DAY:%Y%m%d}", "--num-days", str(days),
        "--input", str(root),
        "--whitelist-url", str(whitelist), "--bucket", str(out), "--master", "local[2]", "--seed", "1",
    ]  # fmt: skip
    peaks = {"python": 0, "java": 0}
    started = time.monotonic()
    with tempfile.TemporaryFile() as stdout, tempfile.TemporaryFile() as stderr:
        process = subprocess.Popen(command, stdout=stdout, stderr=stderr)
        while process.poll() is None:
            for pid in process_tree(process.pid):
                rss, name = peak_rss_kib(pid)
                kind = "java" if name == "java" else "python"
                peaks[kind] = max(peaks[kind], rss)
            time.sleep(0.2)
        wall = time.monotonic() - started
        stdout.seek(0)
        stderr.seek(0)
        lines = [line for line in stdout.read().decode().splitlines() if line.startswith("{")]
        if process.returncode != 0 or not lines:
            raise SystemExit(f"job failed (exit {process.returncode}):\n{stderr.read().decode()[-3000:]}")
    children_max_kib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return {"wall_s": wall, "summary": json.loads(lines[-1]), "peaks": peaks, "children_max_kib": children_max_kib}


@click.command()
@click.option("--clients", "sizes", type=int, multiple=True, default=[100_000], show_default=True)
@click.option("--days", type=click.IntRange(1), default=7, show_default=True, help="Days generated and read.")
@click.option("--data-dir", type=click.Path(path_type=Path), show_default=True,
              default=Path(tempfile.gettempdir()) / "taar-bench-spark-locale",
              help="Where generated inputs are kept and reused.")  # fmt: skip
def main(sizes: tuple[int, ...], days: int, data_dir: Path) -> None:
    for n_clients in sizes:
        root, whitelist, rows = dataset(data_dir, n_clients, days)
        with tempfile.TemporaryDirectory() as out:
            result = run_job(root, whitelist, days, Path(out))
        summary = result["summary"]
        record = {
            "job": "spark_locale",
            "clients": n_clients,
            "days": days,
            "input_rows": rows,
            "wall_s": round(result["wall_s"], 1),
            "target_s": TARGET_S.get(n_clients),
            "rows_per_s": round(rows / result["wall_s"]),
            "stages_s": summary["durations_s"],
            "locales": summary["counts"]["locales"],
            "contributions": summary["counts"]["contributions"],
            "driver_python_peak_rss_mib": round(result["peaks"]["python"] / 1024),
            "jvm_peak_rss_mib": round(result["peaks"]["java"] / 1024),
            "largest_child_rss_mib": round(result["children_max_kib"] / 1024),
            "master": "local[2]",
        }
        print(json.dumps(record), flush=True)


if __name__ == "__main__":
    main()
