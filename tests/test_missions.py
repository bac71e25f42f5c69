"""Missions: the pure domain (months, typed input, templates, totals) and their storage."""

from __future__ import annotations

import sqlite3
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from bot.i18n import I18n
from bot.missions import (
    PLACEHOLDERS,
    Audience,
    AudienceChoice,
    InputError,
    Month,
    earnings_by_month,
    invoice_number,
    kind_label,
    month_label,
    normalise,
    parse_day,
    parse_description,
    parse_fee,
    parse_minutes,
    parse_mission_line,
    parse_template,
    render,
    totals_by_kind,
)
from storage.appointments import NewAppointment, Source, Status
from storage.db import Duplicate
from storage.mailmerges import RecipientStatus
from storage.missions import (
    MissionLocked,
    MissionStatus,
    NewMission,
    Party,
    StaleMission,
)
from storage.outbox import Status as OutboxStatus

PARIS = ZoneInfo("Europe/Paris")
NOW = datetime(2027, 1, 11, 8, 0, tzinfo=UTC)
SELLER = Party("Claire Moreau", "8 rue des Lilas, 69003 Lyon", "812 345 678 00021", vat_exempt=True)
CLIENT = Party("Cabinet dentaire Dupont", "12 rue de la Paix, 75002 Paris")


# -- months ----------------------------------------------------------------------------------


@pytest.mark.parametrize("text", ["2027-01", "2027-1", "01/2027", " 1-2027 "])
def test_a_month_is_read_the_iso_way_or_the_french_way(text):
    assert Month.parse(text) == Month(2027, 1)


@pytest.mark.parametrize("text", ["2027-13", "janvier", "27-01", "", "2027-00"])
def test_a_bad_month_says_which_text(text):
    with pytest.raises(InputError) as error:
        Month.parse(text)
    assert error.value.key == "missions.bad_month"


def test_months_shift_across_years_and_carry_a_button_code():
    january = Month(2027, 1)
    assert january.shift(-1) == Month(2026, 12)
    assert january.shift(-13) == Month(2025, 12)
    assert january.shift(12) == Month(2028, 1)
    assert Month.from_code(january.code) == january
    assert str(january) == "2027-01"
    assert month_label("fr", january) == "janvier 2027"
    assert month_label("en", january) == "January 2027"


def test_a_month_spans_local_midnights_even_when_the_clocks_change():
    start, end = Month(2027, 3).bounds(PARIS)
    assert start == datetime(2027, 2, 28, 23, 0, tzinfo=UTC)  # 00:00 in Paris, winter time
    assert end == datetime(2027, 3, 31, 22, 0, tzinfo=UTC)  # 00:00 in Paris, summer time


# -- typed input ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "cents"),
    [("45", 4500), ("37,50", 3750), ("37.5", 3750), ("45 €", 4500), ("1 234,50", 123450)],
)
def test_fees_are_read_to_the_cent(text, cents):
    assert parse_fee(text) == cents


@pytest.mark.parametrize("text", ["abc", "-5", "45,555", "20000", "", "€"])
def test_a_bad_fee_is_refused_with_the_text(text):
    with pytest.raises(InputError) as error:
        parse_fee(text)
    assert error.value.key == "missions.bad_fee"


def test_a_day_without_year_is_the_next_one_for_a_due_date_and_the_last_one_for_a_start():
    today = date(2027, 11, 20)
    assert parse_day("25/01", today, future=True) == date(2028, 1, 25)
    assert parse_day("25/01", today, future=False) == date(2027, 1, 25)
    assert parse_day("25/12", today, future=False) == date(2026, 12, 25)
    assert parse_day("25.01.27", today, future=True) == date(2027, 1, 25)
    assert parse_day("2027-01-25", today, future=True) == date(2027, 1, 25)


@pytest.mark.parametrize("text", ["31/02", "demain", "2027-13-01", "1/2/3/4"])
def test_a_bad_day_is_refused(text):
    with pytest.raises(InputError) as error:
        parse_day(text, date(2027, 1, 1), future=True)
    assert error.value.key == "missions.bad_day"


@pytest.mark.parametrize(
    ("text", "minutes"),
    [("45", 45), ("45 min", 45), ("1h", 60), ("1h30", 90), ("2 h 15", 135), ("90mn", 90)],
)
def test_durations(text, minutes):
    assert parse_minutes(text) == minutes


@pytest.mark.parametrize("text", ["", "abc", "0", "h", "1000h"])
def test_a_bad_duration_is_refused(text):
    with pytest.raises(InputError):
        parse_minutes(text)


def test_descriptions_are_one_tidy_line_of_bounded_length():
    assert parse_description("  Compte   rendu\nréunion ") == "Compte rendu réunion"
    with pytest.raises(InputError, match="empty"):
        parse_description("   ")
    with pytest.raises(InputError, match="long"):
        parse_description("x" * 201)


KINDS = {"call": "call", "appel": "call", "transcription": "transcription"}
SLUGS = ["cabinet-dupont", "institut-belle-peau"]


def test_the_one_line_form_with_quotes_of_any_kind():
    form = parse_mission_line(
        'cabinet-dupont transcription "Compte rendu réunion" 45', SLUGS, KINDS, date(2027, 1, 11)
    )
    assert (form.slug, form.kind, form.description, form.fee, form.due_on) == (
        "cabinet-dupont",
        "transcription",
        "Compte rendu réunion",
        4500,
        None,
    )
    french = parse_mission_line(
        "Cabinet-Dupont Appel « Rappeler M. Martin » 35,5 20/01", SLUGS, KINDS, date(2027, 1, 11)
    )
    assert (french.kind, french.description, french.fee, french.due_on) == (
        "call",
        "Rappeler M. Martin",
        3550,
        date(2027, 1, 20),
    )
    bare = parse_mission_line("cabinet-dupont call Rappel", SLUGS, KINDS, date(2027, 1, 11))
    assert bare.fee is None


@pytest.mark.parametrize(
    ("line", "key"),
    [
        ("cabinet-dupont call", "missions.usage"),
        ('cabinet-dupont call "open quote', "missions.usage"),
        ("cabinet-x call Rappel", "missions.unknown_business"),
        ("cabinet-dupont dance Rappel", "missions.unknown_kind"),
        ("cabinet-dupont call Rappel cher", "missions.bad_fee"),
        ("cabinet-dupont call Rappel 35 bientôt", "missions.bad_day"),
        ("cabinet-dupont call Rappel 35 20/01 encore", "missions.usage"),
    ],
)
def test_the_one_line_form_names_what_is_wrong(line, key):
    with pytest.raises(InputError) as error:
        parse_mission_line(line, SLUGS, KINDS, date(2027, 1, 11))
    assert error.value.key == key


def test_names_are_matched_without_case_accents_or_dashes():
    assert normalise(" Mail-Merge ") == "mail_merge"
    assert normalise("Prénom") == "prenom"
    assert normalise("Réunion d'équipe") == "reunion_d'equipe"


# -- statements and earnings ------------------------------------------------------------------


def test_totals_by_kind_follow_the_config_order_unknown_kinds_last():
    items = [("call", 3500), ("writing", 5000), ("call", 3500), ("legacy", 100)]
    totals = totals_by_kind(items, ["writing", "call"])
    assert [(t.kind, t.count, t.cents) for t in totals] == [
        ("writing", 1, 5000),
        ("call", 2, 7000),
        ("legacy", 1, 100),
    ]


def test_earnings_count_in_the_month_of_the_business_clock():
    late = datetime(2027, 1, 31, 23, 30, tzinfo=UTC)  # already February in Paris
    zones = {1: PARIS, 2: ZoneInfo("America/Martinique")}
    table = earnings_by_month([(1, late, 4000), (2, late, 3500), (1, NOW, 100)], zones.get)
    assert table == {Month(2027, 2): {1: 4000}, Month(2027, 1): {2: 3500, 1: 100}}


def test_kinds_are_named_in_the_readers_language_and_new_ones_as_written():
    i18n = I18n()
    assert kind_label(i18n, "fr", "call") == "Appel"
    assert kind_label(i18n, "en", "mail_merge") == "Mail merge"
    assert kind_label(i18n, "fr", "site_web") == "site web"


def test_invoice_numbers_are_year_then_rank():
    assert invoice_number(2027, 1) == "2027-0001"
    assert invoice_number(2027, 12345) == "2027-12345"


# -- mail-merge templates ---------------------------------------------------------------------


def test_a_template_fills_its_placeholders_and_keeps_doubled_braces():
    pieces = parse_template(
        "Bonjour {Prénom}, RDV {date} à {heure} au {cabinet} {{merci}}",
        PLACEHOLDERS[Audience.DAY],
    )
    values = {"prenom": "Alice", "date": "mardi 12 janvier", "heure": "10:00", "cabinet": "X"}
    assert render(pieces, values) == "Bonjour Alice, RDV mardi 12 janvier à 10:00 au X {merci}"


@pytest.mark.parametrize(
    ("template", "key", "name"),
    [
        ("Bonjour {nom}", "missions.template_unknown", "nom"),
        ("Bonjour {prenom!r}", "missions.template_unknown", "prenom"),
        ("Bonjour {prenom:>10}", "missions.template_unknown", "prenom"),
        ("RDV le {date}", "missions.template_not_here", "date"),
        ("Bonjour {prenom", "missions.template_braces", None),
        ("Bonjour }", "missions.template_braces", None),
        ("  ", "missions.template_empty", None),
    ],
)
def test_a_bad_template_is_refused_with_a_clear_reason(template, key, name):
    with pytest.raises(InputError) as error:
        parse_template(template, PLACEHOLDERS[Audience.ALL])
    assert error.value.key == key
    if name:
        assert error.value.values["name"] == name
    if key != "missions.template_empty":
        assert error.value.values["allowed"] == "{prenom}, {cabinet}"


def test_an_audience_choice_round_trips_through_its_code():
    for choice in (AudienceChoice(Audience.ALL), AudienceChoice(Audience.DAY, date(2027, 1, 12))):
        assert AudienceChoice.parse(choice.code) == choice
    assert AudienceChoice(Audience.SINCE, date(2026, 12, 1)).code == "since:2026-12-01"


# -- storage ----------------------------------------------------------------------------------


def dupont(store) -> int:
    return store.business_ids["cabinet-dupont"]


def belle_peau(store) -> int:
    return store.business_ids["institut-belle-peau"]


async def done_mission(store, business_id, done_at, fee=4500, kind="transcription", what="CR"):
    missions = store.missions
    mission = await missions.create(
        NewMission(business_id, kind, what, fee), now=done_at - timedelta(hours=1), actor=1
    )
    return await missions.finish(mission.id, now=done_at)


async def test_a_mission_goes_open_started_done_and_no_way_back(store):
    missions = store.missions
    mission = await missions.create(
        NewMission(dupont(store), "call", "Rappeler", 3500, date(2027, 1, 12)), now=NOW, actor=7
    )
    assert (mission.status, mission.fee, mission.due_on, mission.created_by) == (
        MissionStatus.OPEN,
        3500,
        date(2027, 1, 12),
        7,
    )
    started = await missions.start(mission.id, now=NOW + timedelta(minutes=5))
    assert started.status == MissionStatus.STARTED
    assert started.started_at == NOW + timedelta(minutes=5)
    done = await missions.finish(mission.id, now=NOW + timedelta(hours=1))
    assert done.done_at == NOW + timedelta(hours=1)
    with pytest.raises(StaleMission) as stale:
        await missions.cancel(mission.id, now=NOW)
    assert stale.value.mission.status == MissionStatus.DONE
    assert (await missions.set_minutes(mission.id, 50)).minutes_spent == 50
    with pytest.raises(LookupError):
        await missions.start(424242, now=NOW)


async def test_the_active_list_puts_the_soonest_due_first_and_undated_last(store):
    missions = store.missions
    for what, due in (("sans date", None), ("plus tard", date(2027, 2, 1)), ("vite", NOW.date())):
        await missions.create(NewMission(dupont(store), "call", what, 3500, due), now=NOW, actor=1)
    other = await missions.create(
        NewMission(belle_peau(store), "call", "ailleurs", 3500), now=NOW, actor=1
    )
    await missions.cancel(other.id, now=NOW)
    assert [m.description for m in await missions.active()] == ["vite", "plus tard", "sans date"]
    assert await missions.active(belle_peau(store)) == []


async def test_done_on_and_total_done_take_a_half_open_range(store):
    start, end = Month(2027, 1).bounds(PARIS)
    await done_mission(store, dupont(store), start, fee=1000)  # the first instant: in
    await done_mission(store, dupont(store), end, fee=2000)  # the next month's: out
    await done_mission(store, dupont(store), end - timedelta(seconds=1), fee=4000)
    await done_mission(store, belle_peau(store), start, fee=8000)
    done = await store.missions.done_on(dupont(store), start, end)
    assert [m.fee for m in done] == [1000, 4000]
    assert await store.missions.total_done(dupont(store), start, end) == 5000
    assert await store.missions.total_done(dupont(store), end, end) == 0


JANUARY = Month(2027, 1)


async def issue(store, business_id, month=JANUARY, year=2027):
    first, last = month.bounds(PARIS)
    return await store.missions.issue_invoice(
        business_id,
        period=str(month),
        first=first,
        last=last,
        year=year,
        now=NOW,
        due_on=date(2027, 2, 10),
        seller=SELLER,
        client=CLIENT,
    )


async def test_an_invoice_takes_the_months_missions_and_locks_them(store):
    a = await done_mission(store, dupont(store), datetime(2027, 1, 5, 10, tzinfo=UTC), fee=4500)
    b = await done_mission(store, dupont(store), datetime(2027, 1, 6, 10, tzinfo=UTC), fee=3500)
    await done_mission(store, dupont(store), datetime(2027, 2, 1, 10, tzinfo=UTC))  # February
    invoice = await issue(store, dupont(store))
    assert (invoice.year, invoice.sequence, invoice.total, invoice.period) == (
        2027,
        1,
        8000,
        "2027-01",
    )
    assert [(line.position, line.mission_id, line.fee) for line in invoice.lines] == [
        (1, a.id, 4500),
        (2, b.id, 3500),
    ]
    assert (invoice.seller, invoice.client) == (SELLER, CLIENT)
    locked = await store.missions.get(a.id)
    assert locked.locked and locked.invoice_id == invoice.id
    with pytest.raises(MissionLocked):
        await store.missions.set_minutes(a.id, 30)
    # Nothing left: no second invoice, no number taken.
    assert await issue(store, dupont(store)) is None
    # A mission finished late in the month gets its own invoice, the next number.
    await done_mission(store, dupont(store), datetime(2027, 1, 30, 10, tzinfo=UTC), fee=1000)
    late = await issue(store, dupont(store))
    assert (late.sequence, late.total) == (2, 1000)
    assert [i.sequence for i in await store.missions.invoices_for(dupont(store), "2027-01")] == [
        1,
        2,
    ]


async def test_numbers_start_again_each_year(store):
    await done_mission(store, dupont(store), datetime(2027, 1, 5, tzinfo=UTC))
    await done_mission(store, dupont(store), datetime(2027, 2, 5, tzinfo=UTC))
    await done_mission(store, dupont(store), datetime(2027, 3, 5, tzinfo=UTC))
    first = await issue(store, dupont(store), Month(2027, 1), year=2027)
    second = await issue(store, dupont(store), Month(2027, 2), year=2028)
    third = await issue(store, dupont(store), Month(2027, 3), year=2028)
    assert [(i.year, i.sequence) for i in (first, second, third)] == [
        (2027, 1),
        (2028, 1),
        (2028, 2),
    ]


async def test_invoices_and_their_missions_cannot_be_changed_even_by_hand(store, settings):
    mission = await done_mission(store, dupont(store), datetime(2027, 1, 5, tzinfo=UTC))
    await issue(store, dupont(store))
    with sqlite3.connect(settings.database) as raw:
        for statement in (
            f"UPDATE missions SET fee_cents = 1 WHERE id = {mission.id}",
            f"DELETE FROM missions WHERE id = {mission.id}",
            "UPDATE invoices SET total_cents = 1",
            "DELETE FROM invoices",
            "UPDATE invoice_lines SET fee_cents = 1",
            "DELETE FROM invoice_lines",
        ):
            with pytest.raises(sqlite3.IntegrityError, match="invoice"):
                raw.execute(statement)


# -- mail-merge storage -----------------------------------------------------------------------


async def patients(store, ids, business_id):
    for patient_id in ids:
        await store.people.seen(
            patient_id, first_name=f"P{patient_id}", last_name=None, username=None,
            language="fr", now=NOW,
        )  # fmt: skip
        if business_id is not None:
            await store.people.bind(patient_id, business_id)


async def appointment(store, patient_id, start, status=Status.CONFIRMED, business_id=None):
    booked = await store.appointments.book(
        NewAppointment(
            business_id=business_id or dupont(store),
            practitioner="Dr Dupont",
            service="detartrage",
            starts_at=start,
            ends_at=start + timedelta(minutes=30),
            status=Status.REQUESTED,
            source=Source.PATIENT,
            patient_id=patient_id,
        ),
        now=NOW,
    )
    if status != Status.REQUESTED:
        await store.appointments.change_status(
            booked.id, expected=[Status.REQUESTED], to=status, now=NOW, actor=None
        )


async def test_audiences_bound_booked_on_a_day_and_seen_since(store):
    await patients(store, [1, 2], dupont(store))
    await patients(store, [3], belle_peau(store))  # bound elsewhere, but came to Dupont once
    await patients(store, [4], belle_peau(store))
    merges = store.mail_merges
    jan_5 = datetime(2027, 1, 5, 9, tzinfo=UTC)
    await appointment(store, 3, jan_5)
    await appointment(store, 1, jan_5 + timedelta(days=7))
    await appointment(store, 1, jan_5 + timedelta(days=7, hours=2))  # the same day, later
    await appointment(store, 2, jan_5 + timedelta(days=7, hours=3), status=Status.CANCELLED)
    assert [r.patient_id for r in await merges.everyone(dupont(store))] == [1, 2, 3]
    first, last = datetime(2027, 1, 12, tzinfo=UTC), datetime(2027, 1, 13, tzinfo=UTC)
    (booked,) = await merges.booked_between(dupont(store), first, last)
    assert (booked.patient_id, booked.first_name, booked.starts_at) == (
        1,
        "P1",
        jan_5 + timedelta(days=7),
    )
    seen = await merges.seen_between(dupont(store), datetime(2027, 1, 1, tzinfo=UTC), NOW)
    assert [(r.patient_id, r.starts_at) for r in seen] == [(3, jan_5)]


async def new_merge(store, ids):
    return await store.mail_merges.create(
        business_id=dupont(store),
        audience="all",
        template="Bonjour {prenom}",
        language="fr",
        texts=[(i, f"Bonjour P{i}") for i in ids],
        mission=NewMission(dupont(store), "mail_merge", "Publipostage", 5000),
        now=NOW,
        actor=1,
    )


async def test_a_run_owes_each_copy_and_finishes_with_its_mission_once_none_is_owed(store):
    await patients(store, [10, 11, 12], dupont(store))
    merges = store.mail_merges
    merge = await new_merge(store, [12, 10, 11])
    mission = await store.missions.get(merge.mission_id)
    assert (mission.kind, mission.status, mission.fee) == (
        "mail_merge",
        MissionStatus.STARTED,
        5000,
    )
    assert [m.id for m in await merges.running()] == [merge.id]
    copies = await store.outbox.messages(kind="mail_merge")
    assert [(c.chat_id, c.payload) for c in copies] == [
        (12, {"merge_id": merge.id}),
        (10, {"merge_id": merge.id}),
        (11, {"merge_id": merge.id}),
    ]
    assert await merges.text(merge.id, 12) == "Bonjour P12"

    sent, blocked, again = await store.outbox.claim("test", wall=0, limit=3)
    assert not await merges.finish(merge.id, now=NOW)  # copies are being sent
    await store.outbox.delivered(sent.id, 5, NOW)
    await store.outbox.finish(
        blocked.id, OutboxStatus.FAILED, NOW, "Forbidden: bot was blocked by the user"
    )
    await store.outbox.retry(again.id, not_before=0, error="RetryAfter")
    counts = await merges.counts(merge.id)
    assert (counts.sent, counts.blocked, counts.left, counts.failed) == (1, 1, 1, 0)
    assert not await merges.finish(merge.id, now=NOW)  # one is owed still

    (last,) = await store.outbox.claim("test", wall=0, limit=3)
    await store.outbox.finish(last.id, OutboxStatus.UNCERTAIN, NOW, "timed out")
    assert await merges.statuses(merge.id) == {
        12: RecipientStatus.SENT,
        10: RecipientStatus.BLOCKED,
        11: RecipientStatus.UNKNOWN,
    }
    assert await merges.finish(merge.id, now=NOW + timedelta(minutes=1))
    assert await merges.running() == []
    mission = await store.missions.get(merge.mission_id)
    assert (mission.status, mission.done_at) == (MissionStatus.DONE, NOW + timedelta(minutes=1))


async def test_a_copy_refused_otherwise_or_too_old_counts_as_failed(store):
    await patients(store, [10, 11], dupont(store))
    merges = store.mail_merges
    merge = await new_merge(store, [10, 11])
    refused, old = await store.outbox.claim("test", wall=0, limit=2)
    await store.outbox.finish(refused.id, OutboxStatus.FAILED, NOW, "Bad Request: chat not found")
    await store.outbox.finish(old.id, OutboxStatus.EXPIRED, NOW, "older than its kind's max age")
    counts = await merges.counts(merge.id)
    assert (counts.sent, counts.blocked, counts.failed, counts.left) == (0, 0, 2, 0)
    assert await merges.finish(merge.id, now=NOW)


async def test_a_patient_is_in_a_run_once_by_construction(store):
    await patients(store, [10], dupont(store))
    with pytest.raises(Duplicate):
        await new_merge(store, [10, 10])
    # The whole run was rolled back, its mission too.
    assert await store.mail_merges.running() == []
    assert await store.missions.active() == []


def test_a_fee_written_the_french_way_with_the_euro_sign_as_comma():
    from bot.missions import parse_fee

    assert parse_fee("12€50") == 1250
    assert parse_fee("12 € 5") == 1250
    assert parse_fee("45 €") == 4500
