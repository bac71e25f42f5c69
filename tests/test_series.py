"""Series of appointments, end to end: the secretary books ten Tuesdays at 10:00 (typed, or
"Repeat…" after a booking), conflicts come with the nearest free time, each occurrence is
reminded, and the patient sees the series and cancels one occurrence or the rest.

The clock stands on Monday 11 January 2027, 09:00 in Paris.
"""

from __future__ import annotations

import copy
from datetime import datetime, timedelta

import pytest

from storage.appointments import NewAppointment, Source, Status
from storage.blocks import NewBlock
from tests.conftest import PARIS, running_bot, sweep

CLAIRE = 111111111
KINE = "cabinet-kine"
PHYSIO = {
    "slug": KINE,
    "name": "Cabinet Moreau",
    "employers": [],
    "address": "3 rue Vieille, 75004 Paris",
    "phone": "+33 1 40 00 00 00",
    "requires_confirmation": True,
    "min_notice": "2h",
    "slot_step": 30,
    "hours": {
        day: ["08:00-12:00", "14:00-19:00"]
        for day in ("monday", "tuesday", "wednesday", "thursday", "friday")
    },
    "closed": [],
    "public_holidays": "FR",
    "practitioners": ["Marc"],
    "services": [
        {
            "key": "kine",
            "name": "Kinésithérapie",
            "names": {"en": "Physiotherapy"},
            "duration": 30,
            "keywords": ["kiné", "kinésithérapie", "rééducation", "physio", "physiotherapy"],
        }
    ],
}
TUESDAYS = [datetime(2027, 1, 12, 10, tzinfo=PARIS) + timedelta(weeks=n) for n in range(10)]

# What each language's people type and tap, and what the bot says back.
WORDS = {
    "fr": {
        "rdv": "/rdv Mme Lefèvre 0611223344 kiné tous les mardis à 10h x10",
        "caller": "Mme Lefèvre · +33 6 11 22 33 44",
        "draft": "🔁 Série de 10 séances, chaque semaine : l'heure touchée est la première,"
        " chacune est vérifiée.",
        "title": "🔁 Série réservée · Cabinet Moreau",
        "every": "Kinésithérapie, tous les mardis : {booked} séance(s) sur {count}",
        "booked": "✅ mardi 12 janvier à 10:00",
        "ask": "kiné mardi 12 janvier à 10h",
        "confirm": "✅ Confirmer",
        "repeat": "🔁 Répéter…",
        "six": "tous les mardis × 6",
        "patient_series": "🔁 Vos 6 séances de Kinésithérapie sont confirmées · Cabinet Moreau,"
        " tous les mardis :",
        "list": "🔁 Kinésithérapie · Cabinet Moreau · tous les mardis · 6 séance(s),"
        " prochaine le mardi 12 janvier à 10:00",
        "times": "    mar. 12 janv. 10:00 · mar. 19 janv. 10:00 · mar. 26 janv. 10:00"
        " · mar. 2 févr. 10:00 · mar. 9 févr. 10:00 · mar. 16 févr. 10:00",
        "reminder": "⏰ Rappel : Kinésithérapie mardi 19 janvier à 10:00, avec Marc.",
        "cancel": "je voudrais annuler un rendez-vous",
        "pick": "mar. {day} janv. 10:00 · Kinésithérapie",
        "rest": "Annuler celle-ci et les suivantes",
        "rest_yes": "Oui, annuler la suite",
        "rest_sure": "Annuler 5 séance(s) de Kinésithérapie, à partir du mardi 12 janvier"
        " à 10:00 ?",
        "rest_done": "🗑 Kinésithérapie : 4 séance(s) annulée(s). Merci de nous avoir prévenus !",
        "rest_inside": "⏰ Trop proches pour être annulées en ligne : le cabinet est prévenu et"
        " décidera avec vous (+33 1 40 00 00 00).",
        "office_rest": "🗑 Suite de série annulée · Cabinet Moreau",
        "office_inside": "⏰ Dans le délai d'annulation, donc pas annulées : le patient demande"
        " à les annuler aussi.",
    },
    "en": {
        "rdv": "/rdv Mr Smith 0611223344 physio every Tuesday at 10am x10",
        "caller": "Mr Smith · +33 6 11 22 33 44",
        "draft": "🔁 A series of 10 sessions, every week: the time you tap is the first,"
        " each one is checked.",
        "title": "🔁 Series booked · Cabinet Moreau",
        "every": "Physiotherapy, every Tuesday: {booked} session(s) of {count}",
        "booked": "✅ Tuesday, January 12 at 10:00",
        "ask": "physio on Tuesday January 12 at 10am",
        "confirm": "✅ Confirm",
        "repeat": "🔁 Repeat…",
        "six": "every Tuesday × 6",
        "patient_series": "🔁 Your 6 sessions of Physiotherapy are confirmed · Cabinet Moreau,"
        " every Tuesday:",
        "list": "🔁 Physiotherapy · Cabinet Moreau · every Tuesday · 6 session(s),"
        " next on Tuesday, January 12 at 10:00",
        "times": "    Tue, Jan 12 10:00 · Tue, Jan 19 10:00 · Tue, Jan 26 10:00"
        " · Tue, Feb 2 10:00 · Tue, Feb 9 10:00 · Tue, Feb 16 10:00",
        "reminder": "⏰ Reminder: Physiotherapy on Tuesday, January 19 at 10:00, with Marc.",
        "cancel": "I would like to cancel an appointment",
        "pick": "Tue, Jan {day} 10:00 · Physiotherapy",
        "rest": "Cancel this one and the following",
        "rest_yes": "Yes, cancel them",
        "rest_sure": "Cancel 5 session(s) of Physiotherapy, from Tuesday, January 12 at 10:00 on?",
        "rest_done": "🗑 Physiotherapy: 4 session(s) cancelled. Thank you for letting us know!",
        "rest_inside": "⏰ Too close to cancel online: the office has been told and will decide"
        " with you (+33 1 40 00 00 00).",
        "office_rest": "🗑 Rest of a series cancelled · Cabinet Moreau",
        "office_inside": "⏰ Inside the cancel notice, so not cancelled: the patient asks to"
        " cancel these too.",
    },
}
LANGUAGES = pytest.mark.parametrize("language", ["fr", "en"])


def paris(*args: int) -> datetime:
    return datetime(*args, tzinfo=PARIS)


@pytest.fixture
def config_data(config_data, request):
    config_data["businesses"].append(copy.deepcopy(PHYSIO))
    callspec = getattr(request.node, "callspec", None)
    language = callspec.params.get("language", "fr") if callspec else "fr"
    config_data["secretaries"][0]["language"] = language
    return config_data


@pytest.fixture
def claire(tg, language):
    return tg.user(CLAIRE, "Claire", language=language)


async def kine_appointments(store, tg):
    return await store.appointments.between(
        store.business_ids[KINE], tg.now(), tg.now() + timedelta(days=120)
    )


async def held(store, tg):
    return [a for a in await kine_appointments(store, tg) if a.status == Status.CONFIRMED]


@LANGUAGES
async def test_rdv_books_ten_tuesdays_each_checked_and_said_with_its_day(
    bot, tg, store, claire, language
):
    words = WORDS[language]
    await claire.send(words["rdv"])
    offer = claire.last
    assert offer.text.splitlines()[0] == f"📞 {words['caller']}"
    assert offer.text.splitlines()[-1] == words["draft"]
    await claire.tap("10:00", in_message=offer)
    lines = claire.last.text.splitlines()
    assert lines[:3] == [
        words["title"],
        words["caller"],
        words["every"].format(booked=10, count=10),
    ]
    assert lines[3] == words["booked"]
    assert len(lines) == 13 and all(line.startswith("✅ ") for line in lines[3:])
    booked = await held(store, tg)
    assert [a.starts_at for a in booked] == TUESDAYS
    assert {(a.source, a.caller_name, a.patient_id) for a in booked} == {
        (Source.PHONE, words["caller"].split(" · ")[0], None)
    }
    (series_id,) = {a.series_id for a in booked}
    series = await store.series.get(series_id)
    assert (series.every_weeks, series.count, series.created_by) == (1, 10, CLAIRE)
    (entry,) = await store.audit.entries(target=f"series:{series_id}")
    assert (entry.actor, entry.action) == (CLAIRE, "series.book")


CONFLICTS = {
    "fr": [
        "⚠️ mardi 19 janvier à 10:00 : ce créneau est déjà pris. Au plus près : mardi 19 janvier"
        " à 09:30",
        "⚠️ mardi 2 février à 10:00 : ce créneau est déjà pris. Au plus près : mardi 2 février"
        " à 09:00",
        "⚠️ mardi 9 février à 10:00 : Cabinet Moreau est fermé ce jour-là (mardi 9 février)."
        " Au plus près : lundi 8 février à 10:00",
    ],
    "en": [
        "⚠️ Tuesday, January 19 at 10:00: that time is already taken. Nearest: Tuesday,"
        " January 19 at 09:30",
        "⚠️ Tuesday, February 2 at 10:00: that time is already taken. Nearest: Tuesday,"
        " February 2 at 09:00",
        "⚠️ Tuesday, February 9 at 10:00: Cabinet Moreau is closed that day (Tuesday,"
        " February 9). Nearest: Monday, February 8 at 10:00",
    ],
}
NEAREST_BUTTONS = {
    "fr": [["➕ mar. 19 janv. 09:30", "➕ mar. 2 févr. 09:00"], ["➕ lun. 8 févr. 10:00"]],
    "en": [["➕ Tue, Jan 19 09:30", "➕ Tue, Feb 2 09:00"], ["➕ Mon, Feb 8 10:00"]],
}


@LANGUAGES
async def test_a_taken_a_blocked_and_a_closed_tuesday_are_conflicts_with_their_nearest_time(
    config_data, store, clock, tg, language
):
    from bot.config import parse_settings

    config_data["businesses"][-1]["closed"] = ["2027-02-09"]
    kine = store.business_ids[KINE]
    await store.appointments.book(
        NewAppointment(
            business_id=kine,
            practitioner="Marc",
            service="kine",
            starts_at=paris(2027, 1, 19, 10),
            ends_at=paris(2027, 1, 19, 10, 30),
            status=Status.CONFIRMED,
            source=Source.PHONE,
            caller_name="M. Petit",
            caller_phone="+33 6 00 00 00 00",
        ),
        now=clock.now(),
    )
    await store.blocks.add(
        NewBlock(kine, paris(2027, 2, 2, 9, 45), paris(2027, 2, 2, 10, 45), reason="formation"),
        actor=CLAIRE,
        now=clock.now(),
    )
    claire = tg.user(CLAIRE, "Claire", language=language)
    async with running_bot(parse_settings(config_data), store, clock, tg):
        await claire.send(WORDS[language]["rdv"])
        await claire.tap("10:00")
        answer = claire.last
        lines = answer.text.splitlines()
        assert lines[2] == WORDS[language]["every"].format(booked=7, count=10)
        assert lines[-3:] == CONFLICTS[language]
        assert answer.buttons == NEAREST_BUTTONS[language]
        (series_id,) = {a.series_id for a in await held(store, tg) if a.series_id}

        await claire.tap(NEAREST_BUTTONS[language][1][0], in_message=answer)
        added = (
            "➕ Ajoutée : lundi 8 février à 10:00"
            if language == "fr"
            else ("➕ Added: Monday, February 8 at 10:00")
        )
        assert answer.text.splitlines()[-1] == added
        assert answer.buttons == [NEAREST_BUTTONS[language][0]]
        occurrences = await store.series.occurrences(series_id)
        assert len(occurrences) == 8
        assert paris(2027, 2, 8, 10) in [a.starts_at for a in occurrences]

        # The same button again, or once taken: nothing more is booked.
        await claire.tap(NEAREST_BUTTONS[language][0][0], in_message=answer)
        assert len(await store.series.occurrences(series_id)) == 9
        stranger = tg.user(7777, "Mallory", language=language)
        await stranger.send("/start cabinet-kine")
        await stranger.tap(NEAREST_BUTTONS[language][0][1], in_message=answer)
        assert len(await store.series.occurrences(series_id)) == 9


async def alice_at_the_physio(tg, claire, language):
    """Alice's request for Tuesday 12 January at 10:00, confirmed by Claire."""
    alice = tg.user(5001, "Alice", language=language)
    await alice.send("/start cabinet-kine")
    await alice.send(WORDS[language]["ask"])
    await alice.tap("10:00")
    inbox = claire.last
    await claire.tap(WORDS[language]["confirm"], in_message=inbox)
    return alice, inbox


@LANGUAGES
async def test_repeat_after_confirming_a_request_books_the_series_and_tells_the_patient_once(
    bot, tg, store, clock, claire, language
):
    words = WORDS[language]
    alice, inbox = await alice_at_the_physio(tg, claire, language)
    assert inbox.buttons == [[words["repeat"]]]
    told = len(alice.messages)
    await claire.tap(words["repeat"], in_message=inbox)
    assert claire.last.buttons[0][0].startswith(words["six"].replace("6", "4"))
    await claire.tap(words["six"])
    lines = claire.last.text.splitlines()
    assert lines[0] == words["title"]
    assert lines[2] == words["every"].format(booked=6, count=6)
    assert len(lines) == 9
    booked = await held(store, tg)
    assert [a.starts_at for a in booked] == TUESDAYS[:6]
    assert {(a.patient_id, a.series_id is not None) for a in booked} == {(5001, True)}
    assert [a.source for a in booked][1:] == [Source.SECRETARY] * 5

    # One message for the whole series, every time with its day.
    assert len(alice.messages) == told + 1
    assert alice.last.text.splitlines()[0] == words["patient_series"]
    assert len(alice.last.text.splitlines()) == 7
    assert alice.last.text.splitlines()[6] == (
        "✅ mardi 16 février à 10:00" if language == "fr" else "✅ Tuesday, February 16 at 10:00"
    )

    # Her list shows the series as one, each time with its day.
    await alice.send("/start cabinet-kine")
    await alice.tap("🗓 Mes rendez-vous" if language == "fr" else "🗓 My appointments")
    assert alice.last.text.splitlines()[1:] == [words["list"], words["times"]]

    # Each occurrence is an ordinary confirmed appointment: reminded 48 h before.
    clock.set(paris(2027, 1, 17, 10, 0))
    await sweep(bot)
    assert "19" in alice.last.text and alice.last.text != words["patient_series"]
    reminded = (
        await store.reminders.sent_for(booked[1].id)
        if hasattr(store.reminders, "sent_for")
        else None
    )
    assert reminded is None or reminded


@LANGUAGES
async def test_the_patient_cancels_one_occurrence(bot, tg, store, claire, language):
    words = WORDS[language]
    alice, inbox = await alice_at_the_physio(tg, claire, language)
    await claire.tap(words["repeat"], in_message=inbox)
    await claire.tap(words["six"])
    await alice.send(words["cancel"])
    await alice.tap(words["pick"].format(day=26))
    assert alice.last.buttons[-1] == [words["rest"]]
    await alice.tap("Oui, annuler" if language == "fr" else "Yes, cancel")
    statuses = [a.status for a in await kine_appointments(store, tg)]
    assert statuses == [Status.CONFIRMED] * 2 + [Status.CANCELLED] + [Status.CONFIRMED] * 3


@LANGUAGES
async def test_the_patient_cancels_the_rest_but_what_is_inside_the_notice(
    config_data, store, clock, tg, language
):
    from bot.config import parse_settings

    config_data["cancel_notice"] = "48h"  # Tuesday 12 January, 10:00 is inside it
    words = WORDS[language]
    claire = tg.user(CLAIRE, "Claire", language=language)
    async with running_bot(parse_settings(config_data), store, clock, tg):
        alice, inbox = await alice_at_the_physio(tg, claire, language)
        await claire.tap(words["repeat"], in_message=inbox)
        await claire.tap(words["six"])
        await alice.send(words["cancel"])
        await alice.tap(words["pick"].format(day=12))
        await alice.tap(words["rest"])
        assert alice.last.text == words["rest_sure"].replace("5", "6")
        question = alice.last

        # Someone else replaying her button changes nothing.
        mallory = tg.user(6666, "Mallory", language=language)
        await mallory.send("/start cabinet-kine")
        await mallory.tap(words["rest_yes"], in_message=question)
        assert len(await held(store, tg)) == 6

        told = len(claire.messages)
        await alice.tap(words["rest_yes"], in_message=question)
        lines = alice.last.text.splitlines()
        assert lines[0] == words["rest_done"].replace("4", "5")
        assert lines[-2:] == [
            words["rest_inside"],
            "• mardi 12 janvier à 10:00" if language == "fr" else "• Tuesday, January 12 at 10:00",
        ]
        statuses = [a.status for a in await kine_appointments(store, tg)]
        assert statuses == [Status.CONFIRMED] + [Status.CANCELLED] * 5

        # The office hears of it once: what was cancelled, and what is left to decide.
        assert len(claire.messages) == told + 1
        office = claire.last.text.splitlines()
        assert office[0] == words["office_rest"]
        assert office[1].startswith("Alice")
        assert words["office_inside"] in office
        assert len(office) == 3 + 5 + 1 + 1


@LANGUAGES
async def test_nobody_but_a_secretary_repeats_or_adds(bot, tg, store, claire, language):
    words = WORDS[language]
    alice, inbox = await alice_at_the_physio(tg, claire, language)
    await claire.tap(words["repeat"], in_message=inbox)
    choices = claire.last
    await alice.tap(words["six"], in_message=choices)
    await alice.tap(words["repeat"], in_message=inbox)
    assert len(await held(store, tg)) == 1
    assert (await held(store, tg))[0].series_id is None


@LANGUAGES
async def test_repeat_after_a_phone_booking_books_the_series_for_that_caller(
    bot, tg, store, claire, language
):
    words = WORDS[language]
    single = words["rdv"].replace(" tous les mardis à 10h x10", " mardi à 10h")
    single = single.replace(" every Tuesday at 10am x10", " on Tuesday at 10am")
    await claire.send(single)
    await claire.tap("10:00")
    booked = claire.last
    assert booked.buttons == [[words["repeat"]]]
    await claire.tap(words["repeat"], in_message=booked)
    every_two = (
        "un mardi toutes les 2 semaines × 4"
        if language == "fr"
        else ("every 2 weeks on Tuesday × 4")
    )
    await claire.tap(every_two)
    assert claire.last.text.splitlines()[1] == words["caller"]
    appointments = await held(store, tg)
    assert [a.starts_at for a in appointments] == TUESDAYS[0:8:2]
    assert {(a.caller_name, a.caller_phone, a.source) for a in appointments} == {
        (words["caller"].split(" · ")[0], "+33 6 11 22 33 44", Source.PHONE)
    }
    assert len({a.series_id for a in appointments}) == 1


async def test_a_patients_conflict_booked_at_its_nearest_time_is_told_to_the_patient(
    bot, tg, store, clock
):
    claire = tg.user(CLAIRE, "Claire", language="fr")
    await store.appointments.book(
        NewAppointment(
            business_id=store.business_ids[KINE],
            practitioner="Marc",
            service="kine",
            starts_at=paris(2027, 1, 26, 10),
            ends_at=paris(2027, 1, 26, 10, 30),
            status=Status.CONFIRMED,
            source=Source.PHONE,
            caller_name="M. Petit",
        ),
        now=clock.now(),
    )
    alice, inbox = await alice_at_the_physio(tg, claire, "fr")
    await claire.tap("🔁 Répéter…", in_message=inbox)
    await claire.tap("tous les mardis × 4")
    answer = claire.last
    assert answer.text.splitlines()[-1] == (
        "⚠️ mardi 26 janvier à 10:00 : ce créneau est déjà pris. Au plus près : mardi 26 janvier"
        " à 09:30"
    )
    assert alice.last.text.splitlines()[0].startswith("🔁 Vos 3 séances de Kinésithérapie")
    await claire.tap("➕ mar. 26 janv. 09:30", in_message=answer)
    assert alice.last.text.splitlines()[:2] == [
        "Votre rendez-vous est confirmé ✅",
        "Kinésithérapie, mardi 26 janvier à 09:30, avec Marc.",
    ]
    mine = [a for a in await held(store, tg) if a.patient_id == 5001]
    assert len(mine) == 4 and len({a.series_id for a in mine}) == 1
