"""`taar-fixtures`: run the fixture AMO server, or write synthetic telemetry."""

from __future__ import annotations

import datetime as dt
import json
import logging
import signal
import sys
import threading
from types import FrameType

import click
from taar_common.dates import DATA_DAY_HELP, data_day
from taar_common.options import DATE, standard_flags

from taar_fixtures.amo import RESULT_WINDOW, AmoFixtureServer, FaultPlan, generate_catalogue

log = logging.getLogger("taar_fixtures")


@click.group(context_settings={"help_option_names": ["-h", "--help"]})  # inherited by the commands
@standard_flags  # -v: debug logging on stderr (one line per request for the server)
def main() -> None:
    """Local stand-ins for the inputs of the taar-etl jobs."""


@main.command("amo-server")
@click.option("--addons", default=5_000, show_default=True, help="Number of add-ons in the catalogue.")
@click.option("--seed", default=0, show_default=True, help="Catalogue seed (same seed, same catalogue).")
@click.option("--editorial", default=200, show_default=True, help="Number of editorial (recommended) GUIDs.")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to bind.")
@click.option("--port", default=0, show_default=True, help="Port to bind; 0 picks a free one (printed).")
@click.option("--latency-ms", default=0.0, show_default=True, help="Latency added to every request.")
@click.option("--fault-rate", default=0.0, show_default=True, help="Share of API requests answering 429/5xx/truncated.")
@click.option("--fault-seed", default=0, show_default=True, help="Seed of the fault injection.")
@click.option("--result-window", default=RESULT_WINDOW, show_default=True, help="Deepest search result index served.")
@click.option("--dirty/--clean", default=False, show_default=True, help="Null fields and bad editorial GUIDs.")
def amo_server(
    addons: int,
    seed: int,
    editorial: int,
    host: str,
    port: int,
    latency_ms: float,
    fault_rate: float,
    fault_seed: int,
    result_window: int,
    dirty: bool,
) -> None:
    """Serve a fixture AMO until SIGTERM/SIGINT; print {"url", "v4_url", "addons"} as one JSON line."""
    catalogue = generate_catalogue(addons, seed, n_editorial=editorial, dirty=dirty)
    faults = FaultPlan.random_errors(fault_rate, seed=fault_seed) if fault_rate > 0 else None
    stop = threading.Event()

    def request_stop(signum: int, frame: FrameType | None) -> None:
        log.info("signal %d: stopping the fixture AMO server", signum)
        stop.set()

    signal.signal(signal.SIGTERM, request_stop)
    signal.signal(signal.SIGINT, request_stop)
    server = AmoFixtureServer(
        catalogue, host=host, port=port, latency_s=latency_ms / 1000.0, faults=faults, result_window=result_window
    )
    with server:
        click.echo(json.dumps({"url": server.url, "v4_url": server.v4_url, "addons": len(catalogue)}))
        sys.stdout.flush()
        while not stop.wait(0.5):
            pass
        log.info("served %d requests: %s", server.request_count, server.requests_by_kind)


@main.command("telemetry")
@click.option("--out", "out_dir", required=True, type=click.Path(file_okay=False), help="Output folder.")
@click.option("--clients", default=10_000, show_default=True, help="Number of clients.")
@click.option("--days", default=1, show_default=True, help="clients_daily days, ending at --end-date.")
@click.option(
    "--end-date",
    type=DATE,
    default=data_day,
    show_default=DATA_DAY_HELP,
    help="Last clients_daily day and the clients_last_seen date (YYYYMMDD or YYYY-MM-DD).",
)
@click.option("--seed", default=0, show_default=True, help="Telemetry seed.")
@click.option("--amo-addons", default=2_000, show_default=True, help="Catalogue size whose GUIDs clients install.")
@click.option("--amo-seed", default=0, show_default=True, help="Catalogue seed (match the amo-server's --seed).")
@click.option("--deletion-days", default=7, show_default=True, help="Window of the deletion requests.")
@click.option("--chunk-size", default=200_000, show_default=True, help="Clients per part file.")
def telemetry(
    out_dir: str,
    clients: int,
    days: int,
    end_date: dt.date,
    seed: int,
    amo_addons: int,
    amo_seed: int,
    deletion_days: int,
    chunk_size: int,
) -> None:
    """Write clients_daily, clients_last_seen and deletion_request; print a JSON summary."""
    import pyarrow.parquet as pq  # imported here so `amo-server` starts without pyarrow

    from taar_fixtures.telemetry import (
        default_addon_guids,
        write_clients_daily,
        write_clients_last_seen,
        write_deletion_requests,
    )

    end = end_date
    dates = [end - dt.timedelta(days=k) for k in range(days - 1, -1, -1)]
    guids = default_addon_guids(amo_seed, amo_addons)
    daily = write_clients_daily(
        out_dir, n_clients=clients, dates=dates, seed=seed, addon_guids=guids, chunk_size=chunk_size
    )
    last_seen = write_clients_last_seen(
        out_dir, n_clients=clients, date=end, seed=seed, addon_guids=guids, chunk_size=chunk_size
    )
    deletions = write_deletion_requests(out_dir, date=end, seed=seed, n_clients=clients, days=deletion_days)
    summary = {
        "clients_daily": str(daily),
        "clients_last_seen": str(last_seen),
        "deletion_request": str(deletions),
        "rows": {
            "clients_daily": pq.ParquetDataset(daily).read(columns=["client_id"]).num_rows,
            "clients_last_seen": pq.ParquetDataset(last_seen).read(columns=["client_id"]).num_rows,
            "deletion_request": pq.ParquetDataset(deletions).read(columns=["client_id"]).num_rows,
        },
        "dates": [f"{d:%Y%m%d}" for d in dates],
    }
    click.echo(json.dumps(summary))
