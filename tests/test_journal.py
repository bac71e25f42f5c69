"""The employer's journal: what the secretaries did for their business, in plain words.

Pure lines first, then the audit log's query by business and time, then end to end through
the simulator in both languages. The clock stands on Monday 11 January 2027, 09:00 in Paris.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from bot.i18n import I18n
from bot.journal import KNOWN_ACTIONS, SHOWN, write_journal
from bot.summaries import Summaries
from handlers.common import DEPS_KEY
from storage.appointments import NewAppointment, Source, Status
from storage.audit import OF_BUSINESS, AuditEntry
from storage.blocks import NewBlock
from storage.calls import NewCall
from storage.missions import NewMission
from tests.conftest import PARIS

CLAIRE = 111111111
DUPONT = 222222222  # the employer of cabinet-dupont
INSTITUTE = 333333333  # the employer of institut-belle-peau
NBSP = "\xa0"


def paris(*args: int) -> datetime:
    return datetime(*args, tzinfo=PARIS)


@pytest.fixture(scope="module")
def i18n() -> I18n:
    return I18n()


# -- the lines (pure) ------------------------------------------------------------------------

APPOINTMENT = {
    "status": "confirmed",
    "starts_at": "2027-01-12T09:00:00+00:00",
    "practitioner": "Dr Dupont",
    "service": "detartrage",
}
BLOCK = {
    "business_id": 1,
    "practitioner": None,
    "starts_at": "2027-01-15T08:00:00+00:00",
    "ends_at": "2027-01-15T10:00:00+00:00",
    "reason": "formation",
}
MISSION = {
    "business_id": 1,
    "kind": "transcription",
    "description": "Compte rendu réunion",
    "fee": 4500,
    "status": "open",
}
# One entry of each action the handlers record, as they record it.
RECORDED = {
    "request.confirm": ({**APPOINTMENT, "status": "requested"}, APPOINTMENT),
    "request.decline": ({**APPOINTMENT, "status": "requested"}, APPOINTMENT),
    "request.propose": (
        APPOINTMENT,
        {
            **APPOINTMENT,
            "proposal": 2,
            "proposed": {**APPOINTMENT, "starts_at": "2027-01-13T10:00:00+00:00"},
        },
    ),
    "appointment.book_phone": (
        None,
        {**APPOINTMENT, "source": "phone", "caller_name": "Mme Durand", "caller_phone": "+33"},
    ),
    "appointment.done": ({**APPOINTMENT, "status": "confirmed"}, {**APPOINTMENT}),
    "appointment.no_show": ({**APPOINTMENT, "status": "confirmed"}, {**APPOINTMENT}),
    "late.cancel": (APPOINTMENT, {**APPOINTMENT, "status": "cancelled"}),
    "late.keep": (APPOINTMENT, APPOINTMENT),
    "appointment.book": (None, APPOINTMENT),
    "appointment.move": (APPOINTMENT, {**APPOINTMENT, "starts_at": "2027-01-13T13:00:00+00:00"}),
    "appointment.cancel": (APPOINTMENT, {**APPOINTMENT, "status": "cancelled"}),
    "block.add": (None, BLOCK),
    "block.remove": (BLOCK, {**BLOCK, "removed_at": "2027-01-11T08:00:00+00:00"}),
    "call.take": (None, {"business_id": 1, "caller_name": "M. Leroy", "urgent": True}),
    "mission.create": (None, MISSION),
    "mission.start": (None, {**MISSION, "status": "started"}),
    "mission.done": (None, {**MISSION, "status": "done"}),
    "mission.cancel": (None, {**MISSION, "status": "cancelled"}),
}


def entry(number: int, action: str, before, after, at: datetime, actor: int = CLAIRE):
    return AuditEntry(number, at.astimezone(UTC), actor, action, "x:1", before, after)


def a_call(caller: str) -> dict[str, object]:
    return {"business_id": 1, "caller_name": caller, "urgent": False}


def journal(i18n, settings, language, entries, days=(date(2027, 1, 11), date(2027, 1, 11))):
    business = settings.businesses[0]
    return write_journal(
        i18n, language, business, PARIS, days, entries, {CLAIRE: "Claire"}
    ).splitlines()


def test_each_action_recorded_reads_in_plain_words_in_both_languages(i18n, settings):
    assert set(RECORDED) == KNOWN_ACTIONS
    entries = [
        entry(n, action, before, after, paris(2027, 1, 11, 9, n))
        for n, (action, (before, after)) in enumerate(RECORDED.items())
    ]
    french = journal(i18n, settings, "fr", entries)
    assert french[:3] == [
        "🗒 Journal · Cabinet dentaire Dupont · lundi 11 janvier",
        f"Actions du secrétariat : {len(RECORDED)}",
        "📅 lundi 11 janvier",
    ]
    assert french[3:] == [
        "09:00 · Claire a confirmé une demande : Détartrage le mardi 12 janvier à 10:00, "
        "avec Dr Dupont",
        "09:01 · Claire a refusé une demande : Détartrage le mardi 12 janvier à 10:00, "
        "avec Dr Dupont",
        "09:02 · Claire a proposé un autre créneau que le mardi 12 janvier à 10:00 : "
        "Détartrage le mercredi 13 janvier à 11:00, avec Dr Dupont",
        "09:03 · Claire a pris au téléphone un rendez-vous pour Mme Durand : Détartrage le "
        "mardi 12 janvier à 10:00, avec Dr Dupont",
        "09:04 · Claire a noté le patient venu : Détartrage du mardi 12 janvier à 10:00, "
        "avec Dr Dupont",
        "09:05 · Claire a noté une absence : Détartrage du mardi 12 janvier à 10:00, "
        "avec Dr Dupont",
        "09:06 · Claire a annulé à la demande tardive du patient : Détartrage du mardi "
        "12 janvier à 10:00, avec Dr Dupont",
        "09:07 · Claire a maintenu malgré la demande tardive du patient : Détartrage du "
        "mardi 12 janvier à 10:00, avec Dr Dupont",
        "09:08 · Claire a pris un rendez-vous pour un patient : Détartrage le mardi 12 janvier "
        "à 10:00, avec Dr Dupont",
        "09:09 · Claire a déplacé un rendez-vous : Détartrage du mardi 12 janvier à 10:00 au "
        "mercredi 13 janvier à 14:00, avec Dr Dupont",
        "09:10 · Claire a annulé un rendez-vous : Détartrage du mardi 12 janvier à 10:00, avec "
        "Dr Dupont",
        "09:11 · Claire a bloqué le vendredi 15 janvier de 09:00 à 11:00 "
        "(tout l'établissement) : formation",
        "09:12 · Claire a levé le blocage du vendredi 15 janvier de 09:00 à 11:00 "
        "(tout l'établissement) : formation",
        "09:13 · Claire a transmis un appel urgent de M. Leroy",
        f"09:14 · Claire a ouvert une mission, Transcription : Compte rendu réunion (45,00{NBSP}€)",
        "09:15 · Claire a commencé la mission Transcription : Compte rendu réunion",
        f"09:16 · Claire a terminé la mission Transcription : Compte rendu réunion (45,00{NBSP}€)",
        "09:17 · Claire a annulé la mission Transcription : Compte rendu réunion",
    ]
    english = journal(i18n, settings, "en", entries)
    assert english[:3] == [
        "🗒 Journal · Cabinet dentaire Dupont · Monday, January 11",
        f"Actions by the secretary: {len(RECORDED)}",
        "📅 Monday, January 11",
    ]
    assert english[3] == (
        "09:00 · Claire confirmed a request: Teeth cleaning on Tuesday, January 12 at 10:00, "
        "with Dr Dupont"
    )
    assert english[6] == (
        "09:03 · Claire booked an appointment by phone for Mme Durand: Teeth cleaning on "
        "Tuesday, January 12 at 10:00, with Dr Dupont"
    )
    assert english[12] == (
        "09:09 · Claire moved an appointment: Teeth cleaning on Tuesday, January 12 at 10:00 to "
        "Wednesday, January 13 at 14:00, with Dr Dupont"
    )
    assert english[16] == "09:13 · Claire passed on an urgent call from M. Leroy"
    assert english[20] == (
        "09:17 · Claire cancelled the mission Transcription: Compte rendu réunion"
    )


def test_days_group_the_lines_and_the_period_is_said(i18n, settings):
    entries = [
        entry(
            1,
            "call.take",
            None,
            {"caller_name": "M. Leroy", "urgent": False},
            paris(2027, 1, 9, 18),
        ),
        entry(
            2,
            "call.take",
            None,
            {"caller_name": "Mme Roux", "urgent": False},
            paris(2027, 1, 11, 8),
        ),
    ]
    lines = journal(i18n, settings, "fr", entries, (date(2027, 1, 5), date(2027, 1, 11)))
    assert lines == [
        "🗒 Journal · Cabinet dentaire Dupont · du mardi 5 janvier au lundi 11 janvier",
        "Actions du secrétariat : 2",
        "📅 samedi 9 janvier",
        "18:00 · Claire a transmis un appel de M. Leroy",
        "📅 lundi 11 janvier",
        "08:00 · Claire a transmis un appel de Mme Roux",
    ]


def test_an_empty_period_says_so(i18n, settings):
    assert journal(i18n, settings, "en", []) == [
        "🗒 Journal · Cabinet dentaire Dupont · Monday, January 11",
        "No action by the secretary in this period.",
    ]


def test_what_cannot_be_told_is_left_out_and_a_secretary_gone_is_named_as_such(i18n, settings):
    at = paris(2027, 1, 11, 9)
    entries = [
        # An older version's attendance entry: the status only.
        entry(1, "appointment.no_show", {"status": "confirmed"}, {"status": "no_show"}, at),
        entry(2, "something.else", None, {}, at),
        entry(3, "call.take", None, a_call("M. Leroy"), at, 999),
    ]
    assert journal(i18n, settings, "fr", entries)[1:] == [
        "Actions du secrétariat : 1",
        "📅 lundi 11 janvier",
        "09:00 · Une secrétaire a transmis un appel de M. Leroy",
    ]


def test_a_long_journal_shows_the_latest_and_says_how_many_are_left_out(i18n, settings):
    start = paris(2027, 1, 11, 0)
    entries = [
        entry(
            n,
            "call.take",
            None,
            {"caller_name": f"C{n}", "urgent": False},
            start + timedelta(minutes=n),
        )
        for n in range(SHOWN + 5)
    ]
    lines = journal(i18n, settings, "fr", entries)
    assert lines[1:3] == [
        f"Actions du secrétariat : {SHOWN + 5}",
        "Les 5 plus anciennes ne sont pas affichées : demandez une période plus courte "
        "(/journal jour ou /journal semaine).",
    ]
    assert lines[4].endswith("un appel de C5")
    assert lines[-1].endswith(f"un appel de C{SHOWN + 4}")


# -- the audit log, one business's time range ---------------------------------------------


async def test_the_log_of_one_business_joins_each_target_and_bounds_the_time(store):
    dupont = store.business_ids["cabinet-dupont"]
    institute = store.business_ids["institut-belle-peau"]
    day = paris(2027, 1, 11, 0)
    await store.people.seen(
        5001, first_name="Alice", last_name=None, username=None, language="fr", now=day
    )
    appointment = await store.appointments.book(
        NewAppointment(
            business_id=dupont,
            practitioner="Dr Dupont",
            service="detartrage",
            starts_at=paris(2027, 1, 12, 10),
            ends_at=paris(2027, 1, 12, 10, 30),
            status=Status.REQUESTED,
            source=Source.PATIENT,
            patient_id=5001,
        ),
        now=day,
    )
    block = await store.blocks.add(
        NewBlock(dupont, paris(2027, 1, 15, 9), paris(2027, 1, 15, 11)), actor=CLAIRE, now=day
    )
    theirs = await store.blocks.add(
        NewBlock(institute, paris(2027, 1, 15, 9), paris(2027, 1, 15, 11)), actor=CLAIRE, now=day
    )
    call = await store.calls.add(
        NewCall(dupont, "M. Leroy", None, "rappeler"), actor=CLAIRE, now=day
    )
    mission = await store.missions.create(
        NewMission(dupont, "transcription", "Compte rendu", 4500), now=day, actor=CLAIRE
    )
    recorded = [
        (f"appointment:{appointment.id}", day),  # the first second of the day: in
        (f"block:{block.id}", paris(2027, 1, 11, 9)),
        (f"block:{theirs.id}", paris(2027, 1, 11, 9)),  # another business's
        (f"call:{call.id}", paris(2027, 1, 11, 10)),
        (f"mission:{mission.id}", paris(2027, 1, 11, 23, 59)),
        (f"mission:{mission.id}", paris(2027, 1, 12, 0)),  # the next day: out
        (f"mission:{mission.id}", paris(2027, 1, 10, 23, 59)),  # the day before: out
        ("appointment:9999", paris(2027, 1, 11, 9)),  # a row that is not there
    ]
    for target, at in recorded:
        await store.audit.record(CLAIRE, "x.y", target, None, {"n": 1}, at)
    entries = await store.audit.of_business(dupont, day, paris(2027, 1, 12, 0))
    assert [(e.target, e.at) for e in entries] == [
        (target, at.astimezone(UTC)) for target, at in (recorded[0], recorded[1], *recorded[3:5])
    ]
    assert entries[0].after == {"n": 1}
    institute_entries = await store.audit.of_business(institute, day, paris(2027, 1, 12, 0))
    assert [e.target for e in institute_entries] == [f"block:{theirs.id}"]


async def test_the_time_range_is_read_through_its_index_and_targets_by_their_key(store):
    plan = [
        row["detail"]
        for row in await store.db.fetch_all(f"EXPLAIN QUERY PLAN {OF_BUSINESS}", (0, 1, 1))
    ]
    assert "SEARCH audit_log USING INDEX audit_log_by_time (at>? AND at<?)" in plan
    assert not [step for step in plan if step.startswith("SCAN")]


# -- end to end -------------------------------------------------------------------------------


@pytest.fixture
def claire(tg):
    return tg.user(CLAIRE, "Claire", language="fr")


async def a_morning_of_work(tg, clock, claire) -> None:
    """Claire confirms a request, books for a caller, blocks time, passes on a call and opens
    a mission for the dental practice; and blocks an hour at the institute."""
    alice = tg.user(5001, "Alice", language="fr")
    await alice.send("/start cabinet-dupont")
    await alice.send("détartrage le 12 janvier à 10h")
    await alice.tap("10:00")
    await claire.tap("✅ Confirmer", in_message=claire.last)
    clock.advance(timedelta(minutes=5))
    await claire.send("/rdv cabinet-dupont Mme Durand 0612345678 détartrage jeudi 10h")
    await claire.tap("10:00", in_message=claire.last)
    clock.advance(timedelta(minutes=5))
    await claire.send("/bloquer cabinet-dupont vendredi 9h-11h formation")
    await claire.send("/bloquer institut-belle-peau vendredi 9h-11h inventaire")
    clock.advance(timedelta(minutes=5))
    await claire.send("/appel cabinet-dupont M. Leroy 0611223344 rappeler pour ses résultats")
    await claire.tap("📨 Transmettre")
    clock.advance(timedelta(minutes=5))
    await claire.send('/mission cabinet-dupont transcription "Compte rendu réunion" 45')


async def test_the_employer_reads_what_was_done_for_his_business(bot, tg, clock, claire):
    await a_morning_of_work(tg, clock, claire)
    dupont = tg.user(DUPONT, "Dr Dupont", language="fr")
    await dupont.send("/journal")
    assert dupont.last.text.splitlines() == [
        "🗒 Journal · Cabinet dentaire Dupont · lundi 11 janvier",
        "Actions du secrétariat : 5",
        "📅 lundi 11 janvier",
        "09:00 · Claire a confirmé une demande : Détartrage le mardi 12 janvier à 10:00, "
        "avec Dr Dupont",
        "09:05 · Claire a pris au téléphone un rendez-vous pour Mme Durand : Détartrage le "
        "jeudi 14 janvier à 10:00, avec Dr Dupont",
        "09:10 · Claire a bloqué le vendredi 15 janvier de 09:00 à 11:00 "
        "(tout l'établissement) : formation",
        "09:15 · Claire a transmis un appel de M. Leroy",
        f"09:20 · Claire a ouvert une mission, Transcription : Compte rendu réunion (45,00{NBSP}€)",
    ]
    # The next day, the day's journal is empty; the week's still has it all.
    clock.advance(timedelta(days=1))
    await dupont.send("/journal jour")
    assert dupont.last.text.splitlines()[1] == "Aucune action du secrétariat sur cette période."
    await dupont.send("/journal semaine")
    lines = dupont.last.text.splitlines()
    assert lines[0] == (
        "🗒 Journal · Cabinet dentaire Dupont · du mercredi 6 janvier au mardi 12 janvier"
    )
    assert lines[1] == "Actions du secrétariat : 5"
    await dupont.send("/journal cabinet-dupont mois")
    assert dupont.last.text.splitlines()[1] == "Actions du secrétariat : 5"


async def test_another_business_s_employer_sees_none_of_it(bot, tg, clock, claire):
    await a_morning_of_work(tg, clock, claire)
    institute = tg.user(INSTITUTE, "Léa", language="fr")
    await institute.send("/journal")
    assert institute.last.text.splitlines() == [
        "🗒 Journal · Institut Belle Peau · lundi 11 janvier",
        "Actions du secrétariat : 1",
        "📅 lundi 11 janvier",
        "09:10 · Claire a bloqué le vendredi 15 janvier de 09:00 à 11:00 "
        "(tout l'établissement) : inventaire",
    ]
    await institute.send("/journal semaine cabinet-dupont")
    assert institute.last.text == "Ce journal est réservé aux responsables de l'établissement."


async def test_a_patient_or_a_secretary_is_told_the_journal_is_the_employers(
    bot, tg, clock, claire
):
    await a_morning_of_work(tg, clock, claire)
    alice = tg.user(5001, "Alice", language="fr")
    await alice.send("/journal cabinet-dupont")
    assert alice.last.text == "Ce journal est réservé aux responsables de l'établissement."
    await claire.send("/journal")
    assert claire.last.text == "Ce journal est réservé aux responsables de l'établissement."
    bob = tg.user(5002, "Bob", language="en")
    await bob.send("/log")
    assert bob.last.text == "This journal is for the business's managers only."


async def test_words_the_journal_does_not_know_get_how_to_ask(bot, tg):
    dupont = tg.user(DUPONT, "Dr Dupont", language="fr")
    await dupont.send("/journal hier")
    assert dupont.last.text == (
        "Écrivez /journal jour, /journal semaine ou /journal mois, suivi de l'établissement "
        "si vous en avez plusieurs : cabinet-dupont"
    )


@pytest.fixture
def english_office(config_data):
    config_data["language"] = "en"
    return config_data


async def test_in_english_with_log(english_office, bot, tg, clock, claire):
    await a_morning_of_work(tg, clock, claire)
    dupont = tg.user(DUPONT, "Dr Dupont", language="en")
    await dupont.send("/log week")
    assert dupont.last.text.splitlines() == [
        "🗒 Journal · Cabinet dentaire Dupont · Tuesday, January 5 to Monday, January 11",
        "Actions by the secretary: 5",
        "📅 Monday, January 11",
        "09:00 · Claire confirmed a request: Teeth cleaning on Tuesday, January 12 at 10:00, "
        "with Dr Dupont",
        "09:05 · Claire booked an appointment by phone for Mme Durand: Teeth cleaning on "
        "Thursday, January 14 at 10:00, with Dr Dupont",
        "09:10 · Claire blocked Friday, January 15 from 09:00 to 11:00 (the whole business): "
        "formation",
        "09:15 · Claire passed on a call from M. Leroy",
        "09:20 · Claire opened a mission, Transcription: Compte rendu réunion (€45.00)",
    ]
    carol = tg.user(5003, "Carol", language="en")
    await carol.send("/log")
    assert carol.last.text == "This journal is for the business's managers only."


@pytest.mark.parametrize(
    ("language", "line"),
    [
        ("fr", "🗒 Le détail de ce qu'a fait le secrétariat : /journal"),
        ("en", "🗒 What the secretary did, in detail: /log"),
    ],
)
async def test_the_evening_summary_links_to_the_journal(bot, language, line):
    d = bot.bot_data[DEPS_KEY]
    summary = await Summaries(d.booking, d.store, d.i18n).employer_summary(
        language, d.settings.businesses[0], date(2027, 1, 11)
    )
    assert summary.splitlines()[-1] == line


@pytest.fixture
def dupont_runs_both(config_data):
    config_data["businesses"][1]["employers"].append(DUPONT)
    return config_data


async def test_an_employer_of_two_businesses_gets_each_or_the_one_he_names(
    dupont_runs_both, bot, tg, clock, claire
):
    await a_morning_of_work(tg, clock, claire)
    dupont = tg.user(DUPONT, "Dr Dupont", language="fr")
    await dupont.send("/journal")
    dental, institute = dupont.messages[-2:]
    assert dental.text.startswith("🗒 Journal · Cabinet dentaire Dupont · lundi 11 janvier\n")
    assert institute.text.startswith("🗒 Journal · Institut Belle Peau · lundi 11 janvier\n")
    await dupont.send("/journal institut semaine")
    assert dupont.last.text.splitlines()[:2] == [
        "🗒 Journal · Institut Belle Peau · du mardi 5 janvier au lundi 11 janvier",
        "Actions du secrétariat : 1",
    ]


async def test_a_mission_finished_and_one_cancelled_are_in_the_journal(bot, tg, clock, claire):
    await claire.send('/mission cabinet-dupont transcription "Compte rendu réunion" 45')
    card = claire.last
    clock.advance(timedelta(hours=2))
    await claire.tap("✅ Terminée", in_message=card)
    await claire.tap("30 min")
    await claire.send("/mission cabinet-dupont appel « Rappeler Mme Roux »")
    second = claire.last
    await claire.tap("▶️ Commencée", in_message=second)
    await claire.tap("✖️ Annuler", in_message=second)
    await claire.tap("Oui, l'annuler", in_message=second)
    dupont = tg.user(DUPONT, "Dr Dupont", language="fr")
    await dupont.send("/journal")
    assert dupont.last.text.splitlines()[3:] == [
        f"09:00 · Claire a ouvert une mission, Transcription : Compte rendu réunion (45,00{NBSP}€)",
        f"11:00 · Claire a terminé la mission Transcription : Compte rendu réunion (45,00{NBSP}€)",
        f"11:00 · Claire a ouvert une mission, Appel : Rappeler Mme Roux (35,00{NBSP}€)",
        "11:00 · Claire a commencé la mission Appel : Rappeler Mme Roux",
        "11:00 · Claire a annulé la mission Appel : Rappeler Mme Roux",
    ]
