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
    assert (cleaned.empty, cleaned.duplicates, cleaned.rejected) == (4, 1, [])


def test_guids_that_are_not_addon_ids_are_rejected_and_named_with_the_reason():
    cleaned = editorial_guids(
        [
            entry("not a guid"),
            entry("{1234}"),
            entry("a,b@x"),
            entry("../../latest@x"),
            entry("a/b@x"),
            entry("nul\x00@x"),
            entry('q"uote@x'),
            entry("back\\slash@x"),
            entry(" lead@x"),
            entry(["a@x"]),
            entry("x" * 300 + "@x"),
            entry("tab+tools@example.org"),
            entry("{6f1d0a3e-0c1b-4c55-9a6e-2f7d1b0e9c11}"),
        ]
    )
    assert cleaned.guids == ["tab+tools@example.org", "{6f1d0a3e-0c1b-4c55-9a6e-2f7d1b0e9c11}"]
    assert len(cleaned.rejected) == 11
    assert cleaned.rejected[:3] == [
        "'not a guid': neither a braced UUID nor name@domain of letters, digits and -._+",
        "'{1234}': neither a braced UUID nor name@domain of letters, digits and -._+",
        "'a,b@x': neither a braced UUID nor name@domain of letters, digits and -._+",
    ]
    assert cleaned.rejected[3] == "'../../latest@x': contains '..'"
    assert cleaned.rejected[5].startswith("'nul\\x00@x'")  # repr: the NUL is escaped in the log line
    assert cleaned.rejected[9] == "['a@x']: not a string (list)"
    assert cleaned.rejected[10].endswith("...: longer than 255 characters") and len(cleaned.rejected[10]) < 120


@pytest.mark.parametrize("payload", [{}, {"results": {"addon": {}}}, [], None])
def test_malformed_editorial_payload_names_the_url(payload):
    with pytest.raises(MalformedEditorialError, match=r"^http://amo/api/v5/discovery/editorial/: 'results'"):
        editorial_results(payload, "http://amo/api/v5/discovery/editorial/")


def test_batches_and_unknown():
    assert guid_batches(["a", "b", "c", "d", "e"], 2) == [["a", "b"], ["c", "d"], ["e"]]
    assert guid_batches([], 50) == []
    assert unknown_guids(["a", "b", "c"], {"b"}) == ["a", "c"]
