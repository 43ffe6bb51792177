"""Benchmark of taar-amodump against the fixture AMO: 31,500 add-ons, 20 ms per request.

Standalone: starts `taar-fixtures amo-server` in a subprocess, runs `taar-amodump` as a
subprocess per `--workers` value into a temporary folder, and prints one JSON line per run:
wall time, requests (counted by the server), requests/s, requests per add-on, peak RSS of
the dump process (`os.wait4` rusage), CPU seconds of the dump and of the server (to tell a
latency-bound run from a CPU-starved one), the load average, and whether the targets were met.

    .venv/amodump/bin/python jobs/amodump/bench/bench_amodump.py [--workers 8,32,64]
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


def run_dump(url: str, workers: int, out_dir: str) -> tuple[int, float, float, float, dict[str, Any]]:
    """(exit code, wall seconds, peak RSS MiB, CPU seconds, summary) of one `taar-amodump` run."""
    run = measure_process(
        [
            str(BIN / "taar-amodump"),
            "--date", "20261127",
            "--bucket", out_dir,
            "--amo-url", url,
            "--workers", str(workers),
            "--progress-interval", "15",
        ],
        show_stderr=True,
    )  # fmt: skip
    cpu = run.rusage.ru_utime + run.rusage.ru_stime
    return run.returncode, run.wall_s, run.rusage.ru_maxrss / 1024.0, cpu, run.summary()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--addons", type=int, default=31_500)
    parser.add_argument("--latency-ms", type=float, default=20.0)
    parser.add_argument("--workers", default="8,32,64", help="comma-separated --workers values")
    args = parser.parse_args()
    server, url = start_server(args.addons, args.latency_ms)
    failures = 0
    try:
        for workers in [int(w) for w in args.workers.split(",")]:
            before, server_cpu_before = server_stats(url)["requests"], cpu_seconds(server.pid)
            with tempfile.TemporaryDirectory(prefix="bench-amodump-") as out_dir:
                code, wall, rss_mib, client_cpu, summary = run_dump(url, workers, out_dir)
            requests = server_stats(url)["requests"] - before
            server_cpu = cpu_seconds(server.pid) - server_cpu_before
            counts = summary.get("counts", {})
            addons = counts.get("addons", 0)
            result = {
                "bench": "amodump",
                "workers": workers,
                "addons": addons,
                "latency_ms": args.latency_ms,
                "exit_code": code,
                "wall_s": round(wall, 2),
                "requests": requests,
                "retries": counts.get("retries"),
                "requests_per_s": round(requests / wall, 1),
                "requests_per_addon": round(requests / max(addons, 1), 4),
                "peak_rss_mib": round(rss_mib, 1),
                "client_cpu_s": round(client_cpu, 1),
                "server_cpu_s": round(server_cpu, 1),
                "load_avg_1m": round(os.getloadavg()[0], 1),
            }
            result["targets_met"] = (
                code == 0 and addons == args.addons and all(result[name] <= limit for name, limit in TARGETS.items())
            )
            failures += not result["targets_met"]
            print(json.dumps(result, sort_keys=True), flush=True)
    finally:
        server.send_signal(signal.SIGTERM)
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
