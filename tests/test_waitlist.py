"""The waitlist, end to end: joining when nothing fits, a freed slot offered to waiting
patients one at a time in the order they joined, taking it, saying no, the hold passing,
races with other bookings, and the patient's own list.

The clock stands on Monday 11 January 2027, 09:00 in Paris. Wednesday 13 January at 10:00
(two days ahead, outside any cancel notice) is held at the dental practice by Zoé (with Dr
Dupont) and Yves (with Dr Martin): a patient asking for it is told it is not free.
"""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta

import pytest

from storage.appointments import NewAppointment, Source, Status
from storage.blocks import NewBlock
from storage.waitlist import Ended, Outcome
from tests.conftest import PARIS, sweep

CLAIRE = 111111111
WEDNESDAY_10 = datetime(2027, 1, 13, 10, 0, tzinfo=PARIS)

ASK = {
    "fr": "un détartrage mercredi à 10h",
    "en": "a teeth cleaning on Wednesday at 10am",
}
JOIN = {"fr": "🔔 Prévenez-moi si une place se libère", "en": "🔔 Tell me if a place frees up"}
TAKE = {"fr": "✅ Je la prends", "en": "✅ Take it"}
NO = {"fr": "Non merci", "en": "No thanks"}
CANCEL_YES = {"fr": "Oui, annuler", "en": "Yes, cancel"}
OFFER = {
    "fr": "🔔 Une place s'est libérée : Détartrage, mercredi 13 janvier à 10:00, avec {who} "
    "(Cabinet dentaire Dupont).",
    "en": "🔔 A place has freed up: Teeth cleaning, Wednesday, January 13 at 10:00, with {who} "
    "(Cabinet dentaire Dupont).",
}


async def hold(store, clock, patient, start, *, practitioner, slug="cabinet-dupont", **extra):
    """An appointment the patient holds, as the booking flow would have stored it."""
    await store.people.seen(
        patient.id,
        first_name=patient.first_name,
        last_name=None,
        username=None,
        language=patient.language,
        now=clock.now(),
    )
    await store.people.bind(patient.id, store.business_ids[slug])
    return await store.appointments.book(
        NewAppointment(
            business_id=store.business_ids[slug],
            practitioner=practitioner,
            service=extra.get("service", "detartrage"),
            starts_at=start,
            ends_at=start + timedelta(minutes=extra.get("minutes", 30)),
            status=extra.get("status", Status.CONFIRMED),
            source=Source.PATIENT,
            patient_id=patient.id,
        ),
        now=clock.now(),
        actor=patient.id,
    )


@pytest.fixture
def claire(tg):
    return tg.user(CLAIRE, "Claire", language="fr")


@pytest.fixture
async def full(bot, tg, store, clock):
    """Wednesday 10:00 held with both practitioners; returns the two holders."""
    zoe = tg.user(7001, "Zoé", language="fr")
    yves = tg.user(7002, "Yves", language="en")
    await hold(store, clock, zoe, WEDNESDAY_10, practitioner="Dr Dupont")
    await hold(store, clock, yves, WEDNESDAY_10, practitioner="Dr Martin")
    return zoe, yves


async def joined(tg, user_id, name, language):
    """A patient who asked for Wednesday 10:00, was told it is taken, and joined the list."""
    patient = tg.user(user_id, name, language=language)
    await patient.send("/start cabinet-dupont")
    await patient.send(ASK[language])
    await patient.tap(JOIN[language])
    return patient


async def cancel(patient, language):
    await patient.send("je voudrais annuler mon rdv" if language == "fr" else "cancel my booking")
    await patient.tap(CANCEL_YES[language])


def offers_to(user):
    return [m for m in user.messages if m.text.startswith("🔔 ") and m.buttons]


async def entries(store, patient):
    return await store.waitlist.of_patient(patient.id)


async def open_offers(store):
    return await store.waitlist.open_offers()


@pytest.mark.parametrize("language", ["fr", "en"])
async def test_first_joined_is_offered_the_freed_slot_and_takes_it(
    full, tg, store, claire, language
):
    zoe, _ = full
    alice = tg.user(5001, "Alice", language=language)
    await alice.send("/start cabinet-dupont")
    await alice.send(ASK[language])
    assert alice.last.buttons[-1] == [JOIN[language]]
    await alice.tap(JOIN[language])
    assert (
        alice.last.text
        == {
            "fr": "C'est noté 🔔 Je vous préviens dès qu'une place se libère : Détartrage, "
            "mercredi 13 janvier à 10:00.\nVous aurez alors 15 min pour la prendre.",
            "en": "Done 🔔 I'll tell you as soon as a place frees up: Teeth cleaning, "
            "Wednesday, January 13 at 10:00.\nYou'll then have 15 min to take it.",
        }[language]
    )
    bob = await joined(tg, 5002, "Bob", "fr")

    await cancel(zoe, "fr")

    (offer,) = offers_to(alice)
    assert offer.text.startswith(OFFER[language].format(who="Dr Dupont"))
    assert {"fr": "jusqu'à 09:15", "en": "until 09:15"}[language] in offer.text
    assert offer.buttons == [[TAKE[language], NO[language]]]
    assert offers_to(bob) == []  # one freed slot, one patient asked at a time

    await alice.tap(TAKE[language], in_message=offer)
    assert alice.last.text.startswith(
        {
            "fr": "Votre demande est envoyée : Détartrage, mercredi 13 janvier à 10:00, "
            "avec Dr Dupont.",
            "en": "Your request is sent: Teeth cleaning, Wednesday, January 13 at 10:00, "
            "with Dr Dupont.",
        }[language]
    )
    (request,) = await store.appointments.of_patient(alice.id, tg.now())
    assert (request.status, request.starts_at) == (Status.REQUESTED, WEDNESDAY_10)
    assert "Alice" in claire.last.text and "mercredi 13 janvier à 10:00" in claire.last.text
    assert await entries(store, alice) == []
    assert len(await entries(store, bob)) == 1  # still waiting, and asked nothing
    assert offers_to(bob) == []
    assert await open_offers(store) == []


async def test_no_thanks_asks_the_next_patient_at_once(full, tg, store):
    zoe, _ = full
    alice = await joined(tg, 5001, "Alice", "fr")
    bob = await joined(tg, 5002, "Bob", "en")
    await cancel(zoe, "fr")
    await alice.tap(NO["fr"], in_message=offers_to(alice)[0])
    assert alice.last.text == (
        "C'est noté, je la propose à quelqu'un d'autre. Vous restez sur la liste d'attente : "
        "Détartrage, mercredi 13 janvier à 10:00."
    )
    (offer,) = offers_to(bob)
    assert offer.text.startswith(OFFER["en"].format(who="Dr Dupont"))
    # Alice stays on the list, and is not asked about the slot she turned down again.
    assert len(await entries(store, alice)) == 1
    await bob.tap(NO["en"], in_message=offer)
    assert alice.last.text.startswith("C'est noté, je la propose à quelqu'un d'autre.")
    assert await open_offers(store) == []


async def test_when_the_hold_passes_the_next_patient_is_asked(full, tg, store, clock, bot):
    zoe, _ = full
    alice = await joined(tg, 5001, "Alice", "en")
    bob = await joined(tg, 5002, "Bob", "fr")
    await cancel(zoe, "fr")
    (late,) = offers_to(alice)
    clock.set(clock.now() + timedelta(minutes=14))
    await sweep(bot)
    assert offers_to(bob) == []
    clock.set(clock.now() + timedelta(minutes=2))
    await sweep(bot)
    (offer,) = offers_to(bob)
    assert offer.text.startswith(OFFER["fr"].format(who="Dr Dupont"))
    await alice.tap(TAKE["en"], in_message=late)
    assert alice.last.text == (
        "The time to take that place has passed: it went to the next person. You stay on the "
        "waitlist."
    )
    assert len(await entries(store, alice)) == 1
    await bob.tap(TAKE["fr"], in_message=offer)
    (request,) = await store.appointments.of_patient(bob.id, tg.now())
    assert request.starts_at == WEDNESDAY_10


async def test_one_freed_slot_is_offered_once_even_by_two_runs_at_once(full, tg, store, bot):
    zoe, _ = full
    alice = await joined(tg, 5001, "Alice", "fr")
    bob = await joined(tg, 5002, "Bob", "fr")
    (held,) = await store.appointments.of_patient(zoe.id, tg.now())
    # Freed by a path that does not reconcile: the minute's sweep finds it, twice at once.
    await store.appointments.change_status(
        held.id, expected=(Status.CONFIRMED,), to=Status.CANCELLED, now=tg.now(), actor=None
    )
    await asyncio.gather(sweep(bot), sweep(bot))
    (offer,) = await open_offers(store)
    assert offer.patient_id == alice.id
    assert len(offers_to(alice)) == 1 and offers_to(bob) == []


async def test_a_slot_booked_another_way_while_offered_ends_the_offer(full, tg, store, bot):
    zoe, _ = full
    alice = await joined(tg, 5001, "Alice", "en")
    await cancel(zoe, "fr")
    (offer,) = offers_to(alice)
    carol = tg.user(5003, "Carol", language="fr")
    await carol.send("/start cabinet-dupont")
    await carol.send(ASK["fr"])
    assert "le créneau demandé est libre" in carol.last.text
    await carol.tap("10:00")
    await sweep(bot)
    assert await open_offers(store) == []
    (entry,) = await entries(store, alice)
    await alice.tap(TAKE["en"], in_message=offer)
    assert alice.last.text == (
        "Sorry, that place was just taken. You stay on the waitlist: I'll tell you if another "
        "frees up."
    )
    assert await store.appointments.of_patient(alice.id, tg.now()) == []
    assert await entries(store, alice) == [entry]


async def test_taking_a_slot_booked_before_any_reconcile_says_it_is_gone(full, tg, store, clock):
    zoe, _ = full
    alice = await joined(tg, 5001, "Alice", "fr")
    await cancel(zoe, "fr")
    (offer,) = offers_to(alice)
    (open_offer,) = await open_offers(store)
    # Someone else is booked into it another way: no reconcile runs before Alice taps.
    await hold(store, clock, tg.user(5004, "Denis"), WEDNESDAY_10, practitioner="Dr Dupont")
    await alice.tap(TAKE["fr"], in_message=offer)
    assert alice.last.text.startswith("Désolé, cette place vient d'être prise.")
    assert len(await entries(store, alice)) == 1
    assert (await store.waitlist.offer(open_offer.id)).outcome == Outcome.GONE
    assert await store.appointments.of_patient(alice.id, tg.now()) == []


async def test_two_freed_slots_go_to_two_patients(full, tg, store):
    zoe, yves = full
    alice = await joined(tg, 5001, "Alice", "fr")
    bob = await joined(tg, 5002, "Bob", "en")
    await cancel(zoe, "fr")
    await cancel(yves, "en")
    (first,) = offers_to(alice)
    (second,) = offers_to(bob)
    assert first.text.startswith(OFFER["fr"].format(who="Dr Dupont"))
    assert second.text.startswith(OFFER["en"].format(who="Dr Martin"))
    await bob.tap(TAKE["en"], in_message=second)
    await alice.tap(TAKE["fr"], in_message=first)
    booked = [
        (a.patient_id, a.practitioner)
        for a in await store.appointments.between(
            store.business_ids["cabinet-dupont"], WEDNESDAY_10, WEDNESDAY_10 + timedelta(hours=1)
        )
        if a.status == Status.REQUESTED
    ]
    assert sorted(booked) == [(alice.id, "Dr Dupont"), (bob.id, "Dr Martin")]


async def test_a_declined_request_frees_its_slot_for_the_waitlist(bot, tg, store, clock, claire):
    zoe = tg.user(7001, "Zoé", language="fr")
    yves = tg.user(7002, "Yves", language="fr")
    await hold(store, clock, yves, WEDNESDAY_10, practitioner="Dr Martin")
    await zoe.send("/start cabinet-dupont")
    await zoe.send(ASK["fr"])
    await zoe.tap("10:00")
    alice = await joined(tg, 5001, "Alice", "en")
    await claire.tap("❌ Refuser", in_message=claire.last)
    (offer,) = offers_to(alice)
    assert offer.text.startswith(OFFER["en"].format(who="Dr Dupont"))


async def test_a_lifted_block_is_offered_by_the_minute_sweep(bot, tg, store, clock):
    business_id = store.business_ids["cabinet-dupont"]
    block = await store.blocks.add(
        NewBlock(business_id, WEDNESDAY_10, WEDNESDAY_10 + timedelta(minutes=30)),
        actor=CLAIRE,
        now=clock.now(),
    )
    alice = await joined(tg, 5001, "Alice", "fr")
    await store.blocks.remove(block.id, now=clock.now())
    await sweep(bot)
    (offer,) = offers_to(alice)
    assert offer.text.startswith(OFFER["fr"].format(who="Dr Dupont"))


async def test_an_institute_offer_taken_is_booked_at_once(bot, tg, store, clock):
    zoe = tg.user(7001, "Zoé", language="fr")
    await hold(
        store,
        clock,
        zoe,
        WEDNESDAY_10,
        practitioner="Léa",
        slug="institut-belle-peau",
        service="soin-visage",
        minutes=60,
    )
    hans = tg.user(5005, "Hans", language="en")
    await hans.send("/start institut-belle-peau")
    await hans.send("a facial on Wednesday at 10am")
    await hans.tap(JOIN["en"])
    await zoe.send("je voudrais annuler mon rdv")
    await zoe.tap("Oui, annuler")
    await hans.tap(TAKE["en"])
    assert hans.last.text.startswith("Booked ✅ Facial, Wednesday, January 13 at 10:00, with Léa.")
    (booked,) = await store.appointments.of_patient(hans.id, tg.now())
    assert booked.status == Status.CONFIRMED


async def test_an_entry_ends_when_its_days_pass(full, tg, store, clock, bot):
    alice = await joined(tg, 5001, "Alice", "fr")
    (entry,) = await entries(store, alice)
    clock.set(datetime(2027, 1, 13, 23, 59, tzinfo=PARIS))
    await sweep(bot)
    assert len(await entries(store, alice)) == 1
    clock.set(datetime(2027, 1, 14, 0, 1, tzinfo=PARIS))
    await sweep(bot)
    assert await entries(store, alice) == []
    assert (await store.waitlist.entry(entry.id)).ended_why == Ended.PASSED
    await alice.tap("🗓 Mes rendez-vous")
    assert alice.last.text == "Vous n'avez aucun rendez-vous à venir."


@pytest.mark.parametrize(
    ("language", "mine", "listed", "leave", "left"),
    [
        (
            "fr",
            "🗓 Mes rendez-vous",
            "Vous n'avez aucun rendez-vous à venir.\n\nVotre liste d'attente :\n"
            "• Détartrage, mercredi 13 janvier à 10:00",
            "Quitter l'attente · mer. 13 janv. · Détartrage",
            "Vous n'êtes plus sur la liste d'attente : Détartrage, mercredi 13 janvier à 10:00.",
        ),
        (
            "en",
            "🗓 My appointments",
            "You have no upcoming appointment.\n\nYour waitlist:\n"
            "• Teeth cleaning, Wednesday, January 13 at 10:00",
            "Leave waitlist · Wed, Jan 13 · Teeth cleaning",
            "You have left the waitlist: Teeth cleaning, Wednesday, January 13 at 10:00.",
        ),
    ],
)
async def test_the_list_shows_entries_and_leaves_them(
    full, tg, store, language, mine, listed, leave, left
):
    zoe, _ = full
    alice = await joined(tg, 5001, "Alice", language)
    await alice.tap(mine)
    assert alice.last.text == listed
    assert alice.last.buttons[-1] == [leave]
    await alice.tap(leave)
    assert alice.last.text == left
    assert await entries(store, alice) == []
    await cancel(zoe, "fr")
    assert offers_to(alice) == []


async def test_leaving_with_an_offer_open_passes_it_on(full, tg, store):
    zoe, _ = full
    alice = await joined(tg, 5001, "Alice", "fr")
    bob = await joined(tg, 5002, "Bob", "fr")
    await cancel(zoe, "fr")
    assert len(offers_to(alice)) == 1
    await alice.send("mes rendez-vous")
    await alice.tap("Quitter l'attente · mer. 13 janv. · Détartrage")
    assert len(offers_to(bob)) == 1


async def test_joining_twice_is_joining_once(full, tg, store):
    alice = await joined(tg, 5001, "Alice", "en")
    await alice.send(ASK["en"])
    await alice.tap(JOIN["en"])
    assert alice.last.text.startswith(
        "You are already on the waitlist: Teeth cleaning, Wednesday, January 13 at 10:00."
    )
    assert len(await entries(store, alice)) == 1


async def test_a_stranger_tapping_anothers_buttons_changes_nothing(full, tg, store):
    zoe, _ = full
    alice = await joined(tg, 5001, "Alice", "fr")
    await cancel(zoe, "fr")
    (offer,) = offers_to(alice)
    mallory = tg.user(6666, "Mallory", language="fr")
    await mallory.send("/start cabinet-dupont")
    for label in (TAKE["fr"], NO["fr"]):
        await mallory.tap(label, in_message=offer)
        assert mallory.answers[-1] == (
            "Ce bouton n'est plus valable. Reprenez depuis le dernier message."
        )
    await alice.send("mes rendez-vous")
    await mallory.tap("Quitter l'attente · mer. 13 janv. · Détartrage", in_message=alice.last)
    assert mallory.answers[-1].startswith("Ce bouton n'est plus valable.")
    (still,) = await open_offers(store)
    assert still.patient_id == alice.id
    assert len(await entries(store, alice)) == 1
    assert await store.appointments.of_patient(mallory.id, tg.now()) == []


async def test_no_waitlist_button_when_the_time_asked_is_free_or_never_open(bot, tg):
    alice = tg.user(5001, "Alice", language="fr")
    await alice.send("/start cabinet-dupont")
    await alice.send(ASK["fr"])
    assert "le créneau demandé est libre" in alice.last.text
    assert JOIN["fr"] not in [label for row in alice.last.buttons for label in row]
    await alice.send("un détartrage dimanche à 10h")
    assert JOIN["fr"] not in [label for row in alice.last.buttons for label in row]


@pytest.mark.parametrize(
    ("language", "asked", "none", "waiting"),
    [
        (
            "fr",
            "liste d'attente",
            "Vous n'êtes sur aucune liste d'attente.",
            "Votre liste d'attente :\n• Détartrage, mercredi 13 janvier à 10:00\n\n"
            "Pour attendre un autre créneau",
        ),
        (
            "en",
            "am I on the waiting list?",
            "You are on no waitlist.",
            "Your waitlist:\n• Teeth cleaning, Wednesday, January 13 at 10:00\n\n"
            "To wait for another time",
        ),
    ],
)
async def test_asking_about_the_waitlist_says_where_one_stands(
    full, tg, language, asked, none, waiting
):
    alice = tg.user(5001, "Alice", language=language)
    await alice.send("/start cabinet-dupont")
    await alice.send(asked)
    assert alice.last.text.startswith(none)
    assert len(alice.last.buttons) == 1  # the menu: book, or see one's appointments
    await alice.send(ASK[language])
    await alice.tap(JOIN[language])
    await alice.send(asked)
    assert alice.last.text.startswith(waiting)
    assert len(alice.last.buttons) == 2  # the menu, and leaving the entry


async def test_a_morning_wish_is_offered_any_time_that_morning(bot, tg, store, clock):
    """A part of the day: whichever time in it frees first is offered, with its day."""
    morning = [
        WEDNESDAY_10.replace(hour=8, minute=30) + timedelta(minutes=15 * i) for i in range(16)
    ]
    holders = []
    for index, start in enumerate(morning):
        for practitioner in ("Dr Dupont", "Dr Martin"):
            holder = tg.user(8000 + 2 * index + (practitioner == "Dr Martin"), "P", language="fr")
            await hold(store, clock, holder, start, practitioner=practitioner, minutes=15)
            holders.append(holder)
    alice = tg.user(5001, "Alice", language="en")
    await alice.send("/start cabinet-dupont")
    await alice.send("a teeth cleaning on Wednesday morning")
    await alice.tap(JOIN["en"])
    assert "Wednesday, January 13, between 08:00 and 12:00" in alice.last.text
    await cancel(holders[4 * 2], "fr")  # 09:30 with Dr Dupont; 30 minutes need 09:45 too
    assert offers_to(alice) == []
    await cancel(holders[5 * 2], "fr")
    (offer,) = offers_to(alice)
    assert offer.text.startswith(
        "🔔 A place has freed up: Teeth cleaning, Wednesday, January 13 at 09:30, with Dr Dupont"
    )


async def test_a_move_frees_the_old_time_for_the_waitlist(full, tg):
    zoe, _ = full
    alice = await joined(tg, 5001, "Alice", "en")
    await zoe.send("est-ce que je peux décaler mon rdv de mercredi à jeudi 15h ?")
    await zoe.tap("15:00")
    (offer,) = offers_to(alice)
    assert offer.text.startswith(OFFER["en"].format(who="Dr Dupont"))


async def test_the_office_proposing_another_time_frees_the_one_asked(bot, tg, store, clock, claire):
    await hold(store, clock, tg.user(7002, "Yves"), WEDNESDAY_10, practitioner="Dr Martin")
    zoe = tg.user(7001, "Zoé", language="fr")
    await zoe.send("/start cabinet-dupont")
    await zoe.send(ASK["fr"])
    await zoe.tap("10:00")
    alice = await joined(tg, 5001, "Alice", "fr")
    await claire.tap("🔁 Proposer un autre créneau", in_message=claire.last)
    await claire.tap("mer. 13 janv. 10:30", in_message=claire.last)
    (offer,) = offers_to(alice)
    assert offer.text.startswith(OFFER["fr"].format(who="Dr Dupont"))


async def test_the_patients_data_export_lists_their_waitlist_entries(full, tg, store):
    import json

    alice = await joined(tg, 5001, "Alice", "en")
    await alice.send("/mydata")
    name, raw = alice.messages[-1].document
    (entry,) = json.loads(raw)["waitlist"]
    assert entry["business"] == "cabinet-dupont"
    assert entry["service"] == "detartrage"
    assert entry["days"] == ["2027-01-13", "2027-01-13"]
    assert entry["ended"] is None
