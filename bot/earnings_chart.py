"""The earnings chart: a PNG of stacked bars, one colour per business, one bar per month.

Drawn with matplotlib's object API on the Agg canvas: no pyplot, no global figure state, no
display, so it is safe to run in a worker thread while the bot goes on.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Sequence
from dataclasses import dataclass

# matplotlib is imported where the chart is drawn: at module level it would cost every start
# of the bot half a second for a chart few starts draw.

_SIZE = (9, 4.8)  # inches; at 100 dpi a phone shows it whole in portrait and landscape
_DPI = 100


@dataclass(frozen=True)
class Series:
    name: str
    cents: Sequence[int]  # one value per month, oldest first


def render_chart(
    *,
    months: Sequence[str],
    series: Sequence[Series],
    last_year: Sequence[int | None],
    title: str,
    last_year_label: str,
    money: Callable[[float], str],
) -> bytes:
    """Stacked bars of ``series`` over ``months``; a dash marks last year's month when known.

    ``money`` labels the axis from an amount in euros.
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.ticker import FuncFormatter

    figure = Figure(figsize=_SIZE, dpi=_DPI, layout="constrained")
    FigureCanvasAgg(figure)
    axes = figure.add_subplot()
    positions = range(len(months))
    bottom = [0.0] * len(months)
    for one in series:
        euros = [value / 100 for value in one.cents]
        axes.bar(positions, euros, bottom=bottom, label=one.name, width=0.7)
        bottom = [below + value for below, value in zip(bottom, euros, strict=True)]
    known = [(x, value / 100) for x, value in zip(positions, last_year, strict=True) if value]
    if known:
        axes.scatter(
            [x for x, _ in known],
            [value for _, value in known],
            marker="_",
            s=500,
            linewidths=2.5,
            color="black",
            zorder=3,
            label=last_year_label,
        )
    axes.set_xticks(list(positions), list(months), fontsize=8)
    axes.yaxis.set_major_formatter(FuncFormatter(lambda value, _: money(value)))
    axes.set_title(title)
    axes.grid(axis="y", alpha=0.3)
    axes.set_axisbelow(True)
    if series or known:
        axes.legend(fontsize=8, loc="upper left")
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    return buffer.getvalue()
