"""Each artifact's schema and sanity rules reject what the recommender could not use."""

from __future__ import annotations

import pytest
from taar_common.addon_ids import is_addon_id
from taar_common.artifacts import ArtifactCheckError, check_artifact


def addon(guid: str, **overrides):
    record = {
        "guid": guid,
        "categories": [],
        "default_locale": "en-US",
        "description": None,
        "name": {"en-US": guid},
        "summary": None,
        "tags": [],
        "weekly_downloads": 1,
        "average_daily_users": 1,
        "ratings": {"average": 4.0},
        "current_version": {"files": [{"id": 1, "platform": "all", "status": "public", "is_webextension": True}]},
        "promoted": None,
        "is_featured": False,
        "created": "2020-01-01T00:00:00Z",
        "first_create_date": "2020-01-02T00:00:00Z",
    }
    record.update(overrides)
    return record


def rule_of(name, payload, **params) -> str:
    with pytest.raises(ArtifactCheckError) as info:
        check_artifact(name, payload, **params)
    return info.value.rule


def test_dump_rules():
    check_artifact("extended_addons_database.json", {"a@x": addon("a@x")})
    assert rule_of("extended_addons_database", {}) == "non_empty"
    assert rule_of("extended_addons_database", {"a@x": addon("b@x")}) == "keys_are_guids"
    bad_date = {"a@x": addon("a@x", first_create_date="yesterday")}
    assert rule_of("extended_addons_database", bad_date) == "first_create_date_parses"
    missing_field = {"a@x": {k: v for k, v in addon("a@x").items() if k != "ratings"}}
    assert rule_of("extended_addons_database", missing_field) == "schema"


def test_whitelist_must_not_be_empty():
    assert rule_of("whitelist_addons_database", {}) == "non_empty"
    check_artifact("featured_addons_database", {})


def test_editorial_list_rules():
    guids = [f"g{i:03d}@x" for i in range(100)]
    check_artifact("only_guids_top_200", guids)
    assert rule_of("only_guids_top_200", guids[:99]) == "enough_guids"
    check_artifact("only_guids_top_200", guids[:99], allow_shortlist=True)
    assert rule_of("only_guids_top_200", list(reversed(guids))) == "sorted_unique"


def test_coinstallation_rules():
    check_artifact("guid_coinstallation", {"a": {"b": 1}, "b": {"a": 1}})
    assert rule_of("guid_coinstallation", {"a": {"a": 1}}) == "symmetric_no_self_pairs"
    assert rule_of("guid_coinstallation", {"a": {"b": 1}, "b": {}}) == "symmetric_no_self_pairs"
    assert rule_of("guid_coinstallation", {"a": {"b": 0}, "b": {"a": 0}}) == "schema"


def test_locale_rules():
    check_artifact("top10_dict", {"en-US": [["a", 0.5], ["b", 0.3]]}, num_addons=10)
    assert rule_of("top10_dict", {"en-US": [["a", 0.3], ["b", 0.5]]}) == "locale_weights"
    assert rule_of("top10_dict", {"en-US": [["a", 0.7], ["b", 0.5]]}) == "locale_weights"
    assert rule_of("top10_dict", {"en-US": [["a", -0.1]]}) == "locale_weights"
    assert rule_of("top10_dict", {"en-US": [["a", 0.2], ["b", 0.1]]}, num_addons=1) == "locale_weights"


def test_similarity_rules():
    donor = {
        "geo_city": "Rome",
        "locale": "it",
        "os": "Linux",
        "subsession_length": 10,
        "bookmark_count": 1,
        "tab_open_count": 2,
        "total_uri": 3,
        "unique_tlds": 4,
        "active_addons": ["a@x"],
    }
    check_artifact("donors", [donor])
    assert rule_of("donors", [{**donor, "client_id": "abc"}]) == "no_client_ids"
    curve = [[0.0, [0.1, 0.2]], [1.0, [0.3, 0.4]]]
    check_artifact("lr_curves", curve, num_pdf_points=2)
    assert rule_of("lr_curves", curve, num_pdf_points=3) == "num_pdf_points"
    assert rule_of("lr_curves", [[0.0, [-1.0, 0.2]]]) == "schema"
    assert rule_of("lr_curves", [[0.0, [0.1, 0.2]], [1.0, [0.3, 0.0]]]) == "positive_denominator"


def test_guid_shapes():
    assert is_addon_id("{2e5ff8c8-32fe-46d0-9fc8-6b8986621f3c}")
    assert is_addon_id("uBlock0@raymondhill.net")
    assert is_addon_id("@testpilot-containers")
    assert not is_addon_id("")
    assert not is_addon_id(None)
    assert not is_addon_id("no-at-sign")
