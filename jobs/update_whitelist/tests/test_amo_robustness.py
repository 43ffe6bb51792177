"""update_whitelist against an AMO that misbehaves: off-host or looping `next` links, bad GUIDs."""

from __future__ import annotations

import contextlib
import json
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from click.testing import CliRunner
from taar_common.storage import Storage, join_url
from taar_fixtures.amo import AmoFixtureServer, EditorialEntry, generate_catalogue
from taar_testing.http_server import LocalHttpServer, send_json
from taar_update_whitelist.cli import main

PREFIX = "telemetry-ml/addon_recommender/"
DAY = "20261127"
FAST = ["--retries", "1", "--retry-backoff", "0.01", "--http-timeout", "2"]
GUIDS = [f"{{00000000-0000-4000-8000-{i:012d}}}" for i in range(240)]


def run_cli(*args):
    result = CliRunner().invoke(main, list(args), catch_exceptions=False)
    return result.exit_code, json.loads(result.stdout.strip().splitlines()[-1]), result.stderr


class EditorialServer(LocalHttpServer):
    """A stand-in editorial endpoint whose pages and `next` links a test chooses.

    `next_link(page, base_url)` gives page `page`'s `next` (None ends the list); each page
    holds 120 distinct recommended add-ons. After 10 requests every page ends the list, so
    a client that follows anything still finishes (the test then fails on what it published).
    """

    def __init__(self, next_link: Callable[[int, str], str | None]) -> None:
        self.next_link = next_link
        self.requests: list[tuple[str, str]] = []  # (Host header, path)
        super().__init__()

    def answer(self, request: BaseHTTPRequestHandler) -> None:
        self.requests.append((request.headers.get("Host", ""), request.path))
        page = int(parse_qs(urlsplit(request.path).query).get("page", ["1"])[0])
        chunk = GUIDS[(page - 1) % 2 * 120 : ((page - 1) % 2 + 1) * 120]
        payload = {
            "results": [{"addon": {"guid": g}, "custom_description": ""} for g in chunk],
            "next": self.next_link(page, self.url) if len(self.requests) < 10 else None,
        }
        send_json(request, payload)


@pytest.fixture
def editorial_server() -> Iterator[Callable[[Callable[[int, str], str | None]], EditorialServer]]:
    with contextlib.ExitStack() as servers:
        yield lambda next_link: servers.enter_context(EditorialServer(next_link))


def editorial_path(page: int) -> str:
    return f"/api/v5/discovery/editorial/?recommended=true&page={page}"


def test_next_link_to_another_host_fails_naming_it_and_keeps_the_previous_list(tmp_path, editorial_server):
    # Same server, other host name: a client that only compares ports would follow it.
    server = editorial_server(lambda page, base: base.replace("127.0.0.1", "localhost") + editorial_path(2))
    latest = join_url(str(tmp_path), PREFIX, "only_guids_top_200.json")
    Storage().write_bytes(latest, b'["previous@x"]')
    code, summary, _ = run_cli("--date", DAY, "--bucket", str(tmp_path), "--amo-url", server.url + "/api/v5/", *FAST)
    assert code == 1
    assert f"next link http://localhost:{server.port}{editorial_path(2)} leaves the API's scheme" in summary["error"]
    assert [host for host, _ in server.requests] == [f"127.0.0.1:{server.port}"]
    assert Storage().read_bytes(latest) == b'["previous@x"]'
    assert [p.name for p in Path(tmp_path).rglob("*.json")] == ["only_guids_top_200.json"]


def test_next_link_loop_fails_naming_the_url(tmp_path, editorial_server):
    # Page 1 -> page 2 -> page 1 again (the first URL, its query in another order).
    server = editorial_server(
        lambda page, base: base + (editorial_path(2) if page == 1 else "/api/v5/discovery/editorial/?recommended=true")
    )
    code, summary, _ = run_cli("--date", DAY, "--bucket", str(tmp_path), "--amo-url", server.url + "/api/v5/", *FAST)
    assert code == 1
    assert (
        f"next link {server.url}/api/v5/discovery/editorial/?recommended=true points to a page already read"
        in (summary["error"])
    )
    assert len(server.requests) == 2
    assert not list(Path(tmp_path).rglob("*.json"))


def test_paged_editorial_on_the_api_host_is_read_whole(tmp_path, editorial_server):
    server = editorial_server(lambda page, base: base + editorial_path(2) if page == 1 else None)
    code, summary, stderr = run_cli(
        "--date", DAY, "--bucket", str(tmp_path), "--amo-url", server.url + "/api/v5/", *FAST
    )
    assert code == 0, stderr[-2000:]
    assert Storage().read_json(join_url(str(tmp_path), PREFIX, "only_guids_top_200.json")) == sorted(GUIDS)
    assert summary["counts"]["guids"] == 240


BAD_GUIDS = [
    "../../../etc/passwd",
    "evil@example.org/../../x",
    "nul\x00@example.org",
    'quote"@example.org',
    "back\\slash@example.org",
    "white space@example.org",
    "{1234}",
    "z" * 400 + "@example.org",
]


def test_guids_that_are_not_addon_ids_are_counted_named_and_not_published(tmp_path, caplog):
    catalogue = generate_catalogue(200, seed=8, n_editorial=120)
    expected = catalogue.editorial_guids()
    catalogue.editorial.extend(EditorialEntry(guid, "bad") for guid in BAD_GUIDS)
    with AmoFixtureServer(catalogue) as amo:
        code, summary, stderr = run_cli("--date", DAY, "--bucket", str(tmp_path), "--amo-url", amo.url, *FAST)
    assert code == 0, stderr[-2000:]
    assert Storage().read_json(join_url(str(tmp_path), PREFIX, "only_guids_top_200.json")) == expected
    assert summary["counts"]["rejected_guids"] == len(BAD_GUIDS)
    assert summary["counts"]["guids"] == len(expected)
    rejected = summary["details"]["rejected_guids"]
    assert rejected[0] == "'../../../etc/passwd': contains '..'"
    assert rejected[2].startswith("'nul\\x00@example.org': ")
    assert all(len(line) < 160 for line in rejected)  # the 412-character one is cut
    log = caplog.text + stderr
    assert "rejected editorial GUID '../../../etc/passwd': contains '..'" in log
    assert "\x00" not in log  # NUL only ever appears escaped


def test_rejected_guids_still_count_toward_the_shortlist_rule(tmp_path):
    # 95 good + 8 bad entries: only 95 GUIDs remain, under 100, so nothing is published.
    catalogue = generate_catalogue(200, seed=10, n_editorial=95)
    catalogue.editorial.extend(EditorialEntry(guid, "bad") for guid in BAD_GUIDS)
    with AmoFixtureServer(catalogue) as amo:
        code, summary, _ = run_cli("--date", DAY, "--bucket", str(tmp_path), "--amo-url", amo.url, *FAST)
    assert code == 1
    assert "only 95 GUIDs (< 100)" in summary["error"]
    assert summary["counts"]["rejected_guids"] == len(BAD_GUIDS)
    assert not list(Path(tmp_path).rglob("*.json"))
