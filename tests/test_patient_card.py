"""``/patient NAME|PHONE`` (``/chercher``): the secretary finds a patient, accents left out
or with a typo, and reads their card; she notes something, writes to them, moves or cancels
from it. In French and in English.

The clock stands on Monday 11 January 2027, 09:00 in Paris.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from storage.appointments import HOLDING, NewAppointment, Source, Status
from tests.conftest import PARIS

CLAIRE = 111111111

WORDS = {
    "fr": {
        "record": "Absences : 1 · annulations tardives : 1",
        "no_note": "📝 Pas de note.",
        "note": "📝 Note",
        "noted": "📝 Note : Préfère le matin",
        "write": "✉️ Écrire",
        "book": "📅 Réserver",
        "service": "Détartrage",
        "booked": "✅ Réservé et confirmé : Alice Lefèvre",
        "confirmed": "Votre rendez-vous est confirmé",
        "upcoming": "• mardi 12 janvier à 10:00 · Détartrage · Dr Dupont · "
        "Cabinet dentaire Dupont (confirmé)",
        "move": "🔁 mar. 12 janv. 10:00",
        "cancel": "❌ mar. 12 janv. 10:00",
        "wednesday": "mer. 13 janv.",
        "which": "2 patients trouvés : lequel ?",
        "none": "Aucun patient trouvé pour « Zoé ».",
        "signed": "💬 Cabinet dentaire Dupont :\nPensez à votre carte Vitale",
        "sent": "✅ Envoyé à Alice Lefèvre",
        "moved": "il est maintenant mercredi 13 janvier à 10:00",
        "no_reason": "Sans motif",
        "cancelled": "a dû annuler votre rendez-vous",
    },
    "en": {
        "record": "No-shows: 1 · late cancellations: 1",
        "no_note": "📝 No note.",
        "note": "📝 Note",
        "noted": "📝 Note: Préfère le matin",
        "write": "✉️ Write",
        "book": "📅 Book",
        "service": "Teeth cleaning",
        "booked": "✅ Booked and confirmed: Alice Lefèvre",
        "confirmed": "Your appointment is confirmed",
        "upcoming": "• Tuesday, January 12 at 10:00 · Teeth cleaning · Dr Dupont · "
        "Cabinet dentaire Dupont (confirmed)",
        "move": "🔁 Tue, Jan 12 10:00",
        "cancel": "❌ Tue, Jan 12 10:00",
        "wednesday": "Wed, Jan 13",
        "which": "2 patients found: which one?",
        "none": "No patient found for “Zoé”.",
        "signed": "💬 Cabinet dentaire Dupont:\nPensez à votre carte Vitale",
        "sent": "✅ Sent to Alice Lefèvre",
        "moved": "it is now on Wednesday, January 13 at 10:00",
        "no_reason": "No reason",
        "cancelled": "had to cancel your appointment",
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


async def book(store, clock, start, *, patient_id=None, caller=None, status=Status.CONFIRMED):
    new = NewAppointment(
        business_id=store.business_ids["cabinet-dupont"],
        practitioner="Dr Dupont",
        service="detartrage",
        starts_at=start,
        ends_at=start + timedelta(minutes=30),
        status=Status.CONFIRMED,
        source=Source.PATIENT if patient_id else Source.PHONE,
        patient_id=patient_id,
        caller_name=caller[0] if caller else None,
        caller_phone=caller[1] if caller else None,
    )
    booked = await store.appointments.book(new, now=clock.now() - timedelta(days=30))
    if status not in HOLDING:
        booked = await store.appointments.change_status(
            booked.id,
            expected=HOLDING,
            to=status,
            now=clock.now(),
            actor=CLAIRE,
            late=status == Status.CANCELLED,
        )
    return booked


@pytest.fixture
async def alice(bot, tg, store, clock, language):
    """Alice Lefèvre: a descaling tomorrow, one missed, one cancelled late."""
    user = tg.user(5001, "Alice", last_name="Lefèvre", language=language)
    await user.send("/start cabinet-dupont")
    await store.people.set_phone(5001, "+33 6 12 34 56 78")
    await book(store, clock, paris(2027, 1, 12, 10), patient_id=5001)
    await book(store, clock, paris(2027, 1, 4, 10), patient_id=5001, status=Status.NO_SHOW)
    await book(store, clock, paris(2027, 1, 7, 10), patient_id=5001, status=Status.CANCELLED)
    return user


@pytest.mark.parametrize("typed", ["Lefèvre", "Lefevre", "Lefebre", "06 12 34 56 78"])
async def test_the_card_is_found_by_name_or_phone(alice, claire, typed, words):
    await claire.send(f"/patient {typed}")
    lines = claire.last.text.splitlines()
    assert lines[:2] == ["👤 Alice Lefèvre", "Alice Lefèvre · +33 6 12 34 56 78"]
    assert words["upcoming"] in lines
    assert words["record"] in lines
    assert lines[-1] == words["no_note"]
    assert claire.last.buttons == [
        [words["move"], words["cancel"]],
        [words["note"], words["write"], words["book"]],
    ]


async def test_the_note_is_kept_and_shown(alice, claire, store, words):
    await claire.send("/chercher Lefevre")
    await claire.tap(words["note"])
    await claire.send("Préfère le matin")
    assert claire.last.text.splitlines()[-1] == words["noted"]
    await claire.send("/patient alice")
    assert claire.last.text.splitlines()[-1] == words["noted"]
    assert await store.patients.note("patient:5001") == "Préfère le matin"


async def test_several_matches_are_buttons_and_nobody_is_said(alice, claire, tg, words):
    lea = tg.user(5002, "Léa", last_name="Lefort", language="fr")
    await lea.send("/start cabinet-dupont")
    await claire.send("/patient Lef")
    assert claire.last.text == words["which"]
    assert claire.last.buttons == [
        ["Alice Lefèvre · Cabinet dentaire Dupont"],
        ["Léa Lefort · Cabinet dentaire Dupont"],
    ]
    await claire.tap("Léa Lefort · Cabinet dentaire Dupont")
    assert claire.last.text.startswith("👤 Léa Lefort")
    await claire.send("/patient Zoé")
    assert claire.last.text == words["none"]


async def test_writing_from_the_card_reaches_the_patient_and_her_answer_comes_back(
    alice, claire, words
):
    await claire.send("/patient Lefèvre")
    await claire.tap(words["write"])
    await claire.send("Pensez à votre carte Vitale")
    assert claire.last.text.startswith(words["sent"])
    assert alice.last.text == words["signed"]
    await alice.send("d'accord merci")
    assert "d'accord merci" in claire.last.text


async def test_moving_and_cancelling_from_the_card(alice, claire, store, tg, words):
    await claire.send("/patient Lefèvre")
    await claire.tap(words["move"])
    await claire.tap(words["wednesday"])
    await claire.tap("10:00")
    assert words["moved"] in alice.last.text
    await claire.send("/patient Lefèvre")
    await claire.tap(
        words["cancel"]
        .replace("mar. 12 janv.", "mer. 13 janv.")
        .replace("Tue, Jan 12", "Wed, Jan 13")
    )
    await claire.tap(words["no_reason"])
    assert words["cancelled"] in alice.last.text
    held = [a for a in await store.appointments.of_patient(5001, tg.now()) if a.status in HOLDING]
    assert held == []


async def test_booking_from_the_card_is_confirmed_and_the_patient_told(
    alice, claire, store, tg, words
):
    await claire.send("/patient Lefèvre")
    await claire.tap(words["book"])
    await claire.tap(words["service"])
    await claire.tap(words["wednesday"])
    await claire.tap("10:00")
    assert claire.last.text.startswith(words["booked"])
    assert alice.last.text.startswith(words["confirmed"])
    booked = [a for a in await store.appointments.of_patient(5001, tg.now()) if a.status in HOLDING]
    assert [(a.starts_at, a.status) for a in booked] == [
        (paris(2027, 1, 12, 10), Status.CONFIRMED),
        (paris(2027, 1, 13, 10), Status.CONFIRMED),
    ]


async def test_a_phone_caller_s_card(bot, claire, store, clock, words):
    await book(store, clock, paris(2027, 1, 12, 9), caller=("Mme Durand", "06 99 88 77 66"))
    await claire.send("/patient durant")
    lines = claire.last.text.splitlines()
    assert lines[:2] == ["👤 📞 Mme Durand", "Mme Durand · 06 99 88 77 66"]
    assert claire.last.buttons[-1] == [words["note"]]  # nobody to write to on Telegram


async def test_only_a_secretary_may_look_patients_up(alice, tg, claire, words):
    await claire.send("/patient Lefèvre")
    card = claire.last
    stranger = tg.user(6666, "Mallory", language="fr")
    await stranger.send("/patient Lefèvre")
    assert stranger.last.text == "Cette action est réservée au secrétariat."
    await stranger.tap(words["write"], in_message=card)
    await alice.tap(words["note"], in_message=card)
    assert stranger.answers[-1] == "Cette action est réservée au secrétariat."
    assert len(alice.answers) == 1
    await alice.send("Préfère le soir")  # not taken for a note
    await claire.send("/patient Lefèvre")
    assert claire.last.text.splitlines()[-1] == words["no_note"]
