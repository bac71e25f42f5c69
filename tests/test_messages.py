"""Long texts cut into messages Telegram accepts: 4096 UTF-16 code units each."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from handlers.common import MESSAGE_LIMIT, split_message, telegram_length, with_outcome


def units(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def test_a_short_text_is_one_message():
    assert split_message("Bonjour\nà demain") == ["Bonjour\nà demain"]


def test_lines_stay_whole_and_emoji_count_twice():
    line = "📞 " + "x" * 97  # 100 characters, 101 UTF-16 units
    parts = split_message("\n".join([line] * 100))
    assert all(units(part) <= MESSAGE_LIMIT for part in parts)
    assert all(part.split("\n")[0] == line for part in parts)
    assert "\n".join(parts) == "\n".join([line] * 100)


def test_a_single_line_longer_than_a_message_is_cut_inside():
    parts = split_message("é" * 5000)
    assert [len(part) for part in parts] == [4096, 904]


@given(st.text(alphabet=st.sampled_from(["a", "é", "📞", "\n", " "]), max_size=12000))
def test_nothing_is_lost_and_every_part_fits(text):
    parts = split_message(text, limit=500)
    assert all(units(part) <= 500 for part in parts)
    assert "".join(parts).replace("\n", "") == text.replace("\n", "")


def test_an_outcome_always_fits_after_the_message_it_ends():
    assert with_outcome("Demande de Alice", "✅ Clos par Claire") == (
        "Demande de Alice\n✅ Clos par Claire"
    )
    edited = with_outcome("😀" * 3000, "✅ Clos par Claire")
    assert telegram_length(edited) <= MESSAGE_LIMIT
    assert edited.endswith("…\n✅ Clos par Claire")
