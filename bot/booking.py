"""The booking flow's domain: what is free, asking for a slot, confirming, declining.

It joins the pure agenda with the store, and knows nothing of Telegram.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from bot import outbox
from bot.agenda import Occupancy, OpeningRules, Wanted, free_slots
from bot.clock import Clock
from bot.config import Business, Service, Settings
from bot.offers import Offer, reading, settle, windows
from storage import Store
from storage.appointments import (
    HOLDING,
    Appointment,
    HistoryEntry,
    NewAppointment,
    SlotTaken,
    Source,
    StaleStatus,
    Status,
)
from storage.outbox import Owed

# History notes of a change asked inside the cancel notice, and the office's answer.
LATE_CANCELLATION = "late cancellation"
_ASKED = {outbox.WANTS_CANCEL: "late cancel asked", outbox.WANTS_MOVE: "late move asked"}
_KEPT = "kept by the office"


def _waiting_for_office(history: list[HistoryEntry]) -> bool:
    """The patient's late cancel or move is still waiting for the office's answer."""
    for entry in reversed(history):
        if entry.note in _ASKED.values():
            return True
        if entry.note == _KEPT or entry.from_status != entry.to_status:
            return False
    return False


# The history note of a cancellation by the office, which the employer's summary counts.
OFFICE_CANCEL_NOTE = "cancelled by the office"


class Booking:
    def __init__(self, settings: Settings, store: Store, clock: Clock):
        self.settings = settings
        self.store = store
        self.clock = clock
        self.rules = {
            b.slug: OpeningRules(b, settings.zone(b), settings.horizon(b))
            for b in settings.businesses
        }
        self.office_zone = ZoneInfo(settings.timezone)

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

    async def _busy(self, business: Business, first: date, last: date) -> Occupancy:
        return await _BusyRead(self, business).days(first, last)

    def last_day(self, business: Business) -> date:
        return self.rules[business.slug].last_day(self.clock.now())

    async def offer(
        self, business: Business, service: Service, wanted: Wanted, *, limit: int = 6
    ) -> Offer:
        rules = self.rules[business.slug]
        now = self.clock.now()
        duration = timedelta(minutes=service.duration)
        read = _BusyRead(self, business)
        for within in windows(rules, wanted, now):
            busy = await read.days(*within)
            offer = settle(rules, duration, wanted, busy, now, limit, within=within)
            if offer is not None:
                return offer
        busy = await read.days(rules.today(now), rules.last_day(now))
        return settle(rules, duration, wanted, busy, now, limit, within=None)

    async def days_with_room(
        self,
        business: Business,
        service: Service,
        count: int | None = None,
        *,
        first: date | None = None,
        last: date | None = None,
    ) -> list[date]:
        """The days from ``first`` (today) to ``last`` (the horizon) that still have a free
        slot for ``service``, the first ``count`` of them if given."""
        rules = self.rules[business.slug]
        now = self.clock.now()
        today = rules.today(now)
        first = max(first or today, today)
        last = min(last or rules.last_day(now), rules.last_day(now))
        if last < first:
            return []
        busy = await self._busy(business, first, last)
        days: list[date] = []
        for slot in free_slots(
            rules,
            timedelta(minutes=service.duration),
            busy,
            now=now,
            first_day=first,
            last_day=last,
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

    async def _at_any_practitioner(
        self,
        business: Business,
        service: Service,
        start: datetime,
        preferred: str,
        hold: Callable[[str, datetime, Status], Awaitable[Appointment]],
    ) -> Appointment:
        """Hold ``start`` with ``preferred``, else with any colleague free then.

        A patient picks a time, not a practitioner: if the one shown was taken meanwhile,
        another one free at that time will do. Raises SlotTaken when nobody is free,
        ValueError when the business does not offer that start (closed, too soon, unknown
        practitioner: an old or forged button).
        """
        if preferred not in business.practitioners:
            raise ValueError(f"{preferred!r} does not work at {business.slug}")
        start = start.astimezone(UTC)
        if not self.is_offered(business, service, start):
            raise ValueError(f"{start:%Y-%m-%d %H:%M}Z is not a slot {business.slug} offers")
        status = Status.REQUESTED if business.requires_confirmation else Status.CONFIRMED
        others = [p for p in business.practitioners if p != preferred]
        end = start + timedelta(minutes=service.duration)
        for candidate in [preferred, *others]:
            # The store's overlap check knows appointments only: blocked time is checked here.
            if await self._blocked(business, candidate, start, end):
                continue
            try:
                return await hold(candidate, start, status)
            except SlotTaken:
                continue
        raise SlotTaken(f"nobody is free at {start:%Y-%m-%d %H:%M}Z in {business.slug}")

    async def request(
        self,
        business: Business,
        service: Service,
        start: datetime,
        practitioner: str,
        *,
        patient_id: int,
    ) -> Appointment:
        """Hold the slot for a patient: ``requested``, or ``confirmed`` where no one confirms."""

        async def book(candidate: str, start: datetime, status: Status) -> Appointment:
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
                tell=lambda held: outbox.to_inbox(self.settings, held),
            )

        return await self._at_any_practitioner(business, service, start, practitioner, book)

    async def move(
        self, appointment: Appointment, start: datetime, practitioner: str, *, actor: int
    ) -> Appointment:
        """Move a held appointment to a start the patient tapped, checked like a new request.

        Where confirmation is required the move is a new request for the office.
        """
        business = self.business_of(appointment)
        service = business.service(appointment.service)
        if service is None:
            raise ValueError(f"appointment {appointment.id}: {appointment.service} is no more")

        async def move(candidate: str, start: datetime, status: Status) -> Appointment:
            return await self.store.appointments.move(
                appointment.id,
                starts_at=start,
                ends_at=start + timedelta(minutes=service.duration),
                practitioner=candidate,
                status=status,
                source=Source.PATIENT,
                now=self.clock.now(),
                actor=actor,
                tell=lambda held: outbox.to_inbox(self.settings, held),
            )

        return await self._at_any_practitioner(business, service, start, practitioner, move)

    async def move_by_office(
        self, appointment: Appointment, start: datetime, practitioner: str, *, actor: int
    ) -> Appointment:
        """The office moves an appointment: confirmed at once (the office decides), checked
        like a patient's move; its patient, if on Telegram, is told the new day and time."""
        business = self.business_of(appointment)
        service = business.service(appointment.service)
        if service is None:
            raise ValueError(f"appointment {appointment.id}: {appointment.service} is no more")
        before = int(appointment.starts_at.timestamp())

        async def move(candidate: str, start: datetime, _: Status) -> Appointment:
            return await self.store.appointments.move(
                appointment.id,
                starts_at=start,
                ends_at=start + timedelta(minutes=service.duration),
                practitioner=candidate,
                status=Status.CONFIRMED,
                source=appointment.source,
                now=self.clock.now(),
                actor=actor,
                tell=lambda moved: outbox.to_patient(outbox.OFFICE_MOVED, moved, before=before),
            )

        return await self._at_any_practitioner(business, service, start, practitioner, move)

    async def cancel_by_office(
        self, appointment_id: int, *, actor: int, reason: str | None
    ) -> Appointment:
        """The office cancels: the slot is freed, the patient told, with the reason if any."""
        return await self.store.appointments.change_status(
            appointment_id,
            expected=HOLDING,
            to=Status.CANCELLED,
            now=self.clock.now(),
            actor=actor,
            note=OFFICE_CANCEL_NOTE,
            tell=lambda cancelled: outbox.to_patient(
                outbox.OFFICE_CANCELLED, cancelled, reason=reason
            ),
        )

    def within_notice(self, appointment: Appointment) -> bool:
        """Too close to its start for the patient to cancel or move it online: the office
        decides, so that the late cancellation is known and the slot can be offered again."""
        notice = self.settings.cancel_notice_of(self.business_of(appointment))
        return appointment.starts_at - self.clock.now() < notice

    async def cancel(self, appointment_id: int, *, actor: int | None) -> Appointment:
        """The patient cancels: the slot is freed and every secretary told."""
        return await self.store.appointments.change_status(
            appointment_id,
            expected=HOLDING,
            to=Status.CANCELLED,
            now=self.clock.now(),
            actor=actor,
            tell=lambda cancelled: outbox.to_secretaries(
                self.settings, outbox.PATIENT_CANCELLED, cancelled
            ),
        )

    async def ask_office(self, appointment_id: int, *, wants: str, actor: int) -> bool:
        """A cancel or move (``wants``) inside the notice: the office is asked, once.

        Returns False when the office was asked already and has not answered: the patient
        tapping again does not fill the secretaries' phones. Raises StaleStatus, LookupError.
        """
        if wants not in (outbox.WANTS_CANCEL, outbox.WANTS_MOVE):
            raise ValueError(f"nothing to ask the office for: {wants!r}")
        history = await self.store.appointments.history(appointment_id)
        if _waiting_for_office(history):
            return False
        await self.store.appointments.note(
            appointment_id,
            expected=(Status.CONFIRMED,),
            now=self.clock.now(),
            actor=actor,
            note=_ASKED[wants],
            tell=lambda asked: outbox.to_secretaries(
                self.settings, outbox.LATE_ASKED, asked, wants=wants
            ),
        )
        return True

    async def cancel_late(self, appointment_id: int, *, actor: int) -> Appointment:
        """The office grants a cancellation asked inside the notice: counted as late."""
        return await self.store.appointments.change_status(
            appointment_id,
            expected=(Status.CONFIRMED,),
            to=Status.CANCELLED,
            now=self.clock.now(),
            actor=actor,
            note=LATE_CANCELLATION,
            late=True,
            tell=lambda cancelled: outbox.to_patient(outbox.LATE_CANCELLED, cancelled),
        )

    async def keep(self, appointment_id: int, *, actor: int) -> Appointment:
        """The office keeps an appointment its patient asked to cancel or move late."""
        return await self.store.appointments.note(
            appointment_id,
            expected=(Status.CONFIRMED,),
            now=self.clock.now(),
            actor=actor,
            note=_KEPT,
            tell=lambda kept: outbox.to_patient(outbox.LATE_KEPT, kept),
        )

    async def confirm_attendance(self, appointment_id: int) -> Appointment:
        return await self.store.appointments.confirm_attendance(
            appointment_id, now=self.clock.now()
        )

    async def _answer(
        self, appointment_id: int, to: Status, actor: int | None, kind: str, kept: str
    ) -> Appointment:
        """The office's (or time's) answer to a request still waiting for one, owed to its
        patient: ``kind``, or ``kept`` when a refused move gives back the time they had."""

        def tell(answered: Appointment) -> list[Owed]:
            restored = answered.status == Status.CONFIRMED and to != Status.CONFIRMED
            return outbox.to_patient(kept if restored else kind, answered)

        return await self.store.appointments.change_status(
            appointment_id,
            expected=(Status.REQUESTED,),
            to=to,
            now=self.clock.now(),
            actor=actor,
            fall_back=to != Status.CONFIRMED,
            tell=tell,
        )

    async def confirm(self, appointment_id: int, *, actor: int) -> Appointment:
        return await self._answer(
            appointment_id, Status.CONFIRMED, actor, outbox.CONFIRMED, outbox.CONFIRMED
        )

    async def decline(self, appointment_id: int, *, actor: int) -> Appointment:
        """Declined; a declined move gives the patient back the time they had, if free."""
        return await self._answer(
            appointment_id, Status.DECLINED, actor, outbox.DECLINED, outbox.MOVE_REFUSED
        )

    async def expire(self, appointment_id: int) -> Appointment:
        return await self._answer(
            appointment_id, Status.EXPIRED, None, outbox.EXPIRED, outbox.MOVE_EXPIRED
        )

    async def upcoming(
        self, patient_id: int, first: date | None = None, last: date | None = None
    ) -> list[Appointment]:
        """The patient's appointments still ahead that hold a slot, on [first, last] if given."""
        found = []
        for appointment in await self.store.appointments.of_patient(patient_id, self.clock.now()):
            if appointment.status not in HOLDING:
                continue
            day = self.local(self.business_of(appointment), appointment.starts_at).date()
            if first is not None and not first <= day <= (last or first):
                continue
            found.append(appointment)
        return found

    # -- The secretary's phone: blocked time, phone bookings, proposals, attendance ----------

    async def _blocked(
        self, business: Business, practitioner: str, start: datetime, end: datetime
    ) -> bool:
        blocks = await self.store.blocks.overlapping(self.business_id(business), start, end)
        return any(block.practitioner in (None, practitioner) for block in blocks)

    async def book_by_office(
        self,
        business: Business,
        service: Service,
        start: datetime,
        practitioner: str,
        *,
        actor: int,
        patient_id: int | None = None,
        caller_name: str | None = None,
        caller_phone: str | None = None,
        series_id: int | None = None,
    ) -> Appointment:
        """An appointment a secretary books: for a Telegram patient (from their card, or an
        occurrence of their series), who is told, or for a phone caller. ``confirmed`` at
        once; checked like a patient's request (open, free, not blocked, enough notice), it
        raises SlotTaken or ValueError likewise.
        """

        async def book(candidate: str, start: datetime, _: Status) -> Appointment:
            return await self.store.appointments.book(
                NewAppointment(
                    business_id=self.business_id(business),
                    practitioner=candidate,
                    service=service.key,
                    starts_at=start,
                    ends_at=start + timedelta(minutes=service.duration),
                    status=Status.CONFIRMED,
                    source=Source.PHONE if patient_id is None else Source.SECRETARY,
                    patient_id=patient_id,
                    caller_name=caller_name,
                    caller_phone=caller_phone,
                    series_id=series_id,
                ),
                now=self.clock.now(),
                actor=actor,
                tell=lambda booked: outbox.to_patient(outbox.CONFIRMED, booked),
            )

        return await self._at_any_practitioner(business, service, start, practitioner, book)

    async def propose(
        self, request_id: int, start: datetime, practitioner: str, *, actor: int
    ) -> tuple[Appointment, Appointment]:
        """Offer a request's patient another slot instead; returns (declined, proposal).

        The proposal holds its slot as a request from the office (source ``secretary``) that
        the patient accepts or refuses; the request is declined and frees its own. Raises
        StaleStatus when the request was answered meanwhile (nothing is left held), SlotTaken,
        ValueError (not offered, or no patient to ask), LookupError.
        """
        request = await self.store.appointments.get(request_id)
        if request is None:
            raise LookupError(f"no appointment {request_id}")
        if request.status != Status.REQUESTED:
            raise StaleStatus(request)
        business = self.business_of(request)
        service = business.service(request.service)
        if request.patient_id is None or service is None:
            raise ValueError(f"appointment {request_id} has no patient or service to propose to")

        async def hold(candidate: str, start: datetime, _: Status) -> Appointment:
            declined, proposal = await self.store.appointments.propose(
                request.id,
                NewAppointment(
                    business_id=request.business_id,
                    practitioner=candidate,
                    service=service.key,
                    starts_at=start,
                    ends_at=start + timedelta(minutes=service.duration),
                    status=Status.REQUESTED,
                    source=Source.SECRETARY,
                    patient_id=request.patient_id,
                ),
                now=self.clock.now(),
                actor=actor,
                tell=lambda proposal: outbox.to_patient(
                    outbox.PROPOSAL, proposal, asked=int(request.starts_at.timestamp())
                ),
            )
            answered.append(declined)
            return proposal

        answered: list[Appointment] = []
        proposal = await self._at_any_practitioner(business, service, start, practitioner, hold)
        return answered[-1], proposal

    async def answer_proposal(
        self, proposal_id: int, *, patient_id: int, accept: bool
    ) -> Appointment:
        """The patient takes (``confirmed``) or turns down (``cancelled``) a proposed slot.

        Raises PermissionError when it is not a proposal made to this patient, StaleStatus
        when it was answered or expired meanwhile, LookupError.
        """
        proposal = await self.store.appointments.get(proposal_id)
        if proposal is None:
            raise LookupError(f"no appointment {proposal_id}")
        if proposal.patient_id != patient_id or proposal.source != Source.SECRETARY:
            raise PermissionError(f"appointment {proposal_id} is no proposal to {patient_id}")
        return await self.store.appointments.change_status(
            proposal_id,
            expected=(Status.REQUESTED,),
            to=Status.CONFIRMED if accept else Status.CANCELLED,
            now=self.clock.now(),
            actor=patient_id,
            note="proposal accepted" if accept else "proposal refused",
            tell=lambda answered: outbox.to_secretaries(
                self.settings, outbox.PROPOSAL_ANSWERED, answered, accepted=accept
            ),
        )

    async def record_attendance(
        self, appointment_id: int, *, came: bool, actor: int
    ) -> Appointment:
        """After a confirmed appointment: ``done``, or ``no_show``.

        Raises ValueError before it has started, StaleStatus when it is not confirmed (marked
        already, cancelled), LookupError.
        """
        appointment = await self.store.appointments.get(appointment_id)
        if appointment is None:
            raise LookupError(f"no appointment {appointment_id}")
        if appointment.starts_at > self.clock.now():
            raise ValueError(f"appointment {appointment_id} has not started yet")
        return await self.store.appointments.change_status(
            appointment_id,
            expected=(Status.CONFIRMED,),
            to=Status.DONE if came else Status.NO_SHOW,
            now=self.clock.now(),
            actor=actor,
            # A missed appointment: the patient is offered a new one, kindly, in one tap.
            tell=lambda marked: (
                outbox.to_patient(outbox.NO_SHOW, marked) if marked.status == Status.NO_SHOW else ()
            ),
        )


class _BusyRead:
    """One offer's view of a business's busy time, widened window after window: each wider
    one reads only the time the ones before did not (on a full agenda, the days asked for,
    the week around and the horizon hold the same hundreds of appointments)."""

    def __init__(self, booking: Booking, business: Business):
        self._busy = booking.store.busy
        self._business_id = booking.business_id(business)
        self._rules = booking.rules[business.slug]
        self._practitioners = business.practitioners
        self._occupancy: Occupancy | None = None
        self._read: tuple[datetime, datetime] | None = None

    async def days(self, first: date, last: date) -> Occupancy:
        """The busy time of [first, last] and of every day read before for this offer."""
        start, end = reading(self._rules, first, last)
        if self._occupancy is None:
            spans = await self._busy.overlapping(self._business_id, start, end)
            self._occupancy = Occupancy.from_epochs(spans, self._practitioners)
            self._read = (start, end)
            return self._occupancy
        # Spans across a boundary are read on both sides: the occupancy merges them.
        read_from, read_to = self._read
        spans = []
        for a, b in ((start, read_from), (read_to, end)):
            if a < b:
                spans += await self._busy.overlapping(self._business_id, a, b)
        if spans:
            self._occupancy = self._occupancy.adding(spans)
        self._read = (min(start, read_from), max(end, read_to))
        return self._occupancy
