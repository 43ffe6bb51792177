"""The full-size completeness check: 31,500 add-ons behind ~5% injected faults, dump must be exact.

    .venv/amodump/bin/python jobs/amodump/bench/bench_amodump_faults.py

Starts the fixture AMO server in-process with random 429/500/502/503/truncated answers,
runs `taar-amodump` against it as a subprocess and compares every GUID and every
`first_create_date` with the catalogue. Prints one JSON line; exits 1 on any difference.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from taar_fixtures.amo import AmoFixtureServer, FaultPlan, generate_catalogue

ADDONS = 31_500
FAULT_RATE = 0.05


def main() -> int:
    catalogue = generate_catalogue(ADDONS, seed=3)
    out = Path(tempfile.mkdtemp(prefix="amodump-faults-"))
    command = [str(Path(sys.executable).parent / "taar-amodump"), "--date", "20261127", "--bucket", str(out)]
    with AmoFixtureServer(catalogue, faults=FaultPlan.random_errors(FAULT_RATE, seed=7)) as amo:
        started = time.monotonic()
        result = subprocess.run(
            [*command, "--amo-url", amo.url, "--retry-backoff", "0.05"], capture_output=True, text=True
        )
        wall = time.monotonic() - started
        fired = dict(amo.faults_fired)
    if result.returncode != 0:
        print(result.stderr[-3000:], file=sys.stderr)
        return 1
    dump = json.loads((out / "telemetry-ml/addon_recommender/extended_addons_database.json").read_text())
    missing = sorted(set(catalogue.guids) - set(dump))
    wrong_dates = [
        g for g in catalogue.guids if g in dump and dump[g]["first_create_date"] != catalogue.first_create_date(g)
    ]
    counts = json.loads(result.stdout.strip().splitlines()[-1])["counts"]
    exact = not missing and not wrong_dates and len(dump) == ADDONS
    record = {
        "bench": "amodump_faults",
        "addons": ADDONS,
        "faults_fired": fired,
        "retries": counts["retries"],
        "requests_per_addon": counts["requests_per_addon"],
        "wall_s": round(wall, 1),
        "missing": len(missing),
        "wrong_first_create_date": len(wrong_dates),
        "exact": exact,
    }
    print(json.dumps(record, sort_keys=True))
    return 0 if exact else 1


if __name__ == "__main__":
    sys.exit(main())
