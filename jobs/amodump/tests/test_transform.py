import pytest
from taar_amodump.transform import (
    ListingPart,
    MalformedPageError,
    SearchPage,
    VersionsPage,
    canonical_record,
    last_page_number,
    listing_gap,
    oldest_version_created,
    parse_search_page,
    parse_versions_page,
    split_part,
)

V5_ADDON = {
    "guid": "tab+tools@example.org",
    "categories": ["tabs", "appearance"],
    "default_locale": "en-US",
    "description": {"en-US": "Long."},
    "name": {"en-US": "Tab Tools"},
    "summary": {"en-US": "Short."},
    "tags": ["tabs"],
    "weekly_downloads": 12,
    "average_daily_users": 340,
    "ratings": {"average": 4.5, "bayesian_average": 4.4, "count": 20, "text_count": 3},
    "current_version": {"id": 9, "file": {"id": 77, "status": "public", "created": "2020-01-01T00:00:00Z"}},
    "promoted": [{"category": "recommended", "apps": ["firefox"]}],
    "created": "2019-03-04T05:06:07Z",
    "status": "public",
}
V4_ADDON = {
    **V5_ADDON,
    "categories": {"firefox": ["tabs"], "android": ["appearance", "tabs"]},
    "current_version": {
        "id": 9,
        "files": [{"id": 77, "platform": "all", "status": "public", "is_webextension": True}],
    },
    "promoted": {"category": "recommended", "apps": ["firefox"]},
}
EXPECTED = {
    "guid": "tab+tools@example.org",
    "categories": ["appearance", "tabs"],
    "default_locale": "en-US",
    "description": {"en-US": "Long."},
    "name": {"en-US": "Tab Tools"},
    "summary": {"en-US": "Short."},
    "tags": ["tabs"],
    "weekly_downloads": 12,
    "average_daily_users": 340,
    "ratings": {"average": 4.5, "bayesian_average": 4.4, "count": 20, "text_count": 3},
    "current_version": {"files": [{"id": 77, "platform": "all", "status": "public", "is_webextension": True}]},
    "promoted": [{"category": "recommended", "apps": ["firefox"]}],
    "is_featured": True,
    "created": "2019-03-04T05:06:07Z",
    "first_create_date": "2019-03-05T00:00:00Z",
}


@pytest.mark.parametrize("addon", [V5_ADDON, V4_ADDON], ids=["v5", "v4"])
def test_v4_and_v5_shapes_give_the_same_canonical_record(addon):
    assert canonical_record(addon, "2019-03-05T00:00:00Z") == EXPECTED


def test_v4_non_webextension_file_is_recorded():
    addon = {
        **V4_ADDON,
        "current_version": {"files": [{"id": 1, "platform": "mac", "status": "public", "is_webextension": False}]},
    }
    record = canonical_record(addon, "2019-03-05T00:00:00Z")
    assert record["current_version"] == {
        "files": [{"id": 1, "platform": "mac", "status": "public", "is_webextension": False}]
    }


@pytest.mark.parametrize("field", ["ratings", "current_version", "promoted", "created"])
def test_null_fields_become_explicit_nulls_not_errors(field):
    record = canonical_record({**V5_ADDON, field: None}, "2019-03-05T00:00:00Z")
    expected = {
        "ratings": {"ratings": None},
        "current_version": {"current_version": None},
        "promoted": {"promoted": [], "is_featured": False},
        "created": {"created": None},
    }[field]
    assert record == {**EXPECTED, **expected}


def test_not_featured_when_promoted_in_another_category():
    record = canonical_record({**V5_ADDON, "promoted": [{"category": "line", "apps": ["firefox"]}]}, "x")
    assert record["is_featured"] is False


def test_search_page_parses_envelope():
    page = parse_search_page({"count": 2, "page_size": 50, "results": [{"guid": "a@b"}, {"guid": "c@d"}]}, "u")
    assert page == SearchPage(2, [{"guid": "a@b"}, {"guid": "c@d"}])


@pytest.mark.parametrize(
    ("payload", "message"),
    [
        ({"count": 1}, "'results' is missing or not a list"),
        ({"count": 1, "results": {"guid": "a@b"}}, "'results' is missing or not a list"),
        ({"results": []}, "'count' is missing"),
        ({"count": 1, "results": [{"guid": None}]}, "result 0 has no GUID"),
        ([], "expected a JSON object"),
    ],
)
def test_malformed_search_page_is_an_error_naming_the_url(payload, message):
    with pytest.raises(MalformedPageError, match=message) as caught:
        parse_search_page(payload, "http://amo/api/v5/addons/search/?page=3")
    assert "http://amo/api/v5/addons/search/?page=3" in str(caught.value)


def test_versions_page_requires_results_list():
    with pytest.raises(MalformedPageError, match="'results' is missing"):
        parse_versions_page({"count": 3}, "u")


def test_first_create_date_is_last_item_of_last_page():
    page = VersionsPage(
        3,
        [
            {"id": 3, "created": "2021-01-01T00:00:00Z"},
            {"id": 2, "created": "2020-01-01T00:00:00Z"},
            {"id": 1, "created": "2019-01-01T00:00:00Z"},
        ],
    )
    assert oldest_version_created(page, "u") == "2019-01-01T00:00:00Z"


def test_first_create_date_falls_back_to_file_created():
    page = VersionsPage(1, [{"id": 1, "files": [{"created": "2018-02-03T04:05:06Z"}]}])
    assert oldest_version_created(page, "u") == "2018-02-03T04:05:06Z"


def test_add_on_without_public_version_is_an_error():
    with pytest.raises(MalformedPageError, match="no public version"):
        oldest_version_created(VersionsPage(0, []), "http://amo/v")


@pytest.mark.parametrize(("count", "last"), [(0, 1), (1, 1), (50, 1), (51, 2), (100, 2), (101, 3)])
def test_last_page_number(count, last):
    assert last_page_number(count, 50) == last


def test_split_by_created_halves_the_known_span():
    part = ListingPart(created_min=1000, created_max=1999)
    left, right = split_part(part)
    assert left.filters() == {"created__lt": "1970-01-01T00:25:00Z"}
    assert right.filters() == {"created__gte": "1970-01-01T00:25:00Z"}
    assert (left.created_span(), right.created_span()) == ((1000, 1499), (1500, 1999))


def test_split_falls_back_to_users_within_one_second():
    part = ListingPart(created_gte=1500, created_lt=1501, users_max=9)
    left, right = split_part(part)
    assert left.filters() == {
        "created__gte": "1970-01-01T00:25:00Z",
        "created__lt": "1970-01-01T00:25:01Z",
        "users__lt": 5,
    }
    assert right.filters() == {
        "created__gte": "1970-01-01T00:25:00Z",
        "created__lt": "1970-01-01T00:25:01Z",
        "users__gte": 5,
    }
    assert split_part(ListingPart(created_gte=1500, created_lt=1501, users_gte=7, users_lt=8, users_max=9)) is None


def test_split_needs_users_bounds():
    assert split_part(ListingPart(created_gte=1500, created_lt=1501)) is None


def test_gap_names_the_parts_and_the_difference():
    assert listing_gap(10, {"a": 4, "b": 6}, 10) is None
    gap = listing_gap(10, {"created__lt=X": 4, "created__gte=X": 5}, 9)
    assert gap is not None
    assert "count 9 add-ons but the unsplit query counts 10 (gap 1)" in gap
    assert "[created__lt=X]=4" in gap
    assert listing_gap(10, {"a": 10}, 8) == "listed 8 distinct GUIDs but the unsplit query counts 10 (gap 2)"
