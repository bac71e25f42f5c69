"""A business's week as a PNG a phone shows well: days as columns, hours as rows.

Pure: it draws what it is given (labels already in the reader's language) and knows nothing
of the store or Telegram. It uses matplotlib's object API with the Agg canvas, never pyplot:
pyplot keeps every figure in a global registry, which a long-running bot would leak.

Each practitioner has a lane of every day column and a colour of their own; a pending request
is hatched, blocked time is grey, hours the business is closed are shaded.
"""

from __future__ import annotations

import io
import math
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

# matplotlib is imported where the week is drawn, not here: half a second of the bot's
# start-up goes to it otherwise, and most starts never draw a week.

# Portrait, within the 1280 px Telegram keeps of a photo's longest side: shown full width on a
# phone, with no downscaling that would blur the text.
WIDTH_PX = 1024
HEIGHT_PX = 1280
DPI = 128

# Where the grid sits, in fractions of the figure: room for the title and the day names above,
# the hours on the left, the legend below.
_LEFT, _RIGHT, _BOTTOM, _TOP = 0.085, 0.99, 0.075, 0.885

_PALETTE = (
    "#1f77b4",  # blue
    "#d62728",  # red
    "#2ca02c",  # green
    "#9467bd",  # purple
    "#ff7f0e",  # orange
    "#8c564b",  # brown
    "#e377c2",  # pink
    "#17becf",  # cyan
)
_BLOCKED = "#8a8a8a"
_CLOSED = "#ececec"
_GRID = "#c8c8c8"
_TEXT_PT = 9.0
_LINE_PX = _TEXT_PT * DPI / 72 * 1.25
# The width of an average bold DejaVu Sans character, in font sizes.
_CHAR_EM = 0.62
# A day with nothing open and nothing booked still shows this span of hours.
_DEFAULT_HOURS = (8.0, 19.0)


class Kind(StrEnum):
    CONFIRMED = "confirmed"
    PENDING = "pending"
    DONE = "done"
    NO_SHOW = "no_show"
    BLOCKED = "blocked"


@dataclass(frozen=True)
class Day:
    label: str  # "lun. 11 janv."
    open: tuple[tuple[float, float], ...]  # opening periods, in hours after local midnight


@dataclass(frozen=True)
class Entry:
    day: int  # index in the days
    start: float  # hours after local midnight
    end: float
    label: str  # "10:00\nDurand": the time, then who; a short box shows the last line only
    kind: Kind
    practitioner: str | None = None  # None: the whole business


@dataclass(frozen=True)
class Legend:
    pending: str
    blocked: str
    closed: str


def colour_of(practitioners: Sequence[str], practitioner: str) -> str:
    return _PALETTE[practitioners.index(practitioner) % len(_PALETTE)]


def hour_span(days: Sequence[Day], entries: Sequence[Entry]) -> tuple[int, int]:
    """Whole hours from the earliest opening to the latest closing of the week.

    Bookings outside them (a block of a whole day) are cut to them, so that the hours the
    business works keep the height; a week with nothing open spans its bookings.
    """
    periods = [period for day in days for period in day.open]
    if not periods:
        periods = [(e.start, e.end) for e in entries if e.kind != Kind.BLOCKED]
    if not periods:
        periods = [_DEFAULT_HOURS]
    first = math.floor(min(start for start, _ in periods))
    last = math.ceil(max(end for _, end in periods))
    return first, max(last, first + 1)


def render_week(
    title: str,
    days: Sequence[Day],
    entries: Sequence[Entry],
    practitioners: Sequence[str],
    legend: Legend,
) -> bytes:
    """The week as PNG bytes, exactly WIDTH_PX x HEIGHT_PX."""
    if not days:
        raise ValueError("a week needs at least one day to show")
    from matplotlib.figure import Figure
    from matplotlib.patches import Patch, Rectangle

    first, last = hour_span(days, entries)
    figure = Figure(figsize=(WIDTH_PX / DPI, HEIGHT_PX / DPI), dpi=DPI)
    axes = figure.add_axes((_LEFT, _BOTTOM, _RIGHT - _LEFT, _TOP - _BOTTOM))
    axes.set_xlim(0, len(days))
    axes.set_ylim(last, first)  # time runs down the page
    axes.set_facecolor(_CLOSED)
    for index, day in enumerate(days):
        for opens, closes in day.open:
            axes.add_patch(
                Rectangle((index, opens), 1, closes - opens, facecolor="white", linewidth=0)
            )
    _grid(axes, days, practitioners, first, last)
    pixels_per_hour = (_TOP - _BOTTOM) * HEIGHT_PX / (last - first)
    pixels_per_day = (_RIGHT - _LEFT) * WIDTH_PX / len(days)
    lanes = max(len(practitioners), 1)
    for entry in sorted(entries, key=lambda e: e.kind != Kind.BLOCKED):
        start, end = max(entry.start, first), min(entry.end, last)
        if end <= start:
            continue
        if entry.practitioner is None or entry.practitioner not in practitioners:
            left, width = entry.day, 1.0
        else:
            lane = practitioners.index(entry.practitioner)
            left, width = entry.day + lane / lanes, 1 / lanes
        _draw_entry(
            axes,
            entry,
            practitioners,
            (left, width, start, end),
            (width * pixels_per_day, (end - start) * pixels_per_hour),
        )

    axes.set_yticks(range(first, last + 1))
    axes.set_yticklabels([f"{hour:02d}:00" for hour in range(first, last + 1)], fontsize=9)
    axes.set_xticks([index + 0.5 for index in range(len(days))])
    axes.set_xticklabels([_two_lines(day.label) for day in days], fontsize=10, fontweight="bold")
    axes.xaxis.tick_top()
    axes.tick_params(length=0)
    for spine in axes.spines.values():
        spine.set_color("#555555")

    figure.text(0.015, 0.975, title, fontsize=14, fontweight="bold", va="top")
    handles = [
        Patch(facecolor=colour_of(practitioners, name), label=name) for name in practitioners
    ]
    handles += [
        Patch(facecolor="white", edgecolor="#555555", hatch="///", label=legend.pending),
        Patch(facecolor=_BLOCKED, label=legend.blocked),
        Patch(facecolor=_CLOSED, edgecolor=_GRID, label=legend.closed),
    ]
    figure.legend(
        handles=handles,
        loc="lower center",
        ncol=min(len(handles), 4),
        fontsize=9.5,
        frameon=False,
        bbox_to_anchor=(0.5, 0.0),
    )
    buffer = io.BytesIO()
    # No bbox_inches="tight": the size must stay the one Telegram shows without scaling.
    figure.savefig(buffer, format="png", dpi=DPI)
    return buffer.getvalue()


def _grid(axes, days: Sequence[Day], practitioners: Sequence[str], first: int, last: int) -> None:
    for hour in range(first, last + 1):
        axes.axhline(hour, color=_GRID, linewidth=0.8, zorder=1)
        if hour < last:
            axes.axhline(hour + 0.5, color=_GRID, linewidth=0.5, linestyle=":", zorder=1)
    lanes = len(practitioners)
    for index in range(len(days) + 1):
        axes.axvline(index, color="#555555", linewidth=1.2, zorder=3)
        if index < len(days):
            for lane in range(1, lanes):
                axes.axvline(index + lane / lanes, color=_GRID, linewidth=0.5, zorder=1)


def _draw_entry(
    axes,
    entry: Entry,
    practitioners: Sequence[str],
    place: tuple[float, float, float, float],
    size_px: tuple[float, float],
) -> None:
    """``place``: left, width (in days), start, end (in hours); ``size_px``: width, height."""
    from matplotlib.patches import Rectangle

    left, width, start, end = place
    width_px, height_px = size_px
    colour = (
        _BLOCKED
        if entry.kind == Kind.BLOCKED or entry.practitioner not in practitioners
        else colour_of(practitioners, entry.practitioner)
    )
    pad = 0.02 * width
    box = Rectangle(
        (left + pad, start + 0.01),
        width - 2 * pad,
        end - start - 0.02,
        facecolor=colour,
        edgecolor=colour,
        linewidth=1.2,
        zorder=4,
    )
    text_colour = _readable_on(colour)
    if entry.kind == Kind.PENDING:
        # Hatched over a pale tint: still the practitioner's colour, plainly not settled.
        box.set_facecolor((*_tint(colour), 1.0))
        box.set_hatch("///")
        text_colour = "black"
    elif entry.kind == Kind.NO_SHOW:
        box.set_facecolor("white")
        box.set_linestyle("--")
        text_colour = "black"
    axes.add_patch(box)
    lines = entry.label.split("\n", 1)
    if height_px < 2 * _LINE_PX:
        # Room for one line: the name, as the row already tells the time.
        lines = lines[-1:]
    fits = max(1, int((width_px - 6) // (_TEXT_PT * DPI / 72 * _CHAR_EM)))
    shown = "\n".join(line if len(line) <= fits else line[: fits - 1] + "…" for line in lines)
    text = axes.text(
        left + 2 * pad,
        start + 0.03,
        shown,
        fontsize=_TEXT_PT,
        color=text_colour,
        va="top",
        ha="left",
        zorder=5,
        linespacing=1.1,
        fontweight="bold" if entry.kind != Kind.NO_SHOW else "normal",
    )
    # Whatever the estimate of the characters' width missed is cut at the box's edge rather
    # than spilling over the neighbours.
    text.set_clip_path(box)
    text.set_clip_on(True)


def _tint(colour: str) -> tuple[float, float, float]:
    from matplotlib.colors import to_rgb

    red, green, blue = to_rgb(colour)
    return (0.75 + 0.25 * red, 0.75 + 0.25 * green, 0.75 + 0.25 * blue)


def _readable_on(colour: str) -> str:
    from matplotlib.colors import to_rgb

    red, green, blue = to_rgb(colour)
    luminance = 0.2126 * red + 0.7152 * green + 0.0722 * blue
    return "black" if luminance > 0.55 else "white"


def _two_lines(label: str) -> str:
    """``lun. 11 janv.`` -> ``lun.`` over ``11 janv.``: narrow columns stay legible."""
    first, _, rest = label.partition(" ")
    return f"{first}\n{rest}" if rest else first
