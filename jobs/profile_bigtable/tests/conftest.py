"""Hand-made clients_last_seen / deletion_request Parquet and a CLI runner for the job.

Rows use taar_fixtures' clients_last_seen schema, the one its generator writes for the demo
and the contract suite, so hand-made and generated inputs cannot drift apart.
"""

from __future__ import annotations

import datetime as dt
import json
import random
import uuid
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner, Result
from taar_fixtures.telemetry import ADDON_FIELDS, CLIENTS_LAST_SEEN_SCHEMA
from taar_profile_bigtable.cli import main

DAY = dt.date(2026, 11, 27)


def addon(addon_id: str | None, **flags: Any) -> dict[str, Any]:
    """One active_addons entry; unspecified fields are null, like the real table's."""
    entry = {name: None for name, _ in ADDON_FIELDS}
    entry.update(addon_id=addon_id, type="extension", version="1.0", **flags)
    return entry


def client_row(client_id: str | None, day: dt.date = DAY, **values: Any) -> dict[str, Any]:
    row = {field.name: None for field in CLIENTS_LAST_SEEN_SCHEMA}
    row.update(
        submission_date=day,
        client_id=client_id,
        city="Paris",
        locale="fr",
        os="Linux",
        subsession_hours_sum=1.0,
        places_bookmarks_count_mean=10.0,
        scalar_parent_browser_engagement_tab_open_event_count_sum=5,
        scalar_parent_browser_engagement_total_uri_count_sum=50,
        scalar_parent_browser_engagement_unique_domains_count_mean=7.0,
        active_addons=[addon("uBlock0@raymondhill.net", is_system=False)],
    )
    row.update(values)
    return row


def write_clients_last_seen(root: Path, rows: list[dict[str, Any]], parts: int = 1) -> Path:
    folder = root / "clients_last_seen"
    folder.mkdir(parents=True, exist_ok=True)
    for part in range(parts):
        chunk = pa.Table.from_pylist(rows[part::parts], schema=CLIENTS_LAST_SEEN_SCHEMA)
        pq.write_table(chunk, folder / f"part-{part:05d}.parquet")
    return folder


def write_deletion_requests(root: Path, requests: list[tuple[str | None, dt.datetime]]) -> Path:
    folder = root / "deletion_request"
    folder.mkdir(parents=True, exist_ok=True)
    table = pa.table(
        {
            "client_id": pa.array([c for c, _ in requests], pa.string()),
            "submission_timestamp": pa.array([t for _, t in requests], pa.timestamp("us", tz="UTC")),
        }
    )
    pq.write_table(table, folder / "part-00000.parquet")
    return folder


def generated_rows(n: int, seed: int = 7, day: dt.date = DAY) -> list[dict[str, Any]]:
    """`n` plausible clients, each with 1-4 add-ons, reproducible from `seed`."""
    rng = random.Random(seed)
    guids = [f"addon-{i}@example.org" for i in range(30)]
    rows = []
    for _ in range(n):
        client_id = str(uuid.UUID(int=rng.getrandbits(128)))
        addons = [
            addon(g, is_system=rng.random() < 0.1, user_disabled=rng.random() < 0.1)
            for g in rng.sample(guids, rng.randint(1, 4))
        ]
        rows.append(
            client_row(
                client_id,
                day,
                city=rng.choice(["Paris", "Berlin", "Lagos", None]),
                subsession_hours_sum=round(rng.uniform(0, 20), 3),
                scalar_parent_browser_engagement_tab_open_event_count_sum=rng.randint(0, 100),
                active_addons=addons,
            )
        )
    return rows


@pytest.fixture
def run_cli(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """Run the CLI in-process inside `tmp_path` (so ./taar-data/ lands there); returns (result, summary)."""
    monkeypatch.chdir(tmp_path)

    def run(*args: str, expect_exit: int | None = 0) -> tuple[Result, dict[str, Any] | None]:
        result = CliRunner().invoke(main, [str(a) for a in args], catch_exceptions=False)
        if expect_exit is not None:
            output = f"stdout:{result.stdout}\nstderr:{result.stderr}"
            assert result.exit_code == expect_exit, f"exit {result.exit_code}\n{output}"
        lines = [line for line in result.stdout.splitlines() if line.startswith("{")]
        return result, (json.loads(lines[-1]) if lines else None)

    return run
