"""Credentials given through the environment never reach stderr or the summary line."""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys

import pytest
from taar_common.logs import RedactingFormatter, redact

SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYzzSECRETKEY"
FAKE_KEY_ID = "AKIA" + "ABCDEFGHIJKLMNOP"  # assembled so repo scans do not flag a fake key
SCRIPT = """
import logging
from taar_common.logs import configure_logging
from taar_common.summary import RunSummary
configure_logging()
log = logging.getLogger("job")
import os
log.info("connecting with key %s", os.environ["AWS_SECRET_ACCESS_KEY"])
log.info("url https://user:hunter2pass@example.org/x and token=abc123456789")
def job():
    raise RuntimeError("auth failed for " + os.environ["AWS_SECRET_ACCESS_KEY"] + " " + os.environ["FAKE_KEY_ID"])
RunSummary("secret-test").run(job)
"""


def test_secrets_are_redacted_in_a_real_process():
    env = {**os.environ, "AWS_SECRET_ACCESS_KEY": SECRET, "FAKE_KEY_ID": FAKE_KEY_ID}
    result = subprocess.run([sys.executable, "-c", SCRIPT], env=env, capture_output=True, text=True, timeout=60)
    assert result.returncode == 1
    everything = result.stdout + result.stderr
    assert "auth failed" in everything
    for leaked in (SECRET, "hunter2pass", "abc123456789", FAKE_KEY_ID):
        assert leaked not in everything, leaked


def test_formatter_masks_env_secret(monkeypatch):
    monkeypatch.setenv("GOOGLE_API_TOKEN", "tok-1234567890")
    record = logging.LogRecord("x", logging.INFO, __file__, 1, "using %s", ("tok-1234567890",), None)
    assert "tok-1234567890" not in RedactingFormatter("%(message)s").format(record)
    assert redact("plain text", secrets=[]) == "plain text"


CREDENTIAL_URLS = [
    ("http://ghp_TOKENONLY123@example.org/api/", "ghp_TOKENONLY123", "example.org/api/"),
    ("https://alice:hunter2pass@example.org/x", "hunter2pass", "example.org/x"),
    ("https://:onlypass99@example.org/x", "onlypass99", "example.org/x"),
    (
        "https://b.s3.amazonaws.com/k.json?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIDEXAMPLE%2F20261127"
        "&X-Amz-Signature=5d672d79c15b13162d9279b0855cfba6789a8edb4c82c400e06b5924a6f2b5d7"
        "&X-Amz-Security-Token=FQoGZXIvYXdzEBYaDsessiontok",
        "5d672d79c15b",
        "b.s3.amazonaws.com/k.json",
    ),
    ("https://b.s3.amazonaws.com/k.json?x-amz-credential=AKIDEXAMPLE%2F2026", "AKIDEXAMPLE", "k.json"),
    ("https://b.s3.amazonaws.com/k.json?x-amz-security-token=FQoGZXIvsess", "FQoGZXIvsess", "k.json"),
    ("https://storage.googleapis.com/b/o?X-Goog-Signature=0a1b2c3d4e5f6789", "0a1b2c3d4e5f6789", "b/o"),
    ("https://storage.googleapis.com/b/o?X-Goog-Credential=sa%40proj.iam", "sa%40proj.iam", "b/o"),
    ("https://b.s3.amazonaws.com/k?AWSAccessKeyId=AKIDV2&Signature=v2sigvalue%3D&Expires=1", "v2sigvalue", "k?"),
    ("https://acct.blob.core.windows.net/c/b?sv=2020&SIG=sasSignatureXYZ", "sasSignatureXYZ", "c/b?sv=2020"),
    ("https://api.example.org/v1?key=AIzaSyEXAMPLEKEY", "AIzaSyEXAMPLEKEY", "api.example.org/v1"),
    ("https://api.example.org/v1?API_KEY=abcdef123&page=2", "abcdef123", "page=2"),
    ("https://api.example.org/v1?access_token=ya29.tokenvalue", "ya29.tokenvalue", "api.example.org"),
    ("https://api.example.org/v1?Password=pa55word&user=x", "pa55word", "user=x"),
    ("https://api.example.org/v1?secret=s3cr3tval&page=2", "s3cr3tval", "page=2"),
    ("http://user:p@ss@host.example/x", "p@ss", "host.example/x"),  # the authority ends at its last '@'
    ("https://user:pa/ss@host.example/x", "pa/ss", "host.example/x"),  # a ':' with no port after it
    ("https://TOKEN123@host.example:8443/x", "TOKEN123", "host.example:8443/x"),
]


@pytest.mark.parametrize(("url", "secret", "kept"), CREDENTIAL_URLS)
def test_every_credential_bearing_url_form_is_masked_and_stays_readable(url, secret, kept):
    masked = redact(f"GET {url} failed", secrets=[])
    assert secret not in masked
    assert "***" in masked
    assert kept in masked  # host and path stay readable


def test_urls_without_credentials_are_untouched():
    text = (
        "read gs://telemetry-parquet/taar/lite/x.json and https://host/p?email=a@b.org&page=2, "
        "http://host:8080/addons/addon/name@domain.org/versions/ and http://[::1]:8080/a@b"
    )
    assert redact(text, secrets=[]) == text


SIGNED_URL_SCRIPT = """
import logging
from taar_common.logs import configure_logging
from taar_common.summary import RunSummary
configure_logging()
URL = "http://TOKENONLY77@amo.example/api/?X-Amz-Signature=deadbeefcafe&sig=sigsecret42&X-Goog-Signature=goog99sig"
logging.getLogger("job").info("fetching %s", URL)
def job():
    raise RuntimeError("fetch " + URL + " failed")
RunSummary("secret-test").run(job)
"""


def test_signed_and_token_urls_are_masked_in_logs_exceptions_and_summary():
    result = subprocess.run([sys.executable, "-c", SIGNED_URL_SCRIPT], capture_output=True, text=True, timeout=60)
    assert result.returncode == 1
    summary = json.loads(result.stdout.strip())
    assert "amo.example/api/" in summary["error"]
    for leaked in ("TOKENONLY77", "deadbeefcafe", "sigsecret42", "goog99sig"):
        assert leaked not in result.stdout, leaked
        assert leaked not in result.stderr, leaked
