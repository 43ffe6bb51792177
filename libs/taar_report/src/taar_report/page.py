"""`ReportInputs` -> one self-contained HTML page (inline CSS and SVG charts, no script, no links out).

Each section is rendered on its own; a section whose data is malformed shows the error
instead of taking the page down.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from html import escape
from typing import Any

from taar_report import model
from taar_report.charts import bar_chart, lr_curves_chart

log = logging.getLogger(__name__)

SECTIONS = [
    ("overview", "Overview"),
    ("lr-curves", "Similarity: LR curves"),
    ("locales", "Top add-ons per locale"),
    ("coinstallation", "Co-installation (TAAR lite)"),
    ("funnel", "Whitelist funnel"),
    ("profiles", "Client profiles (Bigtable or the local store)"),
    ("artifacts", "Artifacts"),
    ("runs", "Job runs"),
]

STYLE = """
body{font-family:'DejaVu Sans',Helvetica,Arial,sans-serif;margin:24px auto;max-width:1180px;color:#222;font-size:14px}
h1{font-size:22px;margin-bottom:4px}
h2{font-size:18px;border-bottom:2px solid #3b6fb6;padding-bottom:4px;margin-top:32px}
h3{font-size:15px;margin:12px 0 4px}
table{border-collapse:collapse;margin:8px 0;max-width:100%}
th,td{border:1px solid #ccc;padding:3px 8px;text-align:left;vertical-align:top}td{overflow-wrap:anywhere}
th,td.num,.nowrap{white-space:nowrap}
th{background:#eef2f8}td.num{text-align:right;font-variant-numeric:tabular-nums}
.meta{color:#666}.missing{color:#8a5a00;background:#fff6e0;padding:6px 10px;border-left:4px solid #e0a000}
.error{color:#9b1c1c;background:#fdecec;padding:6px 10px;border-left:4px solid #c53030}
.ok{color:#1e6b2e;font-weight:bold}.bad{color:#9b1c1c;font-weight:bold}.warn{color:#8a5a00;font-weight:bold}
.grid{display:flex;flex-wrap:wrap;gap:12px}.grid>div{flex:0 1 auto;min-width:0}
svg.chart{max-width:100%;height:auto}ul.counts{margin:0;padding-left:16px}
nav a{margin-right:12px}code{font-size:12px;word-break:break-all}
"""

TOP_LOCALES = 6
TOP_PAIRS = 15
TOP_INSTALLS = 15


def render_report(inputs: model.ReportInputs) -> str:
    """The whole page as an HTML string."""
    builders: dict[str, Callable[[model.ReportInputs], str]] = {
        "overview": overview_section,
        "lr-curves": lr_curves_section,
        "locales": locales_section,
        "coinstallation": coinstallation_section,
        "funnel": funnel_section,
        "profiles": profiles_section,
        "artifacts": artifacts_section,
        "runs": runs_section,
    }
    body = []
    for section_id, heading in SECTIONS:
        try:
            content = builders[section_id](inputs)
        except Exception as exc:  # one malformed artifact must not hide the rest of the page
            log.warning("section %s could not be rendered: %s", section_id, exc)
            content = _p("error", f"This section could not be rendered: {type(exc).__name__}: {exc}")
        body.append(f"<section id='{section_id}'><h2>{escape(heading)}</h2>{content}</section>")
    nav = "".join(f"<a href='#{sid}'>{escape(h)}</a>" for sid, h in SECTIONS)
    title = escape(page_title(inputs))
    return (
        "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>"
        "<meta name='viewport' content='width=device-width, initial-scale=1'>"
        f"<title>{title}</title>"
        f"<style>{STYLE}</style></head><body>"
        f"<h1>{title}</h1>"
        f"<p class='meta'>Generated {escape(inputs.generated_at)} from <code>{escape(inputs.bucket)}</code>"
        f" (locale bucket <code>{escape(inputs.locale_bucket)}</code>)</p>"
        f"<nav>{nav}</nav>{''.join(body)}</body></html>\n"
    )


def page_title(inputs: model.ReportInputs) -> str:
    """The title names the data date (`--date`, else the artifacts' dated copies)."""
    day = inputs.data_date or model.report_data_date(inputs.artifacts.values())
    return f"TAAR daily models report: data of {day}" if day else "TAAR daily models report: data date unknown"


def lr_separation(inputs: model.ReportInputs) -> model.Separation | None:
    """The LR curves' separation, or None when they are missing or malformed."""
    curves = inputs.payload("lr_curves")
    try:
        return model.lr_separation(*model.lr_curve_series(curves)) if curves else None
    except (TypeError, ValueError):
        return None  # the LR section shows why


def overview_section(inputs: model.ReportInputs) -> str:
    statuses = [a.status for a in inputs.artifacts.values()]
    failed_runs = [r for r in inputs.runs if r.get("status") != "ok"]
    items = [
        f"{statuses.count('ok')} of {len(statuses)} artifacts present and passing their checks",
        f"{statuses.count('missing')} missing",
        f"{statuses.count('check failed') + statuses.count('unreadable')} failing or unreadable",
    ]
    if inputs.runs:
        items.append(f"{len(inputs.runs) - len(failed_runs)} of {len(inputs.runs)} job runs ok")
    separation = lr_separation(inputs)
    if separation is not None:
        items.append(
            "LR curves "
            + ("separate" if separation.separate else "do not separate")
            + f" (total variation distance {separation.distance:.3f})"
        )
    looks = []
    if not (statuses and all(s == "ok" for s in statuses)):
        looks.append("the artifacts table")
    if failed_runs:
        looks.append("the job runs")
    if separation is not None and not separation.separate:
        looks.append("the LR curves")
    verdict = (
        "<p class='ok'>All artifacts present, passing their checks, and the LR curves separate.</p>"
        if not looks
        else f"<p class='warn'>Needs a look: {escape(', '.join(looks))}.</p>"
    )
    return verdict + "<ul>" + "".join(f"<li>{escape(i)}</li>" for i in items) + "</ul>"


def lr_curves_section(inputs: model.ReportInputs) -> str:
    curves = inputs.payload("lr_curves")
    if not curves:
        return _missing(inputs, "lr_curves")
    scores, numerators, denominators = model.lr_curve_series(curves)
    separation = model.lr_separation(scores, numerators, denominators)
    chart = lr_curves_chart(scores, numerators, denominators, figure="lr-curves")
    verdict = _p("ok" if separation.separate else "warn", separation.statement())
    verdict = verdict.replace("<p ", "<p data-check='lr-separation' ", 1)
    note = f"{len(scores)} points, scores {min(scores):.4g} to {max(scores):.4g}."
    donors = inputs.payload("donors")
    if isinstance(donors, list):
        note += f" {len(donors)} donors published."
    return chart + verdict + _p("meta", note)


def locales_section(inputs: model.ReportInputs) -> str:
    top10 = inputs.payload("top10_dict")
    if not top10:
        return _missing(inputs, "top10_dict")
    client_counts = model.locale_client_counts(inputs.runs)
    locales = model.largest_locales(top10, TOP_LOCALES, client_counts)
    names = model.addon_names(inputs.payload("extended_addons_database"), inputs.payload("whitelist_addons_database"))
    per_locale = model.locale_top_addons(top10, locales, names)
    by = "clients (from the spark_locale run summary)" if client_counts else "number of entries"
    figures = []
    for locale in locales:
        entries = per_locale[locale]
        clients = f", {client_counts[locale]:,} clients" if locale in client_counts else ""
        figures.append(
            "<div>"
            + bar_chart(
                [name for _, name, _ in entries],
                [weight for _, _, weight in entries],
                figure=f"locale-{locale}",
                title=f"{locale} ({len(entries)} add-ons{clients})",
                value_labels=[f"{w:.4f}" for _, _, w in entries],
                color="#4a8f5a",
            )
            + "</div>"
        )
    intro = _p("meta", f"{len(top10)} locales; the {len(locales)} largest by {by}. Bars are the published weights.")
    return intro + "<div class='grid'>" + "".join(figures) + "</div>"


def coinstallation_section(inputs: model.ReportInputs) -> str:
    names = model.addon_names(inputs.payload("extended_addons_database"), inputs.payload("whitelist_addons_database"))
    parts = []
    coinstallation = inputs.payload("guid_coinstallation")
    if isinstance(coinstallation, dict):
        totals = model.coinstallation_totals(coinstallation)
        pairs = model.coinstalled_pairs(coinstallation, TOP_PAIRS)
        parts.append(f"<h3>Most co-installed pairs</h3>{_p('meta', _totals_text(totals))}")
        parts.append(
            _table(
                ["#", "add-on A", "add-on B", "clients with both"],
                [[i, _named(a, names), _named(b, names), n] for i, (a, b, n) in enumerate(pairs, 1)],
                raw_columns={1, 2},
            )
        )
    else:
        parts.append(_missing(inputs, "guid_coinstallation"))
    ranking = inputs.payload("guid_install_ranking")
    if isinstance(ranking, dict):
        top = model.install_ranking_top(ranking, TOP_INSTALLS)
        parts.append(f"<h3>Install ranking (top {len(top)} of {len(ranking):,})</h3>")
        parts.append(
            _table(
                ["#", "add-on", "clients"],
                [[i, _named(g, names), n] for i, (g, n) in enumerate(top, 1)],
                raw_columns={1},
            )
        )
    else:
        parts.append(_missing(inputs, "guid_install_ranking"))
    return "".join(parts)


def funnel_section(inputs: model.ReportInputs) -> str:
    stages = model.whitelist_funnel({name: inputs.payload(name) for _, name in model.FUNNEL})
    present = [s for s in stages if s.count is not None]
    dump_count = stages[0].count
    rows = []
    for stage in stages:
        share = f"{stage.count / dump_count:.1%}" if stage.count is not None and dump_count else ""
        rows.append(
            [stage.label, f"{stage.artifact}.json", stage.count if stage.count is not None else "missing", share]
        )
    parts = []
    if present:
        parts.append(
            bar_chart(
                [s.label for s in present],
                [float(s.count) for s in present],
                figure="whitelist-funnel",
                title="Add-ons at each step",
                value_labels=[f"{s.count:,}" for s in present],
                color="#7b5ea7",
            )
        )
    parts.append(_table(["step", "artifact", "add-ons", "of the dump"], rows))
    overlap = model.editorial_overlap(inputs.payload("only_guids_top_200"), inputs.payload("whitelist_addons_database"))
    if overlap is None:
        parts.append(_missing(inputs, "only_guids_top_200"))
    else:
        text = f"Editorial list (only_guids_top_200.json): {overlap['editorial']:,} GUIDs"
        if "in_whitelist" in overlap:
            text += f", {overlap['in_whitelist']:,} of them in the whitelist"
        parts.append(_p("", text + "."))
    return "".join(parts)


def profiles_section(inputs: model.ReportInputs) -> str:
    rows = model.profile_runs(inputs.runs)
    if not rows:
        reason = inputs.runs_problem or "the runs file has no profile_bigtable summaries"
        return _p("missing", f"No profile counts: {reason}.")
    parts = []
    before_after = model.profiles_before_after(inputs.runs)
    if before_after:
        parts.append(
            _table(
                ["profiles before deletion", "deleted (opt-out)", "profiles after deletion"],
                [[before_after["before_deletion"], before_after["deleted"], before_after["after_deletion"]]],
            )
        )
    parts.append(_p("meta", "Counts of each profile_bigtable stage, as its run summary reported them."))
    table_rows = []
    for stage, status, seconds, counts in rows:
        listed = "".join(f"<li>{escape(k)}: {escape(_number(v))}</li>" for k, v in counts)
        table_rows.append(
            [
                escape(stage),
                f"<span class='{'ok' if status == 'ok' else 'bad'}'>{escape(status)}</span>",
                round(seconds, 1) if seconds is not None else None,
                f"<ul class='counts'>{listed}</ul>" if counts else "",
            ]
        )
    parts.append(_table(["stage", "status", "wall time (s)", "counts"], table_rows, raw_columns={0, 1, 3}))
    return "".join(parts)


def artifacts_section(inputs: model.ReportInputs) -> str:
    rows = []
    for artifact in inputs.artifacts.values():
        css = {"ok": "ok", "missing": "warn"}.get(artifact.status, "bad")
        status = f"<span class='{css}'>{escape(artifact.status)}</span>"
        if artifact.detail:
            status += f"<br>{escape(artifact.detail)}"
        rows.append(
            [
                f"<code>{escape(artifact.url)}</code>",
                f"<span class='nowrap'>{_human_size(artifact.size_bytes)}</span>",
                artifact.records if artifact.records is not None else "",
                f"<span class='nowrap'>{escape(artifact.data_date)}</span>" if artifact.data_date else "",
                status,
            ]
        )
    return _table(["artifact", "size", "records", "data date", "check"], rows, raw_columns={0, 1, 3, 4})


def runs_section(inputs: model.ReportInputs) -> str:
    parts = []
    if inputs.runs_url:
        parts.append(_p("meta", f"From {inputs.runs_url}."))
    if inputs.runs_problem:
        parts.append(_p("missing", inputs.runs_problem))
    if inputs.runs:
        rows = []
        for run, (job, stage, status, seconds, error) in zip(inputs.runs, model.run_rows(inputs.runs), strict=True):
            css = "ok" if status == "ok" else "bad"
            rows.append(
                [
                    # Job and stage names are short identifiers: broken mid-word they read as two.
                    f"<span class='nowrap'>{escape(job)}</span>",
                    f"<span class='nowrap'>{escape(stage)}</span>",
                    f"<span class='{css}'>{escape(status)}</span>",
                    round(seconds, 1) if seconds is not None else None,
                    escape(model.counts_text(run)),
                    escape(error),
                ]
            )
        columns = ["job", "stage", "status", "wall time (s)", "counts", "error"]
        parts.append(_table(columns, rows, raw_columns={0, 1, 2, 4, 5}))
    return "".join(parts)


def _missing(inputs: model.ReportInputs, name: str) -> str:
    artifact = inputs.artifacts.get(name)
    if artifact is None:
        return _p("missing", f"{name}.json was not looked up.")
    if artifact.payload is None:
        return _p("missing", f"{name}.json is {artifact.status}: {artifact.url} ({artifact.detail}).")
    return _p("missing", f"{name}.json at {artifact.url} is empty.")


def _totals_text(totals: dict[str, int]) -> str:
    return f"{totals['addons']:,} add-ons with a partner, {totals['pairs']:,} distinct pairs."


def _named(guid: str, names: dict[str, str]) -> str:
    name = names.get(guid)
    if name is None:
        return f"<code>{escape(guid)}</code>"
    return f"{escape(name)}<br><code>{escape(guid)}</code>"


def _p(css: str, text: str) -> str:
    return f"<p class='{css}'>{escape(text)}</p>" if css else f"<p>{escape(text)}</p>"


def _cell(value: Any, raw: bool) -> str:
    if isinstance(value, bool) or value is None:
        return f"<td>{escape(str(value if value is not None else ''))}</td>"
    if isinstance(value, int):
        return f"<td class='num'>{value:,}</td>"
    if isinstance(value, float):
        return f"<td class='num'>{value:,.4g}</td>"
    return f"<td>{value if raw else escape(str(value))}</td>"


def _table(columns: Sequence[str], rows: Sequence[Sequence[Any]], raw_columns: set[int] | None = None) -> str:
    """An HTML table; cells in `raw_columns` are already-escaped HTML."""
    raw = raw_columns or set()
    head = "".join(f"<th>{escape(c)}</th>" for c in columns)
    body = (
        "".join("<tr>" + "".join(_cell(v, i in raw) for i, v in enumerate(row)) + "</tr>" for row in rows)
        or f"<tr><td colspan='{len(columns)}'>(none)</td></tr>"
    )
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _number(value: Any) -> str:
    return f"{value:,}" if isinstance(value, int) and not isinstance(value, bool) else str(value)


def _human_size(size: int | None) -> str:
    if size is None:
        return ""
    value = float(size)
    for unit in ("B", "KiB", "MiB", "GiB"):
        if value < 1024 or unit == "GiB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{size} B"
