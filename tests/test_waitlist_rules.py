"""The waitlist's rules, pure: what a patient may wait for, which slot fits a wish, and
which waiting patient a freed slot goes to. Plus the store's own guards, on a real file.

The clock stands on Monday 11 January 2027, 09:00 in Paris.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

import pytest

from bot import outbox
from bot.agenda import Busy, OpeningRules, Slot, Wanted
from bot.waitlist import (
    Candidate,
    Wish,
    assign,
    fits,
    has_passed,
    nothing_fits,
    wish_of,
    worth_waiting,
)
from storage.appointments import NewAppointment, Source, Status
from storage.waitlist import Ended, Entry, NewEntry, NewOffer, Outcome
from tests.conftest import MONDAY_9AM, PARIS

# The storage half runs on both backends.
pytestmark = pytest.mark.backends

TODAY = MONDAY_9AM.date()
WEDNESDAY = date(2027, 1, 13)
HORIZON = TODAY + timedelta(days=90)


class _Service:
    key = "detartrage"
    duration = 30


def at(day: date, hour: int, minute: int = 0, who: str = "Dr Dupont") -> Slot:
    start = datetime.combine(day, time(hour, minute), tzinfo=PARIS)
    return Slot(start, start + timedelta(minutes=30), who)


def candidate(entry_id, patient_id, *slots, business_id=1, declined=()):
    return Candidate(entry_id, patient_id, business_id, list(slots), frozenset(declined))


# -- what one may wait for ---------------------------------------------------------------------


def test_a_wish_keeps_the_days_asked_that_are_still_ahead_and_bookable():
    wanted = Wanted(date(2027, 1, 8), date(2027, 1, 15), time(8), time(12), "Dr Martin")
    assert wish_of(wanted, _Service, TODAY, HORIZON) == Wish(
        "detartrage", TODAY, date(2027, 1, 15), time(8), time(12), "Dr Martin"
    )
    assert wish_of(Wanted(WEDNESDAY), _Service, TODAY, HORIZON).day_to == WEDNESDAY
    beyond = Wanted(HORIZON - timedelta(days=1), HORIZON + timedelta(days=10))
    assert wish_of(beyond, _Service, TODAY, HORIZON).day_to == HORIZON


def test_no_wish_without_days_or_with_none_left():
    assert wish_of(Wanted(None, None, time(8), time(12)), _Service, TODAY, HORIZON) is None
    assert wish_of(Wanted(date(2027, 1, 4), date(2027, 1, 8)), _Service, TODAY, HORIZON) is None
    assert wish_of(Wanted(HORIZON + timedelta(days=1)), _Service, TODAY, HORIZON) is None


def test_a_slot_fits_the_days_the_window_and_the_practitioner():
    wish = Wish("detartrage", WEDNESDAY, WEDNESDAY, time(8), time(12), "Dr Dupont")
    assert fits(wish, at(WEDNESDAY, 8))
    assert fits(wish, at(WEDNESDAY, 12))  # a window holds the starts inside it, ends too
    assert not fits(wish, at(WEDNESDAY, 12, 15))
    assert not fits(wish, at(WEDNESDAY, 10, who="Dr Martin"))
    assert not fits(wish, at(date(2027, 1, 14), 10))
    exact = Wish("detartrage", WEDNESDAY, WEDNESDAY, time(10), time(10))
    assert fits(exact, at(WEDNESDAY, 10, who="Dr Martin"))
    assert nothing_fits(exact, [at(WEDNESDAY, 9, 45), at(WEDNESDAY, 10, 15)])
    assert not nothing_fits(exact, [at(WEDNESDAY, 9, 45), at(WEDNESDAY, 10)])


def test_waiting_is_worth_it_only_for_times_the_business_offers(settings):
    business = settings.business("cabinet-dupont")
    rules = OpeningRules(business, PARIS, settings.horizon(business))
    duration = timedelta(minutes=30)

    def worth(day, first=None, last=None):
        wish = Wish("detartrage", day, day, first, last)
        return worth_waiting(rules, duration, wish, now=MONDAY_9AM)

    assert worth(WEDNESDAY, time(10), time(10))
    assert not worth(WEDNESDAY, time(15), time(15))  # Wednesday afternoons are closed
    assert not worth(date(2027, 1, 17))  # a Sunday
    assert not worth(TODAY, time(9), time(10))  # inside the two hours' notice


def test_an_entry_has_passed_once_its_last_day_is_over():
    entry = Entry(
        1, 1, 501, "detartrage", TODAY, WEDNESDAY, None, None, None, MONDAY_9AM, None, None
    )
    assert not has_passed(entry, WEDNESDAY)
    assert has_passed(entry, WEDNESDAY + timedelta(days=1))


# -- who is asked ----------------------------------------------------------------------------


def test_a_freed_slot_goes_to_the_first_who_joined_and_to_them_only():
    slot = at(WEDNESDAY, 10)
    chosen = assign([candidate(1, 501, slot), candidate(2, 502, slot)], {}, ())
    assert chosen == [(1, slot)]


def test_two_freed_slots_go_to_two_patients():
    first, second = at(WEDNESDAY, 10), at(WEDNESDAY, 10, who="Dr Martin")
    chosen = assign([candidate(1, 501, first, second), candidate(2, 502, first, second)], {}, ())
    assert chosen == [(1, first), (2, second)]


def test_a_patient_with_an_open_offer_is_not_asked_about_another():
    first, second = at(WEDNESDAY, 10), at(WEDNESDAY, 11)
    # Two entries of the same patient (two wishes), and another patient after them.
    chosen = assign(
        [candidate(1, 501, first), candidate(2, 501, second), candidate(3, 502, second)], {}, ()
    )
    assert chosen == [(1, first), (3, second)]
    assert assign([candidate(1, 501, first)], {}, asked=[501]) == []


def test_time_offered_already_is_offered_to_nobody_else_even_in_part():
    offered = {1: [Busy(at(WEDNESDAY, 10).start, at(WEDNESDAY, 11).start, "Dr Dupont")]}
    overlapping = at(WEDNESDAY, 10, 30)
    elsewhere = at(WEDNESDAY, 10, 30, who="Dr Martin")
    assert assign([candidate(1, 501, overlapping, elsewhere)], offered, ()) == [(1, elsewhere)]
    # The same practitioner's name at another business is another person.
    assert assign([candidate(1, 501, overlapping, business_id=2)], offered, ()) == [
        (1, overlapping)
    ]


def test_a_slot_turned_down_is_not_offered_to_the_same_entry_again():
    slot, later = at(WEDNESDAY, 10), at(WEDNESDAY, 11)
    declined = {(slot.start, slot.practitioner)}
    assert assign([candidate(1, 501, slot, later, declined=declined)], {}, ()) == [(1, later)]
    assert assign(
        [candidate(1, 501, slot, declined=declined), candidate(2, 502, slot)], {}, ()
    ) == [(2, slot)]


def test_slots_are_only_made_as_far_as_the_choice_needs():
    made = []

    def slots():
        for hour in (10, 11, 12):
            made.append(hour)
            yield at(WEDNESDAY, hour)

    assign([Candidate(1, 501, 1, slots())], {}, ())
    assert made == [10]


# -- the store's guards ----------------------------------------------------------------------


async def _patient(store, telegram_id):
    await store.people.seen(
        telegram_id, first_name="P", last_name=None, username=None, language="fr", now=MONDAY_9AM
    )


async def _entry(store, patient_id, **wish):
    await _patient(store, patient_id)
    entry, _ = await store.waitlist.join(
        NewEntry(
            business_id=store.business_ids["cabinet-dupont"],
            patient_id=patient_id,
            service="detartrage",
            day_from=WEDNESDAY,
            day_to=WEDNESDAY,
            **wish,
        ),
        now=MONDAY_9AM,
    )
    return entry


def _new_offer(entry, hour=10, minute=0, who="Dr Dupont"):
    start = datetime.combine(WEDNESDAY, time(hour, minute), tzinfo=PARIS)
    return NewOffer(
        entry.id, who, start, start + timedelta(minutes=30), MONDAY_9AM + timedelta(minutes=15)
    )


def _silent(_):
    return ()


async def test_the_same_wish_twice_is_one_entry(store):
    first = await _entry(store, 501, time_from=time(10), time_to=time(10))
    again, new = await store.waitlist.join(
        NewEntry(
            store.business_ids["cabinet-dupont"],
            501,
            "detartrage",
            WEDNESDAY,
            WEDNESDAY,
            time(10),
            time(10),
        ),
        now=MONDAY_9AM,
    )
    assert (again, new) == (first, False)
    other = await _entry(store, 501)  # the whole day is another wish
    assert other.id != first.id
    await store.waitlist.end_entry(first.id, Ended.LEFT, now=MONDAY_9AM)
    rejoined = await _entry(store, 501, time_from=time(10), time_to=time(10))
    assert rejoined.id not in (first.id, other.id)


async def test_an_offer_is_refused_by_the_store_when_the_world_moved(store):
    alice, bob = await _entry(store, 501), await _entry(store, 502)

    async def offer(new):
        return await store.waitlist.make_offer(new, now=MONDAY_9AM, tell=_silent)

    made = await offer(_new_offer(alice))
    assert made is not None and made.patient_id == 501
    # Alice has an offer open; the same time (or a part of it) is Alice's to answer.
    assert (
        await store.waitlist.make_offer(_new_offer(alice, 11), now=MONDAY_9AM, tell=_silent) is None
    )
    assert (
        await store.waitlist.make_offer(_new_offer(bob, 10, 15), now=MONDAY_9AM, tell=_silent)
        is None
    )
    # Time an appointment holds is no one's to offer.
    start = datetime.combine(WEDNESDAY, time(11), tzinfo=PARIS)
    await store.appointments.book(
        NewAppointment(
            business_id=store.business_ids["cabinet-dupont"],
            practitioner="Dr Dupont",
            service="detartrage",
            starts_at=start,
            ends_at=start + timedelta(minutes=30),
            status=Status.CONFIRMED,
            source=Source.PHONE,
            caller_name="Denis",
        ),
        now=MONDAY_9AM,
    )
    assert (
        await store.waitlist.make_offer(_new_offer(bob, 11), now=MONDAY_9AM, tell=_silent) is None
    )
    assert await store.waitlist.make_offer(
        _new_offer(bob, 10, 15, who="Dr Martin"), now=MONDAY_9AM, tell=_silent
    )
    # Once Alice says no, her entry may be asked about another time.
    assert await store.waitlist.end_offer(made.id, Outcome.REFUSED, now=MONDAY_9AM)
    assert not await store.waitlist.end_offer(made.id, Outcome.LAPSED, now=MONDAY_9AM)
    assert await store.waitlist.declined_starts() == {alice.id: {(made.starts_at, "Dr Dupont")}}


async def test_an_offer_and_its_message_are_written_together(store):
    entry = await _entry(store, 501)
    made = await store.waitlist.make_offer(
        _new_offer(entry),
        now=MONDAY_9AM,
        tell=outbox.to_waitlisted,
    )
    (message,) = await store.outbox.messages(kind="waitlist.offer")
    assert (message.chat_id, message.payload) == (501, {"offer": made.id})


async def test_leaving_ends_the_entry_and_its_open_offer(store):
    entry = await _entry(store, 501)
    made = await store.waitlist.make_offer(_new_offer(entry), now=MONDAY_9AM, tell=_silent)
    assert await store.waitlist.end_entry(entry.id, Ended.LEFT, now=MONDAY_9AM)
    assert not await store.waitlist.end_entry(entry.id, Ended.PASSED, now=MONDAY_9AM)
    assert (await store.waitlist.offer(made.id)).outcome == Outcome.LEFT
    assert await store.waitlist.of_patient(501) == []
    assert await store.waitlist.open_offers() == []
