"""The office cancels or moves any appointment, from the agenda or a patient's card; the
patient is told (with the reason, when she gives one), a phone caller is listed to call.

The clock stands on Monday 11 January 2027, 09:00 in Paris; each test runs in French and in
English (the secretary's and the patient's language).
"""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from storage.appointments import NewAppointment, Source, Status
from tests.conftest import PARIS

CLAIRE = 111111111
DUPONT = 222222222  # the employer of cabinet-dupont

WORDS = {
    "fr": {
        "tomorrow": "demain",
        "move": "🔁 Déplacer",
        "cancel": "❌ Annuler",
        "no_reason": "Sans motif",
        "wednesday": "mer. 13 janv.",
        "cancelled": "Cabinet dentaire Dupont a dû annuler votre rendez-vous : "
        "Détartrage, mardi 12 janvier à 10:00.",
        "reason": "Motif : Le Dr Dupont est souffrant",
        "moved": "il est maintenant mercredi 13 janvier à 10:00, avec Dr Dupont.\n"
        "Il était prévu mardi 12 janvier à 10:00.",
        "done_cancel": "❌ Annulé : Alice Lefèvre",
        "told": "Le patient est prévenu par le bot.",
        "call": "📞 Pas sur Telegram : à prévenir par téléphone, Mme Durand · +33 6 12 34 56 78",
        "summary": "dont par le secrétariat : 1 déplacé(s), 1 annulé(s)",
        "not_allowed": "Cette action est réservée au secrétariat.",
        "ask": "📨 Demander au patient de choisir",
        "asked": "📨 Alice Lefèvre est invité à choisir",
        "patient_ask": "🔁 Cabinet dentaire Dupont doit déplacer votre rendez-vous "
        "(Détartrage, mardi 12 janvier à 10:00). Choisissez un nouveau créneau :",
    },
    "en": {
        "tomorrow": "tomorrow",
        "move": "🔁 Move",
        "cancel": "❌ Cancel",
        "no_reason": "No reason",
        "wednesday": "Wed, Jan 13",
        "cancelled": "Cabinet dentaire Dupont had to cancel your appointment: "
        "Teeth cleaning, Tuesday, January 12 at 10:00.",
        "reason": "Reason: Le Dr Dupont est souffrant",
        "moved": "it is now on Wednesday, January 13 at 10:00, with Dr Dupont.\n"
        "It was on Tuesday, January 12 at 10:00.",
        "done_cancel": "❌ Cancelled: Alice Lefèvre",
        "told": "The patient is told by the bot.",
        "call": "📞 Not on Telegram: to be told by phone, Mme Durand · +33 6 12 34 56 78",
        "summary": "of which by the office: 1 moved, 1 cancelled",
        "not_allowed": "This action is for the office's secretaries only.",
        "ask": "📨 Ask the patient to choose",
        "asked": "📨 Alice Lefèvre is asked to choose",
        "patient_ask": "🔁 Cabinet dentaire Dupont needs to move your appointment "
        "(Teeth cleaning, Tuesday, January 12 at 10:00). Choose a new time:",
    },
}


def paris(*args: int) -> datetime:
    return datetime(*args, tzinfo=PARIS)


@pytest.fixture(params=["fr", "en"])
def language(request) -> str:
    return request.param


@pytest.fixture
def config_data(config_data, language):
    config_data["secretaries"][0]["language"] = language
    return config_data


@pytest.fixture
def words(language):
    return WORDS[language]


@pytest.fixture
def claire(tg, language):
    return tg.user(CLAIRE, "Claire", language=language)


async def book(store, clock, *, start, patient_id=None, caller=None, practitioner="Dr Dupont"):
    dupont = store.business_ids["cabinet-dupont"]
    return await store.appointments.book(
        NewAppointment(
            business_id=dupont,
            practitioner=practitioner,
            service="detartrage",
            starts_at=start,
            ends_at=start + timedelta(minutes=30),
            status=Status.CONFIRMED,
            source=Source.PATIENT if patient_id else Source.PHONE,
            patient_id=patient_id,
            caller_name=caller[0] if caller else None,
            caller_phone=caller[1] if caller else None,
        ),
        now=clock.now(),
    )


@pytest.fixture
async def alice(bot, tg, store, clock, language):
    """Alice Lefèvre, on Telegram, with a confirmed descaling on Tuesday 12 January, 10:00."""
    user = tg.user(5001, "Alice", last_name="Lefèvre", language=language)
    await user.send("/start cabinet-dupont")
    await book(store, clock, start=paris(2027, 1, 12, 10), patient_id=5001)
    return user


async def open_from_agenda(claire, words, label):
    await claire.send(f"/agenda cabinet-dupont {words['tomorrow']}")
    await claire.tap(label)


async def test_the_office_cancels_from_the_agenda_with_a_reason(alice, claire, store, tg, words):
    await open_from_agenda(claire, words, "10:00 Alice Lefèvre")
    assert claire.last.buttons[0] == [words["move"], words["cancel"]]
    await claire.tap(words["cancel"])
    assert claire.last.buttons == [[words["no_reason"]]]
    await claire.send("Le Dr Dupont est souffrant")
    assert claire.last.text.startswith(words["done_cancel"])
    assert claire.last.text.endswith(words["told"])
    assert alice.last.text.splitlines() == ["❌ " + words["cancelled"], words["reason"]]
    (appointment,) = await store.appointments.of_patient(5001, tg.now())
    assert appointment.status == Status.CANCELLED
    last = (await store.appointments.history(appointment.id))[-1]
    assert (last.actor, last.to_status) == (CLAIRE, Status.CANCELLED)
    # The reason went to the patient; the history keeps only that the office cancelled.
    assert "souffrant" not in (last.note or "")


async def test_the_office_cancels_without_a_reason(alice, claire, store, tg, words):
    await open_from_agenda(claire, words, "10:00 Alice Lefèvre")
    await claire.tap(words["cancel"])
    await claire.tap(words["no_reason"])
    assert alice.last.text == "❌ " + words["cancelled"]
    # The typed step is over: her next words are not taken for a reason.
    await claire.send("merci")
    (appointment,) = await store.appointments.of_patient(5001, tg.now())
    assert appointment.status == Status.CANCELLED


async def test_the_office_moves_and_the_patient_is_told(alice, claire, store, tg, words):
    await open_from_agenda(claire, words, "10:00 Alice Lefèvre")
    await claire.tap(words["move"])
    await claire.tap(words["wednesday"])
    await claire.tap("10:00")
    assert claire.last.text.endswith(words["told"])
    assert words["moved"] in alice.last.text
    (appointment,) = await store.appointments.of_patient(5001, tg.now())
    assert appointment.status == Status.CONFIRMED
    assert appointment.starts_at == paris(2027, 1, 13, 10)


async def test_the_office_asks_the_patient_to_choose_and_her_tap_moves_it(
    alice, claire, store, tg, words
):
    await open_from_agenda(claire, words, "10:00 Alice Lefèvre")
    await claire.tap(words["move"])
    await claire.tap(words["ask"])
    assert claire.last.text.startswith(words["asked"])
    assert alice.last.text == words["patient_ask"]
    offered = [label for row in alice.last.buttons for label in row]
    # Each time says its day: none is on the appointment's own day only by its hour.
    assert all("·" in label for label in offered[:-1])
    await alice.tap(offered[0])
    (appointment,) = await store.appointments.of_patient(5001, tg.now())
    assert appointment.starts_at != paris(2027, 1, 12, 10)
    assert appointment.practitioner == "Dr Dupont"
    assert appointment.status == Status.REQUESTED  # the practice confirms patients' moves


async def test_a_phone_caller_is_listed_to_call(bot, claire, store, clock, tg, words):
    booked = await book(
        store, clock, start=paris(2027, 1, 12, 9), caller=("Mme Durand", "+33 6 12 34 56 78")
    )
    await open_from_agenda(claire, words, "09:00 📞 Mme Durand")
    await claire.tap(words["cancel"])
    await claire.tap(words["no_reason"])
    assert claire.last.text.endswith(words["call"])
    assert (await store.appointments.get(booked.id)).status == Status.CANCELLED


async def test_a_patient_or_a_stranger_replaying_the_buttons_changes_nothing(
    alice, claire, store, tg, words
):
    await open_from_agenda(claire, words, "10:00 Alice Lefèvre")
    actions = claire.last
    stranger = tg.user(6666, "Mallory", language="fr")
    employer = tg.user(DUPONT, "Dr Dupont", language="fr")
    for someone in (alice, stranger, employer):
        await someone.tap(words["cancel"], in_message=actions)
        await someone.tap(words["move"], in_message=actions)
        assert someone.answers[-1] == WORDS[someone.language]["not_allowed"]
    await claire.tap(words["move"], in_message=actions)
    await claire.tap(words["wednesday"])
    days = claire.last
    await alice.tap("10:00", in_message=days)
    (appointment,) = await store.appointments.of_patient(5001, tg.now())
    assert (appointment.status, appointment.starts_at) == (Status.CONFIRMED, paris(2027, 1, 12, 10))


async def test_the_employer_s_summary_counts_what_the_office_did(
    alice, claire, store, clock, tg, words
):
    bruno = tg.user(5002, "Bruno", language="fr")
    await bruno.send("/start cabinet-dupont")
    await book(store, clock, start=paris(2027, 1, 12, 11), patient_id=5002)
    await open_from_agenda(claire, words, "10:00 Alice Lefèvre")
    await claire.tap(words["cancel"])
    await claire.tap(words["no_reason"])
    await open_from_agenda(claire, words, "11:00 Bruno")
    await claire.tap(words["move"])
    await claire.tap(words["wednesday"])
    await claire.tap("10:00")
    employer = tg.user(DUPONT, "Dr Dupont", language="fr")
    await employer.send("/resume")
    assert WORDS["fr"]["summary"] in employer.last.text
