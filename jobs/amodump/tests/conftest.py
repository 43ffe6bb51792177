from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from click.testing import CliRunner
from taar_amodump.cli import main
from taar_fixtures.amo import AmoFixtureServer, generate_catalogue

PREFIX = "telemetry-ml/addon_recommender/"


def pytest_configure(config: pytest.Config) -> None:
    """Register `slow` (the full-size dump); it still runs in `make test`, `-m "not slow"` skips it locally."""
    config.addinivalue_line("markers", "slow: a full-size run (tens of seconds); deselect with -m 'not slow'")


@dataclass
class CliRun:
    exit_code: int
    summary: dict[str, Any]
    stderr: str


def run_cli(*args: str) -> CliRun:
    """Run `taar-amodump` in-process; the last stdout line is the JSON run summary."""
    result = CliRunner().invoke(main, list(args), catch_exceptions=False)
    lines = [line for line in result.stdout.splitlines() if line.strip()]
    assert lines, f"no summary on stdout; stderr:\n{result.stderr[-3000:]}"
    return CliRun(result.exit_code, json.loads(lines[-1]), result.stderr)


FAST_RETRIES = ["--retries", "3", "--retry-backoff", "0.01", "--http-timeout", "2", "--progress-interval", "0.5"]


@pytest.fixture
def small_catalogue():
    return generate_catalogue(80, seed=3)


@pytest.fixture
def amo(small_catalogue) -> Iterator[AmoFixtureServer]:
    with AmoFixtureServer(small_catalogue) as server:
        yield server
