import datetime as dt
from fractions import Fraction

import pytest
from taar_amodump.transform import (
    ListingPart,
    MalformedPageError,
    SearchPage,
    VersionsPage,
    build_dump,
    canonical_record,
    is_refresh_day,
    last_page_number,
    listing_gap,
    oldest_version_created,
    parse_search_page,
    parse_versions_page,
    reusable_first_create_dates,
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


def _at(epoch_s: int, users: int = 0) -> dict:
    moment = dt.datetime.fromtimestamp(epoch_s, dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    return {"guid": f"a{epoch_s}-{users}@x", "created": moment, "average_daily_users": users}


def test_split_by_created_bisects_up_to_the_newest_on_page_one():
    part = ListingPart(created_gte=1000)
    left, right = split_part(part, [_at(1999), _at(1500)])
    assert (left, right) == (ListingPart(created_gte=1000, created_lt=1500), ListingPart(created_gte=1500))
    assert left.filters() == {"created__gte": 1_000_000, "created__lt": 1_500_000}
    assert (left.sort, right.sort) == ("created", "created")


def test_unbounded_part_bisects_from_the_epoch():
    left, right = split_part(ListingPart(), [_at(2001), _at(5)])
    assert (left.created_lt, right.created_gte) == (1001, 1001)


def test_burst_in_one_second_is_re_asked_by_users_then_split_on_users():
    part = ListingPart(created_gte=1500)
    (by_users,) = split_part(part, [_at(1500), _at(1500)])
    assert by_users == ListingPart(created_gte=1500, by_users=True) and by_users.sort == "users"
    left, right = split_part(by_users, [_at(1500, users=9), _at(1500, users=3)])
    assert left.filters() == {"created__gte": 1_500_000, "users__lt": 5}
    assert right.filters() == {"created__gte": 1_500_000, "users__gte": 5}


def test_part_with_one_users_value_cannot_split():
    assert split_part(ListingPart(users_gte=7, by_users=True), [_at(1500, users=7)]) is None
    assert split_part(ListingPart(by_users=True), []) is None


def test_refresh_days_cover_every_add_on_weekly_and_a_seventh_each_day():
    guids = [f"addon-{i}@example.org" for i in range(3000)]
    week = [dt.date(2026, 11, 20) + dt.timedelta(days=k) for k in range(7)]
    per_day = [sum(is_refresh_day(g, day, Fraction(1, 7)) for g in guids) for day in week]
    assert all(abs(n - 3000 / 7) < 60 for n in per_day), per_day
    assert all(sum(is_refresh_day(g, day, Fraction(1, 7)) for day in week) == 1 for g in guids)
    assert not any(is_refresh_day(g, week[0], Fraction(0)) for g in guids)
    assert all(is_refresh_day(g, week[0], Fraction(1)) for g in guids)


def test_reuse_skips_refresh_day_and_unparseable_records():
    day = dt.date(2026, 11, 27)
    due = next(f"g{i}@x" for i in range(100) if is_refresh_day(f"g{i}@x", day, Fraction(1, 7)))
    kept = next(f"g{i}@x" for i in range(100) if not is_refresh_day(f"g{i}@x", day, Fraction(1, 7)))
    previous = {
        due: {"first_create_date": "2019-01-01T00:00:00Z"},
        kept: {"first_create_date": "2018-01-01T00:00:00Z"},
        "bad@x": {"first_create_date": None},
        "odd@x": "not a record",
    }
    assert reusable_first_create_dates(previous, day, Fraction(1, 7)) == {kept: "2018-01-01T00:00:00Z"}


def test_build_dump_is_sorted_by_guid_and_skips_undated_add_ons():
    listed = {"b@x": {**V5_ADDON, "guid": "b@x"}, "a@x": {**V5_ADDON, "guid": "a@x"}, "c@x": V5_ADDON}
    dump = build_dump(listed, {"b@x": "2020-01-01T00:00:00Z", "a@x": "2019-01-01T00:00:00Z"})
    assert list(dump) == ["a@x", "b@x"]
    assert dump["a@x"]["first_create_date"] == "2019-01-01T00:00:00Z"


def test_gap_names_the_parts_and_the_difference():
    assert listing_gap(10, {"a": 4, "b": 6}, 10) is None
    gap = listing_gap(10, {"created__lt=X": 4, "created__gte=X": 5}, 9)
    assert gap is not None
    assert "count 9 add-ons but the unsplit query counts 10 (gap 1)" in gap
    assert "[created__lt=X]=4" in gap
    assert listing_gap(10, {"a": 10}, 8) == "listed 8 distinct GUIDs but the unsplit query counts 10 (gap 2)"
