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
            {"command": "aide", "description": "Ce que je fais pour vous"},
            {"command": "langue", "description": "Changer de langue"},
            {"command": "mesdonnees", "description": "Recevoir toutes vos données"},
            {"command": "oublier", "description": "Effacer vos données"},
        ]
        assert tg.commands(private, "en")[0]["description"] == "Choose a practice and book"
        secretary = names(tg.commands({"type": "chat", "chat_id": CLAIRE}))
        assert secretary[:4] == ["demandes", "agenda", "rdv", "appel"]
        assert "publipostage" in secretary
        assert "aide" in secretary
        employer = names(tg.commands({"type": "chat", "chat_id": DUPONT}))
        assert employer == ["resume", "journal", "agenda", "aide"]


async def test_help_says_what_the_bot_does_for_the_one_asking(bot, tg):
    alice = tg.user(5001, "Alice", language="fr")
    await alice.send("/aide")
    assert alice.last.text.startswith("Je prends vos rendez-vous")
    assert "/langue — Changer de langue" in alice.last.text
    assert "/mesdonnees — Recevoir toutes vos données" in alice.last.text
    assert "/oublier — Effacer vos données" in alice.last.text
    bob = tg.user(5002, "Bob", language="en")
    await bob.send("/help")
    assert bob.last.text.startswith("I book your appointments")
    assert "/language — Change language" in bob.last.text
    assert "/mydata — Get all your data" in bob.last.text
    assert "/forgetme — Erase your data" in bob.last.text
    claire = tg.user(CLAIRE, "Claire", language="fr")
    await claire.send("/aide")
    assert claire.last.text.startswith("Chaque demande arrive ici")
    assert "/publipostage" in claire.last.text
    employer = tg.user(DUPONT, "Dr Dupont", language="fr")
    await employer.send("/help")
    assert employer.last.text.startswith("Chaque soir, le résumé")
    assert "/resume" in employer.last.text and "/demandes" not in employer.last.text


async def test_an_unknown_command_gets_the_reader_s_commands(bot, tg):
    alice = tg.user(5001, "Alice", language="fr")
    await alice.send("/rendezvous")
    assert alice.last.text.startswith("Je ne connais pas cette commande. Voici les vôtres :")
    assert "/start" in alice.last.text


async def test_the_secretary_s_welcome_lists_every_command_of_hers(bot, tg):
    claire = tg.user(CLAIRE, "Claire", language="fr")
    await claire.send("/start")
    for command in (
        "/demandes",
        "/rdv",
        "/mission",
        "/missions",
        "/releve",
        "/gains",
        "/publipostage",
    ):
        assert command in claire.last.text, command
