"""WeasyPrint, made quicker for the reports without changing what they show.

Three things, each measured on the 66-unit ranking PDF (bench/NOTES.md):

- `lighter_ua_css`: the user-agent stylesheet without its rules for pseudo-elements of every
  element, which made WeasyPrint compute six styles per element where one is needed;
- `cyclic_gc_paused`: Python's cycle collector off while WeasyPrint works;
- `svg_text_in_one_run`: an SVG <text> with one position laid out and drawn as one run of
  text, as a browser does, where WeasyPrint 70 lays out and draws it one character at a time.

Pages come out the same (tests/test_report_pdf_speed.py renders both ways and compares the
pixels): only the kerning inside a label may move a glyph by a fraction of a point, as a
whole run is shaped together. The SVG change is process-wide once in place, so the ballots'
and code slips' PDFs made later in the same process get it too; none of them has SVG text.
"""

from __future__ import annotations

import contextlib
import functools
import gc
import threading
from collections.abc import Iterator
from typing import Any


def html_to_pdf(html: str) -> bytes:
    with cyclic_gc_paused():
        return report_html_class()(string=html).write_pdf()


@functools.cache
def report_html_class() -> type:
    """WeasyPrint's HTML with the lighter user-agent stylesheet and one-run SVG text.

    Imported here: WeasyPrint loads Pango at import, which pages and commands that never
    print should not pay for."""
    from weasyprint import CSS, HTML
    from weasyprint import html as ua
    from weasyprint.css.counters import CounterStyle

    svg_text_in_one_run()
    # The counter styles stay WeasyPrint's (HTML._ua_counter_style); the copy leaves them out.
    sheet = CSS(string=lighter_ua_css(ua.UA), counter_style=CounterStyle())

    class ReportHTML(HTML):
        def _ua_stylesheets(self, forms: bool = False) -> list[Any]:
            return [sheet, *super()._ua_stylesheets(forms)[1:]]

    return ReportHTML


def lighter_ua_css(css: str) -> str:
    """WeasyPrint's HTML user-agent stylesheet, less its rules for pseudo-elements of every
    element: `::marker` and the footnote and note markers. Each gives every element of the
    document a pseudo-element whose style WeasyPrint computes: six styles per element where
    one is needed, a fifth of the report's layout time. The reports have no footnotes or
    notes and only list items have markers, so `::marker` becomes `li::marker`."""
    lines = []
    for line in css.splitlines():
        if line.startswith(("::footnote-", "::note-", "@counter-style")):
            continue
        if line.startswith("::marker {"):
            line = "li" + line
        lines.append(line)
    return "\n".join(lines)


_gc_lock = threading.Lock()
_gc_pauses = 0
_gc_was_enabled = True


@contextlib.contextmanager
def cyclic_gc_paused() -> Iterator[None]:
    """Python's cycle collector off while WeasyPrint works. WeasyPrint makes hundreds of
    thousands of short-lived objects; each time they pass the collector's threshold it walks
    every object of the process, Django's included: a quarter of the report's time. Reference
    counting still frees what is not in a cycle, and the collector runs again afterwards. A
    count, so that two reports rendered at once in one process leave it as they found it."""
    global _gc_pauses, _gc_was_enabled
    with _gc_lock:
        if _gc_pauses == 0:
            _gc_was_enabled = gc.isenabled()
            gc.disable()
        _gc_pauses += 1
    try:
        yield
    finally:
        with _gc_lock:
            _gc_pauses -= 1
            if _gc_pauses == 0 and _gc_was_enabled:
                gc.enable()


# The WeasyPrint versions whose svg/text.py `text` the one-run drawing below follows. With any
# other version WeasyPrint's own drawing is kept: slower, never wrong.
ONE_RUN_VERSIONS = ("70.0",)
_PER_CHARACTER = ("dx", "dy", "rotate", "textLength", "letter-spacing")


@functools.cache
def svg_text_in_one_run() -> bool:
    """Replace WeasyPrint's SVG text drawing by one that lays out and draws a <text> with one
    x and one y (the charts' labels) as one run, and hands every other to WeasyPrint's own.

    WeasyPrint 70 makes one Pango layout and one text object per character so that it can
    place characters one by one (x lists, dx, rotate, textLength); the charts' 264 labels were
    half of all the layouts in the report. For a text that places no character on its own the
    run lands where the characters did, with the width and bounding box WeasyPrint measures,
    so text-anchor shifts it the same. Returns whether the replacement is in place."""
    import importlib

    import weasyprint

    package = importlib.import_module("weasyprint.svg")
    module = importlib.import_module("weasyprint.svg.text")
    stock = module.text
    # svg/__init__.py draws through TAGS and tells text nodes apart (text-anchor, bounding
    # boxes) by comparing TAGS' entry with its own name `text`: both are replaced.
    if (
        weasyprint.__version__ not in ONE_RUN_VERSIONS
        or package.TAGS.get("text") is not stock
        or package.__dict__.get("text") is not stock
    ):
        return False

    def text(svg: Any, node: Any, font_size: float) -> None:
        if not _one_run(node):
            return stock(svg, node, font_size)
        return _draw_one_run(svg, node, font_size)

    for tag, drawer in list(package.TAGS.items()):
        if drawer is stock:
            package.TAGS[tag] = text
    package.__dict__["text"] = text  # the module's namespace: what `text` names in it
    return True


def _one_run(node: Any) -> bool:
    if (
        node.tag not in ("text", "tspan")
        or not node.text
        or any(name in node.attrib for name in _PER_CHARACTER)
    ):
        return False
    if node.get("font-style") not in (None, "normal"):
        return False
    from weasyprint.svg.utils import normalize

    for name in ("x", "y"):
        if name in node.attrib and len(normalize(node.attrib[name]).strip().split(" ")) > 1:
            return False
    return True


def _draw_one_run(svg: Any, node: Any, font_size: float) -> None:
    """svg/text.py `text` of WeasyPrint 70 for one position: the same style, alignment,
    bounding box and drawing calls, with the whole text as its one "letter"."""
    from math import inf

    from weasyprint.css.properties import INITIAL_VALUES
    from weasyprint.draw.text import draw_emojis, draw_first_line
    from weasyprint.matrix import Matrix
    from weasyprint.svg.bounding_box import extend_bounding_box
    from weasyprint.svg.text import Style, TextBox
    from weasyprint.svg.utils import normalize, size
    from weasyprint.text.line_break import split_first_line

    style = Style()
    style.update(INITIAL_VALUES)
    style.font_config = svg.font_config
    style["font_family"] = [
        font.strip("\"'") for font in node.get("font-family", "sans-serif").split(",")
    ]
    style["font_style"] = "normal"
    weight = node.get("font-weight", 400)
    if node.get("direction") in ("ltr", "rtl"):
        style["direction"] = node.get("direction")
    if weight == "normal":
        weight = 400
    elif weight == "bold":
        weight = 700
    else:
        try:
            weight = int(weight)
        except ValueError:
            weight = 400
    style["font_weight"] = weight
    style["font_size"] = font_size

    x = y = None
    if "x" in node.attrib:
        x = size(normalize(node.attrib["x"]).strip(), font_size, svg.inner_width)
    if "y" in node.attrib:
        y = size(normalize(node.attrib["y"]).strip(), font_size, svg.inner_height)

    ascent, descent = font_size * 0.8, font_size * 0.2
    y_align = 0.0
    display_anchor = node.get("display-anchor")
    alignment_baseline = node.get("dominant-baseline", node.get("alignment-baseline"))
    layout, _, _, width, height, baseline = split_first_line(node.text, style, svg.context, inf, 0)
    if display_anchor == "middle":
        y_align = -height / 2
    elif display_anchor == "top":
        pass
    elif display_anchor == "bottom":
        y_align = -height
    elif alignment_baseline in ("central", "middle"):
        y_align = (ascent + descent) / 2 - descent
    elif alignment_baseline in ("text-before-edge", "before_edge", "top", "hanging", "text-top"):
        y_align = ascent
    elif alignment_baseline in ("text-after-edge", "after_edge", "bottom", "text-bottom"):
        y_align = -descent

    # As WeasyPrint: a position of 0 does not reset the shift (`if x:`).
    if x:
        svg.cursor_d_position[0] = 0
    if y:
        svg.cursor_d_position[1] = 0
    x = svg.cursor_position[0] if x is None else x
    y = svg.cursor_position[1] if y is None else y
    svg.cursor_position = x + width, y
    x_position = x + svg.cursor_d_position[0]
    y_position = y + svg.cursor_d_position[1] + y_align
    points = (
        (x_position, y_position - baseline),
        (x_position + width, y_position - baseline + height),
    )
    node.text_bounding_box = extend_bounding_box(node.text_bounding_box, points)

    svg.stream.push_state()
    fill, stroke = svg.set_graphical_state(node, font_size)
    svg.stream.begin_text()
    layout.reactivate(style)
    svg.fill_stroke(fill, stroke, text=True)
    text_box = TextBox(layout, style)
    text_box.baseline = baseline
    emojis = draw_first_line(
        svg.stream, text_box, "none", "none", Matrix(a=1, d=-1, e=x_position, f=y_position)
    )
    svg.stream.end_text()
    svg.stream.pop_state()
    draw_emojis(svg.stream, style, x, y, emojis)
