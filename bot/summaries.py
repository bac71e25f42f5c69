"""What the daily summaries and digests say: gathered from the store, written with the
catalogues. No Telegram here: the scheduled handlers send what this writes.
"""

from __future__ import annotations

from collections import Counter
from datetime import date, timedelta

from bot.agenda import day_bounds
from bot.booking import LATE_CANCELLATION, Booking
from bot.config import Business
from bot.i18n import I18n
from bot.missions import Month, kind_label
from storage import Store
from storage.appointments import HOLDING, Appointment, Status
from storage.calls import Call
from storage.people import Person

# The people named in a summary, read at once by id.
People = dict[int, Person]


class Summaries:
    def __init__(self, booking: Booking, store: Store, i18n: I18n):
        self.booking = booking
        self.store = store
        self.i18n = i18n

    async def _people(self, appointments: list[Appointment]) -> People:
        return await self.store.people.many(
            a.patient_id for a in appointments if a.patient_id is not None
        )

    @staticmethod
    def _who(appointment: Appointment, people: People) -> str:
        person = people.get(appointment.patient_id) if appointment.patient_id is not None else None
        if person is not None:
            return person.full_name
        return appointment.caller_name or "?"

    def _line(
        self, language: str, business: Business, appointment: Appointment, people: People
    ) -> str:
        local = self.booking.local(business, appointment.starts_at)
        service = business.service(appointment.service)
        if appointment.status == Status.REQUESTED:
            state = self.i18n.text(language, "digest.state_requested")
        elif appointment.patient_confirmed_at is not None:
            state = self.i18n.text(language, "digest.state_patient_confirmed")
        else:
            state = self.i18n.text(language, "digest.state_not_confirmed")
        return self.i18n.text(
            language,
            "digest.appointment_line",
            time=self.i18n.time(language, local),
            patient=self._who(appointment, people),
            service=service.name if service else appointment.service,
            practitioner=appointment.practitioner,
            state=state,
        )

    async def _agenda_lines(
        self, language: str, business: Business, day: date
    ) -> tuple[list[Appointment], list[str]]:
        held = await self._held_on(business, day)
        people = await self._people(held)
        return held, [self._line(language, business, a, people) for a in held]

    async def _held_on(self, business: Business, day: date) -> list[Appointment]:
        start, end = day_bounds(day, self.booking.rules[business.slug].zone)
        business_id = self.booking.business_id(business)
        return [
            a
            for a in await self.store.appointments.between(business_id, start, end)
            if a.status in HOLDING
        ]

    async def employer_summary(self, language: str, business: Business, today: date) -> str:
        """Tomorrow's appointments, today's changes, what is pending, the day's call messages
        and the secretary's missions with the month's running total."""
        tomorrow = today + timedelta(days=1)
        held, lines = await self._agenda_lines(language, business, tomorrow)
        parts = [
            self.i18n.text(
                language,
                "digest.summary_title",
                business=business.name,
                day=self.i18n.day(language, today),
            ),
            self.i18n.text(
                language, "digest.tomorrow", day=self.i18n.day(language, tomorrow), count=len(held)
            ),
            *lines,
        ]
        zone = self.booking.rules[business.slug].zone
        start, end = day_bounds(today, zone)
        business_id = self.booking.business_id(business)
        changes = await self.store.appointments.changes(business_id, start, end)
        counts = Counter(
            _kind_of_change(entry.from_status, entry.to_status, entry.note) for entry, _ in changes
        )
        parts.append(
            self.i18n.text(
                language,
                "digest.changes",
                new=counts["new"],
                moved=counts["moved"],
                cancelled=counts["cancelled"],
                no_show=counts["no_show"],
            )
        )
        if counts["late_cancelled"]:
            parts.append(
                self.i18n.text(
                    language, "digest.late_cancellations", count=counts["late_cancelled"]
                )
            )
        # Of those, what the office did itself: the employer knows who moved their patients.
        office = Counter(
            _kind_of_change(entry.from_status, entry.to_status, entry.note)
            for entry, _ in changes
            if entry.actor is not None and self.booking.settings.is_secretary(entry.actor)
        )
        if office["moved"] or office["cancelled"]:
            parts.append(
                self.i18n.text(
                    language,
                    "digest.by_office",
                    moved=office["moved"],
                    cancelled=office["cancelled"],
                )
            )
        pending = await self.store.appointments.count_requested(
            self.booking.clock.now(), business_id
        )
        parts.append(self.i18n.text(language, "digest.pending", count=pending))
        calls = await self.store.calls.on_day(business_id, start, end)
        if calls:
            parts.append(self.i18n.text(language, "digest.calls", count=len(calls)))
            parts.extend(self._call_message_line(language, business, call) for call in calls)
        passed, answered = await self.store.threads.counts(business_id, start, end)
        if passed:
            parts.append(
                self.i18n.text(language, "digest.passed_on", count=passed, answered=answered)
            )
        done = await self.store.missions.done_on(business_id, start, end)
        if done:
            parts.append(self.i18n.text(language, "digest.missions", count=len(done)))
            parts.extend(
                self.i18n.text(
                    language,
                    "digest.mission_line",
                    kind=kind_label(self.i18n, language, mission.kind),
                    description=mission.description,
                    fee=self.i18n.money(language, mission.fee),
                )
                for mission in done
            )
        month_start, _ = Month.of(today).bounds(zone)
        month_total = await self.store.missions.total_done(business_id, month_start, end)
        if month_total:
            parts.append(
                self.i18n.text(
                    language, "digest.month_total", total=self.i18n.money(language, month_total)
                )
            )
        parts.append(self.i18n.text(language, "digest.journal_link"))
        return "\n".join(parts)

    def _call_message_line(self, language: str, business: Business, call: Call) -> str:
        urgent = self.i18n.text(language, "digest.urgent") if call.urgent else ""
        return self.i18n.text(
            language,
            "digest.call_message_line",
            time=self.i18n.time(language, self.booking.local(business, call.taken_at)),
            urgent=urgent,
            caller=call.caller_name,
            phone=call.caller_phone or "—",
            message=call.message,
        )

    async def secretary_digest(self, language: str, today: date) -> str:
        """Today across every business, the pending inbox, and the patients to call."""
        parts = [
            self.i18n.text(language, "digest.morning_title", day=self.i18n.day(language, today))
        ]
        to_call: list[str] = []
        no_number: list[str] = []  # reachable through the bot only: a reminder, a message
        for business in self.booking.settings.businesses:
            held, lines = await self._agenda_lines(language, business, today)
            if held:
                parts.append(
                    self.i18n.text(
                        language, "digest.business_today", business=business.name, count=len(held)
                    )
                )
                parts.extend(lines)
            tomorrow = [
                a
                for a in await self._held_on(business, today + timedelta(days=1))
                if a.patient_confirmed_at is None
            ]
            people = await self._people(tomorrow)
            for appointment in tomorrow:
                line, callable_ = self._call_line(language, business, appointment, people)
                (to_call if callable_ else no_number).append(line)
        if len(parts) == 1:
            parts.append(self.i18n.text(language, "digest.nothing_today"))
        pending = await self.store.appointments.count_requested(self.booking.clock.now())
        parts.append(self.i18n.text(language, "digest.pending", count=pending))
        if to_call:
            parts.append(self.i18n.text(language, "digest.to_call", count=len(to_call)))
            parts.extend(to_call)
        if no_number:
            parts.append(self.i18n.text(language, "digest.no_number", count=len(no_number)))
            parts.extend(no_number)
        return "\n".join(parts)

    def _call_line(
        self, language: str, business: Business, appointment: Appointment, people: People
    ) -> tuple[str, bool]:
        """The line about a patient to call, and whether there is a number to call."""
        local = self.booking.local(business, appointment.starts_at)
        phone = appointment.caller_phone
        if appointment.patient_id is not None:
            person = people.get(appointment.patient_id)
            phone = person.phone if person else None
        values = {
            "time": self.i18n.time(language, local),
            "patient": self._who(appointment, people),
            "business": business.name,
        }
        if phone is None:
            return self.i18n.text(language, "digest.no_number_line", **values), False
        return self.i18n.text(language, "digest.call_line", phone=phone, **values), True


def _kind_of_change(from_status: Status | None, to_status: Status, note: str | None) -> str:
    if from_status is None:
        return "new"
    if note and note.startswith("moved from"):
        return "moved"
    if note == LATE_CANCELLATION:
        return "late_cancelled"
    if to_status == Status.CANCELLED:
        return "cancelled"
    if to_status == Status.NO_SHOW:
        return "no_show"
    return "other"
