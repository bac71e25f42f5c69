"""bot.paging: long lists a page at a time, pure."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.paging import PAGE_SIZE, Page, TurnLabels, page_of, picker_rows, shortened

LABELS = TurnLabels(previous="◀", position="page {page}/{pages}", next="▶")


def choices(count: int) -> list[tuple[str, str]]:
    return [(f"Cabinet {n}", f"pick:{n}") for n in range(1, count + 1)]


def turn(number: int) -> str:
    return f"turn:{number}"


def test_a_list_is_cut_into_pages_of_the_size_asked() -> None:
    assert page_of(range(20), 0, 8) == Page(tuple(range(8)), 0, 3)
    assert page_of(range(20), 2, 8) == Page((16, 17, 18, 19), 2, 3)
    assert page_of(range(16), 1, 8).items == tuple(range(8, 16))


def test_an_empty_list_is_one_empty_page() -> None:
    assert page_of([], 0) == Page((), 0, 1)
    assert page_of([], 5) == Page((), 0, 1)


def test_a_page_out_of_range_shows_the_nearest_one() -> None:
    # The list may have shrunk since the button was made: its last page, not nothing.
    assert page_of(range(20), 7, 8) == Page((16, 17, 18, 19), 2, 3)
    assert page_of(range(20), -1, 8).number == 0


def test_a_page_knows_its_neighbours() -> None:
    assert (page_of(range(20), 0, 8).previous, page_of(range(20), 0, 8).next) == (None, 1)
    assert (page_of(range(20), 1, 8).previous, page_of(range(20), 1, 8).next) == (0, 2)
    assert (page_of(range(20), 2, 8).previous, page_of(range(20), 2, 8).next) == (1, None)


def test_a_page_holds_something() -> None:
    with pytest.raises(ValueError):
        page_of(range(3), 0, 0)


def test_a_picker_of_one_page_is_one_choice_a_row_and_no_turns() -> None:
    assert picker_rows(choices(3), 0, turn, LABELS) == [
        [("Cabinet 1", "pick:1")],
        [("Cabinet 2", "pick:2")],
        [("Cabinet 3", "pick:3")],
    ]
    assert len(picker_rows(choices(PAGE_SIZE), 0, turn, LABELS)) == PAGE_SIZE


def test_a_long_picker_shows_a_page_and_the_row_that_turns_it() -> None:
    first = picker_rows(choices(500), 0, turn, LABELS)
    assert first[:2] == [[("Cabinet 1", "pick:1")], [("Cabinet 2", "pick:2")]]
    assert len(first) == PAGE_SIZE + 1
    assert first[-1] == [("page 1/63", "turn:0"), ("▶", "turn:1")]

    middle = picker_rows(choices(500), 54, turn, LABELS)
    assert middle[0] == [("Cabinet 433", "pick:433")]
    assert middle[-1] == [("◀", "turn:53"), ("page 55/63", "turn:54"), ("▶", "turn:55")]

    last = picker_rows(choices(500), 62, turn, LABELS)
    assert [row[0][0] for row in last[:-1]] == [f"Cabinet {n}" for n in range(497, 501)]
    assert last[-1] == [("◀", "turn:61"), ("page 63/63", "turn:62")]


@given(st.integers(0, 1200), st.integers(-3, 200))
def test_every_picker_stays_well_inside_telegrams_keyboard(count: int, number: int) -> None:
    rows = picker_rows(choices(count), number, turn, LABELS)
    assert sum(len(row) for row in rows) <= PAGE_SIZE + 3
    picked = [data for row in rows for _, data in row if data.startswith("pick:")]
    assert (0 < len(picked) <= PAGE_SIZE) if count else picked == []


@given(st.integers(1, 1200))
def test_turning_page_after_page_shows_every_choice_once(count: int) -> None:
    seen: list[str] = []
    number: int | None = 0
    while number is not None:
        rows = picker_rows(choices(count), number, turn, LABELS)
        seen += [data for row in rows for _, data in row if data.startswith("pick:")]
        turns = dict(rows[-1]) if len(rows) > PAGE_SIZE else {}
        number = int(turns["▶"].removeprefix("turn:")) if "▶" in turns else None
    assert seen == [f"pick:{n}" for n in range(1, count + 1)]


def test_a_text_names_the_first_few_and_counts_the_others() -> None:
    names = [f"cabinet-{n}" for n in range(1, 501)]
    assert shortened(names) == (tuple(names[:8]), 492)
    assert shortened(names[:3]) == (tuple(names[:3]), 0)
    # One more than shown is named: "and 1 more" would say no less.
    assert shortened(names[:9]) == (tuple(names[:9]), 0)
    assert shortened(names[:10]) == (tuple(names[:8]), 2)
    assert shortened([]) == ((), 0)
