"""Blocked time (/bloquer and its undo) and marking appointments done or no-show, end to end.

The clock stands on Monday 11 January 2027, 09:00 in Paris.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from storage.appointments import NewAppointment, Source, Status
from tests.conftest import PARIS

CLAIRE = 111111111
DUPONT = 222222222  # the employer of cabinet-dupont
UNDO = "↩️ Annuler ce blocage"


def paris(*args: int) -> datetime:
    return datetime(*args, tzinfo=PARIS)


@pytest.fixture
def claire(tg):
    return tg.user(CLAIRE, "Claire", language="fr")


async def patient_asks(tg, patient_id: int, text: str):
    patient = tg.user(patient_id, f"P{patient_id}", language="fr")
    await patient.send("/start cabinet-dupont")
    await patient.send(text)
    return patient


def times(message) -> list[str]:
    return [label for row in message.buttons for label in row]


async def test_a_block_keeps_patients_out_until_it_is_undone(bot, tg, store, claire):
    await claire.send("/bloquer cabinet-dupont jeudi 10h-12h formation")
    done = claire.last
    assert done.text.splitlines() == [
        "⛔ Bloqué : plus aucun rendez-vous ne peut y être pris.",
        "Cabinet dentaire Dupont · jeudi 14 janvier",
        "10:00–12:00 ⛔ formation · tout l'établissement",
    ]
    assert done.buttons == [[UNDO]]

    alice = await patient_asks(tg, 5001, "détartrage le 14 janvier à 10h")
    assert "jeudi 14 janvier à 10:00 n'est pas disponible" in alice.last.text
    assert not {"10:00", "10:30", "11:30"} & set(times(alice.last))
    # A button offered before the block is refused when tapped after it.
    bruno = await patient_asks(tg, 5002, "détartrage le 15 janvier à 10h")
    offered = bruno.last
    await claire.send("/bloquer cabinet-dupont vendredi 9h-11h")
    await bruno.tap("10:00", in_message=offered)
    assert await store.appointments.of_patient(5002, tg.now()) == []

    await claire.tap(UNDO, in_message=done)
    assert done.text.startswith("↩️ Blocage levé")
    assert done.buttons == []
    await alice.send("détartrage le 14 janvier à 10h")
    assert alice.last.buttons[0][0] == "10:00"

    entries = await store.audit.entries(target="block:1")
    assert [(e.actor, e.action) for e in entries] == [
        (CLAIRE, "block.add"),
        (CLAIRE, "block.remove"),
    ]
    assert entries[0].before is None
    assert entries[0].after["reason"] == "formation"
    assert entries[0].after["starts_at"] == "2027-01-14T09:00:00+00:00"
    assert entries[1].before["practitioner"] is None
    assert entries[1].after["removed_at"] == "2027-01-11T08:00:00+00:00"


async def test_a_practitioners_block_leaves_the_others_free(bot, tg, store, claire):
    await claire.send("/bloquer cabinet-dupont jeudi 10h-12h Dr Dupont congé")
    assert claire.last.text.splitlines()[2] == "10:00–12:00 ⛔ congé · Dr Dupont"
    alice = await patient_asks(tg, 5001, "détartrage le 14 janvier à 10h")
    await alice.tap("10:00")
    (appointment,) = await store.appointments.of_patient(5001, tg.now())
    assert appointment.practitioner == "Dr Martin"


async def test_appointments_inside_a_new_block_are_listed_to_move(bot, tg, store, claire):
    alice = await patient_asks(tg, 5001, "détartrage le 14 janvier à 10h")
    await alice.tap("10:00")
    await claire.send("/bloquer cabinet 14/01 journée")
    lines = claire.last.text.splitlines()
    assert lines[2] == "Toute la journée ⛔ Bloqué · tout l'établissement"
    assert lines[3:] == [
        "⚠️ Rendez-vous déjà pris dans ce créneau, à déplacer : 1",
        "• 10:00 P5001 · Détartrage · Dr Dupont",
    ]
    # Listed, not moved: the secretary calls the patient.
    (appointment,) = await store.appointments.of_patient(5001, tg.now())
    assert appointment.status == Status.REQUESTED


async def test_debloquer_lists_the_blocks_ahead_and_lifts_one(bot, tg, store, claire):
    await claire.send("/bloquer cabinet-dupont mardi 14h-16h")
    await claire.send("/debloquer")
    assert claire.last.text == "Quel blocage lever ?"
    assert claire.last.buttons == [["↩️ mar. 12 janv. 14:00 · Cabinet dentaire Dupont"]]
    listing = claire.last
    employer = tg.user(DUPONT, "Dr Dupont", language="fr")
    await employer.tap("↩️ mar. 12 janv. 14:00 · Cabinet dentaire Dupont", in_message=listing)
    assert employer.answers[-1] == "Cette action est réservée au secrétariat."
    assert (await store.blocks.get(1)).removed_at is None

    await claire.tap("↩️ mar. 12 janv. 14:00 · Cabinet dentaire Dupont", in_message=listing)
    assert listing.text.startswith("↩️ Blocage levé")
    await claire.tap(UNDO, in_message=claire.messages[-2])
    assert claire.answers[-1] == "Ce blocage est déjà levé."
    await claire.send("/debloquer")
    assert claire.last.text == "Aucun blocage à venir."


@pytest.mark.parametrize(
    ("command", "expected"),
    [
        ("/bloquer", "Utilisation : /bloquer <établissement>"),
        ("/bloquer cabinet-dupont mardi", "Utilisation : /bloquer <établissement>"),
        ("/bloquer cabinet-dupont n'importe 10h-12h", "Je n'ai pas compris le jour."),
        ("/bloquer cabinet-dupont mardi 12h-10h", "Je n'ai pas compris les heures."),
        ("/bloquer cabinet-dupont mardi 25h-26h", "Je n'ai pas compris les heures."),
        ("/bloquer cabinet-dupont aujourd'hui 7h-8h", "Ce moment est déjà passé"),
    ],
)
async def test_a_block_not_understood_says_why(bot, tg, store, claire, command, expected):
    await claire.send(command)
    assert claire.last.text.startswith(expected)
    dupont = store.business_ids["cabinet-dupont"]
    assert await store.blocks.overlapping(dupont, tg.now(), tg.now() + timedelta(days=9)) == []


async def test_past_appointments_are_marked_done_or_no_show(bot, tg, store, clock, claire):
    tg.user(5001, "Alice", language="fr")
    await store.people.seen(
        5001, first_name="Alice", last_name=None, username=None, language="fr", now=clock.now()
    )
    dupont = store.business_ids["cabinet-dupont"]
    booked = []
    for hour in (8, 9):  # this morning, before the clock's 09:00... and at 09:00
        booked.append(
            await store.appointments.book(
                NewAppointment(
                    business_id=dupont,
                    practitioner="Dr Dupont",
                    service="detartrage",
                    starts_at=paris(2027, 1, 11, hour, 30 if hour == 8 else 0),
                    ends_at=paris(2027, 1, 11, hour, 30 if hour == 8 else 0)
                    + timedelta(minutes=30),
                    status=Status.CONFIRMED,
                    source=Source.PATIENT,
                    patient_id=5001,
                ),
                now=paris(2027, 1, 4),
            )
        )
    future = await store.appointments.book(
        NewAppointment(
            business_id=dupont,
            practitioner="Dr Martin",
            service="detartrage",
            starts_at=paris(2027, 1, 12, 9),
            ends_at=paris(2027, 1, 12, 9, 30),
            status=Status.CONFIRMED,
            source=Source.PHONE,
            caller_name="Mme Durand",
            caller_phone="+33 6 12 34 56 78",
        ),
        now=paris(2027, 1, 4),
    )
    clock.advance(timedelta(hours=1))
    await claire.send("/presences")
    first, second = claire.messages[-2:]
    assert first.text.splitlines() == [
        "Cabinet dentaire Dupont",
        "Alice",
        "Détartrage · lundi 11 janvier à 08:30, avec Dr Dupont",
    ]
    assert first.buttons == [["✅ Venu", "🚫 Absent"]]
    await claire.tap("🚫 Absent", in_message=first)
    assert first.text.endswith("🚫 Absent · noté par Claire")
    await claire.tap("✅ Venu", in_message=second)
    assert second.text.endswith("✅ Venu · noté par Claire")
    assert (await store.appointments.get(booked[0].id)).status == Status.NO_SHOW
    assert (await store.appointments.get(booked[1].id)).status == Status.DONE
    entries = await store.audit.entries(target=f"appointment:{booked[0].id}")
    assert [(e.action, e.before["status"], e.after["status"]) for e in entries] == [
        ("appointment.no_show", "confirmed", "no_show")
    ]
    assert entries[0].after["service"] == "detartrage"

    # Marked once: a second tap is told; an appointment still ahead cannot be marked.
    await claire.send("/presences")
    assert claire.last.text == "Aucun rendez-vous passé à pointer."
    message = claire.last
    for appointment, answer in (
        (booked[0], "Cette demande est déjà traitée : absent."),
        (future, "Ce rendez-vous n'a pas encore commencé."),
    ):
        message.reply_markup = {
            "inline_keyboard": [[{"text": "Venu", "callback_data": f"apt:done:{appointment.id}"}]]
        }
        await claire.tap("Venu", in_message=message)
        assert claire.answers[-1] == answer
    assert (await store.appointments.get(future.id)).status == Status.CONFIRMED

    # The no-show now shows beside Alice's next request.
    alice = await patient_asks(tg, 5001, "détartrage le 14 janvier à 10h")
    await alice.tap("10:00")
    assert claire.last.text.splitlines()[1] == "Alice · ⚠️ absences : 1"


async def test_a_patient_marked_absent_is_offered_a_new_appointment(bot, tg, store, clock, claire):
    alice = tg.user(5001, "Alice", language="fr")
    await store.people.seen(
        5001, first_name="Alice", last_name=None, username=None, language="fr", now=clock.now()
    )
    await store.people.bind(5001, store.business_ids["cabinet-dupont"])
    await store.appointments.book(
        NewAppointment(
            business_id=store.business_ids["cabinet-dupont"],
            practitioner="Dr Dupont",
            service="detartrage",
            starts_at=paris(2027, 1, 11, 8, 30),
            ends_at=paris(2027, 1, 11, 9, 0),
            status=Status.CONFIRMED,
            source=Source.PATIENT,
            patient_id=5001,
        ),
        now=paris(2027, 1, 4),
    )
    await claire.send("/presences")
    await claire.tap("🚫 Absent")
    assert alice.last.text.startswith(
        "Vous n'avez pas pu venir à votre rendez-vous Détartrage du lundi 11 janvier à 08:30."
    )
    await alice.tap("Choisir un autre créneau")
    assert alice.last.text == "Pour quel motif ?"
