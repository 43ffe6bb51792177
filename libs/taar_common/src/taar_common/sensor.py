"""`taar-wait-for`: the scheduler's sensor for an upstream partition.

Exits 0 once the partition folder (any object under it) or its `_SUCCESS` marker exists;
exits 1 with a message naming the URL when `--timeout` passes first.
"""

from __future__ import annotations

import logging
import time

import click

from taar_common.options import check_storage_url, standard_flags
from taar_common.storage import Storage, join_url
from taar_common.summary import RunSummary

log = logging.getLogger("taar_common.sensor")


def partition_ready(storage: Storage, url: str) -> bool:
    """True when `url/_SUCCESS` exists, or the folder holds at least one object."""
    if storage.exists(join_url(url, "_SUCCESS")):
        return True
    return bool(storage.list_prefix(url.rstrip("/") + "/"))


def wait_for_partition(storage: Storage, url: str, timeout_s: float, poke_interval_s: float) -> bool:
    """Poll until the partition is ready or `timeout_s` passes; returns whether it is ready."""
    deadline = time.monotonic() + timeout_s
    while True:
        if partition_ready(storage, url):
            return True
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            return False
        log.info("waiting for %s (%.0f s left)", url, remaining)
        time.sleep(min(poke_interval_s, remaining))


@click.command()
@click.argument("url", callback=check_storage_url)
@click.option(
    "--timeout", "timeout_s", type=float, default=3600.0, show_default=True, help="Seconds to wait before failing."
)
@click.option(
    "--poke-interval", "poke_interval_s", type=float, default=60.0, show_default=True, help="Seconds between checks."
)
@standard_flags
def main(url: str, timeout_s: float, poke_interval_s: float) -> None:
    """Wait until the partition folder URL (or its _SUCCESS marker) exists."""
    summary = RunSummary("wait_for", details={"url": url})

    def wait() -> None:
        with summary.timed("wait"):
            ready = wait_for_partition(Storage(), url, timeout_s, poke_interval_s)
        if not ready:
            raise TimeoutError(
                f"timed out after {timeout_s:.0f} s waiting for {url} (no _SUCCESS marker and no objects under it)"
            )
        log.info("ready: %s", url)

    summary.run(wait)
