"""CLI conventions shared by every job: options, logging to stderr, the run summary.

A job's `cli.py` is a click command decorated with `date_option()` and `storage_options(...)`
whose body builds a `RunSummary` and calls its job inside `summary.run()`; the summary prints
one JSON line on stdout and turns any exception into a logged error and exit status 1.
Those decorators also give every job `-h/--help`, `-v/--verbose` and `--version`
(`standard_flags`).
"""

from __future__ import annotations

import datetime as dt
import importlib.metadata
import json
import logging
import os
import re
import signal
import sys
import threading
import time
import traceback
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import click

from taar_common.dates import DATA_DAY_HELP, data_day, parse_date
from taar_common.lease import DEFAULT_LEASE_TTL, hold_lease, lease_url
from taar_common.publish import DEFAULT_MAX_SHRINK, PublishPolicy
from taar_common.storage import Storage, check_bucket_name, check_key, parse_url, resolve_bucket_url

log = logging.getLogger(__name__)

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


TERMINATED_EXIT_STATUS = 128 + signal.SIGTERM


class Terminated(BaseException):
    """SIGTERM arrived (Kubernetes, the scheduler): unwinds like KeyboardInterrupt, past `except Exception`.

    A BaseException, so no `except Exception` on the way swallows it, while every `finally`
    and context manager (temp files, the lease) still runs.
    """


@contextmanager
def sigterm_raises() -> Iterator[None]:
    """While inside, SIGTERM raises `Terminated` in the main thread; the previous handler comes back after."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def handler(signum: int, frame: Any) -> None:
        raise Terminated(f"terminated by signal {signal.Signals(signum).name}")

    previous = signal.signal(signal.SIGTERM, handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


_STACK_FRAME = re.compile(r"^\s+at \S|^Traceback \(most recent call last\)")
MAX_ERROR_CHARS = 2000


def error_message(error: BaseException) -> str:
    """The error's message for the ERROR line and the summary: one line, without the Java or
    Python stack a Py4J error carries (that goes to the debug log with the traceback)."""
    lines = []
    for line in str(error).splitlines():
        if _STACK_FRAME.match(line):
            break
        if line.strip():
            lines.append(line.strip())
    message = " ".join(lines)
    return message if len(message) <= MAX_ERROR_CHARS else message[: MAX_ERROR_CHARS - 3] + "..."


@dataclass
class RunSummary:
    """Counts, durations and artifact URLs of one run, printed as one JSON line on stdout."""

    job: str
    counts: dict[str, Any] = field(default_factory=dict)
    durations_s: dict[str, float] = field(default_factory=dict)
    artifacts: list[str] = field(default_factory=list)
    details: dict[str, Any] = field(default_factory=dict)
    _started: float = field(default_factory=time.monotonic)

    def count(self, name: str, value: int | float) -> None:
        self.counts[name] = value

    def add_artifact(self, url: str) -> None:
        self.artifacts.append(url)

    @contextmanager
    def timed(self, stage: str) -> Iterator[None]:
        start = time.monotonic()
        try:
            yield
        finally:
            self.durations_s[stage] = round(time.monotonic() - start, 3)

    def as_dict(self, status: str, error: str | None = None) -> dict[str, Any]:
        summary: dict[str, Any] = {
            "job": self.job,
            "status": status,
            "counts": self.counts,
            "durations_s": {**self.durations_s, "total": round(time.monotonic() - self._started, 3)},
            "artifacts": self.artifacts,
        }
        if self.details:
            summary["details"] = self.details
        if error is not None:
            summary["error"] = error
        return summary

    def emit(self, status: str, error: str | None = None) -> None:
        line = json.dumps(self.as_dict(status, error), sort_keys=True, default=str)
        click.echo(redact(line), file=sys.stdout)

    def run(self, job: Callable[[], Any], *, lease_on: tuple[str, str] | None = None) -> None:
        """Run `job`; print the summary; exit 0 only on success (never swallow the error).

        `lease_on=(bucket_url, prefix)`: the job's lease on its output target is taken before
        any work, so a second run of the job on that target fails at once naming the holder,
        and `publish_all` reuses it. SIGTERM unwinds the job (temp files removed, lease
        released), prints the failed summary and exits 143, the status a shell reports for a
        SIGTERMed process.
        """
        try:
            with sigterm_raises(), self._lease(lease_on):
                job()
        except Terminated as exc:
            log.error("%s %s; cleaned up, nothing half-written", self.job, exc)
            self.emit("failed", error=f"Terminated: {exc}")
            sys.exit(TERMINATED_EXIT_STATUS)
        except Exception as exc:  # reported, then the process exits non-zero
            message = error_message(exc)
            log.error("%s failed: %s", self.job, message)
            log.debug("traceback:\n%s", traceback.format_exc())
            self.emit("failed", error=f"{type(exc).__name__}: {message}")
            sys.exit(1)
        self.emit("ok")

    @contextmanager
    def _lease(self, target: tuple[str, str] | None) -> Iterator[None]:
        if target is None:
            yield
            return
        bucket_url, prefix = target
        with hold_lease(Storage(), lease_url(bucket_url, prefix, self.job), self.job, publish_policy().lease_ttl):
            yield


class DateType(click.ParamType):
    """`--date` as YYYYMMDD or YYYY-MM-DD."""

    name = "YYYYMMDD"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> dt.date:
        try:
            return parse_date(value)
        except ValueError as exc:
            self.fail(str(exc), param, ctx)


DATE = DateType()


def date_option(help_text: str = "Run date (YYYYMMDD or YYYY-MM-DD); names the dated copies.") -> Callable:
    """`--date` (default: the data day, yesterday UTC, as in `make demo`), plus `standard_flags`."""
    option = click.option("--date", "run_date", type=DATE, default=data_day, show_default=DATA_DAY_HELP, help=help_text)

    def decorate(command: Callable) -> Callable:
        return standard_flags(option(command))

    return decorate


def job_version(command: click.Command) -> str:
    """`<distribution> <version>` of the package defining `command` (from its installed metadata)."""
    package = (getattr(command.callback, "__module__", None) or "taar_common").split(".")[0]
    distribution = package.replace("_", "-")
    try:
        return f"{distribution} {importlib.metadata.version(distribution)}"
    except importlib.metadata.PackageNotFoundError:  # a Dataproc zip carries no metadata
        return f"{distribution} (version unknown: package metadata not installed)"


def _print_version(ctx: click.Context, param: click.Parameter, value: bool) -> None:
    if value and not ctx.resilient_parsing:
        click.echo(job_version(ctx.command))
        ctx.exit(0)


def _param_names(command: Callable) -> set[str]:
    params = command.params if isinstance(command, click.Command) else getattr(command, "__click_params__", [])
    return {name for param in params for name in (*param.opts, *param.secondary_opts)}


def standard_flags(command: Callable) -> Callable:
    """`-h/--help`, `--version`, and `-v` for an existing `--verbose`: the flags every job CLI has.

    Idempotent, and safe under a `help_option_names=["-h", "--help"]` context (click drops help
    names another option already uses). Apply it after (above) the command's `--verbose` option.
    """
    for param in getattr(command, "__click_params__", []):
        if param.name == "verbose" and "-v" not in param.opts:
            param.opts.insert(0, "-v")  # the short form the jobs that declared only --verbose lacked
    names = _param_names(command)
    if "--version" not in names:
        command = click.option(
            "--version",
            is_flag=True,
            expose_value=False,
            is_eager=True,
            callback=_print_version,
            help="Print the job's package name and version, then exit.",
        )(command)
    if "-h" not in names:
        command = click.help_option("-h", "--help")(command)
    return command


def check_storage_url(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    """Click callback: refuse a bad input or object URL (`gs://`, `s3://`, `file://`, a path) when
    the options are parsed, before any work, with the credentials in it masked (value unchanged)."""
    if value:
        try:
            parse_url(value)
        except ValueError as exc:
            raise click.BadParameter(redact(str(exc)), ctx, param) from exc
    return value


def check_bucket_option(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    """Click callback: refuse a bad bucket URL or bare bucket name when the options are parsed,
    before any work, with the credentials in it masked (value unchanged)."""
    if value:
        try:
            resolved = resolve_bucket_url(value, "unused")
            if resolved.startswith(("gs://", "s3://")):
                parse_url(resolved)
        except ValueError as exc:
            raise click.BadParameter(redact(str(exc)), ctx, param) from exc
    return value


def _check_bare_bucket(scheme: str) -> Callable[[click.Context, click.Parameter, str | None], str | None]:
    def check(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
        if value:
            try:
                check_bucket_name(value, f"{scheme}://{value}")
            except ValueError as exc:
                raise click.BadParameter(redact(str(exc)), ctx, param) from exc
        return value

    return check


def _check_prefix(ctx: click.Context, param: click.Parameter, value: str) -> str:
    try:
        return check_key(value, "prefix")
    except ValueError as exc:
        raise click.BadParameter(redact(str(exc)), ctx, param) from exc


_POLICY_META = "taar_common.publish_policy"


def _remember_policy(ctx: click.Context, param: click.Parameter, value: Any) -> None:
    ctx.meta.setdefault(_POLICY_META, {})[param.name] = value


def publish_policy(ctx: click.Context | None = None) -> PublishPolicy:
    """The `--max-shrink/--allow-shrink/--lease-ttl-hours` of the running command (defaults outside one)."""
    ctx = ctx or click.get_current_context(silent=True)
    given = ctx.meta.get(_POLICY_META, {}) if ctx is not None else {}
    return PublishPolicy(
        max_shrink=given.get("max_shrink", DEFAULT_MAX_SHRINK),
        allow_shrink=bool(given.get("allow_shrink", False)),
        lease_ttl=dt.timedelta(hours=given["lease_ttl_hours"]) if "lease_ttl_hours" in given else DEFAULT_LEASE_TTL,
    )


def storage_options(default_bucket: str, default_prefix: str) -> Callable:
    """`--bucket/--gcs-bucket/--s3-bucket/--prefix/--compress`, checked when parsed, and the publish policy.

    The command receives `bucket, gcs_bucket, s3_bucket, prefix, compress`; the publish policy
    options (`--max-shrink --allow-shrink --lease-ttl-hours`) are not passed as arguments (so
    every existing command keeps its signature): read them with `publish_policy()`.
    """

    def decorate(command: Callable) -> Callable:
        options = [
            click.option(
                "--bucket",
                callback=check_bucket_option,
                help=f"Output location: gs://, s3://, file:///abs/path URL, local path, or bare GCS bucket name. "
                f"Default ./taar-data/{default_bucket}.",
            ),
            click.option(
                "--gcs-bucket", callback=_check_bare_bucket("gs"), help="Alias: bare GCS bucket name (gs://NAME)."
            ),
            click.option(
                "--s3-bucket",
                callback=_check_bare_bucket("s3"),
                help="Alias: bare S3 bucket name (s3://NAME), the legacy home.",
            ),
            click.option(
                "--prefix",
                default=default_prefix,
                show_default=True,
                callback=_check_prefix,
                help="Key prefix inside the bucket (no '..', no leading '/', no '//').",
            ),
            click.option(
                "--compress",
                type=click.Choice(["none", "bz2"]),
                default="none",
                show_default=True,
                help="bz2 writes NAME.json.bz2 (what the recommender reads from GCS).",
            ),
            click.option(
                "--max-shrink",
                type=click.FloatRange(0.0, 1.0),
                default=DEFAULT_MAX_SHRINK,
                show_default=True,
                expose_value=False,
                callback=_remember_policy,
                help="Fail rather than replace a latest copy with one whose record count falls by more than this "
                "share (an empty artifact replacing a non-empty one always fails).",
            ),
            click.option(
                "--allow-shrink",
                is_flag=True,
                expose_value=False,
                callback=_remember_policy,
                help="Publish even if the record count falls by more than --max-shrink (an expected fall).",
            ),
            click.option(
                "--lease-ttl-hours",
                type=click.FloatRange(0.0, min_open=True),
                default=DEFAULT_LEASE_TTL.total_seconds() / 3600,
                show_default=True,
                expose_value=False,
                callback=_remember_policy,
                help="One run at a time per job and target: a run's lease lasts this long; an older lease "
                "(a killed run) is taken over.",
            ),
        ]
        for option in reversed(options):
            command = option(command)
        return command

    return decorate


DEFAULT_AMO_URL = "https://addons.mozilla.org/api/v5/"


def amo_api_options(command: Callable) -> Callable:
    """`--amo-url --http-timeout --retries --retry-backoff`: how the AMO jobs talk to AMO."""
    options = [
        click.option("--amo-url", default=DEFAULT_AMO_URL, show_default=True, help="AMO API base (v5 or v4)."),
        click.option(
            "--http-timeout",
            type=float,
            default=30.0,
            show_default=True,
            help="Seconds each attempt may take as a whole: connect, headers and the full body.",
        ),
        click.option("--retries", type=click.IntRange(0), default=8, show_default=True, help="Retries per request."),
        click.option(
            "--retry-backoff",
            type=float,
            default=0.25,
            show_default=True,
            help="Backoff factor between retries, seconds.",
        ),
    ]
    for option in reversed(options):
        command = option(command)
    return command


def resolve_storage_args(bucket: str | None, gcs_bucket: str | None, s3_bucket: str | None, default_bucket: str) -> str:
    """One bucket URL from `--bucket` or one of its aliases (more than one is an error)."""
    given = [v for v in (bucket, gcs_bucket and f"gs://{gcs_bucket}", s3_bucket and f"s3://{s3_bucket}") if v]
    if len(given) > 1:
        raise click.UsageError("give only one of --bucket, --gcs-bucket, --s3-bucket")
    return resolve_bucket_url(given[0] if given else None, default_bucket)


def compression(value: str) -> str | None:
    return None if value in (None, "none") else value
