"""A cancel or move inside the cancel notice goes to the office, which answers in one tap.

The clock stands on Monday 11 January 2027, 09:00 in Paris; Alice's descaling is on Tuesday
12 January at 10:00, 25 hours ahead: outside the 24-hour notice until the clock moves.
"""

from __future__ import annotations

from datetime import timedelta

import pytest

from bot.simulator.raw import new_callback_query_id, submit
from handlers.common import DEPS_KEY
from storage.appointments import Status

CLAIRE = 111111111
DUPONT = 222222222
ALICE = 5001


@pytest.fixture
def claire(tg):
    return tg.user(CLAIRE, "Claire", language="fr")


async def book_tuesday_10(tg, claire, language="fr"):
    alice = tg.user(ALICE, "Alice", language=language)
    await alice.send("/start cabinet-dupont")
    await alice.send("un détartrage mardi à 10h" if language == "fr" else "scaling Tuesday 10am")
    await alice.tap("10:00")
    await claire.tap("✅ Confirmer", in_message=claire.last)
    return alice


async def only_appointment(store, tg):
    (appointment,) = await store.appointments.of_patient(ALICE, tg.now())
    return appointment


async def test_outside_the_notice_a_cancel_is_done_online(bot, tg, claire, store):
    alice = await book_tuesday_10(tg, claire)
    await alice.send("je voudrais annuler mon rdv")
    await alice.tap("Oui, annuler")
    assert (await only_appointment(store, tg)).status == Status.CANCELLED


async def test_a_late_cancel_goes_to_the_office_and_the_patient_gets_its_phone(
    bot, tg, claire, store, clock
):
    alice = await book_tuesday_10(tg, claire)
    clock.advance(timedelta(hours=3))  # Monday 12:00: 22 hours before
    await alice.send("je voudrais annuler mon rdv")
    await alice.tap("Oui, annuler")
    assert alice.last.text.splitlines() == [
        "Votre rendez-vous Détartrage du mardi 12 janvier à 10:00 est dans moins de 24 h : il "
        "ne peut plus être annulé en ligne. Le cabinet est prévenu de votre demande et vous "
        "répondra ici.",
        "Pour le joindre tout de suite : +33 1 23 45 67 89",
    ]
    appointment = await only_appointment(store, tg)
    assert appointment.status == Status.CONFIRMED  # nothing done online
    asked = claire.last
    assert asked.text.splitlines()[0] == "⏰ Annulation tardive demandée · Cabinet dentaire Dupont"
    assert asked.text.splitlines()[2] == (
        "Détartrage · mardi 12 janvier à 10:00 avec Dr Dupont (dans 22 h)"
    )
    assert asked.buttons == [["🗑 Annuler", "✅ Maintenir"], ["🔁 Déplacer"]]

    await claire.tap("🗑 Annuler", in_message=asked)
    cancelled = await only_appointment(store, tg)
    assert cancelled.status == Status.CANCELLED and cancelled.cancelled_late
    assert alice.last.text == (
        "Le cabinet a annulé votre rendez-vous Détartrage du mardi 12 janvier à 10:00, comme "
        "vous l'avez demandé."
    )
    assert asked.text.endswith("🗑 Annulé par Claire (annulation tardive).")
    assert asked.buttons == []
    assert await store.appointments.late_cancellations(patient_id=ALICE) == 1
    assert await store.appointments.no_shows(patient_id=ALICE) == 0
    # The freed slot is bookable again at once.
    bob = tg.user(5002, "Bob", language="fr")
    await bob.send("/start cabinet-dupont")
    await bob.send("un détartrage mardi à 10h")
    assert "le créneau demandé est libre" in bob.last.text


async def test_an_answer_tapped_where_the_bot_cannot_read_the_message_is_still_taken(
    bot, tg, claire, store, clock
):
    alice = await book_tuesday_10(tg, claire)
    clock.advance(timedelta(hours=3))
    await alice.send("je voudrais annuler mon rdv")
    await alice.tap("Oui, annuler")
    (data,) = [
        button["callback_data"]
        for row in claire.last.reply_markup["inline_keyboard"]
        for button in row
        if button["text"] == "🗑 Annuler"
    ]
    # A tap that comes with an inline message id, not the message: nothing to edit.
    query_id = new_callback_query_id(tg, claire)
    tapped = {"id": query_id, "from": claire.to_api(), "chat_instance": "1", "data": data}
    await submit(tg, "callback_query", {**tapped, "inline_message_id": "AAAB"})
    assert (await only_appointment(store, tg)).status == Status.CANCELLED
    assert alice.last.text.startswith("Le cabinet a annulé votre rendez-vous")
    assert not tg.violations


async def test_the_office_keeps_it_and_the_patient_is_told(bot, tg, claire, store, clock):
    alice = await book_tuesday_10(tg, claire)
    clock.advance(timedelta(hours=3))
    await alice.send("je voudrais annuler mon rdv")
    await alice.tap("Oui, annuler")
    await claire.tap("✅ Maintenir", in_message=claire.last)
    assert alice.last.text == (
        "Le cabinet maintient votre rendez-vous Détartrage du mardi 12 janvier à 10:00 avec "
        "Dr Dupont : nous vous attendons. Un empêchement ? Appelez-nous au +33 1 23 45 67 89."
    )
    assert (await only_appointment(store, tg)).status == Status.CONFIRMED
    assert await store.appointments.late_cancellations(patient_id=ALICE) == 0


async def test_asking_twice_warns_the_office_once(bot, tg, claire, store, clock):
    alice = await book_tuesday_10(tg, claire)
    clock.advance(timedelta(hours=3))
    await alice.send("je voudrais annuler mon rdv")
    await alice.tap("Oui, annuler")
    before = len(claire.messages)
    await alice.send("je voudrais annuler mon rdv")
    await alice.tap("Oui, annuler")
    assert alice.last.text.startswith("Le cabinet a déjà votre demande pour le rendez-vous")
    assert len(claire.messages) == before


async def test_a_late_move_goes_to_the_office_too(bot, tg, claire, store, clock):
    alice = await book_tuesday_10(tg, claire)
    clock.advance(timedelta(hours=3))
    await alice.send("je dois déplacer mon rendez-vous")
    assert "ne peut plus être déplacé en ligne" in alice.last.text
    assert claire.last.text.startswith("⏰ Déplacement tardif demandé · Cabinet dentaire Dupont")


async def test_old_move_buttons_do_not_move_it_inside_the_notice(bot, tg, claire, store, clock):
    alice = await book_tuesday_10(tg, claire)
    await alice.send("je dois déplacer mon rendez-vous")
    days = alice.last
    clock.advance(timedelta(hours=3))
    await alice.tap("mer. 13 janv.", in_message=days)
    assert "ne peut plus être déplacé en ligne" in alice.last.text
    assert (await only_appointment(store, tg)).starts_at.hour == 9  # 10:00 in Paris


async def test_a_request_not_yet_confirmed_may_still_be_withdrawn(bot, tg, claire, store, clock):
    alice = tg.user(ALICE, "Alice", language="fr")
    await alice.send("/start cabinet-dupont")
    await alice.send("un détartrage aujourd'hui à 15h")
    await alice.tap("15:00")
    await alice.send("je voudrais annuler mon rdv")
    await alice.tap("Oui, annuler")
    assert (await only_appointment(store, tg)).status == Status.CANCELLED


async def test_only_a_secretary_answers(bot, tg, claire, store, clock):
    alice = await book_tuesday_10(tg, claire)
    clock.advance(timedelta(hours=3))
    await alice.send("je voudrais annuler mon rdv")
    await alice.tap("Oui, annuler")
    asked = claire.last
    await alice.tap("🗑 Annuler", in_message=asked)
    assert (await only_appointment(store, tg)).status == Status.CONFIRMED
    assert asked.buttons == [["🗑 Annuler", "✅ Maintenir"], ["🔁 Déplacer"]]


async def test_an_answer_after_the_patient_cancelled_otherwise_is_told(
    bot, tg, claire, store, clock
):
    alice = await book_tuesday_10(tg, claire)
    clock.advance(timedelta(hours=3))
    await alice.send("je voudrais annuler mon rdv")
    await alice.tap("Oui, annuler")
    asked = claire.last
    await alice.send("je confirme pour mardi")
    appointment = await only_appointment(store, tg)
    await bot.bot_data[DEPS_KEY].booking.cancel_late(appointment.id, actor=CLAIRE)
    await claire.tap("✅ Maintenir", in_message=asked)
    assert claire.answers[-1] == "Cette demande est déjà traitée : annulé."


async def test_in_english_and_in_the_employers_summary(bot, tg, claire, store, clock):
    alice = await book_tuesday_10(tg, claire, language="en")
    clock.advance(timedelta(hours=3))
    await alice.send("I need to cancel my appointment")
    await alice.tap("Yes, cancel")
    assert alice.last.text.splitlines() == [
        "Your Teeth cleaning appointment on Tuesday, January 12 at 10:00 is less than 24 h "
        "away: it can no longer be cancelled online. The office has your request and will "
        "answer you here.",
        "To reach it right away: +33 1 23 45 67 89",
    ]
    await claire.tap("🗑 Annuler", in_message=claire.last)
    assert alice.last.text == (
        "The office has cancelled your Teeth cleaning appointment on Tuesday, January 12 at "
        "10:00, as you asked."
    )
    dupont = tg.user(DUPONT, "Dr Dupont", language="fr")
    await dupont.send("/resume")
    assert "Annulations tardives : 1" in dupont.last.text.splitlines()


async def test_a_business_may_set_its_own_notice(config_data, tmp_path):
    from bot.config import parse_settings

    config_data["businesses"][0]["cancel_notice"] = "48h"
    settings = parse_settings(config_data)
    assert settings.cancel_notice_of(settings.businesses[0]) == timedelta(hours=48)
    assert settings.cancel_notice_of(settings.businesses[1]) == timedelta(hours=24)


async def test_a_late_cancellation_granted_is_offered_to_the_waitlist_at_once(
    bot, tg, claire, store, clock
):
    alice = await book_tuesday_10(tg, claire)
    martin = tg.user(5003, "Marc", language="fr")  # Dr Martin's 10:00 is taken too
    await martin.send("/start cabinet-dupont")
    await martin.send("un détartrage mardi à 10h")
    await martin.tap("10:00")
    await claire.tap("✅ Confirmer", in_message=claire.last)
    bob = tg.user(5002, "Bob", language="fr")
    await bob.send("/start cabinet-dupont")
    await bob.send("un détartrage mardi à 10h")
    await bob.tap("🔔 Prévenez-moi si une place se libère")
    clock.advance(timedelta(hours=3))
    await alice.send("je voudrais annuler mon rdv")
    await alice.tap("Oui, annuler")
    await claire.tap("🗑 Annuler", in_message=claire.last)
    assert bob.last.text.startswith(
        "🔔 Une place s'est libérée : Détartrage, mardi 12 janvier à 10:00, avec Dr Dupont"
    )


async def test_the_office_moves_a_late_move_or_asks_the_patient_to_choose(
    bot, tg, claire, store, clock
):
    alice = await book_tuesday_10(tg, claire)
    clock.advance(timedelta(hours=3))
    await alice.send("je dois déplacer mon rendez-vous")
    await claire.tap("🔁 Déplacer", in_message=claire.last)
    await claire.tap("📨 Demander au patient de choisir")
    assert alice.last.text.startswith("🔁 Cabinet dentaire Dupont doit déplacer votre rendez-vous")
    offered = [label for row in alice.last.buttons for label in row]
    # The office asked: the patient's tap moves it, inside the notice as it is.
    await alice.tap(offered[0])
    moved = await only_appointment(store, tg)
    assert moved.status == Status.REQUESTED
    assert moved.previous_starts_at.isoformat() == "2027-01-12T09:00:00+00:00"
    assert moved.starts_at != moved.previous_starts_at
