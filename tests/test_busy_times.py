"""The free-slot search's one read of busy time holds what holding() and the blocks hold."""

from __future__ import annotations

from datetime import timedelta

from storage.appointments import NewAppointment, Source, Status
from storage.blocks import NewBlock
from storage.db import to_epoch
from tests.conftest import MONDAY_9AM

HALF_HOUR = timedelta(minutes=30)


async def test_busy_time_is_the_held_appointments_and_the_blocks_in_force(store):
    dupont, institute = (
        store.business_ids["cabinet-dupont"],
        store.business_ids["institut-belle-peau"],
    )

    async def book(business, start, practitioner, status):
        return await store.appointments.book(
            NewAppointment(
                business_id=business,
                practitioner=practitioner,
                service="detartrage",
                starts_at=start,
                ends_at=start + HALF_HOUR,
                status=status,
                source=Source.PHONE,
                caller_name="Caller",
            ),
            now=MONDAY_9AM - timedelta(days=1),
        )

    day = MONDAY_9AM + timedelta(days=1)
    await book(dupont, day, "Dr Dupont", Status.CONFIRMED)
    await book(dupont, day + HALF_HOUR, "Dr Martin", Status.REQUESTED)
    cancelled = await book(dupont, day + 2 * HALF_HOUR, "Dr Dupont", Status.CONFIRMED)
    await store.appointments.change_status(
        cancelled.id, expected=[Status.CONFIRMED], to=Status.CANCELLED, now=MONDAY_9AM, actor=None
    )
    await book(dupont, day + timedelta(days=3), "Dr Dupont", Status.CONFIRMED)  # after the window
    await book(institute, day, "Léa", Status.CONFIRMED)  # another business
    await store.blocks.add(
        NewBlock(dupont, day + timedelta(hours=3), day + timedelta(hours=5), reason="formation"),
        actor=1,
        now=MONDAY_9AM,
    )
    removed = await store.blocks.add(
        NewBlock(dupont, day + timedelta(hours=6), day + timedelta(hours=7), "Dr Martin"),
        actor=1,
        now=MONDAY_9AM,
    )
    await store.blocks.remove(removed.id, now=MONDAY_9AM)
    await store.blocks.add(
        NewBlock(dupont, day - timedelta(hours=2), day, "Dr Martin"),  # ends as the window opens
        actor=1,
        now=MONDAY_9AM,
    )

    start, end = day, day + timedelta(days=2)
    spans = await store.busy.overlapping(dupont, start, end)
    held = await store.appointments.holding(dupont, start, end)
    blocks = await store.blocks.overlapping(dupont, start, end)
    expected = [(to_epoch(a.starts_at), to_epoch(a.ends_at), a.practitioner) for a in held]
    expected += [(to_epoch(b.starts_at), to_epoch(b.ends_at), b.practitioner) for b in blocks]
    assert sorted((s, e, p or "") for s, e, p in spans) == sorted(
        (s, e, p or "") for s, e, p in expected
    )
    assert len(spans) == 3
