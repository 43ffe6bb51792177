"""`make bench`: run every job's benchmark script in that job's own virtualenv.

Each `jobs/<job>/bench/bench_*.py` prints one JSON line per measurement; they are collected
into `bench-results/<job>.jsonl` and summarised. `BENCH=amodump make bench` runs one job's.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def main() -> int:
    only = set(os.environ.get("BENCH", "").split())
    out_dir = ROOT / "bench-results"
    out_dir.mkdir(exist_ok=True)
    failures = 0
    for script in sorted(ROOT.glob("jobs/*/bench/bench_*.py")):
        job = script.parent.parent.name
        if only and job not in only:
            continue
        python = ROOT / ".venv" / job / "bin" / "python"
        print(f"=== {job}: {script.relative_to(ROOT)}", flush=True)
        start = time.monotonic()
        result = subprocess.run([str(python), str(script)], stdout=subprocess.PIPE, text=True, cwd=ROOT)
        lines = [line for line in result.stdout.splitlines() if line.startswith("{")]
        (out_dir / f"{job}.jsonl").write_text("".join(line + "\n" for line in lines))
        for line in lines:
            print("  " + json.dumps(json.loads(line), sort_keys=True))
        status = "ok" if result.returncode == 0 else f"FAILED (exit {result.returncode})"
        print(f"    {status} in {time.monotonic() - start:.0f}s", flush=True)
        failures += result.returncode != 0
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
