"""The waitlist's domain: what a patient may wait for, which waiting patient a freed slot
goes to, and the reconcile that keeps offers true to the agenda.

Offering is a reconcile, not a hook in every path that frees a slot: whatever freed it (a
cancellation, a decline, an expiry, a block lifted, a move), the next run sees the slot
free and asks the first patient waiting for it. It runs every minute and right after those
paths; two runs at once are harmless, as the store re-checks each offer as it writes it.

The rules are pure functions; ``Waitlist`` joins them with the store and the agenda.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from bot import outbox
from bot.agenda import Busy, OpeningRules, Slot, Wanted, free_slots
from bot.booking import Booking
from bot.config import Business, Service
from storage.appointments import AlreadyHeld, Appointment, SlotTaken
from storage.waitlist import Ended, Entry, NewEntry, NewOffer, Offer, Outcome

log = logging.getLogger(__name__)


# -- the rules (pure) ------------------------------------------------------------------------


@dataclass(frozen=True)
class Wish:
    """What a patient waits for: days of the business, and maybe a window and a person."""

    service: str
    day_from: date
    day_to: date
    time_from: time | None = None
    time_to: time | None = None
    practitioner: str | None = None

    @classmethod
    def of_entry(cls, entry: Entry) -> Wish:
        return cls(
            entry.service,
            entry.day_from,
            entry.day_to,
            entry.time_from,
            entry.time_to,
            entry.practitioner,
        )


def wish_of(wanted: Wanted, service: Service, today: date, last_day: date) -> Wish | None:
    """What a patient who asked for ``wanted`` may wait for: the days they named from today
    up to the last day online booking reaches. None without days (an entry ends when its
    days pass) or when none of them is left."""
    if wanted.day_from is None:
        return None
    first = max(wanted.day_from, today)
    last = min(wanted.day_to or wanted.day_from, last_day)
    if last < first:
        return None
    return Wish(service.key, first, last, wanted.time_from, wanted.time_to, wanted.practitioner)


def fits(wish: Wish, slot: Slot) -> bool:
    """Whether a slot (its start in the business's zone) is one the wish asks for."""
    start = slot.start
    return (
        wish.day_from <= start.date() <= wish.day_to
        and (wish.time_from is None or start.time() >= wish.time_from)
        and (wish.time_to is None or start.time() <= wish.time_to)
        and (wish.practitioner is None or wish.practitioner == slot.practitioner)
    )


def nothing_fits(wish: Wish, slots: Iterable[Slot]) -> bool:
    return not any(fits(wish, slot) for slot in slots)


def wish_slots(
    rules: OpeningRules,
    duration: timedelta,
    busy: Iterable[Busy],
    wish: Wish,
    *,
    now: datetime,
) -> Iterator[Slot]:
    """The free slots that fit a wish, in time order: open, with enough notice, within the
    horizon, with the practitioner named if any."""
    chosen = wish.practitioner if wish.practitioner in rules.business.practitioners else None
    return free_slots(
        rules,
        duration,
        busy,
        now=now,
        first_day=max(wish.day_from, rules.today(now)),
        last_day=min(wish.day_to, rules.last_day(now)),
        time_from=wish.time_from,
        time_to=wish.time_to,
        practitioners=[chosen] if chosen else None,
    )


def worth_waiting(rules: OpeningRules, duration: timedelta, wish: Wish, *, now: datetime) -> bool:
    """Whether a slot could ever free up for the wish: some time it asks for is one the
    business offers at all (not closed, not a holiday, inside opening hours, with notice).
    Waiting for a Sunday, or an hour the business is shut, would wait forever."""
    return next(wish_slots(rules, duration, (), wish, now=now), None) is not None


def has_passed(entry: Entry, today: date) -> bool:
    return entry.day_to < today


@dataclass(frozen=True)
class Candidate:
    """An entry that may be offered a slot: its free slots that fit, in time order (lazy:
    only as many are made as the choice needs), and those its patient already turned down."""

    entry_id: int
    patient_id: int
    business_id: int
    slots: Iterable[Slot]
    declined: frozenset[tuple[datetime, str]] = field(default_factory=frozenset)


def _overlaps(slot: Slot, busy: Busy) -> bool:
    return (
        busy.practitioner in (None, slot.practitioner)
        and busy.start < slot.end
        and busy.end > slot.start
    )


def assign(
    candidates: Sequence[Candidate],
    offered: dict[int, list[Busy]],
    asked: Iterable[int],
) -> list[tuple[int, Slot]]:
    """Which entry is asked about which slot, first joined first.

    ``candidates`` in the order their patients joined; ``offered``, per business, the time
    already offered to someone; ``asked``, the patients who have an offer open. A patient is
    asked about one slot at a time, and a slot offered to one is offered to nobody else, so
    two freed slots go to two patients and one freed slot to one.
    """
    taken = {business: list(spans) for business, spans in offered.items()}
    busy_patients = set(asked)
    chosen: list[tuple[int, Slot]] = []
    for candidate in candidates:
        if candidate.patient_id in busy_patients:
            continue
        spans = taken.setdefault(candidate.business_id, [])
        for slot in candidate.slots:
            if (slot.start, slot.practitioner) in candidate.declined:
                continue
            if any(_overlaps(slot, span) for span in spans):
                continue
            chosen.append((candidate.entry_id, slot))
            spans.append(Busy(slot.start, slot.end, slot.practitioner))
            busy_patients.add(candidate.patient_id)
            break
    return chosen


# -- the waitlist, with the store ------------------------------------------------------------


class OfferOver(Exception):
    """The offer can no longer be taken or refused: answered, lapsed, or its slot gone."""

    def __init__(self, offer: Offer):
        super().__init__(f"waitlist offer {offer.id} is over: {offer.outcome}")
        self.offer = offer


class Waitlist:
    def __init__(self, booking: Booking):
        self.booking = booking
        self.store = booking.store
        self.clock = booking.clock
        self.settings = booking.settings

    def business_of(self, business_id: int) -> Business | None:
        slug = next((s for s, i in self.store.business_ids.items() if i == business_id), None)
        return self.settings.business(slug) if slug else None

    def wish_service(self, entry: Entry) -> tuple[Business, Service] | None:
        """The entry's business and service, while config still has both."""
        business = self.business_of(entry.business_id)
        service = business.service(entry.service) if business else None
        return (business, service) if service else None

    async def join(self, business: Business, wish: Wish, patient_id: int) -> tuple[Entry, bool]:
        """The patient waits for ``wish``; joining twice is joining once."""
        return await self.store.waitlist.join(
            NewEntry(
                business_id=self.booking.business_id(business),
                patient_id=patient_id,
                service=wish.service,
                day_from=wish.day_from,
                day_to=wish.day_to,
                time_from=wish.time_from,
                time_to=wish.time_to,
                practitioner=wish.practitioner,
            ),
            now=self.clock.now(),
        )

    async def entries(self, patient_id: int) -> list[Entry]:
        """The patient's entries still waiting, of businesses and services still in config."""
        return [
            entry
            for entry in await self.store.waitlist.of_patient(patient_id)
            if self.wish_service(entry) is not None
        ]

    async def _busy(self, business: Business) -> list[Busy]:
        """Time nobody can be offered: held by an appointment, or blocked."""
        business_id = self.booking.business_id(business)
        now = self.clock.now()
        end = now + self.booking.rules[business.slug].horizon + timedelta(days=2)
        held = await self.store.appointments.holding(business_id, now, end)
        blocks = await self.store.blocks.overlapping(business_id, now, end)
        return [Busy(a.starts_at, a.ends_at, a.practitioner) for a in held] + [
            Busy(b.starts_at, b.ends_at, b.practitioner) for b in blocks
        ]

    async def _still_free(self, offer: Offer) -> bool:
        held = await self.store.appointments.holding(
            offer.business_id, offer.starts_at, offer.ends_at
        )
        blocks = await self.store.blocks.overlapping(
            offer.business_id, offer.starts_at, offer.ends_at
        )
        return not any(a.practitioner == offer.practitioner for a in held) and not any(
            b.practitioner in (None, offer.practitioner) for b in blocks
        )

    async def reconcile(self) -> list[Offer]:
        """Bring the waitlist in line with the agenda; returns the offers made.

        Entries whose days passed end; offers whose hold passed, or whose slot was booked or
        blocked meanwhile, end (their patients stay on the list); then each free slot that
        fits a waiting entry is offered to the first patient who joined for it.
        """
        now = self.clock.now()
        waiting: list[tuple[Entry, Business, Service]] = []
        for entry in await self.store.waitlist.active():
            found = self.wish_service(entry)
            if found is None or has_passed(entry, self.booking.today(found[0])):
                await self.store.waitlist.end_entry(entry.id, Ended.PASSED, now=now)
                continue
            waiting.append((entry, *found))
        still_open: list[Offer] = []
        for offer in await self.store.waitlist.open_offers():
            if offer.expires_at <= now:
                await self.store.waitlist.end_offer(offer.id, Outcome.LAPSED, now=now)
            elif not await self._still_free(offer):
                await self.store.waitlist.end_offer(offer.id, Outcome.GONE, now=now)
            else:
                still_open.append(offer)
        offered: dict[int, list[Busy]] = {}
        for offer in still_open:
            offered.setdefault(offer.business_id, []).append(
                Busy(offer.starts_at, offer.ends_at, offer.practitioner)
            )
        declined = await self.store.waitlist.declined_starts()
        busy: dict[str, list[Busy]] = {}
        candidates = []
        for entry, business, service in waiting:
            if business.slug not in busy:
                busy[business.slug] = await self._busy(business)
            candidates.append(
                Candidate(
                    entry.id,
                    entry.patient_id,
                    entry.business_id,
                    wish_slots(
                        self.booking.rules[business.slug],
                        timedelta(minutes=service.duration),
                        busy[business.slug],
                        Wish.of_entry(entry),
                        now=now,
                    ),
                    frozenset(declined.get(entry.id, ())),
                )
            )
        made = []
        hold = self.settings.waitlist_hold
        for entry_id, slot in assign(candidates, offered, (o.patient_id for o in still_open)):
            offer = await self.store.waitlist.make_offer(
                NewOffer(entry_id, slot.practitioner, slot.start, slot.end, now + hold),
                now=now,
                tell=outbox.to_waitlisted,
            )
            if offer is not None:
                log.info("waitlist entry %s offered %s", entry_id, slot.start.isoformat())
                made.append(offer)
        return made

    async def _open_offer_of(self, offer_id: int, patient_id: int) -> Offer:
        """The patient's offer, still open; PermissionError when it is not theirs (a
        forwarded or forged button), LookupError when there is none, OfferOver."""
        offer = await self.store.waitlist.offer(offer_id)
        if offer is None:
            raise LookupError(f"no waitlist offer {offer_id}")
        if offer.patient_id != patient_id:
            raise PermissionError(f"waitlist offer {offer_id} is not {patient_id}'s")
        if offer.is_open and offer.expires_at <= self.clock.now():
            # The minute's reconcile has not seen it yet: its hold passed all the same.
            await self.store.waitlist.end_offer(offer.id, Outcome.LAPSED, now=self.clock.now())
            offer = await self.store.waitlist.offer(offer_id)
        if not offer.is_open:
            raise OfferOver(offer)
        return offer

    async def take(self, offer_id: int, *, patient_id: int) -> tuple[Appointment, Entry]:
        """The patient takes the slot: a request (or a booking where nobody confirms), and
        the entry is over. Raises SlotTaken or ValueError when it can no longer be booked
        (the offer ends, the patient stays on the list), AlreadyHeld, OfferOver,
        PermissionError, LookupError."""
        offer = await self._open_offer_of(offer_id, patient_id)
        entry = await self.store.waitlist.entry(offer.entry_id)
        found = self.wish_service(entry)
        if found is None:
            await self.store.waitlist.end_entry(entry.id, Ended.PASSED, now=self.clock.now())
            raise ValueError(f"waitlist entry {entry.id}: its business or service is gone")
        business, service = found
        try:
            appointment = await self.booking.request(
                business, service, offer.starts_at, offer.practitioner, patient_id=patient_id
            )
        except (SlotTaken, ValueError):
            await self.store.waitlist.end_offer(offer.id, Outcome.GONE, now=self.clock.now())
            raise
        except AlreadyHeld:
            # They hold another appointment then: the slot goes to the next patient.
            await self.store.waitlist.end_offer(offer.id, Outcome.REFUSED, now=self.clock.now())
            raise
        # The request is written first: should this step be lost, the next reconcile finds
        # the slot held and ends the offer, and the patient has their request all the same.
        await self.store.waitlist.take(offer.id, now=self.clock.now())
        return appointment, entry

    async def refuse(self, offer_id: int, *, patient_id: int) -> Entry:
        """ "No thanks": the offer ends and the entry waits on; raises as ``take``."""
        offer = await self._open_offer_of(offer_id, patient_id)
        if not await self.store.waitlist.end_offer(offer.id, Outcome.REFUSED, now=self.clock.now()):
            raise OfferOver(await self.store.waitlist.offer(offer_id))
        return await self.store.waitlist.entry(offer.entry_id)

    async def leave(self, entry_id: int, *, patient_id: int) -> Entry:
        """The patient leaves the list (and an offer they had open); PermissionError when it
        is not their entry, LookupError."""
        entry = await self.store.waitlist.entry(entry_id)
        if entry is None:
            raise LookupError(f"no waitlist entry {entry_id}")
        if entry.patient_id != patient_id:
            raise PermissionError(f"waitlist entry {entry_id} is not {patient_id}'s")
        await self.store.waitlist.end_entry(entry.id, Ended.LEFT, now=self.clock.now())
        return entry
