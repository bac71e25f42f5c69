"""Reminders, expiry, daily summaries and digests, with the clock moved by the test.

The bot runs against the simulator; the scheduled sweep is run as the job queue would run
it, at the instants the test chooses.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from storage.appointments import NewAppointment, Source, Status
from tests.conftest import PARIS, sweep

pytestmark = pytest.mark.backends

CLAIRE = 111111111
DUPONT = 222222222  # the employer of cabinet-dupont
INSTITUTE = 333333333  # the employer of institut-belle-peau


def paris(*args: int) -> datetime:
    return datetime(*args, tzinfo=PARIS)


@pytest.fixture
def claire(tg):
    return tg.user(CLAIRE, "Claire", language="fr")


@pytest.fixture
def alice(tg):
    return tg.user(5001, "Alice", language="fr")


async def book(
    store,
    clock,
    patient,
    start: datetime,
    *,
    status=Status.CONFIRMED,
    service="detartrage",
    slug="cabinet-dupont",
    practitioner="Dr Dupont",
):
    """An appointment made now (the clock's now), as the booking flow would store it."""
    await store.people.seen(
        patient.id,
        first_name=patient.first_name,
        last_name=None,
        username=None,
        language=patient.language,
        now=clock.now(),
    )
    await store.people.bind(patient.id, store.business_ids[slug])
    return await store.appointments.book(
        NewAppointment(
            business_id=store.business_ids[slug],
            practitioner=practitioner,
            service=service,
            starts_at=start,
            ends_at=start + timedelta(minutes=30),
            status=status,
            source=Source.PATIENT,
            patient_id=patient.id,
        ),
        now=clock.now(),
        actor=patient.id,
    )


def reminders(user) -> list:
    return [m for m in user.messages if m.text.startswith(("⏰ Rappel", "⏰ Reminder"))]


async def test_each_reminder_is_sent_once_at_its_offset(bot, tg, store, clock, alice):
    await book(store, clock, alice, paris(2027, 1, 13, 10))  # Wednesday, booked Monday 09:00
    clock.set(paris(2027, 1, 11, 9, 59))
    await sweep(bot)
    assert reminders(alice) == []
    clock.set(paris(2027, 1, 11, 10, 0))  # 48 h before
    await sweep(bot)
    await sweep(bot)
    (first,) = reminders(alice)
    assert first.text.splitlines() == [
        "⏰ Rappel : Détartrage mercredi 13 janvier à 10:00, avec Dr Dupont.",
        "Cabinet dentaire Dupont, 12 rue de la Paix, 75002 Paris",
    ]
    assert first.buttons == [["✅ Je serai là", "📅 Déplacer", "❌ Annuler"]]
    clock.set(paris(2027, 1, 13, 8, 0))  # 2 h before
    await sweep(bot)
    await sweep(bot)
    assert len(reminders(alice)) == 2
    clock.set(paris(2027, 1, 13, 10, 1))
    await sweep(bot)
    assert len(reminders(alice)) == 2


async def test_after_downtime_only_the_latest_due_reminder_is_sent(bot, store, clock, alice):
    await book(store, clock, alice, paris(2027, 1, 13, 10))
    clock.set(paris(2027, 1, 13, 8, 30))  # the bot was down from Monday until now
    await sweep(bot)
    (only,) = reminders(alice)
    assert "mercredi 13 janvier à 10:00" in only.text
    clock.set(paris(2027, 1, 13, 9, 0))
    await sweep(bot)
    assert len(reminders(alice)) == 1


async def test_an_offset_already_past_at_booking_is_never_sent(bot, store, clock, alice):
    await book(store, clock, alice, paris(2027, 1, 12, 10))  # 25 h ahead: no 48 h reminder
    for hour in range(10, 24):
        clock.set(paris(2027, 1, 11, hour))
        await sweep(bot)
    assert reminders(alice) == []
    clock.set(paris(2027, 1, 12, 8, 0))
    await sweep(bot)
    assert len(reminders(alice)) == 1


async def test_requests_cancelled_and_past_appointments_get_no_reminder(bot, store, clock, tg):
    patients = [tg.user(5001 + i, f"P{i}", language="fr") for i in range(3)]
    await book(store, clock, patients[0], paris(2027, 1, 13, 10), status=Status.REQUESTED)
    cancelled = await book(store, clock, patients[1], paris(2027, 1, 13, 11))
    await store.appointments.change_status(
        cancelled.id, expected=[Status.CONFIRMED], to=Status.CANCELLED, now=clock.now(), actor=1
    )
    await book(store, clock, patients[2], paris(2027, 1, 13, 12))
    clock.set(paris(2027, 1, 13, 12, 30))  # after all of them
    await sweep(bot)
    assert all(reminders(p) == [] for p in patients)


async def test_a_moved_appointment_is_reminded_for_its_new_time(bot, store, clock, alice):
    appointment = await book(store, clock, alice, paris(2027, 1, 13, 10))
    clock.set(paris(2027, 1, 11, 10))
    await sweep(bot)
    assert len(reminders(alice)) == 1
    clock.set(paris(2027, 1, 11, 11))
    await store.appointments.move(
        appointment.id,
        starts_at=paris(2027, 1, 14, 15),
        ends_at=paris(2027, 1, 14, 15, 30),
        practitioner="Dr Dupont",
        status=Status.CONFIRMED,
        source=Source.PATIENT,
        now=clock.now(),
        actor=alice.id,
    )
    clock.set(paris(2027, 1, 12, 15))  # 48 h before the new time
    await sweep(bot)
    assert "jeudi 14 janvier à 15:00" in reminders(alice)[-1].text
    clock.set(paris(2027, 1, 13, 8))  # the old 2 h mark: nothing
    await sweep(bot)
    assert len(reminders(alice)) == 2
    clock.set(paris(2027, 1, 14, 13))
    await sweep(bot)
    assert len(reminders(alice)) == 3
    assert "jeudi 14 janvier à 15:00" in reminders(alice)[-1].text


async def test_the_reminder_buttons_confirm_move_and_cancel(bot, tg, store, clock, alice, claire):
    appointment = await book(store, clock, alice, paris(2027, 1, 13, 10))
    bob = tg.user(5002, "Bob", language="fr")
    bobs = await book(store, clock, bob, paris(2027, 1, 13, 11), practitioner="Dr Martin")
    clock.set(paris(2027, 1, 11, 11))
    await sweep(bot)
    await alice.tap("✅ Je serai là", in_message=reminders(alice)[0])
    assert alice.last.text.startswith("Merci ! C'est noté : nous vous attendons mercredi 13")
    assert (await store.appointments.get(appointment.id)).patient_confirmed_at == clock.now()

    await bob.tap("📅 Déplacer", in_message=reminders(bob)[0])
    assert bob.last.text.startswith("Détartrage (30 min). Quel jour")
    await bob.tap("jeu. 14 janv.")
    await bob.tap("09:00")
    assert (await store.appointments.get(bobs.id)).starts_at == paris(2027, 1, 14, 9)

    clock.set(paris(2027, 1, 13, 8))
    await sweep(bot)
    # Two hours before, inside the cancel notice: the office decides, warned at once.
    await alice.tap("❌ Annuler", in_message=reminders(alice)[-1])
    await alice.tap("Oui, annuler")
    assert (await store.appointments.get(appointment.id)).status == Status.CONFIRMED
    assert "ne peut plus être annulé en ligne" in alice.last.text
    assert claire.last.text.startswith("⏰ Annulation tardive demandée")
    await claire.tap("🗑 Annuler", in_message=claire.last)
    assert (await store.appointments.get(appointment.id)).status == Status.CANCELLED


async def test_a_patient_who_blocked_the_bot_is_skipped_once(bot, store, clock, alice, tg):
    await book(store, clock, alice, paris(2027, 1, 13, 10))
    alice.block_bot()
    clock.set(paris(2027, 1, 11, 10))
    await sweep(bot)
    await sweep(bot)
    (refused,) = await store.outbox.messages(kind="reminder")
    assert (refused.status, refused.attempts) == ("failed", 1)
    bob = tg.user(5002, "Bob", language="en")
    await book(store, clock, bob, paris(2027, 1, 13, 11), practitioner="Dr Martin")
    clock.set(paris(2027, 1, 13, 9, 30))
    await sweep(bot)
    assert reminders(bob)[-1].text.startswith(
        "⏰ Reminder: Teeth cleaning on Wednesday, January 13"
    )
    assert reminders(alice) == []  # refused once, never retried, and Bob still served


async def test_an_unanswered_request_expires_frees_its_slot_and_offers_again(
    bot, tg, store, clock, alice, claire
):
    await alice.send("/start cabinet-dupont")
    await alice.send("un détartrage mercredi à 10h")
    await alice.tap("10:00")
    request = claire.last
    clock.set(paris(2027, 1, 12, 8, 59))
    await sweep(bot)
    (appointment,) = await store.appointments.of_patient(alice.id, clock.now())
    assert appointment.status == Status.REQUESTED
    clock.set(paris(2027, 1, 12, 9, 0))  # 24 h later
    await sweep(bot)
    assert (await store.appointments.get(appointment.id)).status == Status.EXPIRED
    assert request.text.endswith("⌛ Expirée sans réponse : le créneau est libéré.")
    assert request.buttons == []
    assert alice.last.text.startswith("Désolé, votre demande Détartrage du mercredi 13 janvier")
    assert alice.last.buttons[0][0] == "10:00"  # free again, offered first
    await alice.tap("10:00")
    assert alice.last.text.startswith("Votre demande est envoyée")


async def test_the_daily_summary_goes_once_a_day_at_local_time_across_spring_dst(
    bot, tg, store, clock, alice
):
    """A week across 28 March 2027 (clocks go forward), the clock moving 15 minutes a step."""
    dupont = tg.user(DUPONT, "Dr Dupont", language="fr")
    institute = tg.user(INSTITUTE, "Léa", language="fr")
    clock.set(paris(2027, 3, 22, 0, 0))
    await book(store, clock, alice, paris(2027, 3, 26, 10))  # Friday
    end = paris(2027, 3, 29, 0, 0)
    while clock.now() < end:
        await sweep(bot)
        clock.advance(timedelta(minutes=15))
    summaries = [m for m in dupont.messages if m.text.startswith("📋")]
    assert [m.date.astimezone(PARIS).strftime("%a %H:%M") for m in summaries] == [
        "Mon 19:00",
        "Tue 19:00",
        "Wed 19:00",
        "Thu 19:00",
        "Fri 19:00",
        "Sat 19:00",
        "Sun 19:00",
    ]
    thursday = summaries[3].text.splitlines()
    assert thursday[0] == "📋 Cabinet dentaire Dupont · résumé du jeudi 25 mars"
    assert thursday[1] == "Demain, vendredi 26 mars — rendez-vous : 1"
    assert thursday[2] == (
        "• 10:00 Alice · Détartrage · Dr Dupont · pas encore confirmé par le patient"
    )
    assert [m.date.astimezone(PARIS).strftime("%H:%M") for m in institute.messages] == ["20:00"] * 7


async def test_reminders_and_summaries_across_autumn_dst(bot, tg, store, clock, alice):
    """31 October 2027: clocks go back. A Monday 10:00 appointment, booked a week ahead."""
    dupont = tg.user(DUPONT, "Dr Dupont", language="fr")
    clock.set(paris(2027, 10, 25, 9))
    appointment = await book(store, clock, alice, paris(2027, 11, 2, 10))  # Tuesday
    clock.set(paris(2027, 10, 29, 0, 0))
    while clock.now() < paris(2027, 11, 2, 10, 0):
        await sweep(bot)
        clock.advance(timedelta(minutes=15))
    sent = [m.date for m in reminders(alice)]
    assert [appointment.starts_at - moment for moment in sent] == [
        timedelta(hours=48),
        timedelta(hours=2),
    ]
    summaries = [m.date.astimezone(PARIS) for m in dupont.messages if m.text.startswith("📋")]
    assert [m.strftime("%d %H:%M") for m in summaries] == [
        "29 19:00",
        "30 19:00",
        "31 19:00",
        "01 19:00",
    ]


async def test_the_secretary_morning_digest_lists_today_and_who_to_call(
    bot, tg, store, clock, claire, alice
):
    bob = tg.user(5002, "Bob", language="fr")
    clock.set(paris(2027, 1, 10, 12))
    await book(store, clock, alice, paris(2027, 1, 11, 10))  # today
    tomorrow = await book(store, clock, bob, paris(2027, 1, 12, 9), practitioner="Dr Martin")
    await store.people.set_phone(bob.id, "+33 6 12 34 56 78")
    clock.set(paris(2027, 1, 11, 7, 59))
    await sweep(bot)
    assert claire.messages == []
    clock.set(paris(2027, 1, 11, 8, 0))
    await sweep(bot)
    await sweep(bot)
    (digest,) = claire.messages
    assert digest.text.splitlines() == [
        "☀️ Bonjour ! Votre journée du lundi 11 janvier",
        "Cabinet dentaire Dupont — rendez-vous : 1",
        "• 10:00 Alice · Détartrage · Dr Dupont · pas encore confirmé par le patient",
        "Demandes en attente : 0",
        "📞 À appeler (rendez-vous demain, non confirmés) : 1",
        "• 09:00 Bob · +33 6 12 34 56 78 · Cabinet dentaire Dupont",
    ]
    assert tomorrow.patient_confirmed_at is None


async def test_resume_on_demand_for_the_employers_own_business_only(bot, tg, store, clock, alice):
    await book(store, clock, alice, paris(2027, 1, 12, 10))
    dupont = tg.user(DUPONT, "Dr Dupont", language="fr")
    await dupont.send("/resume")
    assert dupont.last.text.startswith("📋 Cabinet dentaire Dupont · résumé du lundi 11 janvier")
    assert "Alice" in dupont.last.text
    await dupont.send("/resume institut-belle-peau")
    assert dupont.last.text == "Ce résumé est réservé aux responsables de l'établissement."
    institute = tg.user(INSTITUTE, "Léa", language="en")
    await institute.send("/summary")
    assert institute.last.text.startswith("📋 Institut Belle Peau")
    assert "Alice" not in institute.last.text
    await alice.send("/resume")
    assert alice.last.text == "Ce résumé est réservé aux responsables de l'établissement."


async def test_a_morning_digest_missed_by_hours_is_not_sent_in_the_evening(bot, clock, claire):
    clock.set(paris(2027, 1, 11, 19, 0))  # the bot was down all day
    await sweep(bot)
    assert claire.messages == []
    clock.set(paris(2027, 1, 12, 9, 30))  # back the next morning, a little late
    await sweep(bot)
    assert claire.last.text.startswith("☀️ Bonjour ! Votre journée du mardi 12 janvier")


async def test_the_summary_lists_the_days_call_messages_urgent_ones_marked(bot, tg, store, clock):
    from storage.calls import NewCall

    dupont_id = store.business_ids["cabinet-dupont"]
    clock.set(paris(2027, 1, 11, 10, 12))
    await store.calls.add(
        NewCall(dupont_id, "Mme Durand", "+33 6 12 34 56 78", "Rappeler pour un devis"),
        actor=CLAIRE,
        now=clock.now(),
    )
    clock.set(paris(2027, 1, 11, 16, 40))
    await store.calls.add(
        NewCall(dupont_id, "M. Petit", None, "Douleur forte depuis hier", urgent=True),
        actor=CLAIRE,
        now=clock.now(),
    )
    dupont = tg.user(DUPONT, "Dr Dupont", language="fr")
    clock.set(paris(2027, 1, 11, 19, 0))
    await sweep(bot)
    assert dupont.last.text.splitlines()[-4:-1] == [
        "📞 Appels reçus aujourd'hui : 2",
        "• 10:12 Mme Durand (+33 6 12 34 56 78) : Rappeler pour un devis",
        "• 16:40 🚨 URGENT M. Petit (—) : Douleur forte depuis hier",
    ]


async def test_the_summary_shows_the_days_missions_and_the_months_running_total(
    bot, tg, store, clock
):
    from storage.missions import NewMission

    dupont_id = store.business_ids["cabinet-dupont"]

    async def mission_done(kind: str, description: str, fee: int, when: datetime) -> None:
        clock.set(when)
        mission = await store.missions.create(
            NewMission(dupont_id, kind, description, fee), now=clock.now(), actor=CLAIRE
        )
        await store.missions.finish(mission.id, now=clock.now())

    await mission_done("call", "Permanence téléphonique", 3500, paris(2027, 1, 5, 11))
    await mission_done("transcription", "Compte rendu réunion", 4500, paris(2027, 1, 11, 15))
    dupont = tg.user(DUPONT, "Dr Dupont", language="fr")
    clock.set(paris(2027, 1, 11, 19, 0))
    await sweep(bot)
    assert dupont.last.text.splitlines()[-4:-1] == [
        "🗂 Missions faites aujourd'hui : 1",
        "• Transcription : Compte rendu réunion — 45,00\xa0€",
        "Total du mois à ce jour : 80,00\xa0€",
    ]


async def test_a_busy_days_digest_comes_in_several_messages_not_none(bot, tg, store, clock, claire):
    dupont_id = store.business_ids["cabinet-dupont"]
    for index in range(60):
        start = paris(2027, 1, 11, 9) + timedelta(minutes=10 * index)
        await store.appointments.book(
            NewAppointment(
                business_id=dupont_id,
                practitioner=("Dr Dupont", "Dr Martin")[index % 2],
                service="detartrage",
                starts_at=start,
                ends_at=start + timedelta(minutes=5),
                status=Status.CONFIRMED,
                source=Source.PHONE,
                caller_name=f"Appelant numéro {index} avec un nom assez long pour remplir la ligne",
                caller_phone="+33 6 12 34 56 78",
            ),
            now=clock.now(),
        )
    clock.set(paris(2027, 1, 11, 8, 0))
    await sweep(bot)
    texts = [m.text for m in claire.messages]
    assert len(texts) >= 2
    assert texts[0].startswith("☀️ Bonjour ! Votre journée du lundi 11 janvier")
    assert sum(text.count("Appelant numéro") for text in texts) == 60


async def test_the_digest_lists_apart_the_patients_it_cannot_call(bot, store, clock, alice, tg):
    from telegram.ext import CallbackContext

    from bot.summaries import Summaries
    from handlers.common import deps

    bob = tg.user(5002, "Bob", language="en")
    await book(store, clock, alice, paris(2027, 1, 12, 10))
    await book(store, clock, bob, paris(2027, 1, 12, 11), practitioner="Dr Martin")
    await store.people.set_phone(alice.id, "+33 6 12 34 56 78")
    d = deps(CallbackContext(bot))
    text = await Summaries(d.booking, d.store, d.i18n).secretary_digest("fr", clock.now().date())
    lines = text.splitlines()
    to_call = lines.index("📞 À appeler (rendez-vous demain, non confirmés) : 1")
    assert lines[to_call + 1] == "• 10:00 Alice · +33 6 12 34 56 78 · Cabinet dentaire Dupont"
    apart = lines.index("💬 Sans numéro, joignables seulement ici, par Telegram : 1")
    assert lines[apart + 1] == "• 11:00 Bob · Cabinet dentaire Dupont"
