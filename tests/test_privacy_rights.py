"""Patients' rights over their data, through the simulator: /mesdonnees (/mydata) sends them
everything kept about them and nothing about anyone else, /oublier (/forgetme) erases it after
a confirmation, and the sweep forgets what is older than ``retention``.

The clock stands on Monday 11 January 2027, 09:00 in Paris.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta

import pytest

from bot import callbacks, privacy
from storage.appointments import Appointment, NewAppointment, Source, Status
from storage.outbox import Status as OutboxStatus
from storage.privacy import ERASE_ACTION, ERASED_NOTE, Booked, PatientData
from tests.conftest import PARIS, sweep

CLAIRE = 111111111
ALICE, BOB, MALLORY = 5001, 5002, 5003


def paris(*args: int) -> datetime:
    return datetime(*args, tzinfo=PARIS)


@pytest.fixture
def claire(tg):
    return tg.user(CLAIRE, "Claire", language="fr")


async def book_tuesday(tg, claire, user_id, name, language, hour):
    """A patient with a confirmed teeth cleaning on Tuesday 12 January at ``hour``:00."""
    user = tg.user(user_id, name, language=language)
    await user.send("/start cabinet-dupont")
    words = {"fr": f"un détartrage mardi à {hour}h", "en": f"teeth cleaning on tuesday at {hour}"}
    await user.send(words[language])
    await user.tap(f"{hour}:00")
    await claire.tap("✅ Confirmer", in_message=claire.last)
    return user


async def past_visit(store, clock, patient_id, start):
    """An appointment the patient came to, booked straight in the store."""
    booked = await store.appointments.book(
        NewAppointment(
            business_id=store.business_ids["cabinet-dupont"],
            practitioner="Dr Martin",
            service="consultation",
            starts_at=start,
            ends_at=start + timedelta(minutes=30),
            status=Status.CONFIRMED,
            source=Source.PATIENT,
            patient_id=patient_id,
        ),
        now=start - timedelta(days=7),
        actor=patient_id,
    )
    return await store.appointments.change_status(
        booked.id,
        expected=(Status.CONFIRMED,),
        to=Status.DONE,
        now=start + timedelta(hours=1),
        actor=CLAIRE,
    )


async def forged_tap(tg, user, data: str) -> None:
    """A callback query with data the user was never shown, as a modified client could send."""
    await tg._submit(
        "callback_query",
        {
            "id": tg._new_callback_query(user),
            "from": user.to_api(),
            "message": user.last.to_api(),
            "chat_instance": f"{tg.bot_id}-{user.id}",
            "data": data,
        },
    )


# -- the export -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("language", "command", "filename", "lines"),
    [
        (
            "fr",
            "/mesdonnees",
            "mes-donnees.json",
            [
                "🔐 Ce que nous gardons sur vous :",
                "• Vous : Alice · aucun · téléphone : +33612345678 · langue : 🇫🇷 Français",
                "• Cabinets : Cabinet dentaire Dupont",
                "• Rendez-vous : 2 en tout, dont 1 à venir",
                "• Prochain : Détartrage le mardi 12 janvier à 10:00 · Cabinet dentaire Dupont",
                "• Messages échangés avec le secrétariat : 2",
            ],
        ),
        (
            "en",
            "/mydata",
            "my-data.json",
            [
                "🔐 What we keep about you:",
                "• You: Alice · none · phone: +33612345678 · language: 🇬🇧 English",
                "• Practices: Cabinet dentaire Dupont",
                "• Appointments: 2 in all, 1 of them upcoming",
                "• Next: Teeth cleaning on Tuesday, January 12 at 10:00 · Cabinet dentaire Dupont",
                "• Messages exchanged with the office: 2",
            ],
        ),
    ],
)
async def test_my_data_sends_a_summary_and_everything_kept_as_json_and_nothing_of_others(
    bot, tg, store, clock, claire, language, command, filename, lines
):
    alice = await book_tuesday(tg, claire, ALICE, "Alice", language, 10)
    await alice.share_contact("+33612345678")
    visit = await past_visit(store, clock, ALICE, paris(2026, 12, 14, 10, 0))
    await alice.send("je voudrais parler à quelqu'un")
    await claire.reply(claire.last, "Je vous rappelle.")
    bob = await book_tuesday(tg, claire, BOB, "Bob", "fr", 11)
    await bob.send("je voudrais parler à quelqu'un, c'est Bob")

    await alice.send(command)
    summary, sent = alice.messages[-2:]
    assert summary.text.splitlines()[: len(lines)] == lines
    assert ("5 ans" if language == "fr" else "5 years") in summary.text
    name, raw = sent.document
    assert name == filename
    exported = json.loads(raw)
    assert exported["identity"]["first_name"] == "Alice"
    assert exported["identity"]["phone"] == "+33612345678"
    assert exported["businesses"] == [
        {"slug": "cabinet-dupont", "name": "Cabinet dentaire Dupont", "current": True}
    ]
    past, tuesday = exported["appointments"]
    assert past["id"] == visit.id and past["status"] == "done"
    assert [(h["to"], h["by"]) for h in past["history"]] == [
        ("confirmed", "you"),
        ("done", "office"),
    ]
    assert tuesday["service"] == "detartrage"
    assert tuesday["starts_at"] == "2027-01-12T10:00:00+01:00"
    assert [(h["from"], h["to"], h["by"]) for h in tuesday["history"]] == [
        (None, "requested", "you"),
        ("requested", "confirmed", "office"),
    ]
    (conversation,) = exported["messages_with_the_office"]
    assert [(m["from"], m["text"]) for m in conversation["messages"]] == [
        ("you", "je voudrais parler à quelqu'un"),
        ("office", "Je vous rappelle."),
    ]
    assert {m["kind"] for m in exported["messages_from_the_bot"]} >= {"patient.confirmed"}
    assert [e["action"] for e in exported["audit_log"]] == ["request.confirm"]
    # Bob's appointment, his words and the secretary's Telegram id are not Alice's data.
    text = raw.decode("utf-8")
    assert "Bob" not in text and str(CLAIRE) not in text
    (bobs,) = await store.appointments.of_patient(BOB, clock.now())
    assert bobs.id not in [a["id"] for a in exported["appointments"]]


async def test_a_newcomer_s_export_holds_only_who_they_are(bot, tg):
    eve = tg.user(5009, "Eve", language="en")
    await eve.send("/mydata")
    assert eve.messages[-2].text.splitlines()[3] == "• Appointments: 0 in all, 0 of them upcoming"
    exported = json.loads(eve.last.document[1])
    assert exported["identity"]["first_name"] == "Eve"
    assert exported["appointments"] == [] and exported["businesses"] == []


# -- erasure --------------------------------------------------------------------------------


async def test_forget_me_erases_the_patient_frees_the_future_and_keeps_the_past_anonymous(
    bot, tg, store, clock, claire
):
    alice = await book_tuesday(tg, claire, ALICE, "Alice", "fr", 10)
    await alice.share_contact("+33612345678")
    visit = await past_visit(store, clock, ALICE, paris(2026, 12, 14, 10, 0))
    await alice.send("je voudrais parler à quelqu'un")
    thread = await store.threads.open_for(ALICE, now=clock.now(), quiet=timedelta(days=1))
    (tuesday,) = await store.appointments.of_patient(ALICE, clock.now())

    await alice.send("/oublier")
    assert alice.last.text.startswith("Effacer vos données ?")
    assert alice.last.buttons == [["🗑 Tout effacer", "Non, garder"]]
    erase_button = alice.last.button("🗑 Tout effacer")["callback_data"]
    await alice.tap("🗑 Tout effacer")
    assert alice.last.text.startswith(
        "✅ Vos données sont effacées. Rendez-vous à venir annulés : 1 (le cabinet est prévenu)."
        " Rendez-vous passés gardés sans votre nom : 1."
    )
    # The office knows which time is free, not who it was.
    assert claire.last.text.splitlines() == [
        "🗑 Annulation · Cabinet dentaire Dupont",
        "Patient effacé à sa demande (RGPD) : nom et coordonnées supprimés.",
        "Détartrage · mardi 12 janvier à 10:00",
        "Avec Dr Dupont : le créneau est libéré.",
    ]
    assert "Alice" not in claire.last.text
    # The same tap again (a double tap, a slow network) erases nothing more.
    await forged_tap(tg, alice, erase_button)
    assert alice.last.text == "Vos données sont déjà effacées."

    assert await store.people.get(ALICE) is None
    freed = await store.appointments.get(tuesday.id)
    assert (freed.status, freed.patient_id) == (Status.CANCELLED, None)
    assert (await store.appointments.history(tuesday.id))[-1].note == ERASED_NOTE
    kept = await store.appointments.get(visit.id)
    assert (kept.status, kept.patient_id, kept.caller_name, kept.caller_phone) == (
        Status.DONE,
        None,
        None,
        None,
    )
    for appointment_id in (tuesday.id, visit.id):
        assert ALICE not in [h.actor for h in await store.appointments.history(appointment_id)]
    assert await store.threads.get(thread.id) is None
    assert [m for m in await store.outbox.messages() if m.chat_id == ALICE] == []
    assert await store.sessions.get(ALICE) is None
    (entry,) = await store.audit.entries(target=f"person:{ALICE}")
    assert (entry.actor, entry.action) == (ALICE, ERASE_ACTION)
    assert entry.after == {"cancelled": [tuesday.id], "anonymised": [tuesday.id, visit.id]}

    # The office's views of those appointments still read, without her.
    await claire.send("/agenda cabinet-dupont demain")
    assert claire.last.text.splitlines()[1] == "Aucun rendez-vous."
    dupont = tg.user(222222222, "Dr Dupont", language="fr")
    await dupont.send("/start")
    clock.set(paris(2027, 1, 11, 19, 30))
    await sweep(bot)
    assert dupont.last.text.splitlines()[2] == (
        "Aujourd'hui — nouveaux : 1, déplacés : 0, annulés : 1, absents : 0"
    )
    assert "Alice" not in dupont.last.text
    assert OutboxStatus.FAILED not in await store.outbox.counts()

    # The time is free for someone else; Alice writing again starts afresh.
    bob = tg.user(BOB, "Bob", language="fr")
    await bob.send("/start cabinet-dupont")
    await bob.send("un détartrage mardi à 10h")
    assert "le créneau demandé est libre" in bob.last.text
    await alice.send("/start cabinet-dupont")
    fresh = await store.people.get(ALICE)
    assert fresh is not None and fresh.phone is None
    assert await store.appointments.of_patient(ALICE, paris(2020, 1, 1, 0, 0)) == []


async def test_forget_me_in_english_and_keeping_it_erases_nothing(bot, tg, store, clock, claire):
    alice = await book_tuesday(tg, claire, ALICE, "Alice", "en", 10)
    await alice.send("/forgetme")
    assert alice.last.text.startswith("Erase your data?")
    await alice.tap("No, keep it")
    assert alice.last.text == "Nothing was erased."
    assert (await store.people.get(ALICE)).first_name == "Alice"
    (tuesday,) = await store.appointments.of_patient(ALICE, clock.now())
    assert tuesday.status == Status.CONFIRMED
    assert await store.audit.entries(target=f"person:{ALICE}") == []

    await alice.send("/forgetme")
    await alice.tap("🗑 Erase everything")
    assert alice.last.text.startswith("✅ Your data is erased. Upcoming appointments cancelled: 1")
    assert claire.last.text.startswith("🗑 Annulation · Cabinet dentaire Dupont\nPatient effacé")
    assert await store.people.get(ALICE) is None


async def test_someone_else_s_replayed_erase_button_erases_nobody(bot, tg, store, clock, claire):
    await book_tuesday(tg, claire, ALICE, "Alice", "fr", 10)
    mallory = tg.user(MALLORY, "Mallory", language="fr")
    await mallory.send("/start cabinet-dupont")
    await forged_tap(tg, mallory, callbacks.encode("priv:erase", ALICE, clock.now()))
    assert mallory.answers[-1] == (
        "Ce bouton n'est plus valable. Reprenez depuis le dernier message."
    )
    await forged_tap(tg, mallory, callbacks.encode("priv:keep", ALICE))
    assert (await store.people.get(ALICE)).first_name == "Alice"
    assert (await store.people.get(MALLORY)).first_name == "Mallory"
    (tuesday,) = await store.appointments.of_patient(ALICE, clock.now())
    assert tuesday.status == Status.CONFIRMED
    assert [e for e in await store.audit.entries() if e.action == ERASE_ACTION] == []
    assert [m.chat_id for m in await store.outbox.messages() if m.chat_id == ALICE] != []


async def test_an_old_erase_button_asks_again(bot, tg, store, clock, claire):
    alice = await book_tuesday(tg, claire, ALICE, "Alice", "fr", 10)
    await alice.send("/oublier")
    clock.advance(timedelta(hours=2))
    await alice.tap("🗑 Tout effacer")
    assert alice.last.text == (
        "Cette demande date un peu : envoyez /oublier à nouveau pour confirmer."
    )
    assert await store.people.get(ALICE) is not None


async def test_staff_are_not_erased_from_a_chat(bot, claire, store):
    await claire.send("/oublier")
    assert claire.last.text.startswith(
        "Vos coordonnées de membre du cabinet sont dans sa configuration"
    )
    assert claire.last.buttons == []


# -- retention ------------------------------------------------------------------------------


async def test_retention_forgets_what_is_older_and_keeps_the_rest(bot, tg, store, clock, claire):
    alice = tg.user(ALICE, "Alice", language="fr")
    await alice.send("/start cabinet-dupont")
    old = await past_visit(store, clock, ALICE, paris(2027, 1, 12, 10, 0))
    recent = await past_visit(store, clock, ALICE, paris(2031, 3, 4, 10, 0))
    await alice.send("je voudrais parler à quelqu'un")
    first = await store.threads.open_for(ALICE, now=clock.now(), quiet=timedelta(days=1))
    later = await store.threads.from_patient(
        store.business_ids["cabinet-dupont"],
        ALICE,
        content="Bonjour, une question sur ma facture",
        is_file=False,
        chat_id=ALICE,
        message_id=1,
        now=paris(2031, 6, 1, 10, 0),
        quiet=timedelta(days=1),
        tell=lambda said: [],
    )

    # Five years and a day after the first visit ended, a year after the 2031 message.
    clock.set(paris(2032, 2, 1, 9, 0))
    await sweep(bot)
    assert await store.appointments.get(old.id) is None
    assert await store.appointments.history(old.id) == []
    assert [m.appointment_id for m in await store.outbox.messages(appointment_id=old.id)] == []
    assert (await store.appointments.get(recent.id)).status == Status.DONE
    assert await store.threads.get(first.id) is None
    assert [m.content for m in await store.threads.messages(later.thread.id)] == [
        "Bonjour, une question sur ma facture"
    ]
    assert (await store.people.get(ALICE)).first_name == "Alice"

    # Past the second visit's five years, nothing of hers is left but who she is.
    clock.set(paris(2036, 3, 10, 9, 0))
    await sweep(bot)
    assert await store.appointments.get(recent.id) is None
    assert await store.threads.get(later.thread.id) is None
    # A patient left with nothing is a visitor again: forgotten, unseen for so long.
    await sweep(bot)
    assert await store.people.get(ALICE) is None


# -- the store: tables it does not know by name ---------------------------------------------


async def test_a_table_added_later_naming_a_person_is_erased_and_its_appointments_kept(
    store, clock
):
    """A waitlist (another branch's) names people and appointments by foreign key: erasure
    deletes its rows, the purge keeps an appointment it still names."""
    await store.people.seen(
        ALICE, first_name="Alice", last_name=None, username=None, language="fr", now=clock.now()
    )
    visit = await past_visit(store, clock, ALICE, paris(2026, 12, 14, 10, 0))
    async with store.db.transaction() as db:
        await db.execute(
            """CREATE TABLE waitlist (
                   patient_id INTEGER NOT NULL REFERENCES people(telegram_id),
                   appointment_id INTEGER REFERENCES appointments(id))"""
        )
        await db.execute("INSERT INTO waitlist VALUES (?, ?)", (ALICE, visit.id))

    purged = await store.privacy.purge(
        appointments_before=paris(2040, 1, 1, 0, 0), messages_before=clock.now()
    )
    assert purged.appointments == 0
    erased = await store.privacy.erase(ALICE, now=clock.now(), tell=lambda _: [])
    assert (erased.cancelled, erased.anonymised) == ([], 1)
    assert await store.db.fetch_all("SELECT * FROM waitlist") == []
    assert (await store.appointments.get(visit.id)).patient_id is None
    purged = await store.privacy.purge(
        appointments_before=paris(2040, 1, 1, 0, 0), messages_before=clock.now()
    )
    assert purged.appointments == 1


# -- the export, pure -----------------------------------------------------------------------


def an_appointment(id_: int, start: datetime, status: Status) -> Appointment:
    return Appointment(
        id=id_,
        business_id=1,
        practitioner="Dr Dupont",
        service="detartrage",
        starts_at=start,
        ends_at=start + timedelta(minutes=30),
        status=status,
        source=Source.PATIENT,
        patient_id=ALICE,
        caller_name=None,
        caller_phone=None,
        created_at=start - timedelta(days=3),
        updated_at=start - timedelta(days=3),
        scheduled_at=start - timedelta(days=3),
    )


def test_the_export_is_its_sections_in_order_and_the_summary_names_the_next_held_time():
    now = paris(2027, 1, 11, 9, 0)
    data = PatientData(
        telegram_id=ALICE,
        person=None,
        appointments=[
            Booked(an_appointment(1, paris(2027, 1, 20, 10, 0), Status.CANCELLED), [], []),
            Booked(an_appointment(2, paris(2027, 1, 25, 10, 0), Status.CONFIRMED), [], []),
            Booked(an_appointment(3, paris(2027, 1, 12, 10, 0), Status.REQUESTED), [], []),
        ],
        conversations=[],
        mail=[],
        messages_owed=[],
        audit=[],
        waitlist=[],
        session=False,
    )
    places = {1: privacy.Place("cabinet-dupont", "Cabinet dentaire Dupont", PARIS)}
    exported = privacy.document(data, places, now=now)
    assert list(exported) == ["format", "exported_at", *(name for name, _ in privacy.SECTIONS)]
    assert exported["identity"] == {"telegram_id": ALICE}
    assert [a["starts_at"] for a in exported["appointments"]][:1] == ["2027-01-20T10:00:00+01:00"]
    said = privacy.summary(data, places, now=now)
    assert (said.appointments, said.upcoming, said.next.id) == (3, 2, 3)
    assert said.businesses == ["Cabinet dentaire Dupont"]
