"""Add-on ids (GUIDs) as AMO and Firefox accept them, checked before a job uses or publishes one.

AMO accepts two shapes (mozilla/addons-server `src/olympia/constants/base.py`,
`ADDON_GUID_PATTERN`, itself taken from Firefox's XPIProvider, case-insensitive): a braced
UUID `{8-4-4-4-12 hex}`, or an email-like `name@domain` where `name` may be empty and both
parts use letters, digits, `-`, `.` and `_`. The add-on model's `guid` column holds at most
255 characters (`Addon.guid` in `src/olympia/addons/models.py`).

Two deliberate differences, both stricter where it matters to consumers:
- `..` is refused although AMO's pattern lets it through: ids become storage keys, URL
  paths and file names downstream, where `..` reads as a parent directory.
- `+` is allowed in the name part: AMO serves older add-ons whose ids have one (the fixture
  catalogue imitates them); it is harmless once URL-quoted.
Everything else, `/`, `\\`, quotes, whitespace, NUL, commas (`guid=a,b` separates ids),
non-ASCII look-alikes, is refused by the character classes.
"""

from __future__ import annotations

import re
from typing import Any

MAX_ADDON_ID_LENGTH = 255

ADDON_ID_PATTERN = re.compile(
    r"\{[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\}"  # braced UUID
    r"|[a-z0-9._+-]*@[a-z0-9._-]+",  # name@domain (name optional, as on AMO)
    # ASCII: without it IGNORECASE lets the Kelvin sign match `k` and the long s match `s`.
    re.IGNORECASE | re.ASCII,
)


def addon_id_problem(value: Any) -> str | None:
    """Why `value` is not an add-on id, or None when it is one."""
    if not isinstance(value, str):
        return f"not a string ({type(value).__name__})"
    if not value:
        return "empty"
    if len(value) > MAX_ADDON_ID_LENGTH:
        return f"longer than {MAX_ADDON_ID_LENGTH} characters"
    if ".." in value:
        return "contains '..'"
    if not ADDON_ID_PATTERN.fullmatch(value):
        return "neither a braced UUID nor name@domain of letters, digits and -._+"
    return None


def is_addon_id(value: Any) -> bool:
    """True for a braced UUID or an email-like add-on id (see the module docstring)."""
    return addon_id_problem(value) is None


def loggable_id(value: Any, limit: int = 80) -> str:
    """`repr` of a rejected id, cut to `limit` characters, safe for one log line."""
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."
