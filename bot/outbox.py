"""What the bot owes whom, and how each kind of message is delivered (pure).

A change of state owes messages; they are written with the change (``storage.outbox``) and
one deliverer (``handlers.delivery``) sends them. Each kind has a policy:

- ``resend_unknown``: a send whose answer never came (a timeout, a connection lost after the
  request left) may have arrived. True: sent again — a rare second copy is better than a
  lost confirmation. False: left ``uncertain`` — a second copy is worse than none.
- ``max_age``: past it, a message not yet delivered is no longer worth sending; it is
  recorded ``expired`` (and, for a patient, the secretaries are told).
"""

from __future__ import annotations

import random
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import timedelta

from bot.config import Business, Settings
from storage.appointments import Appointment
from storage.mailmerges import COPY_KIND
from storage.outbox import Message, Owed
from storage.waitlist import Offer

# Kinds, each worded by one renderer in handlers/.
INBOX = "inbox.request"  # a patient's request (or direct booking) in each secretary's inbox
CONFIRMED = "patient.confirmed"
DECLINED = "patient.declined"
MOVE_REFUSED = "patient.move_refused"  # a move declined: the patient keeps the old time
MOVE_EXPIRED = "patient.move_expired"
EXPIRED = "patient.expired"  # nobody answered: new times offered
PROPOSAL = "proposal.offer"
PROPOSAL_ANSWERED = "proposal.answered"  # to the secretaries
PATIENT_CANCELLED = "secretary.patient_cancelled"
# Inside the cancel notice a patient's cancel or move goes to the office (handlers.late).
LATE_ASKED = "secretary.late_change"  # payload ``wants``: WANTS_CANCEL or WANTS_MOVE
LATE_CANCELLED = "patient.late_cancelled"
LATE_KEPT = "patient.late_kept"
WANTS_CANCEL = "cancel"
WANTS_MOVE = "move"
NO_SHOW = "patient.no_show_follow_up"
ESCALATION = "escalation"
CALL = "call.forward"
CALL_UNDELIVERED = "call.not_delivered"  # to the secretary who took it
REMINDER = "reminder"
SUMMARY = "summary"
DIGEST = "digest"
UNREACHABLE = "staff.unreachable"  # a patient the bot could not reach, told to secretaries
# What the bot could not serve, passed to a person, and her answers (handlers.handoff).
HANDOFF = "handoff.to_office"  # to each secretary: who, which business, what
HANDOFF_COPY = "handoff.copy"  # a patient's voice note, photo, document, as it is
HANDOFF_REPLY = "handoff.reply"  # a secretary's answer, to the patient
HANDOFF_REPLY_COPY = "handoff.reply_copy"  # a file she answers with
HANDOFF_ANSWERED = "handoff.answered"  # to the other secretaries: who answered what
MAIL_MERGE = COPY_KIND  # a patient's copy of a mail merge, owed by storage.mailmerges
WAITLIST_OFFER = "waitlist.offer"  # a freed slot, to a waiting patient: take it or not
# The office acting on an appointment (handlers.office): what its patient is owed.
OFFICE_CANCELLED = "office.cancelled"  # cancelled by the office, with her reason if any
OFFICE_MOVED = "office.moved"  # moved by the office: the new day and time
OFFICE_ASK_MOVE = "office.ask_move"  # asked to choose a new time among offered slots
# Series of appointments (handlers.series): the patient hears of the whole series once.
SERIES_BOOKED = "patient.series_booked"
SERIES_CANCELLED = "secretary.series_cancelled"  # the rest of a series, to the secretaries
# A patient had their data erased: to the secretaries, each future appointment it freed.
PATIENT_ERASED = "secretary.patient_erased"


@dataclass(frozen=True)
class Policy:
    resend_unknown: bool
    max_age: timedelta


_DAY = timedelta(days=1)

POLICIES: dict[str, Policy] = {
    INBOX: Policy(resend_unknown=True, max_age=2 * _DAY),
    CONFIRMED: Policy(resend_unknown=True, max_age=7 * _DAY),
    DECLINED: Policy(resend_unknown=True, max_age=7 * _DAY),
    MOVE_REFUSED: Policy(resend_unknown=True, max_age=7 * _DAY),
    MOVE_EXPIRED: Policy(resend_unknown=True, max_age=7 * _DAY),
    EXPIRED: Policy(resend_unknown=True, max_age=2 * _DAY),
    PROPOSAL: Policy(resend_unknown=True, max_age=2 * _DAY),
    PROPOSAL_ANSWERED: Policy(resend_unknown=True, max_age=2 * _DAY),
    PATIENT_CANCELLED: Policy(resend_unknown=True, max_age=2 * _DAY),
    # Inside the notice, hours count: past the appointment itself a late answer is noise.
    LATE_ASKED: Policy(resend_unknown=True, max_age=_DAY),
    LATE_CANCELLED: Policy(resend_unknown=True, max_age=_DAY),
    LATE_KEPT: Policy(resend_unknown=True, max_age=_DAY),
    NO_SHOW: Policy(resend_unknown=True, max_age=7 * _DAY),
    ESCALATION: Policy(resend_unknown=True, max_age=_DAY),
    CALL: Policy(resend_unknown=True, max_age=2 * _DAY),
    CALL_UNDELIVERED: Policy(resend_unknown=True, max_age=7 * _DAY),
    # A reminder twice is a small annoyance; a lost one is a missed appointment.
    REMINDER: Policy(resend_unknown=True, max_age=2 * _DAY),
    SUMMARY: Policy(resend_unknown=True, max_age=timedelta(hours=12)),
    DIGEST: Policy(resend_unknown=True, max_age=timedelta(hours=4)),
    UNREACHABLE: Policy(resend_unknown=True, max_age=7 * _DAY),
    HANDOFF: Policy(resend_unknown=True, max_age=2 * _DAY),
    HANDOFF_COPY: Policy(resend_unknown=True, max_age=2 * _DAY),
    HANDOFF_REPLY: Policy(resend_unknown=True, max_age=2 * _DAY),
    HANDOFF_REPLY_COPY: Policy(resend_unknown=True, max_age=2 * _DAY),
    HANDOFF_ANSWERED: Policy(resend_unknown=True, max_age=2 * _DAY),
    # A mailing twice looks broken, once lost goes unnoticed; days late it is stale. Not in
    # TO_PATIENT: the run's progress message counts what did not go, no notice per patient.
    MAIL_MERGE: Policy(resend_unknown=False, max_age=2 * _DAY),
    # Worth something only while the slot waits for its patient (``waitlist_hold``, 15 min
    # by default, set per office): the renderer finds it moot once the offer ended, so this
    # bound only caps an unusually long hold. A second copy asks the same thing again.
    WAITLIST_OFFER: Policy(resend_unknown=True, max_age=timedelta(hours=2)),
    OFFICE_CANCELLED: Policy(resend_unknown=True, max_age=7 * _DAY),
    OFFICE_MOVED: Policy(resend_unknown=True, max_age=7 * _DAY),
    # Its slots go stale within days; a second copy of the choice does no harm.
    OFFICE_ASK_MOVE: Policy(resend_unknown=True, max_age=2 * _DAY),
    SERIES_BOOKED: Policy(resend_unknown=True, max_age=7 * _DAY),
    SERIES_CANCELLED: Policy(resend_unknown=True, max_age=2 * _DAY),
    PATIENT_ERASED: Policy(resend_unknown=True, max_age=2 * _DAY),
}

# Kinds addressed to a patient: when one cannot be delivered, the office is told.
TO_PATIENT = frozenset(
    {
        CONFIRMED,
        DECLINED,
        MOVE_REFUSED,
        MOVE_EXPIRED,
        EXPIRED,
        PROPOSAL,
        NO_SHOW,
        LATE_CANCELLED,
        LATE_KEPT,
        REMINDER,
        HANDOFF_REPLY,
        OFFICE_CANCELLED,
        OFFICE_MOVED,
        OFFICE_ASK_MOVE,
        SERIES_BOOKED,
    }
)

# Waits between tries of a message Telegram could not take, in seconds: doubling from the
# first, capped, with jitter so that many messages failing together do not retry together.
FIRST_RETRY = 0.25
LONGEST_RETRY = 60.0


def policy(kind: str) -> Policy:
    return POLICIES[kind]


def backoff(attempts: int, *, rng: random.Random | None = None) -> float:
    """Seconds to wait after the ``attempts``-th failed try."""
    base = min(FIRST_RETRY * 2 ** max(attempts - 1, 0), LONGEST_RETRY)
    return base * (0.5 + (rng or random).random() / 2)


def snapshot(appointment: Appointment) -> dict[str, object]:
    """What a patient's message was about: sent later, it is moot if the appointment has
    changed since (moved, cancelled), as a newer message will say."""
    return {"status": str(appointment.status), "starts_at": int(appointment.starts_at.timestamp())}


def is_current(payload: dict[str, object], appointment: Appointment) -> bool:
    seen = payload.get("seen")
    return seen is None or seen == snapshot(appointment)


def to_patient(kind: str, appointment: Appointment, **payload: object) -> list[Owed]:
    if appointment.patient_id is None:
        return []
    return [
        Owed(
            kind,
            appointment.patient_id,
            appointment.id,
            {**payload, "seen": snapshot(appointment)},
        )
    ]


def to_waitlisted(offer: Offer) -> list[Owed]:
    return [Owed(WAITLIST_OFFER, offer.patient_id, payload={"offer": offer.id})]


def to_secretaries(
    settings: Settings, kind: str, appointment: Appointment | None = None, **payload: object
) -> list[Owed]:
    return [
        Owed(kind, secretary.telegram_id, appointment.id if appointment else None, payload)
        for secretary in settings.secretaries
    ]


def to_inbox(settings: Settings, appointment: Appointment) -> list[Owed]:
    """A patient's request, move or direct booking, for every secretary's inbox: moot if it
    changed before it could be shown (answered, moved again), as a newer message says."""
    return to_secretaries(settings, INBOX, appointment, seen=snapshot(appointment))


def to_employers(
    business: Business, kind: str, appointment: Appointment | None = None, **payload: object
) -> list[Owed]:
    return [
        Owed(kind, employer, appointment.id if appointment else None, payload)
        for employer in business.employers
    ]


def undelivered(settings: Settings, message: Message, reason: str) -> Iterable[Owed]:
    """Who learns that a message could not be delivered: the secretaries, of a patient they
    can call instead; the secretary who took a call message, of an employer it missed."""
    if message.kind == CALL:
        return [Owed(CALL_UNDELIVERED, message.payload["taken_by"], payload=message.payload)]
    if message.kind not in TO_PATIENT:
        return []
    return [
        Owed(
            UNREACHABLE,
            secretary.telegram_id,
            message.appointment_id,
            {"patient_id": message.chat_id, "about": message.kind, "reason": reason},
        )
        for secretary in settings.secretaries
    ]
