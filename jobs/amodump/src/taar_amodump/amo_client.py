"""The AMO API calls of the dump, over the shared retrying HTTP session of taar_common."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import quote, urlencode

from taar_common.amo import PAGE_SIZE
from taar_common.http import TimeoutSession, fetch_json

from taar_amodump.transform import SearchPage, VersionsPage, parse_search_page, parse_versions_page

LISTING_FILTERS: dict[str, str] = {"app": "firefox", "type": "extension"}
"""What the recommender considers: Firefox extensions (AMO also lists themes, dictionaries...)."""


class AmoClient:
    """`addons/search/` and `addons/addon/<guid>/versions/` of one API base (v5 or v4)."""

    def __init__(self, session: TimeoutSession, base_url: str, page_size: int = PAGE_SIZE) -> None:
        self.session = session
        self.base_url = base_url if base_url.endswith("/") else base_url + "/"
        self.page_size = page_size

    @property
    def has_thresholds(self) -> bool:
        """Whether the API takes `created__*`/`users__*` thresholds: v5 does, the frozen v4 and
        older do not (addons-server `docs/topics/api/v4_frozen/addons.rst`) and ignore them."""
        return re.search(r"/api/v[1-4]/$", self.base_url) is None

    def search_url(self) -> str:
        return f"{self.base_url}addons/search/"

    def versions_url(self, guid: str) -> str:
        """The versions URL of `guid`, quoted whole (`{`, `}`, `@`, `+` and `/` included)."""
        return f"{self.base_url}addons/addon/{quote(guid, safe='')}/versions/"

    def search(self, params: dict[str, Any]) -> SearchPage:
        """One search page; HTTP, JSON and envelope errors name the URL."""
        url = self.search_url()
        full = {**LISTING_FILTERS, "page_size": self.page_size, **params}
        return parse_search_page(fetch_json(self.session, url, full), f"{url}?{urlencode(full)}")

    def versions(self, guid: str, page: int = 1) -> tuple[VersionsPage, str]:
        """One page of the add-on's public versions (newest first) and the URL it came from."""
        url = self.versions_url(guid)
        params = {"page_size": self.page_size, "page": page}
        page_url = f"{url}?{urlencode(params)}"
        return parse_versions_page(fetch_json(self.session, url, params), page_url), page_url
