"""Benchmark of taar-amodump against the fixture AMO: 31,500 add-ons, 20 ms per request.

Standalone: starts `taar-fixtures amo-server` in a subprocess, runs a full `taar-amodump`
per `--workers` value into a temporary folder, then (with the last worker count) two
incremental runs against that dump with `--new` GUIDs removed from it (as if listed since):
the default refresh share and `--refresh-fraction 0`. Prints one JSON line per run:
wall time, requests (counted by the server), requests/s, requests per add-on, peak RSS of
the dump process (`os.wait4` rusage), CPU seconds of the dump and of the server (to tell a
latency-bound run from a CPU-starved one), the load average, and whether the targets were met.

    .venv/amodump/bin/python jobs/amodump/bench/bench_amodump.py [--workers 32] [--new 100]
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import tempfile
import urllib.request
from pathlib import Path
from typing import Any

from taar_fixtures.bench import cpu_seconds, measure_process

BIN = Path(sys.executable).parent
TARGETS = {"requests_per_addon": 1.1, "wall_s": 90.0, "peak_rss_mib": 1024.0}
INCREMENTAL_TARGETS = {
    "1/7": {"requests_per_addon": 0.2, "wall_s": 15.0},
    "0": {"requests_per_addon": 0.03, "wall_s": 15.0},
}
LATEST = "telemetry-ml/addon_recommender/extended_addons_database.json"


def start_server(addons: int, latency_ms: float) -> tuple[subprocess.Popen[str], str]:
    """The fixture AMO in a subprocess; returns it and its v5 URL (first stdout line)."""
    server = subprocess.Popen(
        [str(BIN / "taar-fixtures"), "amo-server", "--addons", str(addons), "--latency-ms", str(latency_ms)],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    line = server.stdout.readline() if server.stdout else ""
    if not line:
        server.kill()
        raise RuntimeError("taar-fixtures amo-server printed nothing; is taar-fixtures installed in this venv?")
    return server, json.loads(line)["url"]


def server_stats(url: str) -> dict[str, Any]:
    admin = url.split("/api/")[0] + "/__admin__/stats"
    with urllib.request.urlopen(admin, timeout=10) as response:
        return json.load(response)


def run_dump(
    url: str, workers: int, out_dir: str, *extra: str, day: str = "20261127"
) -> tuple[int, float, float, float, dict[str, Any]]:
    """(exit code, wall seconds, peak RSS MiB, CPU seconds, summary) of one `taar-amodump` run."""
    run = measure_process(
        [
            str(BIN / "taar-amodump"),
            "--date", day,
            "--bucket", out_dir,
            "--amo-url", url,
            "--workers", str(workers),
            "--progress-interval", "15",
            *extra,
        ],
        show_stderr=True,
    )  # fmt: skip
    cpu = run.rusage.ru_utime + run.rusage.ru_stime
    return run.returncode, run.wall_s, run.rusage.ru_maxrss / 1024.0, cpu, run.summary()


def measure(
    url: str, server: subprocess.Popen[str], workers: int, out_dir: str, *extra: str, day: str = "20261127"
) -> dict[str, Any]:
    """One run's figures (requests counted by the server)."""
    before, server_cpu_before = server_stats(url)["requests"], cpu_seconds(server.pid)
    code, wall, rss_mib, client_cpu, summary = run_dump(url, workers, out_dir, *extra, day=day)
    requests = server_stats(url)["requests"] - before
    counts = summary.get("counts", {})
    addons = counts.get("addons", 0)
    return {
        "workers": workers,
        "addons": addons,
        "exit_code": code,
        "wall_s": round(wall, 2),
        "requests": requests,
        "retries": counts.get("retries"),
        "versions_fetched": counts.get("versions_fetched"),
        "versions_reused": counts.get("versions_reused"),
        "requests_per_s": round(requests / wall, 1),
        "requests_per_addon": round(requests / max(addons, 1), 4),
        "peak_rss_mib": round(rss_mib, 1),
        "client_cpu_s": round(client_cpu, 1),
        "server_cpu_s": round(cpu_seconds(server.pid) - server_cpu_before, 1),
        "load_avg_1m": round(os.getloadavg()[0], 1),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--addons", type=int, default=31_500)
    parser.add_argument("--latency-ms", type=float, default=20.0)
    parser.add_argument("--workers", default="32", help="comma-separated --workers values of the full runs")
    parser.add_argument("--new", type=int, default=100, help="add-ons unknown to the previous dump")
    args = parser.parse_args()
    server, url = start_server(args.addons, args.latency_ms)
    failures = 0

    def report(result: dict[str, Any], targets: dict[str, float]) -> None:
        nonlocal failures
        result["targets_met"] = (
            result["exit_code"] == 0
            and result["addons"] == args.addons
            and all(result[name] <= limit for name, limit in targets.items())
        )
        failures += not result["targets_met"]
        print(json.dumps(result, sort_keys=True), flush=True)

    try:
        with tempfile.TemporaryDirectory(prefix="bench-amodump-") as out_dir:
            workers_list = [int(w) for w in args.workers.split(",")]
            for workers in workers_list:
                full = measure(url, server, workers, out_dir, "--full")
                report({"bench": "amodump_full", "latency_ms": args.latency_ms, **full}, TARGETS)
            previous = json.loads((Path(out_dir) / LATEST).read_text())
            for guid in sorted(previous)[: args.new]:
                del previous[guid]
            previous_path = Path(out_dir) / "previous.json"
            previous_path.write_text(json.dumps(previous))
            for fraction, targets in INCREMENTAL_TARGETS.items():
                run = measure(
                    url, server, workers_list[-1], out_dir, "--previous", str(previous_path),
                    "--refresh-fraction", fraction, day="20261128",
                )  # fmt: skip
                bench = {"bench": "amodump_incremental", "refresh_fraction": fraction, "new_addons": args.new}
                report({**bench, "latency_ms": args.latency_ms, **run}, targets)
    finally:
        server.send_signal(signal.SIGTERM)
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
