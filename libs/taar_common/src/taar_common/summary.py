"""The run harness: one JSON summary line on stdout, exit codes, SIGTERM, the run's lease.

A job's CLI builds a `RunSummary` and calls its job inside `summary.run()`: any exception
becomes a logged error (one line, no stack), a failed summary and exit status 1; SIGTERM
(Kubernetes) unwinds the job and exits 143; `lease_on` holds the job's lease on its output
target for the whole run.
"""

from __future__ import annotations

import json
import logging
import re
import signal
import sys
import threading
import time
import traceback
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import click

from taar_common.lease import hold_lease, lease_url
from taar_common.logs import redact
from taar_common.publish import OutputTarget
from taar_common.storage import Storage

log = logging.getLogger(__name__)

TERMINATED_EXIT_STATUS = 128 + signal.SIGTERM


class Terminated(BaseException):
    """SIGTERM arrived (Kubernetes, the scheduler): unwinds like KeyboardInterrupt, past `except Exception`.

    A BaseException, so no `except Exception` on the way swallows it, while every `finally`
    and context manager (temp files, the lease) still runs.
    """


@contextmanager
def sigterm_raises() -> Iterator[None]:
    """While inside, SIGTERM raises `Terminated` in the main thread; the previous handler comes back after."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def handler(signum: int, frame: Any) -> None:
        raise Terminated(f"terminated by signal {signal.Signals(signum).name}")

    previous = signal.signal(signal.SIGTERM, handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


_STACK_FRAME = re.compile(r"^\s+at \S|^Traceback \(most recent call last\)")
MAX_ERROR_CHARS = 2000


def error_message(error: BaseException) -> str:
    """The error's message for the ERROR line and the summary: one line, without the Java or
    Python stack a Py4J error carries (that goes to the debug log with the traceback)."""
    lines = []
    for line in str(error).splitlines():
        if _STACK_FRAME.match(line):
            break
        if line.strip():
            lines.append(line.strip())
    message = " ".join(lines)
    return message if len(message) <= MAX_ERROR_CHARS else message[: MAX_ERROR_CHARS - 3] + "..."


@dataclass
class RunSummary:
    """Counts, durations and artifact URLs of one run, printed as one JSON line on stdout."""

    job: str
    counts: dict[str, Any] = field(default_factory=dict)
    durations_s: dict[str, float] = field(default_factory=dict)
    artifacts: list[str] = field(default_factory=list)
    details: dict[str, Any] = field(default_factory=dict)
    _started: float = field(default_factory=time.monotonic)

    def count(self, name: str, value: int | float) -> None:
        self.counts[name] = value

    def add_artifact(self, url: str) -> None:
        self.artifacts.append(url)

    @contextmanager
    def timed(self, stage: str) -> Iterator[None]:
        start = time.monotonic()
        try:
            yield
        finally:
            self.durations_s[stage] = round(time.monotonic() - start, 3)

    def as_dict(self, status: str, error: str | None = None) -> dict[str, Any]:
        summary: dict[str, Any] = {
            "job": self.job,
            "status": status,
            "counts": self.counts,
            "durations_s": {**self.durations_s, "total": round(time.monotonic() - self._started, 3)},
            "artifacts": self.artifacts,
        }
        if self.details:
            summary["details"] = self.details
        if error is not None:
            summary["error"] = error
        return summary

    def emit(self, status: str, error: str | None = None) -> None:
        line = json.dumps(self.as_dict(status, error), sort_keys=True, default=str)
        click.echo(redact(line), file=sys.stdout)

    def run(
        self, job: Callable[[], Any], *, lease_on: OutputTarget | None = None, lease_name: str | None = None
    ) -> None:
        """Run `job`; print the summary; exit 0 only on success (never swallow the error).

        `lease_on`: the job's lease on that output target (named after the job, or `lease_name`
        for one part of a job, e.g. one stage) is taken before any work, so a second run there
        fails at once naming the holder, and `publish_all` reuses it. SIGTERM unwinds the job (temp files removed, lease
        released), prints the failed summary and exits 143, the status a shell reports for a
        SIGTERMed process.
        """
        try:
            with sigterm_raises(), self._lease(lease_on, lease_name or self.job):
                job()
        except Terminated as exc:
            log.error("%s %s; cleaned up, nothing half-written", self.job, exc)
            self.emit("failed", error=f"Terminated: {exc}")
            sys.exit(TERMINATED_EXIT_STATUS)
        except Exception as exc:  # reported, then the process exits non-zero
            message = error_message(exc)
            log.error("%s failed: %s", self.job, message)
            log.debug("traceback:\n%s", traceback.format_exc())
            self.emit("failed", error=f"{type(exc).__name__}: {message}")
            sys.exit(1)
        self.emit("ok")

    @contextmanager
    def _lease(self, target: OutputTarget | None, name: str) -> Iterator[None]:
        if target is None:
            yield
            return
        with hold_lease(Storage(), lease_url(target.bucket_url, target.prefix, name), name, target.policy.lease_ttl):
            yield
