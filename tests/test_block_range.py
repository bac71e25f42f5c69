"""A practitioner's days off blocked in one command (``/bloquer cabinet-dupont Dr Martin du 1er
au 5 février congés``): the appointments it hits are listed, and in one tap each patient is
asked to choose a new time, or all are cancelled with a message. In French and in English.

The clock stands on Monday 11 January 2027, 09:00 in Paris; 1 February 2027 is a Monday.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta

import pytest

from storage.appointments import NewAppointment, Source, Status
from tests.conftest import PARIS

CLAIRE = 111111111
DUPONT = 222222222  # the employer of cabinet-dupont

WORDS = {
    "fr": {
        "block": "/bloquer cabinet-dupont Dr Martin du 1er au 5 février congés",
        "lines": [
            "⛔ Bloqué : plus aucun rendez-vous ne peut y être pris.",
            "Cabinet dentaire Dupont · du lundi 1 février au vendredi 5 février",
            "Toute la journée ⛔ congés · Dr Martin",
            "⚠️ Rendez-vous dans cette période : 3",
            "• mardi 2 février 10:00 · Alice · Détartrage · Dr Martin",
            "• mercredi 3 février 09:00 · Bruno · Détartrage · Dr Martin",
            "• jeudi 4 février 09:00 · Mme Durand · +33 6 12 34 56 78 · Détartrage · Dr Martin",
        ],
        "ask": "📨 Demander à chacun de choisir un autre créneau",
        "cancel": "❌ Les annuler avec un message",
        "undo": "↩️ Annuler ce blocage",
        "asked": [
            "📨 Patients invités à choisir un nouveau créneau : 2",
            "📞 À prévenir par téléphone (pas sur Telegram) :",
            "• jeudi 4 février 09:00 · Mme Durand · +33 6 12 34 56 78 · Détartrage · Dr Martin",
        ],
        "patient_ask": "🔁 Cabinet dentaire Dupont doit déplacer votre rendez-vous "
        "(Détartrage, mardi 2 février à 10:00). Choisissez un nouveau créneau :",
        "reason": "Motif : congés",
        "cancelled": "❌ Rendez-vous annulés, patients prévenus : 2",
        "patient_cancelled": "❌ Cabinet dentaire Dupont a dû annuler votre rendez-vous : "
        "Détartrage, mardi 2 février à 10:00.",
        "other_day": "Un autre jour",
        "hours": "/bloquer cabinet-dupont du lundi au vendredi 14h-16h formation",
        "hours_lines": [
            "Cabinet dentaire Dupont · du lundi 18 janvier au vendredi 22 janvier",
            "14:00–16:00 ⛔ formation · tout l'établissement",
        ],
        "unblock": "/debloquer",
        "lift": "↩️ lun. 18 janv. 14:00 · Cabinet dentaire Dupont",
        "lifted": "↩️ Blocage levé",
    },
    "en": {
        "block": "/block cabinet-dupont from 1st to 5th February Dr Martin holiday",
        "lines": [
            "⛔ Blocked: no appointment can be booked there any more.",
            "Cabinet dentaire Dupont · from Monday, February 1 to Friday, February 5",
            "All day ⛔ holiday · Dr Martin",
            "⚠️ Appointments in that time: 3",
            "• Tuesday, February 2 10:00 · Alice · Teeth cleaning · Dr Martin",
            "• Wednesday, February 3 09:00 · Bruno · Teeth cleaning · Dr Martin",
            "• Thursday, February 4 09:00 · Mme Durand · +33 6 12 34 56 78 · Teeth cleaning · "
            "Dr Martin",
        ],
        "ask": "📨 Ask each patient to choose a new time",
        "cancel": "❌ Cancel them with a message",
        "undo": "↩️ Undo this block",
        "asked": [
            "📨 Patients asked to choose a new time: 2",
            "📞 To be told by phone (not on Telegram):",
            "• Thursday, February 4 09:00 · Mme Durand · +33 6 12 34 56 78 · Teeth cleaning · "
            "Dr Martin",
        ],
        "patient_ask": "🔁 Cabinet dentaire Dupont needs to move your appointment "
        "(Teeth cleaning, Tuesday, February 2 at 10:00). Choose a new time:",
        "reason": "Reason: holiday",
        "cancelled": "❌ Appointments cancelled, patients told: 2",
        "patient_cancelled": "❌ Cabinet dentaire Dupont had to cancel your appointment: "
        "Teeth cleaning, Tuesday, February 2 at 10:00.",
        "other_day": "Another day",
        "hours": "/block cabinet-dupont from Monday to Friday 14:00-16:00 training",
        "hours_lines": [
            "Cabinet dentaire Dupont · from Monday, January 18 to Friday, January 22",
            "14:00–16:00 ⛔ training · the whole business",
        ],
        "unblock": "/unblock",
        "lift": "↩️ Mon, Jan 18 14:00 · Cabinet dentaire Dupont",
        "lifted": "↩️ Block lifted",
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


async def book(store, clock, start, practitioner, *, patient_id=None, caller=None):
    return await store.appointments.book(
        NewAppointment(
            business_id=store.business_ids["cabinet-dupont"],
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
async def week(bot, tg, store, clock, language):
    """Dr Martin's patients that week: Alice and Bruno on Telegram, Mme Durand by phone; and
    Colette, who sees Dr Dupont."""
    users = {}
    for user_id, name in ((5001, "Alice"), (5002, "Bruno"), (5003, "Colette")):
        users[name] = tg.user(user_id, name, language=language)
        await users[name].send("/start cabinet-dupont")
    booked = {
        "Alice": await book(store, clock, paris(2027, 2, 2, 10), "Dr Martin", patient_id=5001),
        "Bruno": await book(store, clock, paris(2027, 2, 3, 9), "Dr Martin", patient_id=5002),
        "Durand": await book(
            store,
            clock,
            paris(2027, 2, 4, 9),
            "Dr Martin",
            caller=("Mme Durand", "+33 6 12 34 56 78"),
        ),
        "Colette": await book(store, clock, paris(2027, 2, 2, 10), "Dr Dupont", patient_id=5003),
    }
    return users, booked


async def test_a_week_off_lists_what_it_hits_and_each_patient_chooses_a_new_time(
    week, claire, store, tg, words
):
    users, booked = week
    await claire.send(words["block"])
    assert claire.last.text.splitlines() == words["lines"]
    assert claire.last.buttons == [[words["ask"]], [words["cancel"]], [words["undo"]]]
    listing = claire.last
    # Nobody else may use these buttons.
    await users["Alice"].tap(words["ask"], in_message=listing)
    assert "ask_move" not in json.dumps(
        [dict(row) for row in await store.db.fetch_all("SELECT kind FROM outbox")]
    )

    await claire.tap(words["ask"], in_message=listing)
    assert claire.last.text.splitlines() == words["asked"]
    alice = users["Alice"]
    assert alice.last.text.splitlines() == [words["patient_ask"], words["reason"]]
    offered = [label for row in alice.last.buttons for label in row]
    assert offered[-1] == words["other_day"] and len(offered) > 1
    # Every time offered says its day, and is with Dr Martin, outside the days off.
    rows = await store.db.fetch_all(
        "SELECT chat_id, payload FROM outbox WHERE kind = 'office.ask_move' ORDER BY chat_id"
    )
    assert [row["chat_id"] for row in rows] == [5001, 5002]
    for row in rows:
        for epoch, practitioner in json.loads(row["payload"])["slots"]:
            assert practitioner == 1  # Dr Martin
            moment = datetime.fromtimestamp(epoch, PARIS)
            assert not paris(2027, 2, 1) <= moment < paris(2027, 2, 6)

    await alice.tap(offered[0])
    moved = await store.appointments.get(booked["Alice"].id)
    assert moved.practitioner == "Dr Martin"
    assert moved.status == Status.REQUESTED  # the practice confirms moves
    assert not paris(2027, 2, 1) <= moved.starts_at < paris(2027, 2, 6)
    assert (await store.appointments.get(booked["Colette"].id)).starts_at == paris(2027, 2, 2, 10)
    assert (await store.appointments.get(booked["Durand"].id)).status == Status.CONFIRMED


async def test_or_all_are_cancelled_with_a_message_and_the_employer_sees_it(
    week, claire, store, tg, words
):
    users, booked = week
    await claire.send(words["block"])
    await claire.tap(words["cancel"])
    assert claire.last.text.splitlines()[0] == words["cancelled"]
    assert claire.last.text.splitlines()[-1] == words["asked"][-1]  # Mme Durand, to call
    assert users["Alice"].last.text.splitlines() == [
        words["patient_cancelled"],
        words["reason"],
    ]
    for name in ("Alice", "Bruno", "Durand"):
        assert (await store.appointments.get(booked[name].id)).status == Status.CANCELLED
    assert (await store.appointments.get(booked["Colette"].id)).status == Status.CONFIRMED
    # A second tap finds nothing left to cancel.
    await claire.tap(words["cancel"], in_message=claire.messages[-2])
    assert claire.last.text.splitlines()[0].endswith(": 0")
    employer = tg.user(DUPONT, "Dr Dupont", language="fr")
    await employer.send("/resume")
    assert "dont par le secrétariat : 0 déplacé(s), 3 annulé(s)" in employer.last.text


async def test_the_same_hours_on_several_days_are_one_block_lifted_as_one(
    bot, claire, store, words
):
    await claire.send(words["hours"])
    assert claire.last.text.splitlines()[1:] == words["hours_lines"]
    dupont = store.business_ids["cabinet-dupont"]
    blocks = await store.blocks.overlapping(dupont, paris(2027, 1, 18), paris(2027, 1, 23))
    starts = [block.starts_at.astimezone(PARIS) for block in blocks]
    assert [(start.day, start.hour) for start in starts] == [(day, 14) for day in range(18, 23)]
    await claire.send(words["unblock"])
    assert claire.last.buttons == [[words["lift"]]]
    await claire.tap(words["lift"])
    assert claire.last.text.startswith(words["lifted"])
    assert await store.blocks.overlapping(dupont, paris(2027, 1, 18), paris(2027, 1, 23)) == []
