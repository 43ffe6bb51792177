"""Fixture AMO: a seeded catalogue and a real HTTP server speaking the v5 and v4 API shapes."""

from taar_fixtures.amo.api import DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE, RESULT_WINDOW
from taar_fixtures.amo.catalogue import (
    PIONEER_GUID,
    Addon,
    Catalogue,
    EditorialEntry,
    Version,
    generate_catalogue,
    render_addon,
    render_version,
)
from taar_fixtures.amo.faults import FaultPlan, FaultRule
from taar_fixtures.amo.server import AmoFixtureServer

__all__ = [
    "DEFAULT_PAGE_SIZE",
    "MAX_PAGE_SIZE",
    "PIONEER_GUID",
    "RESULT_WINDOW",
    "Addon",
    "AmoFixtureServer",
    "Catalogue",
    "EditorialEntry",
    "FaultPlan",
    "FaultRule",
    "Version",
    "generate_catalogue",
    "render_addon",
    "render_version",
]
