"""`taar-report`: read the published artifacts and run summaries, write one `report.html`."""

from __future__ import annotations

import datetime as dt
import logging

import click
from taar_common.amo import AMO_BUCKET
from taar_common.dates import parse_date
from taar_common.options import standard_flags
from taar_common.storage import Storage, StorageError, join_url, resolve_bucket_url
from taar_common.summary import RunSummary

from taar_report.collect import artifact_urls, load_artifacts, load_runs
from taar_report.model import ReportInputs
from taar_report.page import render_report

log = logging.getLogger("taar_report")

LOCALE_BUCKET = "telemetry-private-analysis-2"


@click.command(context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--bucket",
    help=f"Where the jobs published (URL, path or bare GCS name). Default <data root>/{AMO_BUCKET}.",
)
@click.option(
    "--locale-bucket",
    help=f"Where top10_dict.json lives. Default: --bucket when given, else <data root>/{LOCALE_BUCKET}.",
)
@click.option(
    "--runs",
    "runs_url",
    help="JSON list of the jobs' run summaries (the demo writes it). Default <bucket>/demo-runs.json if it exists.",
)
@click.option("--out", "out_url", help="Where to write the page. Default <bucket>/report.html.")
@click.option(
    "--date",
    "data_date",
    help="Data date for the title (YYYYMMDD or YYYY-MM-DD). Default: the date of the artifacts' dated copies.",
)
@click.option(
    "--allow-shortlist",
    is_flag=True,
    help="Accept an editorial list under 100 GUIDs (as update_whitelist --allow-shortlist does).",
)
@standard_flags
def main(
    bucket: str | None,
    locale_bucket: str | None,
    runs_url: str | None,
    out_url: str | None,
    data_date: str | None,
    allow_shortlist: bool,
) -> None:
    """Write report.html: LR curves, top add-ons per locale, co-installation, whitelist funnel,
    profile counts, and every artifact's size, record count and check result.

    Missing artifacts are reported on the page, not as a failure; exit 1 only when the page
    cannot be written.
    """
    try:
        day = parse_date(data_date).isoformat() if data_date else None
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--date") from exc
    bucket_url = resolve_bucket_url(bucket, AMO_BUCKET)
    locale_url = (
        resolve_bucket_url(locale_bucket, LOCALE_BUCKET)
        if locale_bucket
        else (bucket_url if bucket else resolve_bucket_url(None, LOCALE_BUCKET))
    )
    out = out_url or join_url(bucket_url, "report.html")
    summary = RunSummary("report")

    def build() -> None:
        storage = Storage()
        runs_source = runs_url or _default_runs(storage, bucket_url)
        with summary.timed("read"):
            artifacts = load_artifacts(
                storage,
                artifact_urls(bucket_url, locale_url),
                {"only_guids_top_200": {"allow_shortlist": allow_shortlist}},
            )
            runs, runs_problem = load_runs(storage, runs_source)
        inputs = ReportInputs(
            bucket=bucket_url,
            locale_bucket=locale_url,
            artifacts=artifacts,
            runs=runs,
            runs_url=runs_source,
            runs_problem=runs_problem,
            generated_at=dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
            data_date=day,
        )
        with summary.timed("render"):
            page = render_report(inputs)
        storage.write_bytes(out, page.encode("utf-8"), content_type="text/html; charset=utf-8")
        statuses = [a.status for a in artifacts.values()]
        for status in ("ok", "missing", "check failed", "unreadable"):
            summary.count(f"artifacts_{status.replace(' ', '_')}", statuses.count(status))
        summary.count("runs", len(runs))
        summary.add_artifact(out)
        log.info("wrote %s (%d bytes)", out, len(page))

    summary.run(build)


def _default_runs(storage: Storage, bucket_url: str) -> str | None:
    candidate = join_url(bucket_url, "demo-runs.json")
    try:
        return candidate if storage.exists(candidate) else None
    except StorageError as exc:
        log.warning("cannot look for %s: %s", candidate, exc)
        return None
