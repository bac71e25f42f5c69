"""The booking flow's domain: what is free, asking for a slot, confirming, declining.

It joins the pure agenda with the store, and knows nothing of Telegram.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from bot.agenda import Busy, OpeningRules, Slot, Wanted, free_slots, search
from bot.clock import Clock
from bot.config import Business, Service, Settings
from storage import Store
from storage.appointments import Appointment, NewAppointment, SlotTaken, Source, Status


@dataclass(frozen=True)
class Offer:
    slots: list[Slot]
    exact: bool  # the first slot is exactly the one asked for


class Booking:
    def __init__(self, settings: Settings, store: Store, clock: Clock):
        self.settings = settings
        self.store = store
        self.clock = clock
        self.rules = {b.slug: OpeningRules(b, settings.zone(b)) for b in settings.businesses}

    def business_id(self, business: Business) -> int:
        return self.store.business_ids[business.slug]

    def business_of(self, appointment: Appointment) -> Business:
        business = self.settings.business(self.store.business_slug(appointment.business_id))
        if business is None:
            raise LookupError(f"appointment {appointment.id} belongs to a business not in config")
        return business

    def local(self, business: Business, moment: datetime) -> datetime:
        return moment.astimezone(self.rules[business.slug].zone)

    def today(self, business: Business) -> date:
        return self.rules[business.slug].today(self.clock.now())

    async def _busy(self, business: Business, first: date, last: date) -> list[Busy]:
        zone = self.rules[business.slug].zone
        start = datetime.combine(first, time.min, tzinfo=zone) - timedelta(days=1)
        end = datetime.combine(last, time.max, tzinfo=zone) + timedelta(days=1)
        held = await self.store.appointments.holding(self.business_id(business), start, end)
        return [Busy(a.starts_at, a.ends_at, a.practitioner) for a in held]

    async def offer(
        self, business: Business, service: Service, wanted: Wanted, *, limit: int = 6
    ) -> Offer:
        rules = self.rules[business.slug]
        now = self.clock.now()
        today = rules.today(now)
        horizon = today + timedelta(days=business.booking_horizon_days)
        busy = await self._busy(business, today, horizon)
        slots = search(
            rules, timedelta(minutes=service.duration), busy, wanted, now=now, limit=limit
        )
        exact = bool(
            slots
            and wanted.exact
            and wanted.day_from is not None
            and wanted.day_from <= slots[0].start.date() <= (wanted.day_to or wanted.day_from)
            and slots[0].start.time() == wanted.time_from
        )
        return Offer(slots, exact)

    async def days_with_room(self, business: Business, service: Service, count: int) -> list[date]:
        """The next ``count`` days that still have a free slot for ``service``."""
        rules = self.rules[business.slug]
        now = self.clock.now()
        today = rules.today(now)
        horizon = today + timedelta(days=business.booking_horizon_days)
        busy = await self._busy(business, today, horizon)
        days: list[date] = []
        for slot in free_slots(
            rules,
            timedelta(minutes=service.duration),
            busy,
            now=now,
            first_day=today,
            last_day=horizon,
        ):
            if not days or days[-1] != slot.start.date():
                days.append(slot.start.date())
                if len(days) == count:
                    break
        return days

    def is_offered(self, business: Business, service: Service, start: datetime) -> bool:
        """A start the business offers at all: open, aligned on its step, with enough notice."""
        rules = self.rules[business.slug]
        local = self.local(business, start)
        return any(
            slot.start == local
            for slot in free_slots(
                rules,
                timedelta(minutes=service.duration),
                (),
                now=self.clock.now(),
                first_day=local.date(),
                last_day=local.date(),
                time_from=local.time(),
                time_to=local.time(),
            )
        )

    async def request(
        self,
        business: Business,
        service: Service,
        start: datetime,
        practitioner: str,
        *,
        patient_id: int,
    ) -> Appointment:
        """Hold the slot for a patient: ``requested``, or ``confirmed`` where no one confirms.

        The patient picked a time: if the practitioner shown was taken meanwhile, another
        one free at that time gets the appointment. Raises SlotTaken when nobody is free,
        ValueError when the business does not offer that start (closed, too soon, unknown
        practitioner).
        """
        if practitioner not in business.practitioners:
            raise ValueError(f"{practitioner!r} does not work at {business.slug}")
        start = start.astimezone(UTC)
        if not self.is_offered(business, service, start):
            raise ValueError(f"{start:%Y-%m-%d %H:%M}Z is not a slot {business.slug} offers")
        status = Status.REQUESTED if business.requires_confirmation else Status.CONFIRMED
        others = [p for p in business.practitioners if p != practitioner]
        for candidate in [practitioner, *others]:
            try:
                return await self.store.appointments.book(
                    NewAppointment(
                        business_id=self.business_id(business),
                        practitioner=candidate,
                        service=service.key,
                        starts_at=start,
                        ends_at=start + timedelta(minutes=service.duration),
                        status=status,
                        source=Source.PATIENT,
                        patient_id=patient_id,
                    ),
                    now=self.clock.now(),
                    actor=patient_id,
                )
            except SlotTaken:
                continue
        raise SlotTaken(f"nobody is free at {start:%Y-%m-%d %H:%M}Z in {business.slug}")

    async def confirm(self, appointment_id: int, *, actor: int) -> Appointment:
        return await self.store.appointments.change_status(
            appointment_id,
            expected=(Status.REQUESTED,),
            to=Status.CONFIRMED,
            now=self.clock.now(),
            actor=actor,
        )

    async def decline(self, appointment_id: int, *, actor: int) -> Appointment:
        return await self.store.appointments.change_status(
            appointment_id,
            expected=(Status.REQUESTED,),
            to=Status.DECLINED,
            now=self.clock.now(),
            actor=actor,
        )

    async def upcoming(self, patient_id: int) -> list[Appointment]:
        return [
            a
            for a in await self.store.appointments.of_patient(patient_id, self.clock.now())
            if a.status in (Status.REQUESTED, Status.CONFIRMED)
        ]
