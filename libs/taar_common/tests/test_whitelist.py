"""The Spark jobs' whitelists: both published forms, plain or bz2; missing or empty ones fail loudly."""

from __future__ import annotations

from pathlib import Path

import pytest
from taar_common.storage import NotFoundError, Storage, join_url
from taar_common.whitelist import WhitelistError, default_whitelist_url, read_whitelist


def test_default_location_is_the_amo_jobs_local_default():
    expected = Path("taar-data/telemetry-parquet/telemetry-ml/addon_recommender/only_guids_top_200.json").resolve()
    assert default_whitelist_url("only_guids_top_200.json") == str(expected)


def test_both_forms_give_sorted_unique_guids(tmp_path):
    storage = Storage()
    database = join_url(str(tmp_path), "whitelist_addons_database.json")
    storage.write_json(database, {"b@x": {"guid": "b@x"}, "a@x": {"guid": "a@x"}})
    top = join_url(str(tmp_path), "only_guids_top_200.json.bz2")
    storage.write_json(top, ["z@x", "a@x", "z@x"])
    assert read_whitelist(storage, database) == ["a@x", "b@x"]
    assert read_whitelist(storage, join_url(str(tmp_path), "only_guids_top_200.json")) == ["a@x", "z@x"]


def test_empty_whitelist_fails_naming_the_url(tmp_path):
    url = join_url(str(tmp_path), "only_guids_top_200.json")
    Storage().write_json(url, [])
    with pytest.raises(WhitelistError, match="only_guids_top_200.json: the whitelist is empty"):
        read_whitelist(Storage(), url)


def test_missing_whitelist_fails_naming_the_url(tmp_path):
    url = join_url(str(tmp_path), "nowhere", "whitelist_addons_database.json")
    with pytest.raises(NotFoundError, match="nowhere/whitelist_addons_database.json"):
        read_whitelist(Storage(), url)


def test_not_a_whitelist_fails(tmp_path):
    url = join_url(str(tmp_path), "w.json")
    Storage().write_json(url, [1, 2])
    with pytest.raises(WhitelistError, match="not GUID strings"):
        read_whitelist(Storage(), url)
