"""Charts drawn on the server as SVG: no script, no inline styles (the CSP forbids both), classes only."""

from __future__ import annotations

from collections.abc import Sequence

from markupsafe import Markup, escape

WIDTH, HEIGHT = 640, 260
LEFT, RIGHT, TOP, BOTTOM = 44, 12, 22, 44


def bin_labels(bins: int) -> list[str]:
    step = 100 // bins
    return [f"{i * step}–{i * step + step - 1}%" if i < bins - 1 else f"{i * step}–100%" for i in range(bins)]


def _nice_max(value: int) -> int:
    """A round axis maximum at or above ``value`` (1, 2, 5, 10, 20, 50, …)."""
    if value <= 0:
        return 1
    scale = 1
    while True:
        for step in (1, 2, 5):
            if step * scale >= value:
                return step * scale
        scale *= 10


def histogram_svg(counts: Sequence[int], title: str, chart_id: str = "histogram") -> Markup:
    """A bar chart of score bins. The same numbers are in a table beside it for screen readers."""
    bins = len(counts)
    top = _nice_max(max(counts, default=0))
    plot_w = WIDTH - LEFT - RIGHT
    plot_h = HEIGHT - TOP - BOTTOM
    slot = plot_w / bins if bins else plot_w
    total = sum(counts)
    right = WIDTH - RIGHT
    base = TOP + plot_h
    parts = [
        f'<svg class="chart" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" '
        f'aria-labelledby="{chart_id}-title {chart_id}-desc" xmlns="http://www.w3.org/2000/svg">',
        f'<title id="{chart_id}-title">{escape(title)}</title>',
        f'<desc id="{chart_id}-desc">{total} first attempts in {bins} score bands; '
        f"the table below the chart lists the counts.</desc>",
    ]
    for tick in (0, top // 2 if top >= 2 else None, top):
        if tick is None:
            continue
        y = TOP + plot_h - plot_h * tick / top
        parts.append(f'<line class="chart-grid" x1="{LEFT}" x2="{right}" y1="{y:.1f}" y2="{y:.1f}"/>')
        parts.append(
            f'<text class="chart-axis" x="{LEFT - 6}" y="{y + 4:.1f}" text-anchor="end">{tick}</text>'
        )
    for i, (count, label) in enumerate(zip(counts, bin_labels(bins), strict=True)):
        h = plot_h * count / top
        x = LEFT + i * slot + slot * 0.12
        w = slot * 0.76
        y = TOP + plot_h - h
        parts.append(
            f'<rect class="chart-bar" x="{x:.1f}" y="{y:.1f}" width="{w:.1f}" height="{h:.1f}">'
            f"<title>{escape(label)}: {count}</title></rect>"
        )
        if count:
            parts.append(
                f'<text class="chart-value" x="{x + w / 2:.1f}" y="{y - 5:.1f}" '
                f'text-anchor="middle">{count}</text>'
            )
        parts.append(
            f'<text class="chart-axis" x="{x + w / 2:.1f}" y="{HEIGHT - BOTTOM + 16}" '
            f'text-anchor="middle">{escape(label.split("–")[0])}</text>'
        )
    parts.append(f'<line class="chart-baseline" x1="{LEFT}" x2="{right}" y1="{base}" y2="{base}"/>')
    parts.append(
        f'<text class="chart-axis" x="{LEFT + plot_w / 2:.1f}" y="{HEIGHT - 6}" text-anchor="middle">'
        "Score on the first attempt (lower edge of each band, %)</text>"
    )
    parts.append("</svg>")
    return Markup("".join(parts))  # noqa: S704 (every text above is escaped)
