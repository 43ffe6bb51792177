"""Fixtures of the spark_collaborative tests (the shared `spark` session comes from taar_testing)."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from taar_common.storage import Storage
from taar_fixtures.amo import generate_catalogue
from taar_fixtures.telemetry import write_clients_daily

DAY = dt.date(2026, 11, 27)
N_CLIENTS = 3000


@pytest.fixture
def storage() -> Storage:
    return Storage()


@pytest.fixture(scope="module")
def generated(tmp_path_factory) -> dict:
    """3,000 generated clients over 2 days (dirty rows included); a list whitelist of 1 in 3 catalogue GUIDs."""
    root = tmp_path_factory.mktemp("collaborative-input")
    guids = sorted(generate_catalogue(300, 0).guids)
    days = [DAY - dt.timedelta(days=1), DAY]
    input_url = str(write_clients_daily(root, n_clients=N_CLIENTS, dates=days, seed=5, addon_guids=guids))
    whitelist = guids[::3]
    whitelist_url = root / "only_guids_top_200.json"
    whitelist_url.write_text(json.dumps(whitelist))
    return {"input": input_url, "whitelist": whitelist, "whitelist_url": str(whitelist_url)}
