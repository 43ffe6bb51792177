"""Hand-made clients_daily rows land in a partition Spark and DuckDB read like generated ones."""

from __future__ import annotations

import datetime as dt
import json

import pyarrow.parquet as pq
from taar_fixtures.handmade import addon, client, invalid_addons, write_partition, write_whitelist
from taar_fixtures.telemetry import CLIENTS_DAILY_SCHEMA


def test_partition_has_the_generated_schema_and_the_given_values(tmp_path):
    day = dt.date(2026, 11, 27)
    rows = [client("c1", [addon("a@x"), addon("b@x", user_disabled=True)]), client(None, None, channel="beta")]
    root = write_partition(tmp_path / "clients_daily", day, rows)
    assert root == tmp_path / "clients_daily"
    table = pq.read_table(root / "submission_date_s3=20261127" / "part-0.parquet")
    assert table.schema.equals(CLIENTS_DAILY_SCHEMA, check_metadata=False)
    assert table.column("client_id").to_pylist() == ["c1", None]
    addons = table.column("active_addons").to_pylist()
    assert [a["addon_id"] for a in addons[0]] == ["a@x", "b@x"] and addons[0][1]["user_disabled"] is True
    assert addons[1] is None and table.column("channel").to_pylist()[1] == "beta"


def test_whitelist_is_written_under_the_name_of_its_published_form(tmp_path):
    listed = write_whitelist(tmp_path, ["a@x", "b@x"])
    database = write_whitelist(tmp_path, {"a@x": {"guid": "a@x"}})

    assert listed == tmp_path / "only_guids_top_200.json"
    assert json.loads(listed.read_text()) == ["a@x", "b@x"]
    assert database == tmp_path / "whitelist_addons_database.json"
    assert json.loads(database.read_text()) == {"a@x": {"guid": "a@x"}}


def test_invalid_addons_each_break_one_validity_rule():
    entries = invalid_addons()
    valid = addon("v@x")
    broken = [sorted(k for k in entry if entry[k] != valid[k] and k != "addon_id") for entry in entries]
    assert broken == [["is_system"], ["type"], ["foreign_install"], ["app_disabled"], ["blocklisted"], []]
    assert entries[-1]["addon_id"] == "pioneer-opt-in@mozilla.org"
