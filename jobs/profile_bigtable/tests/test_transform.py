"""The pure row -> (key, payload) mapping, with the recommender's field names."""

from __future__ import annotations

import zlib

import pytest
from taar_common.hashing import hash_client_id
from taar_profile_bigtable import queries
from taar_profile_bigtable.transform import (
    METRIC_FIELDS,
    PAYLOAD_FIELDS,
    ProfileRowError,
    decode_payload,
    profile_payload,
    profile_row,
)

HASHED = hash_client_id("client-a")


def avro_row(**values):
    row = {
        "client_id": HASHED,
        "city": "Paris",
        "locale": "fr",
        "os": "Linux",
        "subsession_length": 3600,
        "places_bookmarks_count": 10.0,
        "scalar_parent_browser_engagement_tab_open_event_count": 5,
        "scalar_parent_browser_engagement_total_uri_count": 50,
        "scalar_parent_browser_engagement_unique_domains_count": 7.0,
        "active_addons": [{"addon_id": "a@b", "is_system": False, "user_disabled": True}],
        "disabled_addons_ids": ["a@b"],
    }
    row.update(values)
    return row


def test_row_key_is_the_hashed_id_and_payload_is_zlib_json_with_service_field_names():
    key, value = profile_row(avro_row())
    assert key == HASHED.encode()
    payload = decode_payload(value)
    assert payload == {
        "client_id": HASHED,
        "city": "Paris",
        "locale": "fr",
        "os": "Linux",
        "subsession_length": 3600,
        "places_bookmarks_count": 10.0,
        "scalar_parent_browser_engagement_tab_open_event_count": 5,
        "scalar_parent_browser_engagement_total_uri_count": 50,
        "scalar_parent_browser_engagement_unique_domains_count": 7.0,
        "active_addons": [{"addon_id": "a@b", "is_system": False, "user_disabled": True}],
        "disabled_addons_ids": ["a@b"],
    }
    assert set(payload) == set(PAYLOAD_FIELDS)
    assert zlib.decompress(value).decode("utf-8").startswith('{"active_addons"')


def test_null_metrics_become_zero_and_null_addon_entries_are_dropped():
    row = avro_row(
        subsession_length=None,
        places_bookmarks_count=None,
        scalar_parent_browser_engagement_tab_open_event_count=None,
        scalar_parent_browser_engagement_total_uri_count=None,
        scalar_parent_browser_engagement_unique_domains_count=None,
        active_addons=[None, {"addon_id": None, "is_system": True}, {"addon_id": "x@y", "is_system": True}],
        disabled_addons_ids=None,
    )
    payload = profile_payload(row)
    assert [payload[name] for name in METRIC_FIELDS] == [0, 0, 0, 0, 0]
    assert payload["active_addons"] == [{"addon_id": "x@y", "is_system": True}]
    assert payload["disabled_addons_ids"] == []


def test_equal_profiles_encode_to_equal_bytes():
    assert profile_row(avro_row()) == profile_row(dict(reversed(list(avro_row().items()))))


@pytest.mark.parametrize("client_id", [None, "", "4f9c6a2e-raw-client-id", HASHED.upper()])
def test_a_row_without_a_hashed_id_is_refused_without_echoing_it(client_id):
    with pytest.raises(ProfileRowError) as error:
        profile_row(avro_row(client_id=client_id))
    assert "raw-client-id" not in str(error.value)


@pytest.mark.parametrize(
    ("rate", "threshold"),
    [(0.0, "00000000"), (0.0001, "00068db9"), (0.5, "80000000"), (1.0, queries.KEEP_ALL_THRESHOLD)],
)
def test_sample_threshold_scales_the_rate_to_the_hex_prefix(rate, threshold):
    assert queries.sample_threshold(rate) == threshold
    assert "ffffffff" < queries.KEEP_ALL_THRESHOLD


def test_sample_rate_outside_unit_interval_is_refused():
    with pytest.raises(ValueError, match="--sample-rate"):
        queries.sample_threshold(1.5)


def test_null_city_locale_os_become_empty_strings_the_fetchers_default():
    payload = profile_payload(avro_row(city=None, locale=None, os=None))
    assert (payload["city"], payload["locale"], payload["os"]) == ("", "", "")
