"""The report's charts, drawn with matplotlib and embedded as inline SVG.

Each function returns one `<svg>` element (no XML prolog) whose root carries a
`data-figure` name, so the page test can find every figure in the rendered DOM. Text stays
text (`svg.fonttype: none`), so names are searchable and the page stays small.
"""

from __future__ import annotations

import io
import math
import re
from collections.abc import Sequence
from html import escape

from matplotlib import rc_context
from matplotlib.figure import Figure  # not pyplot: no global figure registry, no display backend

NUMERATOR_COLOR = "#3b6fb6"
DENOMINATOR_COLOR = "#d9822b"
STYLE = {
    "svg.fonttype": "none",
    "svg.hashsalt": "taar-report",  # stable element ids: the same data draws the same page
    "font.family": "DejaVu Sans",
    "text.parse_math": False,  # add-on names may hold "$": they are text, not TeX
    "font.size": 9,
    "axes.spines.top": False,
    "axes.spines.right": False,
}


def lr_curves_chart(
    scores: Sequence[float], numerators: Sequence[float], denominators: Sequence[float], *, figure: str
) -> str:
    """The same-cluster and other-cluster densities over the similarity score, on one axis."""
    with rc_context(STYLE):
        fig = Figure(figsize=(7.6, 3.6))
        ax = fig.subplots()
        ax.plot(scores, numerators, color=NUMERATOR_COLOR, lw=2, label="numerator (same cluster)", gid="lr-numerator")
        ax.plot(
            scores,
            denominators,
            color=DENOMINATOR_COLOR,
            lw=2,
            ls="--",
            label="denominator (other clusters)",
            gid="lr-denominator",
        )
        ax.set(title="Similarity score densities", xlabel="similarity score", ylabel="density")
        ax.set_ylim(bottom=0)
        ax.grid(axis="y", color="#e3e3e3")
        ax.legend(frameon=False)
        return _svg(fig, figure)


def bar_chart(
    labels: Sequence[str],
    values: Sequence[float],
    *,
    figure: str,
    title: str,
    value_labels: Sequence[str] | None = None,
    color: str = "#3b6fb6",
    width_in: float = 5.6,
) -> str:
    """Horizontal bars in the given order (first on top), the value printed beside each."""
    texts = list(value_labels) if value_labels is not None else [f"{v:g}" for v in values]
    shown = [label if len(label) <= 32 else label[:31] + "…" for label in labels]
    finite = [v if math.isfinite(v) else 0.0 for v in values]
    with rc_context(STYLE):
        fig = Figure(figsize=(width_in, 0.75 + 0.3 * max(len(labels), 1)))
        ax = fig.subplots()
        bars = ax.barh(range(len(finite)), finite, color=color, height=0.7)
        ax.bar_label(bars, labels=texts, padding=3)
        ax.set_yticks(range(len(shown)), shown)
        ax.invert_yaxis()
        ax.set_title(title, fontweight="bold")
        ax.margins(x=0.22)  # room for the value labels
        ax.set_xlim(left=0)
        ax.tick_params(axis="y", length=0)
        ax.spines["left"].set_visible(False)
        return _svg(fig, figure)


def _svg(fig: Figure, figure: str) -> str:
    """`fig` as an inline `<svg>` element named `figure`, scaled down to narrow windows."""
    buffer = io.StringIO()
    fig.savefig(buffer, format="svg", bbox_inches="tight", metadata={"Date": None})
    text = buffer.getvalue()
    svg = text[text.index("<svg") :]
    # matplotlib's comments and RDF metadata block name no one here and link out
    svg = re.sub(r"<!--.*?-->\s*|<metadata>.*?</metadata>\s*", "", svg, flags=re.S)
    return svg.replace(
        "<svg ",
        f'<svg class="chart" data-figure="{escape(figure)}" role="img" aria-label="{escape(figure)}" ',
        1,
    )
