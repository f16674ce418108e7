"""Bar charts as inline SVG: drawn on the server, so the page, the PDF (WeasyPrint renders SVG)
and a printout show the same picture with no JavaScript and nothing loaded from elsewhere."""

from __future__ import annotations

from fractions import Fraction

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _

from scoring.presentation import Table, fmt_number, fmt_percent

BAR = 16  # px per unit row
LABEL = 150  # px for the unit names
WIDTH = 640
COLOURS = {"winner": "#2e7d4f", "last_place": "#b0262c", "key_rectification": "#c98a00"}
DEFAULT = "#4a6fa5"


def _colour(flags: tuple[str, ...]) -> str:
    for flag in ("last_place", "winner", "key_rectification"):
        if flag in flags:
            return COLOURS[flag]
    return DEFAULT


def _bars(bars: list[tuple[str, int, float]]) -> str:
    """The bars as one <path> per colour: (colour, y, width) each. Each element of an inline SVG
    is styled and drawn on its own by WeasyPrint, so a few paths print much faster than a
    rect per unit, and look the same."""
    by_colour: dict[str, list[str]] = {}
    for colour, y, w in bars:
        by_colour.setdefault(colour, []).append(f"M{LABEL} {y + 2}h{w:.1f}v{BAR - 5}h-{w:.1f}z")
    return "".join(f'<path fill="{c}" d="{"".join(d)}"/>' for c, d in by_colour.items())


def _svg(title: str, body: list[str], height: int) -> SafeString:
    return mark_safe(  # noqa: S308 - every text below went through escape()
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" role="img" '
        f'viewBox="0 0 {WIDTH} {height}" width="100%" preserveAspectRatio="xMinYMin meet" '
        f'font-size="11" font-family="Noto Sans CJK SC, sans-serif">'
        f"<title>{escape(title)}</title>{''.join(body)}</svg>"
    )


def score_chart(table: Table, title: str) -> SafeString:
    scores = [(r, r.result.score) for r in table.rows if r.result.score is not None]
    if not scores:
        return mark_safe("")
    rows = [r for r, _s in scores]
    top = max(Fraction(s) for _r, s in scores) or Fraction(1)
    plot = WIDTH - LABEL - 60
    body = []
    bars = []
    for i, (r, score) in enumerate(scores):
        y = i * BAR + 4
        w = float(Fraction(score) / top * plot)
        bars.append((_colour(r.result.flags), y, w))
        body.append(
            f'<text x="{LABEL - 6}" y="{y + 11}" text-anchor="end">{escape(r.label)}</text>'
            f'<text x="{LABEL + w + 4:.1f}" y="{y + 11}">{escape(fmt_number(r.result.score, 2))}'
            f"</text>"
        )
    return _svg(title, [_bars(bars), *body], len(rows) * BAR + 8)


def rate_chart(table: Table, threshold: Fraction, title: str, threshold_label: str) -> SafeString:
    """Satisfaction rates on a 0-100% axis with the 重点整改 line drawn across."""
    rates = [(r, r.result.satisfaction_rate) for r in table.rows
             if r.result.satisfaction_rate is not None]
    if not rates:
        return mark_safe("")
    rows = [r for r, _rate in rates]
    plot = WIDTH - LABEL - 60
    height = len(rows) * BAR + 22
    body = []
    bars = []
    for i, (r, exact) in enumerate(rates):
        y = i * BAR + 4
        rate = Fraction(exact)
        w = float(rate * plot)
        bars.append((COLOURS["key_rectification"] if rate < threshold else DEFAULT, y, w))
        body.append(
            f'<text x="{LABEL - 6}" y="{y + 11}" text-anchor="end">{escape(r.label)}</text>'
            # The values in one column right of 100%, so the 重点整改 line never runs
            # through a label (it did for units just under the line).
            f'<text x="{LABEL + plot + 6:.1f}" y="{y + 11}">{escape(fmt_percent(rate, 1))}</text>'
        )
    body.insert(0, _bars(bars))
    x = LABEL + float(threshold * plot)
    body.append(
        f'<line x1="{x:.1f}" y1="0" x2="{x:.1f}" y2="{height - 14}" stroke="#b0262c" '
        f'stroke-width="1.5" stroke-dasharray="4 3"/>'
        f'<text x="{x:.1f}" y="{height - 3}" text-anchor="middle" fill="#b0262c">'
        f"{escape(threshold_label)}</text>"
    )
    return _svg(title, body, height)


def attach_charts(tables: list[Table], threshold: Fraction) -> None:
    """Give each ranking table its two charts (the page and the PDF show the same ones)."""
    for table in tables:
        table.score_svg = score_chart(table, _("%(c)s 得分") % {"c": table.name})
        table.rate_svg = rate_chart(
            table,
            threshold,
            _("%(c)s 满意率") % {"c": table.name},
            _("重点整改线 %(t)s") % {"t": fmt_percent(threshold, 0)},
        )
