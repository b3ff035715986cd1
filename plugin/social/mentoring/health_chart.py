"""The programme-health chart: per competency, open demand beside free mentor capacity, as an
accessible SVG drawn on the server by pygal (docs/mentoring.md, "Programme health").

The SVG needs no script (pygal's tooltip configuration script is removed), is an image with a
name and a description (``role="img"``, ``aria-labelledby`` pointing at its ``<title>``,
``aria-describedby`` at its ``<desc>``: the description says every number, and the page has the same numbers in a table
beside it), and draws in dark colours on white with large text.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from functools import lru_cache

import pygal
from pygal.style import Style

from plugin.social.mentoring.health import Health

SVG = "http://www.w3.org/2000/svg"
DEMAND_COLOUR = "#8a3b00"  # dark orange: 8.3:1 on white
FREE_COLOUR = "#0b4f8a"  # dark blue: 8.4:1 on white
INK = "#1a1a1a"
STYLE = Style(
    background="#ffffff",
    plot_background="#ffffff",
    foreground=INK,
    foreground_strong=INK,
    foreground_subtle="#595959",
    opacity="1",
    opacity_hover="1",
    colors=(DEMAND_COLOUR, FREE_COLOUR),
    font_family="system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif",
    label_font_size=14,
    major_label_font_size=14,
    legend_font_size=16,
    title_font_size=18,
    value_font_size=14,
    value_colors=("#ffffff", "#ffffff"),  # on the dark bars
)
ROW_HEIGHT = 56  # SVG units per competency


def describe(health: Health) -> str:
    """The chart's numbers in words (its ``<desc>``)."""
    if not health.competencies:
        return "No competencies yet: nothing to compare."
    parts = [
        f"{c.name}: open demand {c.demand}, free capacity {c.free_capacity}"
        + (f", a gap of {c.gap}" if c.gap else "")
        for c in health.competencies
    ]
    return "Per competency, mentees waiting against free mentor places. " + "; ".join(parts) + "."


def demand_chart(health: Health, *, chart_id: str = "health-chart") -> str:
    """The chart as an ``<svg>`` element to put inline in a page (no XML declaration, no
    script); ``chart_id`` prefixes the ids of its title and description. The same numbers give
    the same drawing, kept (a small cache): staff reloading the page do not redraw it."""
    rows = tuple((c.name, c.demand, c.free_capacity) for c in health.competencies)
    return _drawn(rows, describe(health), chart_id)


@lru_cache(maxsize=256)
def _drawn(rows: tuple[tuple[str, int, int], ...], description: str, chart_id: str) -> str:
    chart = pygal.HorizontalBar(
        style=STYLE,
        js=[],
        disable_xml_declaration=True,
        width=720,
        height=160 + ROW_HEIGHT * max(1, len(rows)),
        show_legend=True,
        legend_at_bottom=True,
        legend_at_bottom_columns=2,
        print_values=True,
        print_zeroes=False,
        truncate_label=28,
        truncate_legend=-1,
        min_scale=1,
        max_scale=10,
        margin=16,
        no_data_text="No competencies yet",
    )
    upward = rows[::-1]  # pygal draws the first row at the bottom
    chart.x_labels = [name for name, _, _ in upward]
    chart.add("Open demand", [demand for _, demand, _ in upward])
    chart.add("Free capacity", [free for _, _, free in upward])
    return accessible(
        chart.render(is_unicode=True),
        title="Open demand and free mentor capacity per competency",
        description=description,
        chart_id=chart_id,
    )


def accessible(svg: str, *, title: str, description: str, chart_id: str) -> str:
    """An SVG made an accessible image: scripts removed, ``role="img"``, a first ``<title>``
    and ``<desc>`` that name and describe it (``aria-labelledby``, ``aria-describedby``); no fixed size (it
    scales to its box). pygal's own id on the ``<svg>`` scopes its style sheet."""
    ET.register_namespace("", SVG)
    ET.register_namespace("xlink", "http://www.w3.org/1999/xlink")
    root = ET.fromstring(svg)  # noqa: S314 - pygal's own output, never a user's file
    for parent in list(root.iter()):
        for child in list(parent):
            if child.tag in (f"{{{SVG}}}script", "script"):
                parent.remove(child)
    for name in ("width", "height"):
        root.attrib.pop(name, None)
    root.set("role", "img")
    root.set("aria-labelledby", f"{chart_id}-title")
    root.set("aria-describedby", f"{chart_id}-desc")
    root.set("focusable", "false")
    desc = ET.Element(f"{{{SVG}}}desc", {"id": f"{chart_id}-desc"})
    desc.text = description
    name = ET.Element(f"{{{SVG}}}title", {"id": f"{chart_id}-title"})
    name.text = title
    root.insert(0, desc)
    root.insert(0, name)
    return ET.tostring(root, encoding="unicode", short_empty_elements=True)
