"""bot.nlu: one case per reading rule, the shared corpus, and properties over any input."""

import json
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bench.nlu import CORPUS, is_right, request_fields
from bot.nlu import DAY_PART_WINDOWS, BookingRequest, DayPart, Intent, parse_request

PARIS = ZoneInfo("Europe/Paris")

MONDAY = datetime(2027, 1, 11, 8, 47, tzinfo=PARIS)  # a Monday morning


@dataclass(frozen=True)
class Service:
    """The three attributes the parser reads of bot.config.Service."""

    key: str
    name: str
    keywords: list[str]


SERVICES = [
    Service("detartrage", "Détartrage", ["détartrage", "tartre", "nettoyage"]),
    Service("consultation", "Consultation", ["contrôle", "bilan", "carie", "douleur"]),
    Service("blanchiment", "Blanchiment", []),
    Service("soin_visage", "Soin visage", []),
    Service("epilation", "Épilation", []),
    Service("massage", "Massage", []),
]


def read(text: str, now: datetime = MONDAY) -> tuple[str, str | None, str | None]:
    request = parse_request(text, now)
    return (request.intent.value, *request_fields(request))


def at(iso: str) -> datetime:
    return datetime.fromisoformat(iso).replace(tzinfo=PARIS)


# --------------------------------------------------------------------------- clock times


@pytest.mark.parametrize(
    ("text", "clock"),
    [
        ("demain 14h", "14:00"),
        ("demain 14 h 30", "14:30"),
        ("demain 14h30", "14:30"),
        ("demain 14:00", "14:00"),
        ("demain 10h00", "10:00"),
        ("demain à 10", "10:00"),
        ("demain vers 10 heures", "10:00"),
        ("demain dix heures", "10:00"),
        ("quinze heures demain", "15:00"),
        ("dix heures et demie demain", "10:30"),
        ("demain onze heures et quart", "11:15"),
        ("demain dix-sept heures trente", "17:30"),
        ("demain 11h moins le quart", "10:45"),
        ("demain midi", "12:00"),
        ("demain midi et demi", "12:30"),
        ("demain 2h de l'après-midi", "14:00"),
        ("demain 8h du soir", "20:00"),
        ("demain 8h du matin", "08:00"),
        ("tomorrow 3pm", "15:00"),
        ("tomorrow 10am", "10:00"),
        ("tomorrow 4:30pm", "16:30"),
        ("tomorrow 9.30am", "09:30"),
        ("tomorrow at 10 o'clock", "10:00"),
        ("tomorrow at noon", "12:00"),
        ("tomorrow at half past ten", "10:30"),
        ("tomorrow at quarter to four", "15:45"),
        ("tomorrow at ten thirty", "10:30"),
    ],
)
def test_clock_time_forms(text: str, clock: str) -> None:
    assert read(text) == ("book", "2027-01-12", clock)


@pytest.mark.parametrize(
    ("text", "clock"),
    [
        ("demain à 2h", "14:00"),  # nobody books at 2 in the night
        ("tomorrow at 4", "16:00"),
        ("demain à 8h", "08:00"),
        ("demain 7h", "07:00"),
        ("demain soir à 7h", "19:00"),  # the part of the day decides
        ("demain après-midi vers 3h", "15:00"),
        ("demain matin vers 9h", "09:00"),  # an exact time beats the part of the day
        ("demain soir 20h", "20:00"),
    ],
)
def test_hour_below_twelve_may_mean_the_afternoon(text: str, clock: str) -> None:
    assert read(text) == ("book", "2027-01-12", clock)


@pytest.mark.parametrize(
    ("text", "window"),
    [
        ("demain entre 9h et 11h", "09:00-11:00"),
        ("demain de 14h à 16h", "14:00-16:00"),
        ("demain 9h-11h", "09:00-11:00"),
        ("demain 9-11h", "09:00-11:00"),
        ("demain entre 9 et 11", "09:00-11:00"),
        ("demain de 5 à 7", "17:00-19:00"),
        ("tomorrow between 2 and 4pm", "14:00-16:00"),
        ("tomorrow from 9 to 11", "09:00-11:00"),
        ("demain entre midi et deux", "12:00-14:00"),
        ("tomorrow at lunchtime", "12:00-14:00"),
        ("demain 9h ou 10h", "09:00-10:00"),  # either, like "lundi ou mardi"
        ("demain après 16h", "16:00-20:00"),  # to the end of the working day
        ("demain à partir de 17h", "17:00-20:00"),
        ("tomorrow after 5", "17:00-20:00"),
        ("demain après 21h", "21:00"),  # past the working day: that time
        ("demain avant 10h", "08:00-10:00"),  # from its start
        ("demain pas avant 10h", "10:00-20:00"),
    ],
)
def test_time_windows(text: str, window: str) -> None:
    assert read(text) == ("book", "2027-01-12", window)


@pytest.mark.parametrize(
    ("text", "part"),
    [
        ("demain matin", "morning"),
        ("demain dans la matinée", "morning"),
        ("demain en fin de matinée", "morning"),
        ("first thing tomorrow", "morning"),
        ("tomorrow, first hour", "morning"),
        ("demain à la première heure", "morning"),
        ("demain après-midi", "afternoon"),
        ("demain apres midi", "afternoon"),
        ("demain aprem", "afternoon"),
        ("demain en début d'aprèm", "afternoon"),
        ("tomorrow afternoon", "afternoon"),
        ("demain soir", "evening"),
        ("demain en soirée", "evening"),
        ("demain en fin de journée", "evening"),
        ("tomorrow evening", "evening"),
    ],
)
def test_parts_of_the_day(text: str, part: str) -> None:
    assert read(text) == ("book", "2027-01-12", part)
    request = parse_request(text, MONDAY)
    first, last = DAY_PART_WINDOWS[DayPart(part)]
    # "fin de" / "début de" narrow the window to a half of it (tests/test_nlu_times.py).
    assert first <= request.time_from < request.time_to <= last


@pytest.mark.parametrize(
    ("text", "day"),
    [
        ("à 11h", "2027-01-11"),  # still ahead at 08:47
        ("à 8h30", "2027-01-12"),  # past: tomorrow
        ("à 8h47", "2027-01-12"),  # now is not ahead
        ("entre 8h et 9h", "2027-01-11"),  # part of the window is ahead
        ("ce matin", "2027-01-11"),
        ("cet aprem", "2027-01-11"),
        ("ce soir à 8h", "2027-01-11"),
        ("tonight", "2027-01-11"),
        ("le matin de préférence", None),  # a part of the day alone names no day
    ],
)
def test_time_without_a_day_is_today_if_ahead_else_tomorrow(text: str, day: str | None) -> None:
    assert read(text)[1] == day


def test_in_hours_counts_across_the_dst_change() -> None:
    spring = parse_request("dans 2 heures", at("2027-03-28T01:30"))
    assert (spring.day_from, spring.time_from) == (date(2027, 3, 28), time(4, 30))
    autumn = parse_request("dans 2 heures", datetime(2027, 10, 31, 1, 30, tzinfo=PARIS))
    assert (autumn.day_from, autumn.time_from) == (date(2027, 10, 31), time(2, 30))
    assert read("in 30 minutes")[1:] == ("2027-01-11", "09:17")


# --------------------------------------------------------------------------- days


@pytest.mark.parametrize(
    ("text", "day"),
    [
        ("aujourd'hui", "2027-01-11"),
        ("ajd", "2027-01-11"),
        ("today", "2027-01-11"),
        ("demain", "2027-01-12"),
        ("tomorrow", "2027-01-12"),
        ("après-demain", "2027-01-13"),
        ("apres demain", "2027-01-13"),
        ("the day after tomorrow", "2027-01-13"),
        ("dans 3 jours", "2027-01-14"),
        ("dans huit jours", "2027-01-18"),  # a week, as French says it
        ("dans 8 jours", "2027-01-18"),
        ("dans quinze jours", "2027-01-25"),
        ("in 8 days", "2027-01-19"),
        ("dans une semaine", "2027-01-18"),
        ("dans 2 semaines", "2027-01-25"),
        ("in two weeks", "2027-01-25"),
        ("in a fortnight", "2027-01-25"),
        ("dans un mois", "2027-02-11"),
        ("d'ici 10 jours", "2027-01-11..2027-01-21"),
        ("demain en huit", "2027-01-19"),
        ("mardi en huit", "2027-01-19"),
    ],
)
def test_relative_days(text: str, day: str) -> None:
    assert read(text)[1] == day


def test_in_a_month_stays_in_the_month() -> None:
    assert read("dans un mois", at("2027-01-31T10:00"))[1] == "2027-02-28"


@pytest.mark.parametrize(
    "text",
    [
        "mardi",
        "ce mardi",
        "mardi prochain",
        "Tuesday",
        "next Tuesday",
        "this Tuesday",
        "on tuesday",
        "MARDI",
        "mrdi",
        "mardi procain",
    ],
)
def test_weekday_is_the_next_one(text: str) -> None:
    assert read(text)[1] == "2027-01-12"


def test_weekday_of_today_is_next_week() -> None:
    assert read("lundi")[1] == "2027-01-18"


@pytest.mark.parametrize(
    ("text", "days"),
    [
        ("lundi ou mardi", "2027-01-18..2027-01-19"),  # a Monday and the Tuesday after it
        ("jeudi ou vendredi", "2027-01-14..2027-01-15"),
        ("Monday or Tuesday afternoon", "2027-01-18..2027-01-19"),
        ("lundi, mardi ou mercredi", "2027-01-18..2027-01-20"),
        ("mardi de la semaine prochaine", "2027-01-19"),
        ("next week Tuesday", "2027-01-19"),
        ("le 22 ou le 23", "2027-01-22..2027-01-23"),
        ("du 5 au 9 avril", "2027-04-05..2027-04-09"),
        ("entre le 10 et le 15 mai", "2027-05-10..2027-05-15"),
        ("du lundi au mercredi", "2027-01-18..2027-01-20"),
        ("la semaine prochaine, plutôt en début de semaine", "2027-01-18..2027-01-20"),
        ("next week, ideally early in the week", "2027-01-18..2027-01-20"),
    ],
)
def test_lists_of_days_are_one_range(text: str, days: str) -> None:
    assert read(text)[1] == days


@pytest.mark.parametrize(
    ("text", "days"),
    [
        ("avant vendredi", "2027-01-11..2027-01-14"),
        ("before Friday", "2027-01-11..2027-01-14"),
        ("d'ici jeudi", "2027-01-11..2027-01-14"),
        ("jusqu'au 15", "2027-01-11..2027-01-15"),
        ("by Friday", "2027-01-11..2027-01-15"),
    ],
)
def test_a_bound_is_every_day_from_today(text: str, days: str) -> None:
    assert read(text)[1] == days


@pytest.mark.parametrize(
    ("text", "now", "day"),
    [
        ("le 5", MONDAY, "2027-02-05"),  # the 5th of January is past
        ("le 11", MONDAY, "2027-01-11"),  # today, whose end is not past
        ("le 11 à 8h", MONDAY, "2027-02-11"),  # today, but 8:00 is past
        ("le 11 à 9h", MONDAY, "2027-01-11"),
        ("le premier", MONDAY, "2027-02-01"),
        ("le 1er à 9h", MONDAY, "2027-02-01"),
        ("on the 5th", MONDAY, "2027-02-05"),
        ("le 31 à 10h", at("2027-03-31T18:05"), "2027-05-31"),  # April has no 31st
        ("le 30", at("2027-02-11T19:45"), "2027-03-30"),
        ("le 28 à 11h", at("2027-01-28T19:30"), "2027-02-28"),
        ("le 3 décembre", at("2027-12-04T10:00"), "2028-12-03"),
        ("le 3 décembre", MONDAY, "2027-12-03"),
        ("le 12/03", MONDAY, "2027-03-12"),
        ("le 12/01", at("2027-01-13T10:00"), "2028-01-12"),
    ],
)
def test_day_of_the_month_rolls_to_the_next_one_not_past(
    text: str, now: datetime, day: str
) -> None:
    assert read(text, now)[1] == day


@given(st.integers(1, 31), st.datetimes(datetime(2000, 1, 1), datetime(2099, 12, 31)))
@settings(max_examples=200, deadline=None)
def test_le_n_is_never_in_the_past(day: int, naive_now: datetime) -> None:
    now = naive_now.replace(tzinfo=PARIS)
    request = parse_request(f"le {day}", now)
    assert request.day_from is not None
    assert request.day_from.day == day
    assert now.date() <= request.day_from <= now.date() + timedelta(days=62)


@pytest.mark.parametrize(
    ("text", "now", "day"),
    [
        ("le 29 février", at("2027-02-11T19:45"), None),  # 2027 is no leap year
        ("le 29 février", at("2027-03-01T10:00"), "2028-02-29"),
        ("le 31 avril", MONDAY, None),
        ("le 30/02", MONDAY, None),
        ("le 32", MONDAY, None),
        ("semaine du 30 février", MONDAY, None),
    ],
)
def test_impossible_dates_give_no_date(text: str, now: datetime, day: str | None) -> None:
    assert read(text, now)[1] == day


@pytest.mark.parametrize(
    ("text", "day"),
    [
        ("le 5 avril", "2027-04-05"),
        ("le cinq avril", "2027-04-05"),
        ("le premier décembre", "2027-12-01"),
        ("le vingt et un juin", "2027-06-21"),
        ("le 1er mai", "2027-05-01"),
        ("5 avr.", "2027-04-05"),
        ("le 5 avril 2028", "2028-04-05"),
        ("le 12/03/2028", "2028-03-12"),
        ("12/03/28", "2028-03-12"),
        ("2027-03-12", "2027-03-12"),
        ("April 20", "2027-04-20"),
        ("April 20th", "2027-04-20"),
        ("March 3rd", "2027-03-03"),
        ("the 5th of April", "2027-04-05"),
        ("Thursday 1st April", "2027-04-01"),
        ("mardi 2 novembre", "2027-11-02"),
        ("RDV MERCREDI 9 JUIN 16H", "2027-06-09"),
        ("mardi 19", "2027-01-19"),
        ("Tuesday the 16th", "2027-02-16"),  # the next 16th that is a Tuesday
    ],
)
def test_dates(text: str, day: str) -> None:
    assert read(text)[1] == day


@pytest.mark.parametrize(
    ("text", "days"),
    [
        ("semaine prochaine", "2027-01-18..2027-01-24"),
        ("la semaine pro", "2027-01-18..2027-01-24"),
        ("next week", "2027-01-18..2027-01-24"),
        ("the week after next", "2027-01-25..2027-01-31"),
        ("cette semaine", "2027-01-11..2027-01-17"),
        ("semaine du 5 avril", "2027-04-05..2027-04-11"),
        ("la semaine du 7 avril", "2027-04-05..2027-04-11"),  # that date's Monday..Sunday
        ("the week of August 16", "2027-08-16..2027-08-22"),
        ("ce week-end", "2027-01-16..2027-01-17"),
        ("this weekend", "2027-01-16..2027-01-17"),
        ("fin de semaine", "2027-01-14..2027-01-16"),
        ("début de semaine prochaine", "2027-01-18..2027-01-20"),
        ("en août", "2027-08-01..2027-08-31"),
        ("fin janvier", "2027-01-21..2027-01-31"),
        ("début février", "2027-02-01..2027-02-10"),
        ("mi-août", "2027-08-11..2027-08-20"),
        ("le mois prochain", "2027-02-01..2027-02-28"),
        ("next month", "2027-02-01..2027-02-28"),
    ],
)
def test_weeks_and_months(text: str, days: str) -> None:
    assert read(text)[1] == days


@pytest.mark.parametrize(
    ("text", "day"),
    [
        ("à Noël", "2027-12-25"),
        ("Christmas Eve", "2027-12-24"),
        ("la Toussaint", "2027-11-01"),
        ("le jour de l'an", "2028-01-01"),
        ("le 14 juillet", "2027-07-14"),
        ("lundi de Pâques", "2027-03-29"),
        ("l'Ascension", "2027-05-06"),
        ("lundi de Pentecôte", "2027-05-17"),
        ("entre Noël et le jour de l'an", "2027-12-25..2028-01-01"),
        ("entre Noël et le jour de l'an, lundi ou mardi", "2027-12-27..2027-12-28"),
    ],
)
def test_named_days(text: str, day: str) -> None:
    assert read(text)[1] == day


def test_named_day_already_past_is_next_years() -> None:
    assert read("lundi de Pâques", at("2027-04-16T10:00"))[1] == "2028-04-17"


@pytest.mark.parametrize(
    ("text", "day"),
    [
        ("dmain 10h", "2027-01-12"),
        ("2main 10h", "2027-01-12"),
        ("tmrw 10am", "2027-01-12"),
        ("vendredy 10h", "2027-01-15"),
        ("mercedi", "2027-01-13"),
        ("samdi", "2027-01-16"),
        ("wensday", "2027-01-13"),
        ("thurday", "2027-01-14"),
        ("tomorow", "2027-01-12"),
        ("jeudi pro", "2027-01-14"),
        ("Sat 10am", "2027-01-16"),
        ("wed at 3", "2027-01-13"),
        ("le 5 novembre", "2027-11-05"),
        ("le 5 novmbre", "2027-11-05"),
    ],
)
def test_typos_and_sms_style(text: str, day: str) -> None:
    assert read(text)[1] == day


@pytest.mark.parametrize(
    "text",
    [
        "je voudrais un rdv",  # "je" is not jeudi
        "c'est pour mon mari",  # "mari" is not mardi
        "je me suis fait mal à la main",  # "main" is not matin
        "ça marche 5 sur 5",  # "marche" is not March
        "ma fille de 7 ans",
        "j'ai 3 enfants",
        "mon numéro est le 06 12 34 56 78",
        "le premier créneau disponible",  # asap, not the 1st
        "j'ai mal depuis hier soir",
        "j'ai mal depuis 3 jours",
        "j'ai mal depuis ce matin",
        "bonne soirée",  # a wish, not the evening
        "good morning",
        "bonne semaine",
        "joyeux Noël",
        "en semaine",
        "une rage de dents qui me tue",  # "tue" is not Tuesday
    ],
)
def test_no_date_or_time_where_there_is_none(text: str) -> None:
    assert read(text)[1:] == (None, None)


def test_fifteen_h_is_a_clock_time_not_a_delay() -> None:
    assert read("15h")[1:] == ("2027-01-11", "15:00")
    assert read("dans 15h")[1:] == ("2027-01-11", "23:47")  # "dans" makes it a delay


def test_ruled_out_days_are_not_asked_for() -> None:
    assert read("je peux pas venir jeudi mais vendredi ça irait") == ("book", "2027-01-15", None)
    assert read("pas le matin, plutôt jeudi après-midi") == ("book", "2027-01-14", "afternoon")
    assert read("la semaine prochaine sauf lundi")[1] == "2027-01-18..2027-01-24"


def test_days_are_local_to_the_zone_of_now() -> None:
    late_utc = datetime(2027, 1, 11, 23, 30, tzinfo=UTC)
    assert read("demain", late_utc)[1] == "2027-01-12"
    assert read("demain", late_utc.astimezone(PARIS))[1] == "2027-01-13"


# --------------------------------------------------------------------------- intents


@pytest.mark.parametrize(
    ("text", "intent"),
    [
        ("je voudrais un rdv jeudi", Intent.BOOK),
        ("dispo demain 14h ?", Intent.BOOK),
        ("c possible samedi ?", Intent.BOOK),
        ("could I book a cleaning on Friday?", Intent.BOOK),
        ("j'ai très mal à une dent", Intent.BOOK),
        ("je voudrais reprendre rdv dans 3 semaines", Intent.BOOK),
        ("je voudrais annuler mon rdv", Intent.CANCEL),
        ("annulation svp", Intent.CANCEL),
        ("je ne pourrai pas venir demain", Intent.CANCEL),
        ("je peux pas venir jeudi", Intent.CANCEL),
        ("j'ai un empêchement demain", Intent.CANCEL),
        ("can't make it tomorrow, sorry", Intent.CANCEL),
        ("I won't be able to come on Friday", Intent.CANCEL),
        ("please cancel", Intent.CANCEL),
        ("je voudrais annuler tous mes rdv", Intent.CANCEL),
        ("je souhaite déplacer mon rdv", Intent.RESCHEDULE),
        ("on peut décaler à 16h ?", Intent.RESCHEDULE),
        ("reporter mon rendez-vous à jeudi", Intent.RESCHEDULE),
        ("je voudrais changer mon rdv", Intent.RESCHEDULE),
        ("je voudrais avancer mon rendez-vous", Intent.RESCHEDULE),
        ("move my appointment to Monday", Intent.RESCHEDULE),
        ("can I reschedule?", Intent.RESCHEDULE),
        ("je ne peux pas venir à mon rdv de jeudi, plutôt vendredi ?", Intent.RESCHEDULE),
        ("je confirme", Intent.CONFIRM),
        ("je serai bien là", Intent.CONFIRM),
        ("I confirm my appointment", Intent.CONFIRM),
        ("I'll be there", Intent.CONFIRM),
        ("mes rendez-vous", Intent.LIST),
        ("quand est mon rdv ?", Intent.LIST),
        ("j'ai rdv quand ?", Intent.LIST),
        ("when is my next appointment?", Intent.LIST),
        ("what appointments do I have?", Intent.LIST),
        ("vous êtes ouverts le samedi ?", Intent.QUESTION),
        ("c'est combien un détartrage ?", Intent.QUESTION),
        ("vous êtes où ?", Intent.QUESTION),
        ("il y a un parking ?", Intent.QUESTION),
        ("vous prenez la carte vitale ?", Intent.QUESTION),
        ("what are your opening hours?", Intent.QUESTION),
        ("how much is a whitening?", Intent.QUESTION),
        ("bonjour", Intent.OTHER),
        ("merci !", Intent.OTHER),
        ("ok parfait, à demain", Intent.OTHER),
        ("merci, à jeudi 10h !", Intent.OTHER),
        ("Thanks, see you on Thursday!", Intent.OTHER),
        ("Joyeux Noël et bonne année", Intent.OTHER),
        ("j'arrive dans 5 minutes", Intent.OTHER),
        ("", Intent.OTHER),
    ],
)
def test_intents(text: str, intent: Intent) -> None:
    assert parse_request(text, MONDAY).intent is intent


def test_an_acknowledgement_names_no_day() -> None:
    request = parse_request("merci beaucoup, à jeudi !", MONDAY)
    assert (request.day_from, request.time_from) == (None, None)


@pytest.mark.parametrize(
    ("text", "new", "old"),
    [
        ("je souhaite déplacer mon rdv de mardi à jeudi", "2027-01-14", "2027-01-12"),
        ("décaler mon rendez-vous du 13 au 20", "2027-01-20", "2027-01-13"),
        ("I have an appointment tomorrow, can I move it to Friday?", "2027-01-15", "2027-01-12"),
        ("reporter mon rdv à jeudi", "2027-01-14", None),
        ("reporter à jeudi mon rdv de mardi", "2027-01-14", "2027-01-12"),
        ("déplacer mon rdv de mardi à 15h", "2027-01-12", "2027-01-12"),  # same day, new time
        ("avancer mon rdv de vendredi à jeudi", "2027-01-14", "2027-01-15"),  # old, then new
        ("déplacer mon rdv de jeudi à lundi ou mardi", "2027-01-18..2027-01-19", "2027-01-14"),
        ("I'd like to swap my Monday slot for Wednesday", "2027-01-13", "2027-01-18"),
    ],
)
def test_reschedule_tells_the_old_day_from_the_new(text: str, new: str, old: str | None) -> None:
    request = parse_request(text, MONDAY)
    assert request.intent is Intent.RESCHEDULE
    assert request_fields(request)[0] == new
    assert request.old_day == (None if old is None else date.fromisoformat(old))


def test_the_following_weekday_counts_from_the_day_named_before() -> None:
    request = parse_request("déplacer mon rdv du vendredi 2 avril au mardi suivant", MONDAY)
    assert (request.old_day, request.day_from) == (date(2027, 4, 2), date(2027, 4, 6))


@pytest.mark.parametrize(
    "text",
    [
        "le plus tôt possible svp",
        "en urgence svp",
        "asap please",
        "dès que possible",
        "j'aurais besoin d'un rdv assez rapidement",
        "what's the earliest you can see me?",
        "le premier créneau disponible",
    ],
)
def test_asap_without_a_day_names_none(text: str) -> None:
    request = parse_request(text, MONDAY)
    assert (request.intent, request.asap, request.day_from, request.time_from) == (
        Intent.BOOK,
        True,
        None,
        None,
    )


def test_asap_with_a_day_keeps_it() -> None:
    request = parse_request("c'est urgent, aujourd'hui si possible", MONDAY)
    assert (request.asap, request.day_from) == (True, date(2027, 1, 11))


# --------------------------------------------------------------------------- services


@pytest.mark.parametrize(
    ("text", "service"),
    [
        ("je voudrais un détartrage", "detartrage"),
        ("un DETARTRAGE svp", "detartrage"),
        ("un detartrge", "detartrage"),  # a typo in a long name
        ("des détartrages", "detartrage"),
        ("j'ai du tartre", "detartrage"),
        ("un nettoyage", "detartrage"),
        ("j'ai une carie", "consultation"),
        ("un controle annuel", "consultation"),
        ("un soin du visage samedi", "soin_visage"),
        ("soins visage", "soin_visage"),
        ("une epilation des jambes", "epilation"),
        ("blanchimant", "blanchiment"),
        ("un massage", "massage"),
        ("vous prenez la carte vitale ?", None),  # "carte" is not "carie"
        ("j'ai laissé un message", None),  # nor "message" "massage"
        ("je voudrais un rdv", None),
    ],
)
def test_services(text: str, service: str | None) -> None:
    assert parse_request(text, MONDAY, SERVICES).service == service


def test_no_service_without_services() -> None:
    assert parse_request("un détartrage", MONDAY).service is None


# --------------------------------------------------------------------------- the request


def test_to_json_writes_iso_strings() -> None:
    request = parse_request("déplacer mon rdv de mardi à jeudi matin", MONDAY, SERVICES)
    assert request.to_json() == {
        "intent": "reschedule",
        "day_from": "2027-01-14",
        "day_to": "2027-01-14",
        "time_from": "08:00",
        "time_to": "12:00",
        "service": None,
        "asap": False,
        "part_of_day": "morning",
        "old_day": "2027-01-12",
        "practitioner": None,
    }


PRACTITIONERS = ("Dr Dupont", "Dr Martin", "Léa")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("un détartrage mardi à 10h avec le Dr Martin", "Dr Martin"),
        ("je voudrais un rdv avec le docteur martin", "Dr Martin"),
        ("with Dr. Dupont tomorrow at 9", "Dr Dupont"),
        ("un massage samedi avec Léa", "Léa"),
        ("un soin chez lea vendredi", "Léa"),
        # a bare name may be the practice's, or the patient's own
        ("rdv au cabinet Dupont mardi", None),
        ("Mme Martin voudrait un rdv jeudi", None),
        ("avec le Dr Dupont ou le Dr Martin, peu importe", None),
    ],
)
def test_a_practitioner_named_after_a_title_or_avec(text: str, expected: str | None) -> None:
    assert parse_request(text, MONDAY, SERVICES, PRACTITIONERS).practitioner == expected


@pytest.mark.parametrize(
    ("days", "times"),
    [
        ((date(2027, 1, 2), date(2027, 1, 1)), (None, None)),
        ((date(2027, 1, 1), None), (None, None)),
        ((None, None), (time(10), time(9))),
        ((None, None), (None, time(9))),
    ],
)
def test_a_request_cannot_hold_an_inverted_range(days: tuple, times: tuple) -> None:
    with pytest.raises(ValueError):
        BookingRequest(Intent.BOOK, *days, *times)


# --------------------------------------------------------------------------- corpus


def corpus_lines() -> list[dict]:
    if not CORPUS.exists():
        return []
    return [json.loads(line) for line in CORPUS.read_text(encoding="utf-8").splitlines() if line]


def test_corpus_is_there() -> None:
    assert len(corpus_lines()) >= 100, f"no corpus at {CORPUS}"


@pytest.mark.parametrize("line", corpus_lines(), ids=lambda line: line["text"][:40])
def test_corpus_line(line: dict) -> None:
    request = parse_request(line["text"], datetime.fromisoformat(line["now"]))
    assert is_right(line, request), (request.intent.value, *request_fields(request))


def test_corpus_share() -> None:
    lines = corpus_lines()
    right = sum(
        is_right(line, parse_request(line["text"], datetime.fromisoformat(line["now"])))
        for line in lines
    )
    assert right / len(lines) >= 0.97


# --------------------------------------------------------------------------- properties

ZONES = st.sampled_from(
    [
        PARIS,
        UTC,
        ZoneInfo("America/New_York"),
        ZoneInfo("Pacific/Kiritimati"),
        ZoneInfo("Australia/Lord_Howe"),
        timezone(timedelta(hours=-12)),
    ]
)
# any moment, and a good share of the two DST days of Europe/Paris in 2027
NOWS = st.one_of(
    st.datetimes(timezones=ZONES),
    st.datetimes(datetime(2027, 3, 28), datetime(2027, 3, 28, 23, 59), timezones=st.just(PARIS)),
    st.datetimes(datetime(2027, 10, 31), datetime(2027, 10, 31, 23, 59), timezones=st.just(PARIS)),
)
WORDS = [
    "le",
    "la",
    "du",
    "au",
    "à",
    "a",
    "et",
    "ou",
    "entre",
    "de",
    "5",
    "31",
    "29",
    "12/03",
    "02/30",
    "2027",
    "lundi",
    "mardi",
    "jeudi",
    "samedi",
    "demain",
    "après-demain",
    "aujourd'hui",
    "14h",
    "9h30",
    "8:45",
    "3pm",
    "midi",
    "minuit",
    "deux",
    "quinze",
    "heures",
    "et",
    "demie",
    "matin",
    "après-midi",
    "soir",
    "prochain",
    "suivant",
    "en",
    "huit",
    "dans",
    "jours",
    "semaines",
    "mois",
    "semaine",
    "week-end",
    "février",
    "décembre",
    "noël",
    "pâques",
    "toussaint",
    "annuler",
    "décaler",
    "confirme",
    "mes",
    "rdv",
    "combien",
    "merci",
    "?",
    ",",
    "sauf",
    "pas",
    "plutôt",
    "mon",
    "rdv",
    "next",
    "tuesday",
    "the",
    "5th",
    "in",
    "two",
    "weeks",
    "between",
    "and",
    "tomorrow",
    "morning",
    "from",
    "to",
    # abbreviations, quarters, counted days, separators, conditions
    "mar.",
    "jeu",
    "Tue",
    "mon",
    "janv.",
    "Sept",
    "moins",
    "quart",
    "trois quarts",
    "lendemain",
    "veille",
    "plus tard",
    "17 02",
    "17.02",
    "20-02-2014",
    "si",
    "vous",
    "annulation",
    "if",
    "quelle heure",
]
TEXTS = st.one_of(
    st.text(max_size=80),
    st.lists(st.sampled_from(WORDS), max_size=14).map(" ".join),
)


def assert_valid(request: BookingRequest) -> None:
    assert isinstance(request.intent, Intent)
    assert (request.day_from is None) == (request.day_to is None)
    assert request.day_from is None or request.day_from <= request.day_to
    assert (request.time_from is None) == (request.time_to is None)
    assert request.time_from is None or request.time_from <= request.time_to
    if request.part_of_day is not None:
        assert (request.time_from, request.time_to) == DAY_PART_WINDOWS[request.part_of_day]
    json.dumps(request.to_json())


@given(TEXTS, NOWS)
@settings(max_examples=300, deadline=None)
def test_any_text_at_any_moment_gives_a_valid_request(text: str, now: datetime) -> None:
    request = parse_request(text, now, SERVICES)
    assert_valid(request)
    assert request.service is None or request.service in {s.key for s in SERVICES}


@given(
    st.sampled_from(["lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche"]), NOWS
)
@settings(max_examples=200, deadline=None)
def test_a_weekday_is_within_the_next_seven_days(name: str, now: datetime) -> None:
    request = parse_request(f"rdv {name}", now)
    if now.date() >= date(9999, 12, 24):  # no next week left in the calendar
        return
    assert request.day_from == request.day_to
    assert 1 <= (request.day_from - now.date()).days <= 7
    assert (
        request.day_from.strftime("%A").lower()
        == {
            "lundi": "monday",
            "mardi": "tuesday",
            "mercredi": "wednesday",
            "jeudi": "thursday",
            "vendredi": "friday",
            "samedi": "saturday",
            "dimanche": "sunday",
        }[name]
    )


@given(st.times(), NOWS)
@settings(max_examples=200, deadline=None)
def test_a_clock_time_alone_is_the_next_such_moment(clock: time, now: datetime) -> None:
    clock = clock.replace(second=0, microsecond=0)
    if clock.hour < 7 or now.date() == date.max:  # small hours read as the afternoon
        return
    request = parse_request(f"à {clock:%Hh%M}", now)
    assert (request.time_from, request.time_to) == (clock, clock)
    ahead = clock > now.time().replace(tzinfo=None)
    assert request.day_from == now.date() + timedelta(days=0 if ahead else 1)
