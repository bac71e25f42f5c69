"""The week PNG: a valid image of the size a phone shows unscaled, whatever it is given."""

from __future__ import annotations

import struct

import pytest

from bot.agenda_image import (
    HEIGHT_PX,
    WIDTH_PX,
    Day,
    Entry,
    Kind,
    Legend,
    hour_span,
    render_week,
)

LEGEND = Legend(pending="En attente", blocked="Bloqué", closed="Fermé")
PRACTITIONERS = ["Dr Dupont", "Dr Martin"]
OPEN = ((8.5, 12.5), (14.0, 19.0))


def png_size(data: bytes) -> tuple[int, int]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    assert data[12:16] == b"IHDR"
    return struct.unpack(">II", data[16:24])


def test_a_busy_week_is_a_png_of_the_expected_size():
    days = [Day(f"jour {n}", OPEN) for n in range(5)]
    entries = [
        Entry(0, 9, 9.5, "09:00\nDurand", Kind.CONFIRMED, "Dr Dupont"),
        Entry(0, 9, 9.5, "09:00\nMartin-Lefèvre de la Tour", Kind.PENDING, "Dr Martin"),
        Entry(1, 10, 12, "Bloqué\nformation", Kind.BLOCKED, None),
        Entry(2, 14, 14.25, "14:00\nLeroy", Kind.NO_SHOW, "Dr Dupont"),
        Entry(3, 15, 16, "15:00\nDubois", Kind.DONE, "Dr Martin"),
        Entry(4, 0, 24, "Bloqué", Kind.BLOCKED, "Dr Martin"),  # cut to the opening hours
        Entry(4, 9, 10, "09:00\nAncien praticien", Kind.CONFIRMED, "Dr Parti"),
    ]
    data = render_week("Cabinet · semaine du 11 janvier", days, entries, PRACTITIONERS, LEGEND)
    assert png_size(data) == (WIDTH_PX, HEIGHT_PX)


def test_an_empty_or_closed_week_still_draws():
    data = render_week("Vide", [Day("lun.", ())], [], ["Léa"], LEGEND)
    assert png_size(data) == (WIDTH_PX, HEIGHT_PX)
    with pytest.raises(ValueError):
        render_week("Rien", [], [], ["Léa"], LEGEND)


@pytest.mark.parametrize(
    ("days", "entries", "span"),
    [
        ([Day("a", OPEN)], [], (8, 19)),
        ([Day("a", ((9.0, 17.5),))], [Entry(0, 0, 24, "x", Kind.BLOCKED)], (9, 18)),
        ([Day("a", ())], [Entry(0, 7.25, 8, "x", Kind.CONFIRMED, "Léa")], (7, 8)),
        ([Day("a", ())], [], (8, 19)),
    ],
)
def test_the_hours_shown_follow_the_opening_hours(days, entries, span):
    assert hour_span(days, entries) == span
