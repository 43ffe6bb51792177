import pytest
from taar_update_whitelist.transform import (
    MalformedEditorialError,
    editorial_guids,
    editorial_results,
    guid_batches,
    unknown_guids,
)


def entry(guid):
    return {"addon": {"guid": guid}, "custom_description": "x"}


def test_guids_are_sorted_unique_and_null_or_empty_ones_dropped():
    results = [entry("b@x"), entry(None), entry(""), entry("a@x"), entry("b@x"), {"addon": None}, "junk"]
    cleaned = editorial_guids(results)
    assert cleaned.guids == ["a@x", "b@x"]
    assert (cleaned.empty, cleaned.duplicates, cleaned.invalid) == (4, 1, [])


def test_invalid_guids_are_dropped_and_named():
    cleaned = editorial_guids(
        [entry("not a guid"), entry("{1234}"), entry("a,b@x"), entry("{6f1d0a3e-0c1b-4c55-9a6e-2f7d1b0e9c11}")]
    )
    assert cleaned.guids == ["{6f1d0a3e-0c1b-4c55-9a6e-2f7d1b0e9c11}"]
    assert cleaned.invalid == ["'not a guid'", "'{1234}'", "'a,b@x'"]


@pytest.mark.parametrize("payload", [{}, {"results": {"addon": {}}}, [], None])
def test_malformed_editorial_payload_names_the_url(payload):
    with pytest.raises(MalformedEditorialError, match=r"^http://amo/api/v5/discovery/editorial/: 'results'"):
        editorial_results(payload, "http://amo/api/v5/discovery/editorial/")


def test_batches_and_unknown():
    assert guid_batches(["a", "b", "c", "d", "e"], 2) == [["a", "b"], ["c", "d"], ["e"]]
    assert guid_batches([], 50) == []
    assert unknown_guids(["a", "b", "c"], {"b"}) == ["a", "c"]
