"""Add-on ids: AMO's two shapes (braced UUID, name@domain) and nothing a consumer could misread."""

from __future__ import annotations

import pytest
from taar_common.addon_ids import MAX_ADDON_ID_LENGTH, addon_id_problem, is_addon_id, loggable_id


@pytest.mark.parametrize(
    "guid",
    [
        "{2e5ff8c8-32fe-46d0-9fc8-6b8986621f3c}",
        "{2E5FF8C8-32FE-46D0-9FC8-6B8986621F3C}",  # AMO's pattern is case-insensitive
        "uBlock0@raymondhill.net",
        "jid1-MnnxcxisBPnSXQ@jetpack",
        "@testpilot-containers",  # the name part is optional on AMO
        "tab+tools@example.org",  # older ids with '+', served by AMO
        "a_b.c-d@sub.example.co.uk",
        "x@" + "d" * (MAX_ADDON_ID_LENGTH - 2),
    ],
)
def test_amo_shaped_ids_are_accepted(guid):
    assert is_addon_id(guid), addon_id_problem(guid)


@pytest.mark.parametrize(
    ("value", "problem"),
    [
        (None, "not a string"),
        (42, "not a string"),
        ("", "empty"),
        ("x@" + "d" * (MAX_ADDON_ID_LENGTH - 1), "longer than 255"),
        ("../../etc/passwd@x", "'..'"),
        ("a..b@example.org", "'..'"),
        ("evil@example.org/../x", "'..'"),
        ("a/b@example.org", "neither"),
        ("a@example.org/", "neither"),
        ("a\\b@example.org", "neither"),
        ("a\x00@example.org", "neither"),
        ('a"b@example.org', "neither"),
        ("a'b@example.org", "neither"),
        ("a b@example.org", "neither"),
        ("a@example.org\n", "neither"),  # `$` would match before a final newline; fullmatch does not
        ("\tname@example.org", "neither"),
        ("a,b@example.org", "neither"),  # a comma splits `guid=a,b` queries
        ("a@b@example.org", "neither"),
        ("no-at-sign", "neither"),
        ("name@", "neither"),
        ("{1234}", "neither"),
        ("{2e5ff8c8-32fe-46d0-9fc8-6b8986621f3c", "neither"),
        ("2e5ff8c8-32fe-46d0-9fc8-6b8986621f3c", "neither"),
        ("{2e5ff8c8-32fe-46d0-9fc8-6b8986621f3g}", "neither"),
        ("\u212aelvin@example.org", "neither"),  # KELVIN SIGN, equal to 'k' under Unicode IGNORECASE
        ("na\u00efve@example.org", "neither"),
    ],
)
def test_ids_that_are_not_amo_shaped_or_could_be_misread_are_rejected_with_a_reason(value, problem):
    assert not is_addon_id(value)
    assert problem in addon_id_problem(value)


def test_loggable_id_is_a_truncated_repr():
    assert loggable_id("a\x00b") == "'a\\x00b'"
    long = loggable_id("x" * 500, limit=20)
    assert len(long) == 20 and long.startswith("'xxx") and long.endswith("...")
    assert "\n" not in loggable_id("line\nbreak")
