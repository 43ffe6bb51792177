"""The options every job CLI shares: `--date`, the output target, `-h/-v/--version`, location checks.

A job's `cli.py` decorates its click command with `date_option()` (which adds `-h/--help`,
`-v/--verbose` and `--version`, see `standard_flags`) and, when it publishes,
`output_options(bucket, prefix)`, which hands the command one resolved `OutputTarget`
(bucket URL, prefix, compression, publish policy). Every location option is checked when the
options are parsed, before any work, with the credentials in its message masked.
"""

from __future__ import annotations

import datetime as dt
import functools
import importlib.metadata
from collections.abc import Callable
from typing import Any

import click

from taar_common.dates import DATA_DAY_HELP, data_day, parse_date
from taar_common.lease import DEFAULT_LEASE_TTL
from taar_common.logs import configure_logging, redact
from taar_common.publish import DEFAULT_MAX_SHRINK, OutputTarget, PublishPolicy
from taar_common.storage import check_bucket_name, check_key, parse_url, resolve_bucket_url


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


def setting(*decls: str, kind: click.ParamType | type, default: Any, help_text: str) -> Callable:
    """A job's tuning option (`decls`, e.g. `"--rank"`), of type `kind`, its default shown in `--help`."""
    return click.option(*decls, type=kind, default=default, show_default=True, help=help_text)


def seed_option(help_text: str) -> Callable:
    """`--seed` (0..2**31-1, default 42): every random step of a run is seeded, so a rerun gives the same bytes."""
    return setting("--seed", kind=click.IntRange(0, 2**31 - 1), default=42, help_text=help_text)


def num_days_option(default: int, help_text: str) -> Callable:
    """`--num-days`: the length of the window of days ending with `--date`."""
    return setting("--num-days", kind=click.IntRange(min=1), default=default, help_text=help_text)


def sample_fraction_option() -> Callable:
    """`--sample-fraction`: the share of clients a run uses, chosen by a seeded hash of the client id."""
    return setting(
        "--sample-fraction",
        kind=click.FloatRange(0.0, 1.0, min_open=True),
        default=1.0,
        help_text="Share of clients used (chosen by a seeded hash of the client id).",
    )


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


def _configure_logging(ctx: click.Context, param: click.Parameter, value: bool) -> None:
    if not ctx.resilient_parsing:
        configure_logging(value)


def _param_names(command: Callable) -> set[str]:
    params = command.params if isinstance(command, click.Command) else getattr(command, "__click_params__", [])
    return {name for param in params for name in (*param.opts, *param.secondary_opts)}


def standard_flags(command: Callable) -> Callable:
    """`-h/--help`, `--version`, and `-v/--verbose` (logging to stderr, credentials masked,
    configured when the options are parsed): the flags every job CLI has.

    Idempotent, and safe under a `help_option_names=["-h", "--help"]` context (click drops help
    names another option already uses). A command that declares its own `--verbose` keeps it
    (and gets `-v`); it then configures logging itself.
    """
    for param in getattr(command, "__click_params__", []):
        if param.name == "verbose" and "-v" not in param.opts:
            param.opts.insert(0, "-v")
    names = _param_names(command)
    if "--verbose" not in names:
        command = click.option(
            "-v",
            "--verbose",
            is_flag=True,
            expose_value=False,
            callback=_configure_logging,
            help="Debug logging.",
        )(command)
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


def _one_bucket(bucket: str | None, gcs_bucket: str | None, s3_bucket: str | None, default_bucket: str) -> str:
    """One bucket URL from `--bucket` or one of its aliases (more than one is an error)."""
    given = [v for v in (bucket, gcs_bucket and f"gs://{gcs_bucket}", s3_bucket and f"s3://{s3_bucket}") if v]
    if len(given) > 1:
        raise click.UsageError("give only one of --bucket, --gcs-bucket, --s3-bucket")
    return resolve_bucket_url(given[0] if given else None, default_bucket)


def output_options(default_bucket: str, default_prefix: str) -> Callable:
    """`--bucket/--gcs-bucket/--s3-bucket/--prefix/--compress` and the publish policy
    (`--max-shrink/--allow-shrink/--lease-ttl-hours`), checked when parsed; the command
    receives them as one `target: OutputTarget`."""
    options = [
        click.option(
            "--bucket",
            callback=check_bucket_option,
            help="Output location: gs://, s3://, file:///abs/path URL, local path, or bare GCS bucket name. "
            f"Default <data root>/{default_bucket}.",
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
            help="Fail rather than replace a latest copy with one whose record count falls by more than this "
            "share (an empty artifact replacing a non-empty one always fails).",
        ),
        click.option(
            "--allow-shrink",
            is_flag=True,
            help="Publish even if the record count falls by more than --max-shrink (an expected fall).",
        ),
        click.option(
            "--lease-ttl-hours",
            type=click.FloatRange(0.0, min_open=True),
            default=DEFAULT_LEASE_TTL.total_seconds() / 3600,
            show_default=True,
            help="One run at a time per job and target: a run's lease lasts this long; an older lease "
            "(a killed run) is taken over.",
        ),
    ]

    def decorate(command: Callable) -> Callable:
        @functools.wraps(command)
        def with_target(
            *args: Any,
            bucket: str | None,
            gcs_bucket: str | None,
            s3_bucket: str | None,
            prefix: str,
            compress: str,
            max_shrink: float,
            allow_shrink: bool,
            lease_ttl_hours: float,
            **kwargs: Any,
        ) -> Any:
            target = OutputTarget(
                bucket_url=_one_bucket(bucket, gcs_bucket, s3_bucket, default_bucket),
                prefix=prefix,
                compress=None if compress == "none" else compress,
                policy=PublishPolicy(max_shrink, allow_shrink, dt.timedelta(hours=lease_ttl_hours)),
            )
            return command(*args, target=target, **kwargs)

        for option in reversed(options):
            with_target = option(with_target)
        return with_target

    return decorate
