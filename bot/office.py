"""The office acting on appointments it did not ask for: asking a patient to choose a new
time among offered slots, and finding what a block hits. No Telegram here."""

from __future__ import annotations

from babel.dates import get_day_names, get_month_names

from bot import outbox
from bot.agenda import Slot, Wanted
from bot.booking import Booking
from bot.patients import fold
from storage.appointments import HOLDING, Appointment
from storage.blocks import Block

# Slots offered to a patient asked to choose a new time: enough to find one, few enough to
# read on a phone.
OFFERED = 6
ASK_NOTE = "office asked the patient to choose a new time"


async def offered_slots(booking: Booking, appointment: Appointment) -> list[Slot]:
    """Free slots nearest the appointment's time: with its practitioner first (the one the
    patient sees), else with anyone."""
    business = booking.business_of(appointment)
    service = business.service(appointment.service)
    if service is None:
        return []
    local = booking.local(business, appointment.starts_at)
    near = Wanted(local.date(), local.date(), local.time(), local.time(), appointment.practitioner)
    offer = await booking.offer(business, service, near, limit=OFFERED)
    return offer.slots


def slots_payload(booking: Booking, appointment: Appointment, slots: list[Slot]) -> list[list]:
    """Slots as the outbox keeps them: [start epoch, practitioner's index]."""
    practitioners = booking.business_of(appointment).practitioners
    return [[int(s.start.timestamp()), practitioners.index(s.practitioner)] for s in slots]


async def ask_to_choose(
    booking: Booking, appointment: Appointment, *, actor: int, reason: str | None
) -> Appointment:
    """Ask the appointment's patient to choose a new time among offered slots, noted in its
    history with the message owed. Raises ValueError when there is no Telegram patient to ask
    or no slot to offer, StaleStatus when it no longer holds its slot, LookupError."""
    if appointment.patient_id is None:
        raise ValueError(f"appointment {appointment.id} has no patient on Telegram")
    slots = await offered_slots(booking, appointment)
    if not slots:
        raise ValueError(f"no free slot to offer for appointment {appointment.id}")
    payload = slots_payload(booking, appointment, slots)
    return await booking.store.appointments.note(
        appointment.id,
        expected=HOLDING,
        now=booking.clock.now(),
        actor=actor,
        note=ASK_NOTE,
        tell=lambda current: outbox.to_patient(
            outbox.OFFICE_ASK_MOVE, current, slots=payload, reason=reason
        ),
    )


async def asked_to_choose(booking: Booking, appointment: Appointment) -> bool:
    """The office asked this patient to choose a new time, and the appointment has not
    changed since: the patient's tap is the office's wish, whatever the cancel notice."""
    for entry in reversed(await booking.store.appointments.history(appointment.id)):
        if entry.note == ASK_NOTE:
            return True
        if entry.from_status != entry.to_status:
            return False
    return False


async def hit_by(booking: Booking, blocks: list[Block]) -> list[Appointment]:
    """The appointments still holding time inside ``blocks`` (for their practitioner, or
    anyone's when a block is the whole business's), by start."""
    found: dict[int, Appointment] = {}
    for block in blocks:
        for appointment in await booking.store.appointments.holding(
            block.business_id, block.starts_at, block.ends_at
        ):
            if block.practitioner in (None, appointment.practitioner):
                found[appointment.id] = appointment
    return sorted(found.values(), key=lambda a: (a.starts_at, a.id))


# -- reading a block's words: where the days end and the reason begins ------------------------


def _names() -> frozenset[str]:
    found = set()
    for locale in ("fr", "en"):
        for getter in (get_month_names, get_day_names):
            for width in ("wide", "abbreviated"):
                found |= {fold(name) for name in getter(width, locale=locale).values()}
    return frozenset(found)


_DAY_NAMES = _names()


def _names_a_day(word: str) -> bool:
    return any(char.isdigit() for char in word) or fold(word) in _DAY_NAMES


def split_reason(text: str) -> tuple[str, str]:
    """``du 1er au 5 février congés annuels`` -> (the days, ``congés annuels``): the reason
    is the words after the last one that names a day (a number, a weekday, a month)."""
    words = text.split()
    last = max((i for i, word in enumerate(words) if _names_a_day(word)), default=-1)
    return " ".join(words[: last + 1]), " ".join(words[last + 1 :])
