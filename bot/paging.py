"""Long lists shown a page at a time: a picker's buttons, a text's names.

Telegram takes 4096 characters a message and about a hundred buttons a keyboard: an office
serving hundreds of businesses cannot list them all at once. A picker shows a page of them
with buttons to turn it; a text names the first few and says how many more there are.

Pure: the handlers give the labels and say what each button carries (a route of
bot.callbacks; a turn's button carries the page it shows).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar

__all__ = ["NAMED", "PAGE_SIZE", "Page", "TurnLabels", "page_of", "picker_rows", "shortened"]

T = TypeVar("T")

# Choices a picker shows at once: a phone's screen of buttons.
PAGE_SIZE = 8
# Names a text lists before it says how many more there are.
NAMED = 8

Row = list[tuple[str, str]]


@dataclass(frozen=True)
class Page(Generic[T]):
    """Page ``number`` (from 0) of ``count`` (at least one, even for no items)."""

    items: tuple[T, ...]
    number: int
    count: int

    @property
    def previous(self) -> int | None:
        return self.number - 1 if self.number > 0 else None

    @property
    def next(self) -> int | None:
        return self.number + 1 if self.number + 1 < self.count else None


def page_of(items: Sequence[T], number: int, size: int = PAGE_SIZE) -> Page[T]:
    """Page ``number`` of ``items``. A number past the end shows the last page: the list may
    have shrunk (config reloaded) since the button was made."""
    if size < 1:
        raise ValueError(f"a page holds at least one item, not {size}")
    count = max(1, -(-len(items) // size))
    number = min(max(number, 0), count - 1)
    return Page(tuple(items[number * size : (number + 1) * size]), number, count)


@dataclass(frozen=True)
class TurnLabels:
    """The labels of the buttons that turn a page, in the reader's language; ``position``
    is a template naming ``{page}`` and ``{pages}`` (counted from 1)."""

    previous: str
    position: str
    next: str


def picker_rows(
    choices: Sequence[tuple[str, str]],
    number: int,
    turn: Callable[[int], str],
    labels: TurnLabels,
    size: int = PAGE_SIZE,
) -> list[Row]:
    """A picker's rows for page ``number``: one (label, data) choice a row, as a list of
    choices always showed, then, when there is more than one page, a row to turn it.

    ``turn(n)`` is the data of a button showing page ``n``. The position between the
    arrows shows the page again when tapped (every inline button must send something).
    """
    page = page_of(choices, number, size)
    rows: list[Row] = [[choice] for choice in page.items]
    if page.count == 1:
        return rows
    position = labels.position.format(page=page.number + 1, pages=page.count)
    turns: Row = []
    if page.previous is not None:
        turns.append((labels.previous, turn(page.previous)))
    turns.append((position, turn(page.number)))
    if page.next is not None:
        turns.append((labels.next, turn(page.next)))
    rows.append(turns)
    return rows


def shortened(names: Sequence[str], named: int = NAMED) -> tuple[tuple[str, ...], int]:
    """The first ``named`` names, and how many others there are (0 when all are shown).

    One more than ``named`` is shown whole: "and 1 other" says no less than its name.
    """
    if len(names) <= named + 1:
        return tuple(names), 0
    return tuple(names[:named]), len(names) - named
