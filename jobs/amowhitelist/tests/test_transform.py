import datetime as dt

import pytest
from taar_amowhitelist.transform import (
    DumpFormatError,
    first_create_day,
    select_addon_lists,
    validate_dump,
    whitelist_rejection,
)

RUN_DATE = dt.date(2026, 11, 27)  # minus 60 days = 2026-09-28


def record(guid="a@x", average=4.0, first="2026-09-28T23:59:59Z", webext=True, featured=False, **extra):
    return {
        "guid": guid,
        "ratings": {"average": average, "count": 10} if average is not None else None,
        "current_version": {"files": [{"id": 1, "platform": "all", "status": "public", "is_webextension": webext}]},
        "first_create_date": first,
        "is_featured": featured,
        **extra,
    }


def reason(rec, run_date=RUN_DATE):
    return whitelist_rejection(rec, run_date=run_date, min_rating=3.0, min_age_days=60)


def test_age_boundary_is_the_calendar_date_run_date_minus_min_age():
    assert reason(record(first="2026-09-28T23:59:59Z")) is None
    assert reason(record(first="2026-09-29T00:00:00Z")) == "too_young"


def test_first_create_date_is_compared_as_a_utc_calendar_date():
    assert first_create_day(record(first="2026-09-28T23:30:00-05:00")) == dt.date(2026, 9, 29)
    assert reason(record(first="2026-09-28T23:30:00-05:00")) == "too_young"


def test_rating_boundary_and_missing_ratings():
    assert reason(record(average=3.0)) is None
    assert reason(record(average=2.99)) == "low_rating"
    assert reason(record(average=None)) == "no_rating"


@pytest.mark.parametrize(
    ("current_version", "expected"),
    [
        (None, "not_webextension"),
        ({"files": []}, "not_webextension"),
        ({"files": [{"id": 1, "is_webextension": True}, {"id": 2, "is_webextension": False}]}, "not_webextension"),
        ({"files": [{"id": 1, "is_webextension": True}]}, None),
    ],
)
def test_webextension_rule(current_version, expected):
    assert reason({**record(), "current_version": current_version}) == expected


def test_unparseable_first_create_date_is_a_counted_rejection():
    assert reason(record(first="last tuesday")) == "bad_first_create_date"
    assert reason(record(first=None)) == "bad_first_create_date"


def test_the_three_lists_and_rejection_counts():
    dump = {
        "old-good@x": record("old-good@x"),
        "featured-good@x": record("featured-good@x", featured=True),
        "featured-young@x": record("featured-young@x", featured=True, first="2026-11-01T00:00:00Z"),
        "pioneer-opt-in@mozilla.org": record("pioneer-opt-in@mozilla.org", featured=True),
        "legacy@x": record("legacy@x", webext=False),
        "unrated@x": record("unrated@x", average=None),
    }
    lists = select_addon_lists(dump, run_date=RUN_DATE, min_rating=3.0, min_age_days=60)
    assert sorted(lists.whitelist) == ["featured-good@x", "old-good@x"]
    assert sorted(lists.featured) == ["featured-good@x", "featured-young@x", "pioneer-opt-in@mozilla.org"]
    assert sorted(lists.featured_whitelist) == ["featured-good@x"]
    assert lists.whitelist["old-good@x"] is dump["old-good@x"]
    assert dict(lists.rejected) == {"too_young": 1, "pioneer": 1, "not_webextension": 1, "no_rating": 1}


def test_an_old_run_date_gives_the_same_answer_regardless_of_today():
    dump = {"a@x": record("a@x", first="2020-01-01T00:00:00Z"), "b@x": record("b@x", first="2020-03-15T00:00:00Z")}
    for _ in range(2):
        lists = select_addon_lists(dump, run_date=dt.date(2020, 4, 1), min_rating=3.0, min_age_days=60)
        assert sorted(lists.whitelist) == ["a@x"]
    later = select_addon_lists(dump, run_date=dt.date(2020, 6, 1), min_rating=3.0, min_age_days=60)
    assert sorted(later.whitelist) == ["a@x", "b@x"]


@pytest.mark.parametrize(
    ("dump", "message"),
    [([], "expected a JSON object"), ({"a@x": "nope"}, "the record of 'a@x' is str")],
)
def test_a_dump_that_is_not_guid_to_record_fails_naming_the_source(dump, message):
    with pytest.raises(DumpFormatError, match=message) as caught:
        validate_dump(dump, "gs://b/p/extended_addons_database.json")
    assert str(caught.value).startswith("gs://b/p/extended_addons_database.json: ")
