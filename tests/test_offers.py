"""Offers say their day and their reasons; online booking says how far it goes; the day
picker pages a week at a time up to the horizon. End to end, in French and English.

The clock stands on Monday 11 January 2027, 09:00 in Paris. Cabinet Dupont opens Monday to
Friday, Wednesday mornings only; the Institut Belle Peau Tuesday to Saturday.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest

from bot.agenda import OpeningRules, Wanted, Why, unavailable
from bot.config import parse_settings
from storage.appointments import Status
from tests.conftest import PARIS, running_bot

CLAIRE = 111111111
DUPONT = "cabinet-dupont"
DAY_AND_TIME = " · "


@pytest.fixture
def claire(tg):
    return tg.user(CLAIRE, "Claire", language="fr")


async def patient(tg, language="fr", slug=DUPONT, user_id=5001):
    someone = tg.user(user_id, "Alice" if language == "fr" else "Ann", language=language)
    await someone.send(f"/start {slug}")
    return someone


def times(message) -> list[str]:
    """The offered times' labels, without the last row (another day, the office)."""
    return [label for row in message.buttons[:-1] for label in row]


def with_dupont(config_data, **changes):
    config_data["businesses"][0].update(changes)
    return parse_settings(config_data)


# -- 1. every offer says its day, and why not the one asked for -------------------------------


async def test_a_closed_afternoon_says_so_and_each_time_says_its_day(bot, tg):
    alice = await patient(tg)
    await alice.send("détartrage le 13 janvier à 15h")
    assert alice.last.text.splitlines() == [
        "mercredi 13 janvier à 15:00 n'est pas disponible : c'est en dehors des heures "
        "d'ouverture (mercredi : 08:30–12:30).",
        "Voici les créneaux libres les plus proches pour Détartrage :",
    ]
    # The nearest are all that Wednesday morning, the day the message names: times alone.
    assert times(alice.last) == ["10:45", "11:00", "11:15", "11:30", "11:45", "12:00"]
    assert alice.last.buttons[-1] == ["Un autre jour"]


async def test_in_english_too(bot, tg):
    ann = await patient(tg, "en")
    await ann.send("cleaning on 13 January at 3pm")
    assert ann.last.text.splitlines() == [
        "Wednesday, January 13 at 15:00 is not available: it is outside opening hours "
        "(Wednesday: 08:30–12:30).",
        "Here are the nearest free times for Teeth cleaning:",
    ]
    assert times(ann.last)[-1] == "12:00"


async def test_a_weekday_the_business_never_opens(bot, tg):
    alice = await patient(tg)
    await alice.send("détartrage samedi à 10h")
    assert alice.last.text.startswith(
        "samedi 16 janvier à 10:00 n'est pas disponible : "
        "Cabinet dentaire Dupont est fermé le samedi."
    )
    assert all(DAY_AND_TIME in label for label in times(alice.last))

    ann = await patient(tg, "en", user_id=5002)
    await ann.send("cleaning on Saturday at 10am")
    assert ann.last.text.startswith(
        "Saturday, January 16 at 10:00 is not available: "
        "Cabinet dentaire Dupont is closed on Saturdays."
    )


async def test_a_public_holiday_is_named(bot, tg):
    alice = await patient(tg)
    await alice.send("détartrage le 29 mars à 10h")
    assert alice.last.text.startswith(
        "lundi 29 mars à 10:00 n'est pas disponible : c'est un jour férié (Lundi de Pâques)."
    )
    assert all(DAY_AND_TIME in label for label in times(alice.last))


async def test_an_office_closure_says_from_when_to_when(config_data, store, clock, tg):
    settings = with_dupont(config_data, closed=["2027-01-18..2027-01-22"])
    async with running_bot(settings, store, clock, tg):
        alice = await patient(tg)
        await alice.send("détartrage le 19 janvier à 10h")
        assert alice.last.text.startswith(
            "mardi 19 janvier à 10:00 n'est pas disponible : Cabinet dentaire Dupont est "
            "fermé du lundi 18 janvier au vendredi 22 janvier."
        )
        assert all(DAY_AND_TIME in label for label in times(alice.last))
        ann = await patient(tg, "en", user_id=5002)
        await ann.send("cleaning on 19 January")
        assert ann.last.text.startswith(
            "Tuesday, January 19 is not available: Cabinet dentaire Dupont is closed from "
            "Monday, January 18 to Friday, January 22."
        )
        assert all(DAY_AND_TIME in label for label in times(ann.last))


async def test_too_soon_says_the_notice_and_times_on_that_day_stand_alone(bot, tg):
    alice = await patient(tg)
    await alice.send("détartrage aujourd'hui à 10h")
    assert alice.last.text.startswith(
        "lundi 11 janvier à 10:00 n'est pas disponible : il faut réserver au moins 2 h à l'avance."
    )
    # Every time offered is on the day the message names: the times alone, three a row.
    assert alice.last.buttons[0] == ["11:00", "11:15", "11:30"]

    ann = await patient(tg, "en", user_id=5002)
    await ann.send("cleaning today at 10am")
    assert "bookings need at least 2 h notice" in ann.last.text


async def test_a_taken_time_says_so(bot, tg):
    for patient_id in (5001, 5002):  # both practitioners at 10:00
        someone = await patient(tg, user_id=patient_id)
        await someone.send("détartrage le 14 janvier à 10h")
        await someone.tap("10:00")
    carol = await patient(tg, user_id=5003)
    await carol.send("détartrage le 14 janvier à 10h")
    assert carol.last.text.startswith(
        "jeudi 14 janvier à 10:00 n'est pas disponible : ce créneau est déjà pris."
    )
    assert carol.last.buttons[0] == ["09:00", "09:15", "09:30"]


async def test_the_asked_time_free_names_its_day(bot, tg):
    ann = await patient(tg, "en")
    await ann.send("cleaning on 14 January at 10am")
    assert ann.last.text.startswith(
        "Teeth cleaning: the time you asked for is free (Thursday, January 14 at 10:00)."
    )
    assert ann.last.buttons[0][0] == "10:00"


async def test_a_slot_taken_meanwhile_names_each_day(bot, tg):
    alice = await patient(tg)
    await alice.send("détartrage le 14 janvier à 10h")
    offer = alice.last
    for patient_id in (5002, 5003):
        someone = await patient(tg, user_id=patient_id)
        await someone.send("détartrage le 14 janvier à 10h")
        await someone.tap("10:00")
    await alice.tap("10:00", in_message=offer)
    assert alice.last.text.startswith("Désolé, ce créneau vient d'être pris.")
    # That message names no day: each time says its own.
    assert all(DAY_AND_TIME in label for label in times(alice.last))


async def test_the_desk_says_the_day_of_each_time_and_why(bot, tg, claire):
    await claire.send("/rdv cabinet-dupont Mme Durand 0612345678 détartrage mercredi 15h")
    lines = claire.last.text.splitlines()
    assert lines[1] == (
        "Détartrage : mercredi 13 janvier à 15:00 n'est pas libre. Les créneaux les plus proches :"
    )
    assert lines[2] == "↳ c'est en dehors des heures d'ouverture (mercredi : 08:30–12:30)."
    assert times(claire.last)[-1] == "12:00"
    await claire.send("/annuler")
    await claire.send("/rdv cabinet-dupont Mme Durand 0612345678 détartrage samedi 10h")
    assert claire.last.text.splitlines()[2] == "↳ Cabinet dentaire Dupont est fermé le samedi."
    # Friday's and Monday's times, under a text naming Saturday: each says its day.
    assert times(claire.last)[0] == "ven. 15 janv. · 16:15"
    assert all(DAY_AND_TIME in label for label in times(claire.last))
    await claire.send("/annuler")

    await claire.send("/rdv institut-belle-peau Mme Durand 0612345678 massage samedi 10h")
    labels = times(claire.last)
    text = claire.last.text
    # Every time is on the Saturday the message names, or says its own day.
    assert "samedi 16 janvier" in text
    assert all(DAY_AND_TIME in label for label in labels) or all(
        DAY_AND_TIME not in label for label in labels
    )


async def test_an_expired_request_re_offers_times_that_say_their_day(bot, tg, clock, claire):
    from tests.conftest import sweep

    alice = await patient(tg)
    await alice.send("détartrage le 13 janvier à 12h")
    await alice.tap("12:00")
    bob = await patient(tg, user_id=5002)
    await bob.send("détartrage aujourd'hui à 18h30")
    await bob.tap("18:30")
    clock.advance(timedelta(hours=25))  # nobody answered
    await sweep(bot)
    assert alice.last.text.startswith("Désolé, votre demande Détartrage du mercredi 13 janvier")
    # Still that Wednesday morning, the day the message names: the times alone.
    assert times(alice.last) == ["12:00", "10:45", "11:00", "11:15", "11:30", "11:45"]
    assert bob.last.text.startswith("Désolé, votre demande Détartrage du lundi 11 janvier")
    # Monday is over: Tuesday's times say so.
    assert times(bob.last)[0] == "mar. 12 janv. · 18:30"
    assert all(DAY_AND_TIME in label for label in times(bob.last))


# -- 2. honest limits: the past, the horizon, no room -----------------------------------------


async def test_a_past_time_says_so_and_offers_the_nearest_future_ones(bot, tg):
    alice = await patient(tg)
    await alice.send("détartrage aujourd'hui à 8h")
    assert alice.last.text.startswith(
        "lundi 11 janvier à 08:00 n'est pas disponible : c'est déjà passé."
    )
    assert times(alice.last)

    ann = await patient(tg, "en", user_id=5002)
    await ann.send("cleaning today at 8am")
    assert ann.last.text.startswith(
        "Monday, January 11 at 08:00 is not available: it is already in the past."
    )


async def test_a_past_day_says_so(bot, tg):
    alice = await patient(tg)
    await alice.send("le 14 janvier à 10h")  # no service: the buttons carry the day
    message = alice.last
    key = message.reply_markup["inline_keyboard"][1][0]  # Détartrage
    key["callback_data"] = "want:detartrage:20270105:20270105:1000:1000:-"
    await alice.tap(key["text"], in_message=message)
    assert alice.last.text.startswith(
        "mardi 5 janvier à 10:00 n'est pas disponible : c'est déjà passé."
    )
    assert all(DAY_AND_TIME in label for label in times(alice.last))


async def test_beyond_the_horizon_says_how_far_and_passes_it_on(bot, tg, claire, store):
    alice = await patient(tg)
    await alice.send("détartrage le 15 juin à 10h")
    assert alice.last.text.splitlines() == [
        "La réservation en ligne chez Cabinet dentaire Dupont va jusqu'au dimanche 11 avril "
        "(90 jours à l'avance).",
        "Pour le mardi 15 juin, je peux transmettre votre demande au secrétariat, "
        "qui vous répondra ici.",
    ]
    assert alice.last.buttons == [["📨 Transmettre au secrétariat"], ["Un autre jour"]]
    await alice.tap("📨 Transmettre au secrétariat")
    assert alice.last.text.startswith("📨 J'ai transmis votre message au secrétariat")
    assert "« Rendez-vous souhaité, au-delà de la réservation en ligne : Détartrage, " in (
        claire.last.text
    )
    assert "mardi 15 juin à 10:00 »" in claire.last.text
    assert await store.appointments.of_patient(5001, tg.now()) == []


async def test_beyond_the_horizon_in_english(bot, tg, claire):
    ann = await patient(tg, "en")
    await ann.send("cleaning on 15 June at 10am")
    assert ann.last.text.startswith(
        "Online booking at Cabinet dentaire Dupont goes up to Sunday, April 11 (90 days ahead)."
    )
    await ann.tap("📨 Ask the office")
    assert (
        "Appointment wanted, beyond online booking: Teeth cleaning, Tuesday, June 15 at 10:00"
        in (claire.last.text)
    )


async def test_the_horizon_is_a_duration_a_business_may_override(config_data, store, clock, tg):
    config_data["booking_horizon"] = "30d"
    config_data["businesses"][1]["booking_horizon"] = "14d"
    async with running_bot(parse_settings(config_data), store, clock, tg):
        alice = await patient(tg)
        await alice.send("détartrage le 15 février à 10h")
        assert "va jusqu'au mercredi 10 février (30 jours à l'avance)" in alice.last.text
        bob = await patient(tg, slug="institut-belle-peau", user_id=5002)
        await bob.send("massage le 30 janvier à 10h")
        assert "va jusqu'au lundi 25 janvier (14 jours à l'avance)" in bob.last.text


def test_the_older_horizon_in_days_is_still_read(config_data):
    config_data["businesses"][0]["booking_horizon_days"] = 30
    settings = parse_settings(config_data)
    assert settings.horizon(settings.businesses[0]) == timedelta(days=30)
    assert settings.horizon(settings.businesses[1]) == timedelta(days=90)
    # Both set: the duration wins.
    config_data["businesses"][0]["booking_horizon"] = "7d"
    settings = parse_settings(config_data)
    assert settings.horizon(settings.businesses[0]) == timedelta(days=7)


async def test_a_closed_day_with_room_earlier_is_no_no_room(config_data, store, clock, tg):
    # Nothing from the day asked to the horizon, but Monday and Tuesday still have room.
    settings = with_dupont(config_data, closed=["2027-01-13..2027-01-31"], booking_horizon="5d")
    async with running_bot(settings, store, clock, tg):
        alice = await patient(tg)
        await alice.send("détartrage le 14 janvier")
        assert alice.last.text.startswith("jeudi 14 janvier n'est pas disponible : ")
        assert times(alice.last)[0] == "lun. 11 janv. · 11:00"


async def test_no_room_within_the_horizon_says_so_with_the_phone(config_data, store, clock, tg):
    settings = with_dupont(config_data, closed=["2027-01-11..2027-01-31"], booking_horizon="5d")
    async with running_bot(settings, store, clock, tg):
        alice = await patient(tg)
        await alice.send("détartrage le 14 janvier")
        assert alice.last.text == (
            "Désolé, Cabinet dentaire Dupont n'a plus de créneau libre en ligne d'ici au "
            "samedi 16 janvier. Vous pouvez appeler le +33 1 23 45 67 89."
        )
        ann = await patient(tg, "en", user_id=5002)
        await ann.tap("📅 Book an appointment")
        await ann.tap("Teeth cleaning")
        assert ann.last.text == (
            "Sorry, Cabinet dentaire Dupont has no free time left online up to "
            "Saturday, January 16. You can call +33 1 23 45 67 89."
        )


# -- 6. the day picker reaches the horizon, a week at a time ----------------------------------


async def test_the_day_picker_pages_a_week_at_a_time_to_the_horizon_and_back(bot, tg, store):
    alice = await patient(tg)
    await alice.tap("📅 Prendre rendez-vous")
    await alice.tap("Détartrage")
    assert alice.last.text.splitlines() == [
        "Détartrage (30 min). Quel jour vous conviendrait ?",
        "Semaine du lun. 11 janv.",
    ]
    assert alice.last.buttons == [
        ["lun. 11 janv."],
        ["mar. 12 janv."],
        ["mer. 13 janv."],
        ["jeu. 14 janv."],
        ["ven. 15 janv."],
        ["Semaine suivante ▶"],
    ]
    await alice.tap("Semaine suivante ▶")
    assert alice.last.text.endswith("Semaine du lun. 18 janv.")
    assert alice.last.buttons[0] == ["lun. 18 janv."]
    assert alice.last.buttons[-1] == ["◀ Semaine précédente", "Semaine suivante ▶"]
    pages = 1
    while "Semaine suivante ▶" in alice.last.buttons[-1]:
        await alice.tap("Semaine suivante ▶")
        pages += 1
    # The horizon is Sunday 11 April: the week of Monday 5 April is the last one.
    assert pages == 12
    assert alice.last.text.endswith("Semaine du lun. 5 avr.")
    assert alice.last.buttons[-2] == ["ven. 9 avr."]
    assert alice.last.buttons[-1] == ["◀ Semaine précédente"]
    await alice.tap("ven. 9 avr.")
    await alice.tap("08:30")
    (appointment,) = await store.appointments.of_patient(5001, tg.now())
    assert appointment.starts_at == datetime(2027, 4, 9, 8, 30, tzinfo=PARIS)
    assert appointment.status == Status.REQUESTED


async def test_a_week_back_and_a_holiday_week(bot, tg):
    alice = await patient(tg)
    await alice.tap("📅 Prendre rendez-vous")
    await alice.tap("Détartrage")
    for _ in range(11):  # to the week of Monday 29 March, Easter Monday
        await alice.tap("Semaine suivante ▶")
    assert alice.last.text.endswith("Semaine du lun. 29 mars")
    assert alice.last.buttons[0] == ["mar. 30 mars"]
    await alice.tap("◀ Semaine précédente")
    assert alice.last.text.endswith("Semaine du lun. 22 mars")


async def test_in_english_the_institute_pages_too(bot, tg):
    bob = await patient(tg, "en", slug="institut-belle-peau")
    await bob.tap("📅 Book an appointment")
    await bob.tap("Relaxing massage")
    assert bob.last.text.splitlines() == [
        "Relaxing massage (60 min). Which day suits you?",
        "Week of Mon, Jan 11",
    ]
    assert [row[0] for row in bob.last.buttons[:-1]] == [
        "Tue, Jan 12",
        "Wed, Jan 13",
        "Thu, Jan 14",
        "Fri, Jan 15",
        "Sat, Jan 16",
    ]
    await bob.tap("Next week ▶")
    assert bob.last.text.endswith("Week of Mon, Jan 18")
    assert bob.last.buttons[-1] == ["◀ Previous week", "Next week ▶"]
    await bob.tap("◀ Previous week")
    assert bob.last.text.endswith("Week of Mon, Jan 11")


async def test_a_week_with_no_room_says_so(config_data, store, clock, tg):
    settings = with_dupont(config_data, closed=["2027-01-18..2027-01-24"])
    async with running_bot(settings, store, clock, tg):
        alice = await patient(tg)
        await alice.tap("📅 Prendre rendez-vous")
        await alice.tap("Détartrage")
        await alice.tap("Semaine suivante ▶")
        assert alice.last.text == (
            "Détartrage (30 min) : plus de créneau libre en ligne la semaine du lun. 18 janv."
        )
        assert alice.last.buttons == [["◀ Semaine précédente", "Semaine suivante ▶"]]


async def test_moving_an_appointment_pages_its_weeks(bot, tg, claire, store):
    alice = await patient(tg)
    await alice.send("un détartrage mardi à 10h")
    await alice.tap("10:00")
    await claire.tap("✅ Confirmer", in_message=claire.last)
    await alice.send("je dois déplacer mon rendez-vous")
    assert alice.last.text.endswith("Semaine du lun. 11 janv.")
    await alice.tap("Semaine suivante ▶")
    assert alice.last.text.endswith("Semaine du lun. 18 janv.")
    await alice.tap("mer. 20 janv.")
    await alice.tap("08:30")
    assert "mercredi 20 janvier à 08:30" in alice.last.text


# -- the reasons, as the agenda decides them (pure) -------------------------------------------


@pytest.fixture
def rules(settings):
    business = settings.businesses[0]
    return OpeningRules(business, PARIS, settings.horizon(business))


NOW = datetime(2027, 1, 11, 9, 0, tzinfo=PARIS)
HALF_HOUR = timedelta(minutes=30)


def why(rules, day, hour=None, busy=()):
    moment = None if hour is None else datetime.min.replace(hour=hour).time()
    wanted = Wanted(day, day, moment, moment)
    found = unavailable(rules, HALF_HOUR, list(busy), wanted, now=NOW)
    return found.why if found else None


def test_the_reasons(rules):
    assert why(rules, date(2027, 1, 5)) == Why.PAST
    assert why(rules, date(2027, 1, 11), 8) == Why.PAST
    assert why(rules, date(2027, 1, 11), 10) == Why.NOTICE
    assert why(rules, date(2027, 1, 13), 15) == Why.HOURS
    assert why(rules, date(2027, 1, 16), 10) == Why.WEEKLY
    assert why(rules, date(2027, 3, 29), 10) == Why.HOLIDAY
    assert why(rules, date(2027, 6, 15), 10) == Why.BEYOND
    assert why(rules, date(2027, 1, 14), 10) is None
    assert why(rules, date(2027, 1, 14)) is None
    assert rules.last_day(NOW) == date(2027, 4, 11)


async def test_late_morning_is_offered_late_in_the_morning(bot, tg):
    alice = tg.user(5001, "Alice", language="fr")
    await alice.send("/start cabinet-dupont")
    await alice.send("un détartrage vendredi en fin de matinée")
    times = [label for row in alice.last.buttons for label in row if ":" in label]
    assert times and all("10:00" <= label[-5:] < "12:30" for label in times), times
