"""Booking for a phone caller (/rdv) and passing on call messages (/appel), end to end.

The clock stands on Monday 11 January 2027, 09:00 in Paris.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from storage.appointments import Source, Status
from tests.conftest import PARIS

CLAIRE = 111111111
DUPONT = 222222222  # the employer of cabinet-dupont
DUPONT_BUSINESS = "Cabinet dentaire Dupont"


def paris(*args: int) -> datetime:
    return datetime(*args, tzinfo=PARIS)


@pytest.fixture
def claire(tg):
    return tg.user(CLAIRE, "Claire", language="fr")


async def dupont_appointments(store, tg):
    return await store.appointments.between(
        store.business_ids["cabinet-dupont"], tg.now(), tg.now() + timedelta(days=60)
    )


async def test_rdv_step_by_step_books_a_confirmed_phone_appointment(bot, tg, store, claire):
    await claire.send("/rdv")
    assert claire.last.text == "Pour quel établissement ?"
    await claire.tap(DUPONT_BUSINESS)
    assert claire.last.text.startswith("Cabinet dentaire Dupont · appelant : ? · ?")
    await claire.send("Mme Durand 06 12 34 56 78 détartrage mardi 10h")
    offer = claire.last
    assert offer.text.splitlines() == [
        "📞 Mme Durand · +33 6 12 34 56 78",
        "Détartrage : mardi 12 janvier à 10:00 est libre. Touchez l'heure pour confirmer.",
    ]
    assert offer.buttons[0][0] == "10:00"
    assert offer.buttons[-1] == ["Un autre jour"]
    await claire.tap("10:00", in_message=offer)
    assert claire.last.text.splitlines() == [
        "✅ Rendez-vous confirmé · Cabinet dentaire Dupont",
        "📞 Mme Durand · +33 6 12 34 56 78",
        "Détartrage · mardi 12 janvier à 10:00, avec Dr Dupont",
    ]
    (appointment,) = await dupont_appointments(store, tg)
    assert (appointment.status, appointment.source) == (Status.CONFIRMED, Source.PHONE)
    assert (appointment.caller_name, appointment.caller_phone) == (
        "Mme Durand",
        "+33 6 12 34 56 78",
    )
    assert appointment.patient_id is None
    assert appointment.starts_at == paris(2027, 1, 12, 10)
    (entry,) = await store.audit.entries(target=f"appointment:{appointment.id}")
    assert (entry.actor, entry.action, entry.before) == (CLAIRE, "appointment.book_phone", None)
    assert entry.after["caller_phone"] == "+33 6 12 34 56 78"
    assert entry.after["status"] == "confirmed"

    # The conversation is over: the next text is no booking.
    await claire.send("M. Petit 06 11 22 33 44 détartrage jeudi 10h")
    assert not claire.last.text.startswith("📞")
    assert len(await dupont_appointments(store, tg)) == 1


async def test_rdv_in_one_go_asks_only_for_what_is_missing(bot, tg, store, claire):
    await claire.send("/rdv cabinet-dupont Mme Durand mardi 10h")
    assert "Écrivez le téléphone de l'appelant" in claire.last.text
    await claire.send("06.12.34.56.78")
    assert claire.last.text.startswith("📞 Mme Durand · +33 6 12 34 56 78\nPour quel motif ?")
    await claire.tap("Soin de carie")
    assert claire.last.text.splitlines()[1] == (
        "Soin de carie : mardi 12 janvier à 10:00 est libre. Touchez l'heure pour confirmer."
    )
    await claire.tap("10:00")
    (appointment,) = await dupont_appointments(store, tg)
    assert appointment.service == "soin"
    assert appointment.ends_at - appointment.starts_at == timedelta(minutes=45)


async def test_a_taken_time_offers_the_nearest_and_another_day(bot, tg, store, claire):
    for name in ("Mme Durand 0612345678", "M. Petit 0611223344"):  # both practitioners at 10:00
        await claire.send(f"/rdv cabinet-dupont {name} détartrage mardi 10h")
        await claire.tap("10:00")
    await claire.send("/rdv cabinet-dupont Mme Leroy 0699887766 détartrage mardi 10h")
    assert claire.last.text.splitlines()[1] == (
        "Détartrage : mardi 12 janvier à 10:00 n'est pas libre. Les créneaux les plus proches :"
    )
    assert "10:00" not in [label for row in claire.last.buttons for label in row]
    await claire.tap("Un autre jour")
    assert claire.last.text == "Détartrage : quel jour ?"
    await claire.tap("jeu. 14 janv.")
    assert claire.last.text.splitlines()[1].startswith(
        "Détartrage : les créneaux libres à partir du jeudi 14 janvier"
    )
    await claire.tap("08:30")
    booked = await dupont_appointments(store, tg)
    assert [a.caller_name for a in booked] == ["Mme Durand", "M. Petit", "Mme Leroy"]
    assert booked[-1].starts_at == paris(2027, 1, 14, 8, 30)


async def test_a_slot_taken_between_offer_and_tap_offers_the_nearest(bot, tg, store, claire):
    await claire.send("/rdv cabinet-dupont Mme Durand 0612345678 détartrage mardi 10h")
    offer = claire.last
    for patient_id in (5001, 5002):
        patient = tg.user(patient_id, f"P{patient_id}", language="fr")
        await patient.send("/start cabinet-dupont")
        await patient.send("détartrage le 12 janvier à 10h")
        await patient.tap("10:00")
    await claire.tap("10:00", in_message=offer)
    # The offer is answered in place (the patients' requests came in meanwhile).
    assert offer.text.splitlines()[1] == (
        "Ce créneau vient d'être pris. Les plus proches pour Détartrage :"
    )
    assert all(a.caller_name is None for a in await dupont_appointments(store, tg))


async def test_cancel_or_another_command_drops_the_draft(bot, tg, store, claire):
    await claire.send("/rdv cabinet-dupont")
    await claire.send("/annuler")
    assert claire.last.text == "Abandonné : rien n'a été enregistré."
    await claire.send("/rdv cabinet-dupont")
    await claire.send("/agenda")
    # The draft is gone: this text is no booking (it goes where any text goes).
    await claire.send("Mme Durand 06 12 34 56 78 détartrage mardi 10h")
    assert not claire.last.text.startswith("📞")
    assert await dupont_appointments(store, tg) == []


async def test_a_button_of_an_older_draft_is_stale(bot, tg, store, claire):
    await claire.send("/rdv cabinet-dupont Mme Durand 0612345678 détartrage mardi 10h")
    old = claire.last
    await claire.send("/rdv cabinet-dupont M. Petit 0611223344 détartrage jeudi 10h")
    await claire.tap("10:00", in_message=old)
    assert claire.answers[-1] == "Ce bouton n'est plus valable. Reprenez depuis le dernier message."
    assert await dupont_appointments(store, tg) == []


async def test_a_call_message_reaches_the_employers_at_once(bot, tg, store, clock, claire):
    employer = tg.user(DUPONT, "Dr Dupont", language="fr")
    await claire.send("/appel")
    await claire.tap(DUPONT_BUSINESS)
    await claire.send("M. Leroy 06 11 22 33 44 rappeler pour ses résultats")
    review = claire.last
    assert review.text.splitlines() == [
        "📞 Message pour Cabinet dentaire Dupont",
        "De : M. Leroy · +33 6 11 22 33 44",
        "« rappeler pour ses résultats »",
    ]
    assert review.buttons == [["📨 Transmettre"], ["🚨 Transmettre en urgent"]]
    await claire.tap("🚨 Transmettre en urgent")
    assert employer.last.text.splitlines() == [
        "🚨 URGENT · appel pour Cabinet dentaire Dupont à 09:00",
        "De : M. Leroy · +33 6 11 22 33 44",
        "« rappeler pour ses résultats »",
        "Pris par Claire",
    ]
    assert claire.last.text == (
        "✅ Message de M. Leroy · +33 6 11 22 33 44 transmis à Cabinet dentaire Dupont"
        " (1 destinataire(s))."
    )
    dupont = store.business_ids["cabinet-dupont"]
    (call,) = await store.calls.on_day(dupont, paris(2027, 1, 11), paris(2027, 1, 12))
    assert (call.caller_name, call.caller_phone, call.urgent, call.taken_by) == (
        "M. Leroy",
        "+33 6 11 22 33 44",
        True,
        CLAIRE,
    )
    assert await store.calls.on_day(dupont, paris(2027, 1, 12), paris(2027, 1, 13)) == []
    (entry,) = await store.audit.entries(target=f"call:{call.id}")
    assert (entry.actor, entry.action, entry.after["urgent"]) == (CLAIRE, "call.take", True)


async def test_a_call_message_in_one_go_then_the_message(bot, tg, store, claire):
    employer = tg.user(DUPONT, "Dr Dupont", language="fr")
    await claire.send("/appel cabinet-dupont M. Leroy 06 11 22 33 44")
    assert claire.last.text.endswith("Quel est le message ? (/annuler pour abandonner)")
    # Capitalised by the phone's keyboard, and still the message, not a name.
    await claire.send("Rappeler demain matin")
    assert claire.last.text.splitlines()[2] == "« Rappeler demain matin »"
    await claire.tap("📨 Transmettre")
    assert employer.last.text.startswith("📞 Appel pour Cabinet dentaire Dupont à 09:00")


async def test_a_call_nobody_could_receive_is_said_so(bot, tg, store, claire):
    employer = tg.user(DUPONT, "Dr Dupont", language="fr")
    employer.block_bot()
    await claire.send("/appel cabinet-dupont M. Leroy 0611223344 rappeler")
    await claire.tap("📨 Transmettre")
    assert claire.last.text.startswith("⚠️ Message de M. Leroy · +33 6 11 22 33 44 enregistré")
    dupont = store.business_ids["cabinet-dupont"]
    assert len(await store.calls.on_day(dupont, tg.now(), tg.now() + timedelta(days=1))) == 1


async def test_a_name_typed_without_capitals_is_asked_again(bot, tg, store, claire):
    await claire.send("/rdv cabinet-dupont durand 0612345678 détartrage mardi 10h")
    assert claire.last.text.splitlines()[0] == (
        "Cabinet dentaire Dupont · appelant : ? · +33 6 12 34 56 78"
    )
    assert "Écrivez le nom de l'appelant" in claire.last.text
    await claire.send("Mme Durand")
    assert claire.last.text.splitlines()[0] == "📞 Mme Durand · +33 6 12 34 56 78"
    assert claire.last.buttons[0][0] == "10:00"


async def test_rdv_honours_the_practitioner_named(bot, tg, store, claire):
    await claire.send(
        "/rdv cabinet-dupont Mme Lefèvre 0611223344 blanchiment vendredi après-midi avec Dr Martin"
    )
    first = next(label for row in claire.last.buttons for label in row if ":" in label)
    await claire.tap(first)
    (appointment,) = await dupont_appointments(store, tg)
    assert (appointment.caller_name, appointment.practitioner) == ("Mme Lefèvre", "Dr Martin")


async def test_rdv_infers_the_business_when_only_one_offers_the_service(bot, tg, store, claire):
    await claire.send("/rdv Mme Petit 0611223344 massage vendredi 15h")
    assert "Massage relaxant : vendredi 15 janvier à 15:00 est libre" in claire.last.text
    await claire.send("/annuler")
    await claire.send("/rdv Mme Petit 0611223344 vendredi 15h")  # no service: which business?
    assert claire.last.text == "Pour quel établissement ?"
