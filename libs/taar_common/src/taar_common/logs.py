"""Logging to stderr with every credential masked: the one formatter every job and tool uses.

`redact` masks credential-shaped text (userinfo of any shape, signed-URL and API-key query
parameters, AWS key ids, private keys) and the values of secret-named environment variables;
`configure_logging` installs it on the root logger.
"""

from __future__ import annotations

import logging
import os
import re
import sys

_SECRET_ENV = re.compile(r"(SECRET|TOKEN|PASSWORD|PASSWD|CREDENTIAL|PRIVATE|_KEY$|ACCESS_KEY)", re.I)
# Query parameters that carry a credential in signed or authenticated URLs (S3 SigV4 and
# SigV2 presigned URLs, GCS V2/V4 signed URLs, OAuth and API-key parameters).
_SECRET_PARAMS = (
    r"x-amz-signature|x-amz-credential|x-amz-security-token|x-goog-signature|x-goog-credential"
    r"|signature|sig|token|access_token|refresh_token|id_token|auth|authorization|secret|client_secret"
    r"|password|passwd|pwd|key|api_key|apikey|api-key|access_key|accesskey|awsaccesskeyid|private_key"
)
_SECRET_PATTERNS = [
    re.compile(r"(AKIA|ASIA)[0-9A-Z]{16}"),
    re.compile(r"(?i)(authorization:\s*\w+\s+)[^\s'\"]+"),
    re.compile(r"(?i)((?:secret|token|password|access_key|api_key)[\"']?\s*[=:]\s*[\"']?)[^\s'\",&]+"),
    re.compile(rf"(?i)((?<![\w.-])(?:{_SECRET_PARAMS})=)[^&#\s'\"]+"),
    re.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY-----[\s\S]*?-----END [A-Z ]*PRIVATE KEY-----"),
]


_URL = re.compile(r"(?i)\b([a-z][a-z0-9+.-]*://)([^\s'\"<>]+)")


def _mask_userinfo(match: re.Match) -> str:
    """`scheme://USERINFO@host/...` -> `scheme://***@host/...` for userinfo of any shape: `TOKEN@`,
    `user:pass@`, `:pass@`, a password holding `@` (the authority ends at its last `@`) or `/`
    (`user:pa/ss@host`: a `:` followed by no port). Host and path stay readable."""
    scheme, rest = match.group(1), match.group(2)
    authority_end = min((i for i in (rest.find(c) for c in "/?#") if i >= 0), default=len(rest))
    at = rest.rfind("@", 0, authority_end)
    if at < 0:
        head = rest[:authority_end]
        user, colon, port = head.partition(":")
        if not (colon and user and not head.startswith("[") and not port.isdigit()):
            return match.group(0)
        at = rest.find("@", authority_end)
        if at < 0:
            return match.group(0)
    return f"{scheme}***{rest[at:]}"


def redact(text: str, secrets: list[str] | None = None) -> str:
    """Mask credential-looking substrings and the values of secret environment variables."""
    for value in secrets if secrets is not None else _secret_env_values():
        text = text.replace(value, "***")
    text = _URL.sub(_mask_userinfo, text)
    for pattern in _SECRET_PATTERNS:
        text = pattern.sub(lambda m: (m.group(1) if m.groups() and m.group(1) else "") + "***", text)
    return text


def _secret_env_values() -> list[str]:
    return [v for k, v in os.environ.items() if _SECRET_ENV.search(k) and len(v) >= 6]


class RedactingFormatter(logging.Formatter):
    """Formats normally, then masks anything that looks like a credential."""

    def format(self, record: logging.LogRecord) -> str:
        return redact(super().format(record))


def configure_logging(verbose: bool = False) -> None:
    """Log to stderr, one line per event, with credentials redacted."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(RedactingFormatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(logging.DEBUG if verbose else logging.INFO)
    for noisy in ("urllib3", "botocore", "boto3", "google", "py4j", "s3transfer"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
