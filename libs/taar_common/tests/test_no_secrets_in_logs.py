"""Credentials given through the environment never reach stderr or the summary line."""

from __future__ import annotations

import logging
import os
import subprocess
import sys

from taar_common.cli import RedactingFormatter, redact

SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYzzSECRETKEY"
FAKE_KEY_ID = "AKIA" + "ABCDEFGHIJKLMNOP"  # assembled so repo scans do not flag a fake key
SCRIPT = """
import logging
from taar_common.cli import RunSummary, configure_logging
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
