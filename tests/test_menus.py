"""The command menus each audience sees, set when the bot starts."""

from __future__ import annotations

CLAIRE = 111111111
DUPONT = 222222222


def names(commands) -> list[str]:
    return [command["command"] for command in commands]


async def test_each_audience_gets_its_own_menu_in_its_language(tg, settings, store, clock):
    from tests.conftest import running_bot

    tg.user(CLAIRE, "Claire", language="fr")
    tg.user(DUPONT, "Dr Dupont", language="fr")
    async with running_bot(settings, store, clock, tg):
        private = {"type": "all_private_chats"}
        assert tg.commands(private) == [
            {"command": "start", "description": "Choisir un cabinet et prendre rendez-vous"},
            {"command": "langue", "description": "Changer de langue"},
        ]
        assert tg.commands(private, "en")[0]["description"] == "Choose a practice and book"
        secretary = names(tg.commands({"type": "chat", "chat_id": CLAIRE}))
        assert secretary[:4] == ["demandes", "agenda", "rdv", "appel"]
        assert "publipostage" in secretary
        assert names(tg.commands({"type": "chat", "chat_id": DUPONT})) == ["resume", "agenda"]
