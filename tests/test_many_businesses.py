"""An office of 500 businesses, end to end: every message listing them fits in Telegram, and
every picker of them shows a page at a time.

The config is the example's first business copied 500 times (``cabinet-1`` ... ``cabinet-500``,
all managed by one employer). The clock stands on Monday 11 January 2027, 09:00 in Paris.
"""

from __future__ import annotations

import copy
from typing import Any

import pytest

from bot.simulator import SimMessage, SimUser
from handlers.common import telegram_length
from storage.appointments import Source, Status

BUSINESSES = 500
PAGES = 63  # of eight businesses: the last one holds four
CLAIRE = 111111111  # the secretary
DUPONT = 222222222  # the employer of every business
LATE = 437  # on page 55


@pytest.fixture
def config_data(config_data: dict[str, Any]) -> dict[str, Any]:
    template = config_data["businesses"][0]
    config_data["businesses"] = [
        copy.deepcopy(template)
        | {"slug": f"cabinet-{number}", "name": f"Cabinet {number}", "employers": [DUPONT]}
        for number in range(1, BUSINESSES + 1)
    ]
    return config_data


@pytest.fixture
def claire(tg):
    return tg.user(CLAIRE, "Claire", language="fr")


def labels(message: SimMessage) -> list[str]:
    return [label for row in message.buttons for label in row]


def position(message: SimMessage) -> str:
    """The page a picker shows: ``page 1/63``."""
    return next(label for label in labels(message) if label.startswith("page "))


def names(first: int, last: int) -> list[str]:
    return [f"Cabinet {number}" for number in range(first, last + 1)]


async def browse_and_pick(user: SimUser, picker: SimMessage, number: int) -> None:
    """Check the picker's first page, turn to its last, come back to ``number`` and tap it.

    Every turn edits the picker in place.
    """
    assert [row[0] for row in picker.buttons[:8]] == names(1, 8)
    assert picker.buttons[8] == [f"page 1/{PAGES}", "▶"]
    shown = len(user.messages)
    while position(picker) != f"page {PAGES}/{PAGES}":
        await user.tap("▶", in_message=picker)
    assert [row[0] for row in picker.buttons[:4]] == names(497, 500)
    assert picker.buttons[4] == ["◀", f"page {PAGES}/{PAGES}"]
    target = f"page {(number - 1) // 8 + 1}/{PAGES}"
    while position(picker) != target:
        await user.tap("◀", in_message=picker)
    assert picker.buttons[(number - 1) % 8] == [f"Cabinet {number}"]
    assert len(user.messages) == shown, "a turn edits the picker, it sends nothing"
    await user.tap(f"Cabinet {number}", in_message=picker)


async def test_the_secretary_s_welcome_names_a_few_and_counts_the_rest(bot, tg, claire):
    await claire.send("/start")
    welcome = claire.last.text
    assert welcome.startswith(
        "Bonjour Claire. Les demandes de rendez-vous de Cabinet 1, Cabinet 2, Cabinet 3, "
        "Cabinet 4, Cabinet 5, Cabinet 6, Cabinet 7, Cabinet 8 et 492 autres arrivent ici"
    )
    assert "/rdv" in welcome  # her commands follow
    assert telegram_length(welcome) <= 4096


async def test_the_employer_s_welcome_names_a_few_and_counts_the_rest(bot, tg):
    paul = tg.user(DUPONT, "Paul", language="fr")
    await paul.send("/start")
    assert paul.last.text == (
        "Bonjour Paul. Vous recevrez ici le résumé quotidien de Cabinet 1, Cabinet 2, "
        "Cabinet 3, Cabinet 4, Cabinet 5, Cabinet 6, Cabinet 7, Cabinet 8 et 492 autres."
    )
    await paul.send("/journal n'importe")
    assert paul.last.text.endswith("cabinet-7, cabinet-8 et 492 autres")


@pytest.mark.parametrize(
    "command",
    [
        "/qr",
        "/ics",
        "/agenda n'importe quand",
        "/bloquer",
        '/mission cabinet-x appel "Rappeler"',
        "/missions cabinet-x",
        "/releve cabinet-x",
    ],
)
async def test_a_usage_text_lists_the_first_slugs_and_counts_the_rest(bot, tg, claire, command):
    await claire.send(command)
    text = claire.last.text
    assert "cabinet-1, cabinet-2, cabinet-3" in text
    assert "cabinet-8 et 492 autres" in text
    assert "cabinet-9," not in text
    assert telegram_length(text) <= 4096


async def test_a_patient_picks_the_437th_business_from_the_pages(bot, tg, store):
    alice = tg.user(5001, "Alice", language="fr")
    await alice.send("/start")
    picker = alice.last
    assert picker.text == "Pour quel établissement souhaitez-vous un rendez-vous ?"
    # Its position shows the same page again: nothing changes, nothing breaks.
    await alice.tap(f"page 1/{PAGES}", in_message=picker)
    assert position(picker) == f"page 1/{PAGES}"
    await browse_and_pick(alice, picker, LATE)
    assert alice.last.text.startswith("Bonjour Alice ! Je suis l'assistant de Cabinet 437.")
    assert (await store.people.get(5001)).business_id == store.business_ids["cabinet-437"]


async def test_rdv_books_a_caller_at_the_437th_business(bot, tg, store, claire):
    await claire.send("/rdv Mme Durand 06 12 34 56 78 détartrage mardi 10h")
    picker = claire.last
    assert picker.text == "Pour quel établissement ?"
    await browse_and_pick(claire, picker, LATE)
    offer = claire.last
    assert offer.text.splitlines()[0] == "📞 Mme Durand · +33 6 12 34 56 78"
    await claire.tap("10:00", in_message=offer)
    assert claire.last.text.splitlines()[0] == "✅ Rendez-vous confirmé · Cabinet 437"
    (appointment,) = await store.appointments.between(
        store.business_ids["cabinet-437"], tg.now(), tg.now().replace(year=2028)
    )
    assert (appointment.status, appointment.source) == (Status.CONFIRMED, Source.PHONE)
    assert appointment.caller_name == "Mme Durand"


async def test_appel_takes_a_call_for_the_437th_business(bot, tg, claire):
    await claire.send("/appel")
    picker = claire.last
    assert picker.text == "Pour quel établissement ?"
    await browse_and_pick(claire, picker, LATE)
    assert claire.last.text.startswith("Cabinet 437 · appelant : ? · ?")


async def test_the_week_of_the_437th_business_from_the_agenda_s_pages(bot, tg, claire):
    await claire.send("/agenda semaine")
    picker = claire.last
    assert picker.text == "L'agenda de la semaine de quel établissement ?"
    await browse_and_pick(claire, picker, LATE)
    await tg.settle()
    week = claire.last
    assert week.photo is not None
    assert week.photo[0] == "agenda-cabinet-437-2027-01-11.png"
    assert "Cabinet 437" in week.caption


async def test_an_employer_of_them_all_turns_the_pages_of_their_own(bot, tg):
    paul = tg.user(DUPONT, "Paul", language="fr")
    await paul.send("/agenda semaine")
    picker = paul.last
    await browse_and_pick(paul, picker, LATE)
    await tg.settle()
    assert paul.last.photo[0] == "agenda-cabinet-437-2027-01-11.png"


async def test_a_mission_for_the_437th_business(bot, tg, claire):
    await claire.send("/mission")
    picker = claire.last
    assert picker.text == "Pour quelle entreprise est cette mission ?"
    assert picker.buttons[-1] == ["Annuler"]
    await browse_and_pick(claire, picker, LATE)
    assert claire.last.text == "Mission pour Cabinet 437. De quel type ?"


async def test_a_mail_merge_to_the_patients_of_the_437th_business(bot, tg, claire):
    await claire.send("/publipostage")
    picker = claire.last
    assert picker.text == "Publipostage : aux patients de quelle entreprise ?"
    assert picker.buttons[-1] == ["Annuler"]
    await browse_and_pick(claire, picker, LATE)
    assert claire.last.text == "Publipostage pour Cabinet 437. À qui écrire ?"


async def test_the_statement_of_the_437th_business(bot, tg, claire):
    await claire.send("/releve")
    picker = claire.last
    assert picker.text == "Le relevé de quelle entreprise ?"
    await browse_and_pick(claire, picker, LATE)
    assert claire.last.text.splitlines()[0] == "🧾 Relevé · Cabinet 437 · janvier 2027"
