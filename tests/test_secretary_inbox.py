"""The secretary's inbox end to end: /demandes, proposing another slot, escalation, no-shows.

The clock stands on Monday 11 January 2027, 09:00 in Paris.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

import pytest
from telegram.ext import CallbackContext

from handlers import delivery, secretary
from storage.appointments import NewAppointment, Source, Status
from tests.conftest import PARIS

CLAIRE = 111111111
DUPONT = 222222222  # the employer of cabinet-dupont
INSTITUTE = 333333333  # the employer of institut-belle-peau
PROPOSE = "🔁 Proposer un autre créneau"


@pytest.fixture
def claire(tg):
    return tg.user(CLAIRE, "Claire", language="fr")


async def ask(tg, patient_id: int, name: str, text: str, time: str = "10:00"):
    """A patient asks for a slot in words and taps the one offered."""
    patient = tg.user(patient_id, name, language="fr")
    await patient.send("/start cabinet-dupont")
    await patient.send(text)
    await patient.tap(time)
    return patient


def plain(text: str) -> str:
    """Babel joins a number and its unit with no-break spaces: compare them as spaces."""
    return text.replace("\u202f", " ").replace("\xa0", " ")


async def escalate(bot) -> None:
    await secretary.escalate(CallbackContext(bot))
    await delivery.deliverer(bot).idle()


async def test_the_inbox_lists_pending_requests_oldest_first_with_their_wait(
    bot, tg, clock, claire
):
    await ask(tg, 5001, "Alice", "détartrage le 14 janvier à 10h")
    clock.advance(timedelta(minutes=50))
    await ask(tg, 5002, "Bruno", "consultation le 15 janvier à 11h", "11:00")
    clock.advance(timedelta(hours=1, minutes=40))
    await claire.send("/demandes")
    title, first, second = claire.messages[-3:]
    assert title.text == "📥 Demandes en attente : 2 (les plus anciennes d'abord)"
    assert first.text.splitlines()[0] == "📥 Nouvelle demande · Cabinet dentaire Dupont"
    assert first.text.splitlines()[1] == "Alice"
    # Past escalate_after (2 h): flagged as such.
    assert (
        plain(first.text).splitlines()[-1]
        == "⏰ En attente depuis 2 h 30 min : signalée aux responsables"
    )
    assert second.text.splitlines()[1] == "Bruno"
    assert plain(second.text).splitlines()[-1] == "🕐 En attente depuis 1 h 40 min"
    assert first.buttons == [["✅ Confirmer", "❌ Refuser"], [PROPOSE]]

    # The copy in /demandes is the one updated once answered.
    await claire.tap("✅ Confirmer", in_message=second)
    assert second.text.endswith("✅ Confirmé par Claire")
    await claire.send("/requests")
    assert claire.messages[-2].text.startswith("📥 Demandes en attente : 1")


async def test_an_empty_inbox_says_so(bot, tg, claire):
    await claire.send("/demandes")
    assert claire.last.text == "📭 Aucune demande en attente. Tout est traité !"


async def test_propose_another_slot_and_the_patient_accepts(bot, tg, store, claire):
    alice = await ask(tg, 5001, "Alice", "détartrage le 14 janvier à 10h")
    await claire.tap(PROPOSE, in_message=claire.last)
    choice = claire.last
    assert choice.text.startswith("🔁 Alice demandait Détartrage, jeudi 14 janvier à 10:00.")
    # The nearest free slots; Dr Martin is free at 10:00 too, but Alice asked for that time
    # and it suits the secretary to offer another.
    labels = [label for row in choice.buttons for label in row]
    assert labels[0] == "jeu. 14 janv. 10:00"
    assert "jeu. 14 janv. 10:30" in labels
    await claire.tap("jeu. 14 janv. 10:30", in_message=choice)
    assert claire.last.text.startswith("🔁 Proposé à Alice : Détartrage, jeudi 14 janvier à 10:30")

    offer = alice.last
    assert offer.text.startswith(
        "Le secrétariat de Cabinet dentaire Dupont ne peut pas vous recevoir jeudi 14 janvier"
        " à 10:00, mais vous propose à la place :"
    )
    assert offer.buttons == [["✅ J'accepte", "❌ Non merci"]]
    appointments = {a.id: a for a in await store.appointments.of_patient(5001, tg.now())}
    request, proposal = sorted(appointments.values(), key=lambda a: a.id)
    assert request.status == Status.DECLINED
    assert (proposal.status, proposal.source) == (Status.REQUESTED, Source.SECRETARY)
    assert proposal.starts_at == datetime(2027, 1, 14, 10, 30, tzinfo=PARIS)
    # The request's copy in the inbox says what happened and keeps no button.
    inbox_copy = claire.messages[-2]
    assert inbox_copy.text.endswith("🔁 Autre créneau proposé par Claire")
    assert inbox_copy.buttons == []
    # A proposal waits for the patient, not for the secretary.
    await claire.send("/demandes")
    assert claire.last.text == "📭 Aucune demande en attente. Tout est traité !"

    await alice.tap("✅ J'accepte", in_message=offer)
    assert alice.last.text.startswith("Votre rendez-vous est confirmé ✅")
    assert (await store.appointments.get(proposal.id)).status == Status.CONFIRMED
    assert claire.last.text == (
        "✅ Alice accepte le créneau proposé : Détartrage, jeudi 14 janvier à 10:30"
        " · Cabinet dentaire Dupont"
    )
    entries = await store.audit.entries(target=f"appointment:{request.id}")
    assert [(e.actor, e.action) for e in entries] == [(CLAIRE, "request.propose")]
    assert entries[0].before["status"] == "requested"
    assert entries[0].after["status"] == "declined"
    assert entries[0].after["proposal"] == proposal.id


async def test_a_refused_proposal_frees_the_slot_and_a_second_tap_is_too_late(
    bot, tg, store, claire
):
    alice = await ask(tg, 5001, "Alice", "détartrage le 14 janvier à 10h")
    await claire.tap(PROPOSE, in_message=claire.last)
    await claire.tap("jeu. 14 janv. 10:30", in_message=claire.last)
    offer = alice.last
    await alice.tap("❌ Non merci", in_message=offer)
    assert alice.last.text.startswith("C'est noté, ce créneau est libéré.")
    assert alice.last.buttons == [["Choisir un autre créneau"]]
    assert claire.last.text.startswith("❌ Alice refuse le créneau proposé")
    assert all(
        a.status in (Status.DECLINED, Status.CANCELLED)
        for a in await store.appointments.of_patient(5001, tg.now())
    )
    # The offer's buttons are gone; an old copy of them is answered, not acted on.
    offer.reply_markup = {
        "inline_keyboard": [[{"text": "✅ J'accepte", "callback_data": "prop:ok:2"}]]
    }
    await alice.tap("✅ J'accepte", in_message=offer)
    assert alice.last.text == "Cette proposition n'est plus valable (annulé)."


async def test_only_the_patient_asked_can_answer_a_proposal(bot, tg, store, claire):
    alice = await ask(tg, 5001, "Alice", "détartrage le 14 janvier à 10h")
    await claire.tap(PROPOSE, in_message=claire.last)
    await claire.tap("jeu. 14 janv. 10:30", in_message=claire.last)
    data = alice.last.button("✅ J'accepte")["callback_data"]
    mallory = tg.user(6666, "Mallory", language="fr")
    await mallory.send("/start cabinet-dupont")
    message = mallory.last
    message.reply_markup = {"inline_keyboard": [[{"text": "ok", "callback_data": data}]]}
    await mallory.tap("ok", in_message=message)
    assert (
        mallory.answers[-1] == "Ce bouton n'est plus valable. Reprenez depuis le dernier message."
    )
    proposal = max(await store.appointments.of_patient(5001, tg.now()), key=lambda a: a.id)
    assert proposal.status == Status.REQUESTED


async def test_a_request_answered_meanwhile_cannot_get_a_proposal(bot, tg, store, claire):
    await ask(tg, 5001, "Alice", "détartrage le 14 janvier à 10h")
    request_message = claire.last
    await claire.tap(PROPOSE, in_message=request_message)
    choice = claire.last
    await claire.tap("✅ Confirmer", in_message=request_message)
    await claire.tap("jeu. 14 janv. 10:30", in_message=choice)
    assert claire.answers[-1] == "Cette demande est déjà traitée : confirmé."
    (appointment,) = await store.appointments.of_patient(5001, tg.now())
    assert appointment.status == Status.CONFIRMED


async def test_a_proposed_slot_taken_meanwhile_offers_the_others(bot, tg, store, claire):
    await ask(tg, 5001, "Alice", "détartrage le 14 janvier à 10h")
    await claire.tap(PROPOSE, in_message=claire.last)
    choice = claire.last
    for patient_id in (5002, 5003):  # both practitioners at 10:30
        await ask(tg, patient_id, f"P{patient_id}", "détartrage le 14 janvier à 10h30", "10:30")
    await claire.tap("jeu. 14 janv. 10:30", in_message=choice)
    assert claire.answers[-1] == "Ce créneau vient d'être pris : choisissez-en un autre."
    assert claire.last.text.startswith("Ce créneau n'est plus libre.")
    assert "jeu. 14 janv. 10:30" not in [label for row in claire.last.buttons for label in row]


async def test_others_replaying_secretary_buttons_are_refused_and_nothing_changes(
    bot, tg, store, claire, caplog
):
    await ask(tg, 5001, "Alice", "détartrage le 14 janvier à 10h")
    request = claire.last
    await claire.tap(PROPOSE, in_message=request)
    choice = claire.last
    employer = tg.user(DUPONT, "Dr Dupont", language="fr")
    mallory = tg.user(6666, "Mallory", language="fr")
    with caplog.at_level(logging.WARNING):
        for intruder in (mallory, employer):
            await intruder.tap(PROPOSE, in_message=request)
            await intruder.tap("jeu. 14 janv. 10:30", in_message=choice)
            assert intruder.answers[-2:] == ["Cette action est réservée au secrétariat."] * 2
    assert len([r for r in caplog.records if "not a secretary" in r.getMessage()]) == 4
    (appointment,) = await store.appointments.of_patient(5001, tg.now())
    assert appointment.status == Status.REQUESTED
    assert await store.audit.entries() == []


async def test_commands_from_anyone_else_get_a_polite_refusal(bot, tg, store):
    mallory = tg.user(6666, "Mallory", language="fr")
    for command in (
        "/demandes",
        "/ics cabinet-dupont",
        "/rdv Mme Durand 06 12 34 56 78 détartrage mardi 10h",
        "/appel M. Leroy 06 11 22 33 44 rappeler",
        "/bloquer cabinet-dupont mardi 10h-12h",
        "/debloquer",
        "/presences",
        "/agenda",
    ):
        await mallory.send(command)
        assert mallory.last.text == "Cette action est réservée au secrétariat.", command
    # The employer is refused the secretary's commands too.
    employer = tg.user(DUPONT, "Dr Dupont", language="fr")
    await employer.send("/rdv Mme Durand 06 12 34 56 78 détartrage mardi 10h")
    assert employer.last.text == "Cette action est réservée au secrétariat."
    # Mallory's text after /rdv is no booking.
    await mallory.send("Mme Durand 06 12 34 56 78 détartrage mardi 10h")
    assert not await store.blocks.overlapping(
        store.business_ids["cabinet-dupont"], tg.now(), tg.now() + timedelta(days=30)
    )
    assert (
        await store.appointments.between(
            store.business_ids["cabinet-dupont"], tg.now(), tg.now() + timedelta(days=30)
        )
        == []
    )
    assert await store.audit.entries() == []


async def test_an_old_request_is_flagged_to_the_employers_once(bot, tg, clock, store, claire):
    await ask(tg, 5001, "Alice", "détartrage le 14 janvier à 10h")
    employer = tg.user(DUPONT, "Dr Dupont", language="fr")
    institute = tg.user(INSTITUTE, "Léa", language="fr")
    clock.advance(timedelta(hours=1, minutes=59))
    await escalate(bot)
    assert employer.messages == []
    clock.advance(timedelta(minutes=1))
    await escalate(bot)
    assert plain(employer.last.text).splitlines() == [
        "⏰ Une demande attend une réponse depuis 2 h · Cabinet dentaire Dupont",
        "Alice",
        "Détartrage · jeudi 14 janvier à 10:00, avec Dr Dupont",
        "Le secrétariat la traite au plus vite.",
    ]
    clock.advance(timedelta(hours=3))
    await escalate(bot)
    assert len(employer.messages) == 1
    assert institute.messages == []


async def test_a_business_may_flag_sooner(config_data, store, clock, tg):
    from bot.config import parse_settings
    from tests.conftest import running_bot

    config_data["escalate_after"] = "4h"
    config_data["businesses"][0]["escalate_after"] = "30m"
    async with running_bot(parse_settings(config_data), store, clock, tg) as application:
        await ask(tg, 5001, "Alice", "détartrage le 14 janvier à 10h")
        employer = tg.user(DUPONT, "Dr Dupont", language="fr")
        clock.advance(timedelta(minutes=30))
        await escalate(application)
        assert plain(employer.last.text).startswith(
            "⏰ Une demande attend une réponse depuis 30 min"
        )


async def test_no_shows_are_shown_beside_the_patients_requests(bot, tg, store, clock, claire):
    await store.people.seen(
        5001, first_name="Alice", last_name=None, username=None, language="fr", now=clock.now()
    )
    for day in (4, 5):  # two past appointments Alice missed
        missed = await store.appointments.book(
            NewAppointment(
                business_id=store.business_ids["cabinet-dupont"],
                practitioner="Dr Dupont",
                service="detartrage",
                starts_at=datetime(2027, 1, day, 10, tzinfo=PARIS),
                ends_at=datetime(2027, 1, day, 10, 30, tzinfo=PARIS),
                status=Status.CONFIRMED,
                source=Source.PATIENT,
                patient_id=5001,
            ),
            now=datetime(2027, 1, 1, tzinfo=PARIS),
        )
        await store.appointments.change_status(
            missed.id, expected=(Status.CONFIRMED,), to=Status.NO_SHOW, now=clock.now(), actor=1
        )
    await ask(tg, 5001, "Alice", "détartrage le 14 janvier à 10h")
    assert claire.last.text.splitlines()[1] == "Alice · ⚠️ absences : 2"
    await claire.send("/demandes")
    assert claire.last.text.splitlines()[1] == "Alice · ⚠️ absences : 2"


async def test_the_secretarys_welcome_lists_her_commands(bot, tg, claire):
    await claire.send("/start")
    assert claire.last.text.startswith("Bonjour Claire.")
    assert "/demandes : les demandes en attente" in claire.last.text
    assert "/rdv : prendre un rendez-vous pour un appelant" in claire.last.text


async def test_a_proposal_the_patient_moved_meanwhile_cannot_be_accepted_without_the_office(
    bot, tg, store, claire
):
    alice = await ask(tg, 5001, "Alice", "détartrage le 14 janvier à 10h")
    await claire.tap(PROPOSE, in_message=claire.last)
    await claire.tap("jeu. 14 janv. 10:30", in_message=claire.last)
    offer = alice.last
    # Alice ignores the offer and moves the proposed appointment herself...
    await alice.send("je voudrais déplacer mon rendez-vous à vendredi 11h")
    await alice.tap("11:00")
    # ...then taps the old offer: her move still waits for the office.
    await alice.tap("✅ J'accepte", in_message=offer)
    moved = [
        a
        for a in await store.appointments.of_patient(5001, tg.now())
        if a.status in (Status.REQUESTED, Status.CONFIRMED)
    ]
    assert [(a.status, a.source) for a in moved] == [(Status.REQUESTED, Source.PATIENT)]
    await claire.send("/demandes")
    assert "Alice" in claire.last.text


async def test_an_unanswered_proposal_expires_as_the_offices_offer(bot, tg, store, clock, claire):
    from datetime import timedelta

    from tests.conftest import sweep

    alice = await ask(tg, 5001, "Alice", "détartrage le 14 janvier à 10h")
    await claire.tap(PROPOSE, in_message=claire.last)
    await claire.tap("jeu. 14 janv. 10:30", in_message=claire.last)
    clock.advance(timedelta(hours=24, minutes=1))
    await sweep(bot)
    assert alice.last.text.startswith(
        "Le créneau que le secrétariat vous proposait (Détartrage, jeudi 14 janvier à 10:30)"
    )


def test_a_wait_reads_as_a_phone_shows_it():
    from handlers.secretary import _waited

    assert plain(_waited("fr", timedelta(hours=8, minutes=55))) == "8 h 55 min"
    assert plain(_waited("fr", timedelta(minutes=59))) == "59 min"
    assert plain(_waited("en", timedelta(days=1, hours=3, minutes=10))) == "1 day 3 hr"
