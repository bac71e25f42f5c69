"""Storage and domain of the secretary's phone, on real SQLite files: blocks, calls, the audit
log, escalations, no-show counts, phone bookings and proposals."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from bot.agenda import Wanted
from bot.booking import Booking
from bot.clock import ManualClock
from storage.appointments import NewAppointment, SlotTaken, Source, StaleStatus, Status
from storage.blocks import NewBlock
from storage.calls import NewCall
from storage.outbox import Owed
from tests.conftest import MONDAY_9AM, PARIS

pytestmark = pytest.mark.backends

CLAIRE = 111111111


def paris(*args: int) -> datetime:
    return datetime(*args, tzinfo=PARIS)


@pytest.fixture
def clock():
    return ManualClock(MONDAY_9AM)


@pytest.fixture
async def booking(settings, store, clock):
    for patient_id in (5001, 5002):
        await store.people.seen(
            patient_id,
            first_name="P",
            last_name=None,
            username=None,
            language="fr",
            now=clock.now(),
        )
    return Booking(settings, store, clock)


@pytest.fixture
def dupont(settings):
    return settings.business("cabinet-dupont")


async def test_blocks_overlap_and_a_lifted_one_is_gone(store):
    business = store.business_ids["cabinet-dupont"]
    block = await store.blocks.add(
        NewBlock(business, paris(2027, 1, 12, 10), paris(2027, 1, 12, 12), "Dr Martin", "congé"),
        actor=CLAIRE,
        now=MONDAY_9AM,
    )
    assert block.starts_at == paris(2027, 1, 12, 10) and block.starts_at.tzinfo == UTC
    assert await store.blocks.overlapping(business, paris(2027, 1, 12, 11), paris(2027, 1, 13))
    assert not await store.blocks.overlapping(business, paris(2027, 1, 12, 12), paris(2027, 1, 13))
    assert not await store.blocks.overlapping(
        store.business_ids["institut-belle-peau"], paris(2027, 1, 12), paris(2027, 1, 13)
    )
    lifted = await store.blocks.remove(block.id, now=MONDAY_9AM)
    assert lifted == block
    assert await store.blocks.remove(block.id, now=MONDAY_9AM) is None
    assert await store.blocks.remove(999, now=MONDAY_9AM) is None
    assert not await store.blocks.overlapping(business, paris(2027, 1, 12), paris(2027, 1, 13))
    assert (await store.blocks.get(block.id)).removed_at == MONDAY_9AM
    with pytest.raises(ValueError):
        await store.blocks.add(
            NewBlock(business, paris(2027, 1, 12, 12), paris(2027, 1, 12, 10)),
            actor=CLAIRE,
            now=MONDAY_9AM,
        )


async def test_calls_of_a_local_day(store):
    business = store.business_ids["cabinet-dupont"]
    for hour, urgent in ((23, False), (8, True)):
        await store.calls.add(
            NewCall(business, "M. Leroy", "+33 6 11 22 33 44", f"à {hour}h", urgent),
            actor=CLAIRE,
            now=paris(2027, 1, 11 if hour == 8 else 10, hour),
        )
    (call,) = await store.calls.on_day(business, paris(2027, 1, 11), paris(2027, 1, 12))
    assert (call.message, call.urgent, call.taken_by) == ("à 8h", True, CLAIRE)
    assert call.taken_at == paris(2027, 1, 11, 8)
    assert len(await store.calls.on_day(business, paris(2027, 1, 10), paris(2027, 1, 12))) == 2


async def test_the_audit_log_keeps_who_what_when_before_and_after(store):
    await store.audit.record(
        CLAIRE,
        "appointment.confirm",
        "appointment:3",
        {"status": Status.REQUESTED, "starts_at": paris(2027, 1, 12, 10)},
        {"status": Status.CONFIRMED},
        MONDAY_9AM,
    )
    await store.audit.record(CLAIRE, "block.add", "block:1", None, {"reason": "é"}, MONDAY_9AM)
    (entry,) = await store.audit.entries(target="appointment:3")
    assert (entry.actor, entry.action, entry.at) == (CLAIRE, "appointment.confirm", MONDAY_9AM)
    assert entry.before == {"status": "requested", "starts_at": "2027-01-12T09:00:00+00:00"}
    assert entry.after == {"status": "confirmed"}
    assert [e.action for e in await store.audit.entries()] == ["appointment.confirm", "block.add"]
    with pytest.raises(TypeError):
        await store.audit.record(CLAIRE, "x", None, {"what": object()}, None, MONDAY_9AM)


async def test_an_escalation_is_claimed_once(store, booking, dupont):
    first = await booking.request(
        dupont, dupont.service("detartrage"), paris(2027, 1, 12, 10), "Dr Dupont", patient_id=5001
    )
    flag = [Owed("escalation", 222222222, first.id, {"waited": 120})]
    assert await store.escalations.claim([(first.id, flag)], MONDAY_9AM) == [first.id]
    assert await store.escalations.claim([(first.id, flag)], MONDAY_9AM) == []
    assert len(await store.outbox.messages(kind="escalation")) == 1


async def test_no_shows_are_counted_per_patient_and_per_caller_phone(store, booking, dupont):
    callers = ((5001, None), (None, "+33 6 12 34 56 78"), (5002, None))
    for hour, (patient_id, phone) in enumerate(callers, start=9):
        appointment = await store.appointments.book(
            NewAppointment(
                business_id=store.business_ids["cabinet-dupont"],
                practitioner="Dr Dupont",
                service="detartrage",
                starts_at=paris(2027, 1, 4, hour),
                ends_at=paris(2027, 1, 4, hour, 30),
                status=Status.CONFIRMED,
                source=Source.PHONE if phone else Source.PATIENT,
                patient_id=patient_id,
                caller_name="Mme Durand" if phone else None,
                caller_phone=phone,
            ),
            now=paris(2027, 1, 1),
        )
        if patient_id != 5002:
            await booking.record_attendance(appointment.id, came=False, actor=CLAIRE)
    assert await store.appointments.no_shows(patient_id=5001) == 1
    assert await store.appointments.no_shows(patient_id=None, caller_phone="+33 6 12 34 56 78") == 1
    assert await store.appointments.no_shows(patient_id=5002) == 0
    assert await store.appointments.no_shows(patient_id=None) == 0


async def test_a_phone_booking_is_confirmed_and_respects_blocks(store, booking, dupont):
    detartrage = dupont.service("detartrage")
    await store.blocks.add(
        NewBlock(
            store.business_ids["cabinet-dupont"],
            paris(2027, 1, 12, 10),
            paris(2027, 1, 12, 11),
            "Dr Dupont",
        ),
        actor=CLAIRE,
        now=MONDAY_9AM,
    )
    booked = await booking.book_by_office(
        dupont,
        detartrage,
        paris(2027, 1, 12, 10),
        "Dr Dupont",
        caller_name="Mme Durand",
        caller_phone="+33 6 12 34 56 78",
        actor=CLAIRE,
    )
    # Dr Dupont is blocked: his colleague takes the caller.
    assert (booked.status, booked.source, booked.practitioner) == (
        Status.CONFIRMED,
        Source.PHONE,
        "Dr Martin",
    )
    with pytest.raises(SlotTaken):
        await booking.book_by_office(
            dupont,
            detartrage,
            paris(2027, 1, 12, 10),
            "Dr Dupont",
            caller_name="M. Petit",
            caller_phone=None,
            actor=CLAIRE,
        )
    offer = await booking.offer(dupont, detartrage, Wanted(date(2027, 1, 12), date(2027, 1, 12)))
    assert paris(2027, 1, 12, 10) not in [slot.start for slot in offer.slots]


async def test_a_proposal_after_the_request_was_answered_holds_nothing(store, booking, dupont):
    detartrage = dupont.service("detartrage")
    request = await booking.request(
        dupont, detartrage, paris(2027, 1, 12, 10), "Dr Dupont", patient_id=5001
    )
    await booking.confirm(request.id, actor=2)  # another secretary answered first
    with pytest.raises(StaleStatus):
        await booking.propose(request.id, paris(2027, 1, 12, 11), "Dr Dupont", actor=CLAIRE)
    held = await store.appointments.holding(
        store.business_ids["cabinet-dupont"], paris(2027, 1, 12), paris(2027, 1, 13)
    )
    assert [(a.id, a.status) for a in held] == [(request.id, Status.CONFIRMED)]
    assert [m.kind for m in await store.outbox.messages()] == [
        "inbox.request",
        "patient.confirmed",
    ]


async def test_a_proposal_on_a_taken_slot_leaves_the_request_waiting(store, booking, dupont):
    detartrage = dupont.service("detartrage")
    request = await booking.request(
        dupont, detartrage, paris(2027, 1, 12, 10), "Dr Dupont", patient_id=5001
    )
    for caller in ("Mme Durand", "M. Leroy"):  # both practitioners busy at 11:00
        await booking.book_by_office(
            dupont,
            detartrage,
            paris(2027, 1, 12, 11),
            "Dr Dupont",
            caller_name=caller,
            caller_phone=None,
            actor=CLAIRE,
        )
    with pytest.raises(SlotTaken):
        await booking.propose(request.id, paris(2027, 1, 12, 11), "Dr Dupont", actor=CLAIRE)
    assert (await store.appointments.get(request.id)).status == Status.REQUESTED
    assert await store.outbox.messages(kind="proposal.offer") == []


async def test_only_the_patient_asked_answers_a_proposal(store, booking, dupont):
    request = await booking.request(
        dupont, dupont.service("detartrage"), paris(2027, 1, 12, 10), "Dr Dupont", patient_id=5001
    )
    declined, proposal = await booking.propose(
        request.id, paris(2027, 1, 12, 11), "Dr Dupont", actor=CLAIRE
    )
    assert declined.status == Status.DECLINED
    with pytest.raises(PermissionError):
        await booking.answer_proposal(proposal.id, patient_id=5002, accept=True)
    with pytest.raises(PermissionError):  # the request itself is no proposal
        await booking.answer_proposal(request.id, patient_id=5001, accept=True)
    accepted = await booking.answer_proposal(proposal.id, patient_id=5001, accept=True)
    assert accepted.status == Status.CONFIRMED
    with pytest.raises(StaleStatus):
        await booking.answer_proposal(proposal.id, patient_id=5001, accept=False)
    history = await store.appointments.history(request.id)
    assert history[-1].note == f"another slot proposed: appointment {proposal.id}"
