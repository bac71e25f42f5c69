"""Booking and cancelling series of appointments: the domain, over ``Booking`` and the store.

Each occurrence is checked like a single booking (open, on the business's step, enough
notice, not blocked, nobody else there); those that cannot be booked are conflicts, each
with the nearest free time to it. The series and its occurrences are written in one
transaction with the patient's one message about them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from bot import outbox
from bot.agenda import Slot, Unavailable, Wanted
from bot.booking import Booking
from bot.config import Business, Service
from bot.series import Recurrence, occurrences
from storage.appointments import HOLDING, Appointment, NewAppointment, Source, Status
from storage.outbox import Owed
from storage.series import NewSeries, Occurrence, Series

# The free times nearest to a conflict among which the one to offer is chosen.
NEAREST_SEARCHED = 60


@dataclass(frozen=True)
class Conflict:
    start: datetime  # the planned time, in the business's zone
    unavailable: Unavailable | None  # why, when a person can be told
    nearest: Slot | None  # the free time nearest to it, that day or around


@dataclass(frozen=True)
class Booked:
    series: Series
    booked: list[Appointment]  # in time order, a repeated appointment first
    conflicts: list[Conflict]


@dataclass(frozen=True)
class Who:
    """Whom the series is for: a Telegram patient, or a phone caller."""

    patient_id: int | None = None
    caller_name: str | None = None
    caller_phone: str | None = None

    @classmethod
    def of(cls, appointment: Appointment) -> Who:
        return cls(appointment.patient_id, appointment.caller_name, appointment.caller_phone)


class SeriesBooking:
    def __init__(self, booking: Booking):
        self.booking = booking
        self.store = booking.store

    async def book(
        self,
        business: Business,
        service: Service,
        first: datetime,
        practitioner: str,
        recurrence: Recurrence,
        who: Who,
        *,
        actor: int,
        anchor: Appointment | None = None,
    ) -> Booked:
        """Book ``recurrence`` from ``first`` for ``who``; ``anchor``, an appointment already
        held at ``first``, becomes the first occurrence (the office repeats it).

        Raises LookupError or SlotTaken when the anchor is gone or no longer held.
        """
        zone = self.booking.rules[business.slug].zone
        starts = occurrences(first, recurrence, zone)
        if anchor is not None:
            starts = starts[1:]
        planned = [
            await self._plan(business, service, start, practitioner, who) for start in starts
        ]

        def tell(series: Series, booked: list[Appointment]) -> list[Owed]:
            if who.patient_id is None or not booked:
                return []
            first_booked = min(booked, key=lambda a: a.starts_at)
            return [
                Owed(
                    outbox.SERIES_BOOKED,
                    who.patient_id,
                    first_booked.id,
                    {"series_id": series.id},
                )
            ]

        series, results = await self.store.series.book(
            NewSeries(
                business_id=self.booking.business_id(business),
                service=service.key,
                every_weeks=recurrence.every,
                count=recurrence.count,
                patient_id=who.patient_id,
                caller_name=who.caller_name,
                caller_phone=who.caller_phone,
            ),
            planned,
            anchor=anchor.id if anchor is not None else None,
            now=self.booking.clock.now(),
            actor=actor,
            tell=tell,
        )
        conflicts = [
            await self.conflict(business, service, start)
            for start, result in zip(starts, results, strict=True)
            if result is None
        ]
        return Booked(series, await self.held(series.id), conflicts)

    async def _plan(
        self, business: Business, service: Service, start: datetime, preferred: str, who: Who
    ) -> Occurrence | None:
        """An occurrence the business offers, with who may take it; None when it offers
        none then (closed, a holiday, outside the hours, too soon) or all are blocked."""
        if not self.booking.is_offered(business, service, start):
            return None
        end = start + timedelta(minutes=service.duration)
        blocks = await self.store.blocks.overlapping(self.booking.business_id(business), start, end)
        blocked = {block.practitioner for block in blocks}
        if None in blocked:
            return None
        order = [preferred, *(p for p in business.practitioners if p != preferred)]
        candidates = tuple(p for p in order if p not in blocked)
        if not candidates:
            return None
        return Occurrence(
            NewAppointment(
                business_id=self.booking.business_id(business),
                practitioner=candidates[0],
                service=service.key,
                starts_at=start,
                ends_at=end,
                status=Status.CONFIRMED,
                source=Source.PHONE if who.patient_id is None else Source.SECRETARY,
                patient_id=who.patient_id,
                caller_name=who.caller_name,
                caller_phone=who.caller_phone,
            ),
            candidates,
        )

    async def conflict(self, business: Business, service: Service, start: datetime) -> Conflict:
        """Why ``start`` could not be booked, and the free time nearest to it."""
        local = self.booking.local(business, start)
        wanted = Wanted(local.date(), local.date(), local.time(), local.time())
        offer = await self.booking.offer(business, service, wanted, limit=NEAREST_SEARCHED)

        def distance(slot: Slot) -> tuple[int, int, datetime]:
            # A series keeps its rhythm: that day first, else the nearest day at the nearest
            # time of day (a closed Tuesday gives Wednesday 10:00, not Monday 18:00).
            days = abs((slot.start.date() - local.date()).days)
            minutes = abs(
                (slot.start.hour * 60 + slot.start.minute) - (local.hour * 60 + local.minute)
            )
            return days, minutes, slot.start

        others = [slot for slot in offer.slots if slot.start != local]
        return Conflict(local, offer.unavailable, min(others, key=distance, default=None))

    async def held(self, series_id: int) -> list[Appointment]:
        """The series' occurrences that still hold their slot, in time order."""
        return [a for a in await self.store.series.occurrences(series_id) if a.status in HOLDING]

    async def cancel_rest(
        self, appointment: Appointment, *, patient_id: int
    ) -> tuple[list[Appointment], list[Appointment]]:
        """The patient cancels ``appointment`` and every later occurrence of its series:
        those outside the cancel notice are cancelled, those inside it are left for the
        office to decide; the secretaries are told of both in one message. Returns
        (cancelled, left inside the notice)."""
        rest = [
            a
            for a in await self.held(appointment.series_id)
            if a.starts_at >= appointment.starts_at and a.patient_id == patient_id
        ]
        inside = [a for a in rest if self.booking.within_notice(a)]
        outside = [a.id for a in rest if a not in inside]
        if not rest:
            return [], []

        def tell(cancelled: list[Appointment]) -> list[Owed]:
            if not cancelled and not inside:
                return []  # cancelled meanwhile, by another tap: told then
            about = cancelled[0] if cancelled else inside[0]
            return outbox.to_secretaries(
                self.booking.settings,
                outbox.SERIES_CANCELLED,
                about,
                series_id=appointment.series_id,
                cancelled=[a.id for a in cancelled],
                inside=[a.id for a in inside],
            )

        cancelled = await self.store.series.cancel(
            outside,
            patient_id=patient_id,
            now=self.booking.clock.now(),
            actor=patient_id,
            tell=tell,
        )
        return cancelled, inside
