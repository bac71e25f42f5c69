"""A business's week as a PNG a phone shows well: days as columns, hours as rows.

Pure: it draws what it is given (labels already in the reader's language) and knows nothing
of the store or Telegram. It draws with Pillow, straight onto the pixels: a grid of boxes
needs no plotting library, and matplotlib took half a second of the GIL for it.

Each practitioner has a lane of every day column and a colour of their own; a pending request
is hatched, blocked time is grey, hours the business is closed are shaded.
"""

from __future__ import annotations

import importlib.util
import io
import math
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from functools import cache
from pathlib import Path

# Pillow is imported where the week is drawn, not here: most starts never draw a week.

# Portrait, within the 1280 px Telegram keeps of a photo's longest side: shown full width on a
# phone, with no downscaling that would blur the text.
WIDTH_PX = 1024
HEIGHT_PX = 1280
DPI = 128

# Where the grid sits, in fractions of the image: room for the title and the day names above,
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
_FRAME = "#555555"
_TEXT_PT = 9.0
_LINE_PX = _TEXT_PT * DPI / 72 * 1.25
# A day with nothing open and nothing booked still shows this span of hours.
_DEFAULT_HOURS = (8.0, 19.0)
# The fonts matplotlib ships (a dependency of the earnings chart), found without importing it.
_FONTS = ("DejaVuSans.ttf", "DejaVuSans-Bold.ttf")


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


@dataclass(frozen=True)
class _Grid:
    """Hours and days to pixels."""

    first: int
    last: int
    days: int
    left: float = _LEFT * WIDTH_PX
    right: float = _RIGHT * WIDTH_PX
    top: float = (1 - _TOP) * HEIGHT_PX
    bottom: float = (1 - _BOTTOM) * HEIGHT_PX

    def y(self, hour: float) -> float:
        return self.top + (hour - self.first) * (self.bottom - self.top) / (self.last - self.first)

    def x(self, day: float) -> float:
        return self.left + day * (self.right - self.left) / self.days


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
    from PIL import Image, ImageDraw

    first, last = hour_span(days, entries)
    grid = _Grid(first, last, len(days))
    image = Image.new("RGB", (WIDTH_PX, HEIGHT_PX), "white")
    draw = ImageDraw.Draw(image)
    draw.rectangle((grid.left, grid.top, grid.right, grid.bottom), fill=_CLOSED)
    for index, day in enumerate(days):
        for opens, closes in day.open:
            top, bottom = grid.y(max(opens, first)), grid.y(min(closes, last))
            draw.rectangle((grid.x(index), top, grid.x(index + 1), bottom), fill="white")
    _lines(draw, grid, practitioners)
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
        _draw_entry(image, draw, grid, entry, practitioners, (left, width, start, end))
    _frame(draw, grid, days)
    draw.text((0.015 * WIDTH_PX, 0.025 * HEIGHT_PX), title, fill="black", font=_font(14, True))
    _legend(draw, practitioners, legend)
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", compress_level=1)
    return buffer.getvalue()


def _lines(draw, grid: _Grid, practitioners: Sequence[str]) -> None:
    """Hours, dotted half hours, the lanes of the practitioners in each day."""
    for hour in range(grid.first, grid.last + 1):
        draw.line((grid.left, grid.y(hour), grid.right, grid.y(hour)), fill=_GRID, width=1)
        if hour < grid.last:
            y = grid.y(hour + 0.5)
            x = grid.left
            while x < grid.right:
                draw.line((x, y, min(x + 2, grid.right), y), fill=_GRID, width=1)
                x += 5
    lanes = len(practitioners)
    for index in range(grid.days):
        for lane in range(1, lanes):
            x = grid.x(index + lane / lanes)
            draw.line((x, grid.top, x, grid.bottom), fill=_GRID, width=1)


def _frame(draw, grid: _Grid, days: Sequence[Day]) -> None:
    """Day columns, their names above, the hours on the left."""
    for index in range(grid.days + 1):
        x = grid.x(index)
        draw.line((x, grid.top, x, grid.bottom), fill=_FRAME, width=2)
    draw.rectangle((grid.left, grid.top, grid.right, grid.bottom), outline=_FRAME, width=1)
    bold, small = _font(10, True), _font(9, False)
    for index, day in enumerate(days):
        centre = (grid.x(index) + grid.x(index + 1)) / 2
        shown = _fitted(_two_lines(day.label), bold, grid.x(1) - grid.x(0) - 4)
        draw.multiline_text(
            (centre, grid.top - 6), shown, fill="black", font=bold, anchor="md", align="center"
        )
    for hour in range(grid.first, grid.last + 1):
        draw.text(
            (grid.left - 6, grid.y(hour)), f"{hour:02d}:00", fill="black", font=small, anchor="rm"
        )


def _draw_entry(image, draw, grid: _Grid, entry: Entry, practitioners, place) -> None:
    """``place``: left, width (in days), start, end (in hours)."""
    left, width, start, end = place
    colour = (
        _BLOCKED
        if entry.kind == Kind.BLOCKED or entry.practitioner not in practitioners
        else colour_of(practitioners, entry.practitioner)
    )
    pad = 0.02 * width
    box = (
        round(grid.x(left + pad)),
        round(grid.y(start + 0.01)),
        round(grid.x(left + width - pad)),
        round(grid.y(end - 0.01)),
    )
    text_colour = _readable_on(colour)
    if entry.kind == Kind.PENDING:
        # Hatched over a pale tint: still the practitioner's colour, plainly not settled.
        draw.rectangle(box, fill=_hex(_tint(colour)), outline=colour, width=2)
        _hatch(image, box, colour)
        text_colour = "black"
    elif entry.kind == Kind.NO_SHOW:
        draw.rectangle(box, fill="white")
        _dashed(draw, box, colour)
        text_colour = "black"
    else:
        draw.rectangle(box, fill=colour, outline=colour, width=2)
    lines = entry.label.split("\n", 1)
    if box[3] - box[1] < 2 * _LINE_PX:
        # Room for one line: the name, as the row already tells the time.
        lines = lines[-1:]
    font = _font(_TEXT_PT, entry.kind != Kind.NO_SHOW)
    room = box[2] - box[0] - 2 * (grid.x(pad) - grid.x(0)) - 4
    y = box[1] + 3
    for line in lines:
        # Cut at the box's edge rather than spilling over the neighbours.
        if y + _LINE_PX * 0.8 > box[3] and line is not lines[0]:
            break
        shown = _fitted(line, font, room)
        draw.text((box[0] + 4, y), shown, fill=text_colour, font=font)
        y += _LINE_PX * 0.9


def _hatch(image, box: tuple[int, int, int, int], colour: str) -> None:
    """Diagonal lines across the box, drawn on its own piece so they stop at its edges."""
    from PIL import ImageDraw

    width, height = box[2] - box[0] - 3, box[3] - box[1] - 3
    if width <= 0 or height <= 0:
        return
    piece = image.crop((box[0] + 2, box[1] + 2, box[0] + 2 + width, box[1] + 2 + height))
    pen = ImageDraw.Draw(piece)
    for offset in range(-height, width, 9):
        pen.line((offset, height, offset + height, 0), fill=colour, width=1)
    image.paste(piece, (box[0] + 2, box[1] + 2))


def _dashed(draw, box: tuple[int, int, int, int], colour: str) -> None:
    left, top, right, bottom = box
    for x in range(left, right, 8):
        draw.line((x, top, min(x + 4, right), top), fill=colour, width=2)
        draw.line((x, bottom, min(x + 4, right), bottom), fill=colour, width=2)
    for y in range(top, bottom, 8):
        draw.line((left, y, left, min(y + 4, bottom)), fill=colour, width=2)
        draw.line((right, y, right, min(y + 4, bottom)), fill=colour, width=2)


def _legend(draw, practitioners: Sequence[str], legend: Legend) -> None:
    """Each practitioner's colour, then pending, blocked and closed, in rows of four."""
    items = [(colour_of(practitioners, name), "fill", name) for name in practitioners]
    items += [
        ("white", "hatch", legend.pending),
        (_BLOCKED, "fill", legend.blocked),
        (_CLOSED, "closed", legend.closed),
    ]
    font = _font(9.5, False)
    columns = min(len(items), 4)
    cell = (WIDTH_PX - 40) / columns
    rows = math.ceil(len(items) / columns)
    top = HEIGHT_PX - 12 - rows * 24
    for number, (colour, style, label) in enumerate(items):
        row, column = divmod(number, columns)
        x, y = 20 + column * cell, top + row * 24
        swatch = (round(x), round(y + 4), round(x + 28), round(y + 18))
        outline = _GRID if style == "closed" else _FRAME if style == "hatch" else None
        draw.rectangle(swatch, fill=colour, outline=outline)
        if style == "hatch":
            for offset in range(0, 28, 7):
                draw.line((x + offset, y + 18, x + offset + 7, y + 4), fill=_FRAME, width=1)
        draw.text(
            (x + 36, y + 11), _fitted(label, font, cell - 44), fill="black", font=font, anchor="lm"
        )


def _fitted(text: str, font, room: float) -> str:
    """Each line of ``text`` as long as fits in ``room`` pixels, cut with an ellipsis."""
    shown = []
    for line in text.split("\n"):
        if font.getlength(line) > room:
            # The longest prefix that fits with its ellipsis, found in a few measures.
            fits, over = 0, len(line)
            while over - fits > 1:
                middle = (fits + over) // 2
                if font.getlength(line[:middle] + "…") <= room:
                    fits = middle
                else:
                    over = middle
            line = line[:fits] + "…"
        shown.append(line)
    return "\n".join(shown)


@cache
def _font(points: float, bold: bool):
    from PIL import ImageFont

    size = round(points * DPI / 72)
    spec = importlib.util.find_spec("matplotlib")
    if spec is not None and spec.submodule_search_locations:
        path = Path(spec.submodule_search_locations[0], "mpl-data", "fonts", "ttf", _FONTS[bold])
        if path.is_file():
            return ImageFont.truetype(str(path), size)
    return ImageFont.load_default(size)


def _rgb(colour: str) -> tuple[float, float, float]:
    value = colour.lstrip("#")
    return tuple(int(value[i : i + 2], 16) / 255 for i in (0, 2, 4))


def _hex(rgb: tuple[float, float, float]) -> str:
    return "#" + "".join(f"{round(channel * 255):02x}" for channel in rgb)


def _tint(colour: str) -> tuple[float, float, float]:
    red, green, blue = _rgb(colour)
    return (0.75 + 0.25 * red, 0.75 + 0.25 * green, 0.75 + 0.25 * blue)


def _readable_on(colour: str) -> str:
    red, green, blue = _rgb(colour)
    luminance = 0.2126 * red + 0.7152 * green + 0.0722 * blue
    return "black" if luminance > 0.55 else "white"


def _two_lines(label: str) -> str:
    """``lun. 11 janv.`` -> ``lun.`` over ``11 janv.``: narrow columns stay legible."""
    first, _, rest = label.partition(" ")
    return f"{first}\n{rest}" if rest else first
