"""``make demo`` keeps working: the whole scene plays against the simulator."""

from __future__ import annotations

from bot.config import load_settings
from bot.demo import play
from tests.conftest import EXAMPLE


async def test_the_demo_plays_the_whole_scene():
    said: list[str] = []
    assert await play(load_settings(EXAMPLE), said.append) == 0
    transcript = "".join(said)
    for line in (
        "Bot -> Alice: Votre rendez-vous est confirmé ✅",
        "Bot -> Claire: 📥 Nouvelle demande · Cabinet dentaire Dupont",
        "Bot -> Bob (edited): Booked ✅ Relaxing massage",
        "Bot -> Dr Dupont: 📋 Cabinet dentaire Dupont · résumé",
        "Bot -> Alice: ⏰ Rappel : Détartrage",
        "Bot -> Claire: ☀️ Bonjour !",
    ):
        assert line in transcript, line
