"""The central flow, end to end: the real bot polling the simulator over HTTP.

The clock stands on Monday 11 January 2027, 09:00 in Paris.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime

import pytest

from storage.appointments import Status
from tests.conftest import PARIS, running_bot

pytestmark = pytest.mark.backends

CLAIRE = 111111111
EMPLOYER = 222222222


@pytest.fixture
def claire(tg):
    return tg.user(CLAIRE, "Claire", language="fr")


async def book_with_buttons(
    patient, slug="cabinet-dupont", service="Détartrage", book="📅 Prendre rendez-vous"
):
    await patient.send(f"/start {slug}")
    await patient.tap(book)
    await patient.tap(service)
    await patient.tap(patient.last.buttons[0][0])
    first_time = patient.last.buttons[0][0]
    await patient.tap(first_time)
    return first_time


async def test_deep_link_binds_the_patient_and_greets_in_their_language(bot, tg, store):
    alice = tg.user(5001, "Alice", language="fr")
    await alice.send("/start cabinet-dupont")
    assert "Bonjour Alice" in alice.last.text
    assert "Cabinet dentaire Dupont" in alice.last.text
    assert alice.last.buttons == [["📅 Prendre rendez-vous", "🗓 Mes rendez-vous"]]
    person = await store.people.get(5001)
    assert person.business_id == store.business_ids["cabinet-dupont"]

    bob = tg.user(5003, "Bob", language="en-GB")
    await bob.send("/start institut-belle-peau")
    assert bob.last.text.startswith("Hello Bob! I am the assistant of Institut Belle Peau")


async def test_start_without_a_link_asks_which_business(bot, tg):
    alice = tg.user(5001, "Alice", language="fr")
    await alice.send("/start")
    assert alice.last.buttons == [["Cabinet dentaire Dupont"], ["Institut Belle Peau"]]
    await alice.tap("Institut Belle Peau")
    assert "Institut Belle Peau" in alice.last.text


async def test_an_unknown_link_is_said_so(bot, tg):
    alice = tg.user(5001, "Alice", language="fr")
    await alice.send("/start cabinet-inconnu")
    assert "aucun établissement" in alice.last.text


async def test_with_one_business_start_alone_binds_it(config_data, store, clock, tg):
    from bot.config import parse_settings

    config_data["businesses"] = config_data["businesses"][:1]
    async with running_bot(parse_settings(config_data), store, clock, tg):
        alice = tg.user(5001, "Alice", language="fr")
        await alice.send("/start")
        assert "Cabinet dentaire Dupont" in alice.last.text


async def test_buttons_request_confirm_and_the_patient_is_told(bot, tg, store, claire):
    alice = tg.user(5001, "Alice", last_name="Martin", username="alice_m", language="fr")
    await alice.send("/start cabinet-dupont")
    await alice.tap("📅 Prendre rendez-vous")
    assert alice.last.text == "Pour quel motif ?"
    await alice.tap("Détartrage")
    assert "Détartrage (30 min)" in alice.last.text
    # Monday at 09:00 with two hours' notice still has room today.
    assert alice.last.buttons[0] == ["lun. 11 janv."]
    await alice.tap("mar. 12 janv.")
    assert alice.last.buttons[0] == ["08:30", "08:45", "09:00"]
    await alice.tap("09:00")

    request_sent, ask_phone = alice.messages[-2:]
    assert "Votre demande est envoyée : Détartrage, mardi 12 janvier à 09:00, avec Dr Dupont" in (
        request_sent.text
    )
    assert request_sent.buttons == []
    # Asked once for a phone number, with the phone's own share button.
    assert ask_phone.text.startswith("Pour que le secrétariat puisse vous joindre")
    assert alice.keyboard == [["📱 Partager mon numéro"]]
    (appointment,) = await store.appointments.of_patient(5001, tg.now())
    assert appointment.status == Status.REQUESTED

    request = claire.last
    assert request.text.splitlines() == [
        "📥 Nouvelle demande · Cabinet dentaire Dupont",
        "Alice Martin · @alice_m",
        "Détartrage · mardi 12 janvier à 09:00",
        "Avec Dr Dupont",
    ]
    assert request.buttons == [["✅ Confirmer", "❌ Refuser"], ["🔁 Proposer un autre créneau"]]

    await claire.tap("✅ Confirmer", in_message=request)
    assert claire.last.text.endswith("✅ Confirmé par Claire")
    # Decided: only the offer to repeat it as a series is left (handlers.series).
    assert claire.last.buttons == [["🔁 Répéter…"]]
    assert alice.last.text.splitlines() == [
        "Votre rendez-vous est confirmé ✅",
        "Détartrage, mardi 12 janvier à 09:00, avec Dr Dupont.",
        "Cabinet dentaire Dupont, 12 rue de la Paix, 75002 Paris",
    ]
    history = await store.appointments.history(appointment.id)
    assert [(h.actor, h.to_status) for h in history] == [
        (5001, Status.REQUESTED),
        (CLAIRE, Status.CONFIRMED),
    ]


async def test_typed_request_offers_the_asked_slot_first(bot, tg, store, claire):
    alice = tg.user(5001, "Alice", language="fr")
    await alice.send("/start cabinet-dupont")
    await alice.send("Bonjour, un détartrage le 14 janvier à 10h svp")
    assert "le créneau demandé est libre" in alice.last.text
    assert alice.last.buttons[0][0] == "10:00"
    await alice.tap("10:00")
    (appointment,) = await store.appointments.of_patient(5001, tg.now())
    assert appointment.starts_at.isoformat() == "2027-01-14T09:00:00+00:00"
    assert "jeudi 14 janvier à 10:00" in claire.last.text


async def test_a_typed_request_without_service_asks_for_it_then_keeps_the_day(bot, tg):
    alice = tg.user(5001, "Alice", language="fr")
    await alice.send("/start cabinet-dupont")
    await alice.send("le 14 janvier à 10h")
    assert alice.last.text == "Pour quel motif ?"
    await alice.tap("Consultation")
    assert alice.last.buttons[0][0] == "10:00"


async def test_a_taken_time_offers_the_nearest(bot, tg, store):
    for patient_id in (5001, 5002):  # both practitioners at 10:00
        patient = tg.user(patient_id, f"P{patient_id}", language="fr")
        await patient.send("/start cabinet-dupont")
        await patient.send("détartrage le 14 janvier à 10h")
        await patient.tap("10:00")
    carol = tg.user(5004, "Carol", language="fr")
    await carol.send("/start cabinet-dupont")
    await carol.send("détartrage le 14 janvier à 10h")
    assert "jeudi 14 janvier à 10:00 n'est pas disponible" in carol.last.text
    assert carol.last.buttons[:2] == [["09:00", "09:15", "09:30"], ["10:30", "10:45", "11:00"]]


async def test_two_patients_tapping_the_same_time_get_both_practitioners_then_none(bot, tg, store):
    patients = [tg.user(5001 + i, f"P{i}", language="fr") for i in range(3)]
    for patient in patients:
        await patient.send("/start cabinet-dupont")
        await patient.send("détartrage le 14 janvier à 10h")
    for patient in patients:
        await patient.tap("10:00", in_message=patient.last)
    booked = [await store.appointments.of_patient(p.id, tg.now()) for p in patients]
    assert sorted(a[0].practitioner for a in booked[:2]) == ["Dr Dupont", "Dr Martin"]
    assert booked[2] == []
    assert patients[2].last.text.startswith("Désolé, ce créneau vient d'être pris.")


async def test_decline_tells_the_patient_and_frees_the_slot(bot, tg, store, claire):
    alice = tg.user(5001, "Alice", language="fr")
    await alice.send("/start cabinet-dupont")
    await alice.send("blanchiment le 14 janvier à 10h")
    await alice.tap("10:00")
    await claire.tap("❌ Refuser", in_message=claire.last)
    assert claire.last.text.endswith("❌ Refusé par Claire")
    assert "ne peut pas vous recevoir jeudi 14 janvier à 10:00" in alice.last.text
    assert alice.last.buttons == [["Choisir un autre créneau"]]
    held = await store.appointments.holding(
        store.business_ids["cabinet-dupont"], tg.now(), tg.now().replace(year=2028)
    )
    assert held == []


async def test_anyone_else_replaying_the_secretary_button_is_refused_and_logged(
    bot, tg, store, claire, caplog
):
    alice = tg.user(5001, "Alice", language="fr")
    await alice.send("/start cabinet-dupont")
    await alice.send("détartrage le 14 janvier à 10h")
    await alice.tap("10:00")
    request = claire.last
    mallory = tg.user(6666, "Mallory", language="fr")
    employer = tg.user(EMPLOYER, "Dr Dupont", language="fr")
    with caplog.at_level(logging.WARNING):
        for intruder in (mallory, employer, alice):
            await intruder.tap("✅ Confirmer", in_message=request)
            assert intruder.answers[-1] == "Cette action est réservée au secrétariat."
    refusals = [r for r in caplog.records if "not a secretary" in r.getMessage()]
    assert len(refusals) == 3
    (appointment,) = await store.appointments.of_patient(5001, tg.now())
    assert appointment.status == Status.REQUESTED
    assert claire.last.buttons[0] == ["✅ Confirmer", "❌ Refuser"]


async def test_every_secretary_gets_the_request_and_a_second_answer_is_stale(
    config_data, store, clock, tg
):
    from bot.config import parse_settings

    config_data["secretaries"].append({"telegram_id": 444, "name": "Sophie", "language": "en"})
    async with running_bot(parse_settings(config_data), store, clock, tg):
        claire = tg.user(CLAIRE, "Claire", language="fr")
        sophie = tg.user(444, "Sophie", language="en")
        alice = tg.user(5001, "Alice", language="fr")
        await book_with_buttons(alice)
        assert sophie.last.text.startswith("📥 New request · Cabinet dentaire Dupont")
        # Both tap at once; the first tap handled wins, the other is told.
        await asyncio.gather(
            claire.tap("✅ Confirmer", in_message=claire.last),
            sophie.tap("❌ Decline", in_message=sophie.last),
        )
        assert sophie.last.text.endswith("✅ Confirmed by Claire")
        assert sophie.last.buttons == []
        assert sophie.answers[-1] == "This request was already handled: confirmed."
        assert "confirmé" in alice.last.text


async def test_a_business_without_confirmation_books_at_once(bot, tg, store, claire):
    bob = tg.user(5003, "Bob", language="en")
    await book_with_buttons(
        bob, slug="institut-belle-peau", service="Relaxing massage", book="📅 Book an appointment"
    )
    assert bob.messages[-2].text.startswith("Booked ✅ Relaxing massage")
    (appointment,) = await store.appointments.of_patient(5003, tg.now())
    assert appointment.status == Status.CONFIRMED
    assert claire.last.text.startswith("📅 Rendez-vous pris directement · Institut Belle Peau")
    assert claire.last.buttons == []


async def test_the_patient_lists_their_appointments(bot, tg):
    alice = tg.user(5001, "Alice", language="fr")
    await book_with_buttons(alice)
    await alice.send("quand est mon rdv ?")
    lines = alice.last.text.splitlines()
    assert lines[0] == "Vos rendez-vous :"
    assert "Détartrage avec Dr Dupont (en attente de confirmation)" in lines[1]


async def test_a_forged_button_changes_nothing(bot, tg, store):
    alice = tg.user(5001, "Alice", language="fr")
    await alice.send("/start cabinet-dupont")
    await alice.send("détartrage le 14 janvier à 10h")
    sunday = int(datetime(2027, 1, 17, 10, tzinfo=PARIS).timestamp())
    thursday = int(datetime(2027, 1, 14, 10, tzinfo=PARIS).timestamp())

    async def tap_forged(data: str) -> None:
        message = alice.last
        key = message.reply_markup["inline_keyboard"][0][0]
        key["callback_data"] = data
        await alice.tap(key["text"], in_message=message)

    await tap_forged(f"slot:detartrage:{sunday}:0")  # a Sunday: closed
    assert "n'est plus proposé" in alice.last.text
    await tap_forged(f"slot:detartrage:{thursday}:9")  # no ninth practitioner
    assert await store.appointments.of_patient(5001, tg.now()) == []
    assert alice.answers[-1] == "Ce bouton n'est plus valable. Reprenez depuis le dernier message."


async def test_an_unexpected_error_gets_a_polite_answer_and_a_logged_traceback(
    bot, tg, store, caplog
):
    alice = tg.user(5001, "Alice", language="fr")
    await alice.send("/start cabinet-dupont")
    async with store.db.transaction() as db:
        await db.execute("ALTER TABLE appointments RENAME TO appointments_lost")
    with caplog.at_level(logging.ERROR):
        await alice.tap("📅 Prendre rendez-vous")
        await alice.tap("Détartrage")
    assert "un problème est survenu" in alice.last.text
    errors = [r for r in caplog.records if r.getMessage() == "error while handling an update"]
    assert errors and errors[0].exc_info is not None


async def test_a_patient_who_blocked_the_bot_does_not_stop_the_secretary(bot, tg, claire, store):
    alice = tg.user(5001, "Alice", language="fr")
    await book_with_buttons(alice)
    request = claire.last
    alice.block_bot()
    await claire.tap("✅ Confirmer", in_message=request)
    assert claire.messages[claire.messages.index(request)].text.endswith("✅ Confirmé par Claire")
    # The confirmation could not reach Alice: the secretary is told, to call her instead.
    assert claire.last.text.startswith("⚠️ Message non remis · Cabinet dentaire Dupont\nAlice")
    assert "Confirmation du rendez-vous : Détartrage" in claire.last.text
    (confirmation,) = await store.outbox.messages(kind="patient.confirmed")
    assert confirmation.status == "failed"


async def test_a_forged_day_or_moment_is_refused_politely(bot, tg, store):
    alice = tg.user(5001, "Alice", language="fr")
    await alice.send("/start cabinet-dupont")
    await alice.send("détartrage le 14 janvier à 10h")
    message = alice.last
    key = message.reply_markup["inline_keyboard"][0][0]
    for forged in ("day:detartrage:20271399", f"slot:detartrage:{10**30}:0"):
        key["callback_data"] = forged
        await alice.tap(key["text"], in_message=message)
        assert (
            alice.answers[-1] == "Ce bouton n'est plus valable. Reprenez depuis le dernier message."
        )
    assert await store.appointments.of_patient(5001, tg.now()) == []


async def test_sharing_ones_own_contact_keeps_the_phone_for_the_office(bot, tg, store):
    alice = tg.user(5001, "Alice", language="fr")
    await alice.send("/start cabinet-dupont")
    await alice.share_contact("+33612345678")
    assert alice.last.text.startswith("Merci, votre numéro est enregistré")
    assert (await store.people.get(5001)).phone == "+33612345678"
    assert alice.keyboard is None  # the share button is gone


async def test_a_photo_goes_to_a_person(bot, tg, claire):
    alice = tg.user(5001, "Alice", language="fr")
    await alice.send("/start cabinet-dupont")
    await alice.send_photo(b"\xff\xd8 a blurry tooth", caption="c'est grave ?")
    assert alice.last.text.startswith("📨 J'ai transmis votre message au secrétariat")
    assert claire.last.photo == ("photo.jpg", b"\xff\xd8 a blurry tooth")


async def test_a_patient_who_names_a_practitioner_gets_that_practitioner(bot, tg, store):
    alice = tg.user(5001, "Alice", language="fr")
    await alice.send("/start cabinet-dupont")
    await alice.send("le 14 janvier à 10h avec le Dr Martin svp")
    await alice.tap("Détartrage")  # the service is asked; the practitioner is kept
    await alice.tap("10:00")
    (appointment,) = await store.appointments.of_patient(5001, tg.now())
    assert appointment.practitioner == "Dr Martin"

    bob = tg.user(5002, "Bob", language="fr")
    await bob.send("/start cabinet-dupont")
    await bob.send("un détartrage le 14 janvier à 10h avec le docteur Martin")
    # Dr Martin is taken at 10:00 (Dr Dupont is not): his nearest times are offered.
    assert "n'est pas disponible" in bob.last.text
    await bob.tap("10:30")
    booked = await store.appointments.of_patient(5002, tg.now())
    assert [a.practitioner for a in booked] == ["Dr Martin"]


async def test_a_patient_changes_language_whatever_the_phone_says(bot, tg, store):
    hans = tg.user(5009, "Hans", language="de")
    await hans.send("/start cabinet-dupont")
    assert hans.last.text.startswith("Bonjour Hans")  # no German: the office's language
    await hans.send("/language")
    assert hans.last.buttons == [["🇫🇷 Français", "🇬🇧 English"]]
    await hans.tap("🇬🇧 English")
    assert hans.last.text == "Done: I will write to you in English."
    assert hans.last.buttons == [["📅 Book an appointment", "🗓 My appointments"]]
    assert (await store.people.get(5009)).language == "en"
