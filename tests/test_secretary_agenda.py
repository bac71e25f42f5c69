"""/agenda (text and week image) and /ics end to end, for the secretary and for employers.

The clock stands on Monday 11 January 2027, 09:00 in Paris.
"""

from __future__ import annotations

import asyncio
import struct
import threading
from datetime import datetime, timedelta

import pytest
from icalendar import Calendar

from bot.agenda_image import HEIGHT_PX, WIDTH_PX, render_week
from handlers import agenda
from storage.appointments import NewAppointment, Source, Status
from storage.blocks import NewBlock
from tests.conftest import PARIS

CLAIRE = 111111111
DUPONT = 222222222  # the employer of cabinet-dupont
INSTITUTE = 333333333  # the employer of institut-belle-peau


def paris(*args: int) -> datetime:
    return datetime(*args, tzinfo=PARIS)


def png_size(data: bytes) -> tuple[int, int]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    assert data[12:16] == b"IHDR"
    return struct.unpack(">II", data[16:24])


@pytest.fixture
def claire(tg):
    return tg.user(CLAIRE, "Claire", language="fr")


@pytest.fixture
async def week(store, clock):
    """Tuesday 12 and Thursday 14 January at the dental practice, and a block on Wednesday."""
    await store.people.seen(
        5001, first_name="Alice", last_name="Martin", username=None, language="fr", now=clock.now()
    )
    dupont = store.business_ids["cabinet-dupont"]

    async def book(start, practitioner, status=Status.CONFIRMED, **who):
        return await store.appointments.book(
            NewAppointment(
                business_id=dupont,
                practitioner=practitioner,
                service="detartrage",
                starts_at=start,
                ends_at=start + timedelta(minutes=30),
                status=status,
                source=Source.PATIENT if "patient_id" in who else Source.PHONE,
                **who,
            ),
            now=clock.now(),
        )

    await book(paris(2027, 1, 12, 9), "Dr Dupont", patient_id=5001)
    await book(
        paris(2027, 1, 12, 9), "Dr Martin", caller_name="Mme Durand", caller_phone="+33 6 12"
    )
    await book(paris(2027, 1, 14, 10), "Dr Martin", Status.REQUESTED, patient_id=5001)
    await store.blocks.add(
        NewBlock(dupont, paris(2027, 1, 13, 10), paris(2027, 1, 13, 12), reason="formation"),
        actor=CLAIRE,
        now=clock.now(),
    )


async def test_the_day_as_text(bot, tg, week, claire):
    await claire.send("/agenda cabinet-dupont demain")
    assert claire.last.text.splitlines() == [
        "🗓 Cabinet dentaire Dupont · mardi 12 janvier",
        "09:00–09:30 ✅ Détartrage · Alice Martin · Dr Dupont",
        "09:00–09:30 ✅ Détartrage · 📞 Mme Durand · Dr Martin",
    ]
    await claire.send("/agenda cabinet-dupont 13/01")
    assert claire.last.text.splitlines()[1:] == ["10:00–12:00 ⛔ formation · tout l'établissement"]
    await claire.send("/agenda cabinet jeudi")
    assert claire.last.text.splitlines()[1] == (
        "10:00–10:30 ⏳ Détartrage · Alice Martin · Dr Martin"
    )
    await claire.send("/agenda cabinet-dupont dimanche")
    assert claire.last.text.splitlines()[1] == "Fermé ce jour-là."


async def test_without_a_business_every_business_with_something_that_day(bot, tg, week, claire):
    await claire.send("/agenda")
    assert claire.last.text == "Rien de prévu lundi 11 janvier."
    await claire.send("/agenda demain")
    assert claire.last.text.startswith("🗓 Cabinet dentaire Dupont · mardi 12 janvier")
    assert "Institut" not in claire.last.text


async def test_a_week_as_an_image_a_phone_shows(bot, tg, week, claire):
    await claire.send("/agenda semaine")
    assert claire.last.text == "L'agenda de la semaine de quel établissement ?"
    assert claire.last.buttons == [["Cabinet dentaire Dupont"], ["Institut Belle Peau"]]
    await claire.tap("Cabinet dentaire Dupont")
    name, data = claire.last.photo
    assert name == "agenda-cabinet-dupont-2027-01-11.png"
    assert png_size(data) == (WIDTH_PX, HEIGHT_PX)
    assert claire.last.caption.splitlines() == [
        "🗓 Cabinet dentaire Dupont · semaine du lundi 11 janvier",
        "Rendez-vous : 3, dont 1 en attente (hachurés).",
    ]
    await claire.send("/agenda institut semaine prochaine")
    name, data = claire.last.photo
    assert name == "agenda-institut-belle-peau-2027-01-18.png"
    assert png_size(data) == (WIDTH_PX, HEIGHT_PX)


@pytest.mark.parametrize(
    ("language", "asked", "welcome"),
    [
        ("fr", "/agenda cabinet-dupont semaine", "Bonjour"),
        ("en", "/agenda cabinet-dupont week", "Hello"),
    ],
)
async def test_other_chats_are_answered_while_the_week_is_drawn(
    bot, tg, week, monkeypatch, language, asked, welcome
):
    """The drawing is held until the patient's answer has come: it came while it was held."""
    drawing, release = threading.Event(), threading.Event()

    def held(*args):
        drawing.set()
        release.wait(timeout=30)
        return render_week(*args)

    monkeypatch.setattr(agenda, "render_week", held)
    claire = tg.user(CLAIRE, "Claire", language=language)
    patient = tg.user(7001, "Paul", language=language)
    answered = asyncio.Event()
    tg.on_event = lambda line: any(m.from_bot for m in patient.messages) and answered.set()
    asking = asyncio.create_task(claire.send(asked))
    await asyncio.to_thread(drawing.wait, 30)
    booking = asyncio.create_task(patient.send("/start cabinet-dupont"))
    async with asyncio.timeout(30):
        await answered.wait()
    assert patient.last.text.startswith(welcome)
    assert not [m for m in claire.messages if m.from_bot and m.photo]
    release.set()
    await asking
    await booking
    name, data = claire.last.photo
    assert name == "agenda-cabinet-dupont-2027-01-11.png"
    assert png_size(data) == (WIDTH_PX, HEIGHT_PX)


async def test_an_employer_sees_their_own_agenda_and_no_other(bot, tg, week, caplog):
    employer = tg.user(DUPONT, "Dr Dupont", language="fr")
    await employer.send("/agenda demain")
    assert employer.last.text.startswith("🗓 Cabinet dentaire Dupont · mardi 12 janvier")
    await employer.send("/agenda semaine")
    assert employer.last.photo[0] == "agenda-cabinet-dupont-2027-01-11.png"

    messages = len(employer.messages)
    await employer.send("/agenda institut-belle-peau demain")
    assert employer.last.text == "Cet agenda est réservé à l'établissement concerné."
    assert len(employer.messages) == messages + 1
    assert "asked for the agenda of institut-belle-peau" in caplog.text

    # The week button of another business, replayed, is refused too.
    message = employer.last
    message.reply_markup = {
        "inline_keyboard": [
            [{"text": "Institut", "callback_data": "agw:institut-belle-peau:20270111"}]
        ]
    }
    await employer.tap("Institut", in_message=message)
    assert employer.answers[-1] == "Cette action est réservée au secrétariat."
    assert len(employer.messages) == messages + 1


async def test_an_unreadable_period_gets_the_usage(bot, tg, claire):
    await claire.send("/agenda n'importe quoi")
    assert claire.last.text.startswith("Utilisation : /agenda [établissement]")


async def test_ics_of_the_coming_weeks_imports_in_a_calendar(bot, tg, week, claire):
    await claire.send("/ics cabinet-dupont")
    name, data = claire.last.document
    assert name == "cabinet-dupont-2027-01-11.ics"
    assert claire.last.caption.startswith("🗓 Cabinet dentaire Dupont : 4 rendez-vous et blocages")
    calendar = Calendar.from_ical(data)
    assert str(calendar["X-WR-CALNAME"]) == "Cabinet dentaire Dupont"
    events = {str(e["UID"]): e for e in calendar.walk("VEVENT")}
    assert set(events) == {
        "appointment-1@secretary-bot",
        "appointment-2@secretary-bot",
        "appointment-3@secretary-bot",
        "block-1@secretary-bot",
    }
    first = events["appointment-1@secretary-bot"]
    assert str(first["SUMMARY"]) == "Détartrage · Alice Martin"
    assert first.decoded("DTSTART") == paris(2027, 1, 12, 9)
    assert str(first["STATUS"]) == "CONFIRMED"
    assert str(first["LOCATION"]) == "12 rue de la Paix, 75002 Paris"
    assert str(events["appointment-3@secretary-bot"]["STATUS"]) == "TENTATIVE"
    assert str(events["block-1@secretary-bot"]["SUMMARY"]) == "⛔ formation · tout l'établissement"


async def test_ics_needs_a_business_and_is_refused_to_employers(bot, tg, claire):
    await claire.send("/ics")
    assert claire.last.text.startswith("Utilisation : /ics <établissement>")
    employer = tg.user(DUPONT, "Dr Dupont", language="fr")
    await employer.send("/ics cabinet-dupont")
    assert employer.last.text == "Cette action est réservée au secrétariat."
    assert employer.last.document is None


async def test_in_english_and_a_closed_week(config_data, store, clock, tg):
    from bot.config import parse_settings
    from tests.conftest import running_bot

    config_data["secretaries"].append({"telegram_id": 444, "name": "Sophie", "language": "en"})
    config_data["businesses"][0]["closed"] = ["2027-01-18..2027-01-24"]
    async with running_bot(parse_settings(config_data), store, clock, tg):
        sophie = tg.user(444, "Sophie", language="en")
        await sophie.send("/agenda cabinet-dupont tomorrow")
        assert sophie.last.text.splitlines() == [
            "🗓 Cabinet dentaire Dupont · Tuesday, January 12",
            "No appointment.",
        ]
        await sophie.send("/agenda cabinet-dupont next week")
        assert sophie.last.text == (
            "Cabinet dentaire Dupont is closed the whole week of Monday, January 18,"
            " with no appointment."
        )
        await sophie.send("/requests")
        assert sophie.last.text == "📭 No pending request. All done!"


async def test_a_patients_confirmation_shows_in_the_agenda(bot, tg, store, clock, week, claire):
    (first, *_) = await store.appointments.of_patient(5001, clock.now())
    await store.appointments.confirm_attendance(first.id, now=clock.now())
    await claire.send("/agenda cabinet-dupont demain")
    assert claire.last.text.splitlines()[1] == (
        "09:00–09:30 ✅ Détartrage · Alice Martin (présence confirmée 👍) · Dr Dupont"
    )
