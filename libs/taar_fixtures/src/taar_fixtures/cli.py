"""`taar-fixtures`: run the fixture AMO server, or write synthetic telemetry."""

from __future__ import annotations

import json
import logging
import signal
import sys
import threading
from types import FrameType

import click

from taar_fixtures.amo import AmoFixtureServer, FaultPlan, generate_catalogue

log = logging.getLogger("taar_fixtures")


def _configure_logging(verbose: bool) -> None:
    logging.basicConfig(
        stream=sys.stderr,
        level=logging.DEBUG if verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )


@click.group()
@click.option("-v", "--verbose", is_flag=True, help="Debug logging on stderr (one line per request for the server).")
def main(verbose: bool) -> None:
    """Local stand-ins for the inputs of the taar-etl jobs."""
    _configure_logging(verbose)


@main.command("amo-server")
@click.option("--addons", default=5_000, show_default=True, help="Number of add-ons in the catalogue.")
@click.option("--seed", default=0, show_default=True, help="Catalogue seed (same seed, same catalogue).")
@click.option("--editorial", default=200, show_default=True, help="Number of editorial (recommended) GUIDs.")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to bind.")
@click.option("--port", default=0, show_default=True, help="Port to bind; 0 picks a free one (printed).")
@click.option("--latency-ms", default=0.0, show_default=True, help="Latency added to every request.")
@click.option("--fault-rate", default=0.0, show_default=True, help="Share of API requests answering 429/5xx/truncated.")
@click.option("--fault-seed", default=0, show_default=True, help="Seed of the fault injection.")
@click.option("--result-window", default=30_000, show_default=True, help="Deepest search result index served.")
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
