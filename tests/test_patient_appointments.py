"""Patients acting on their own appointments in words: cancel, move, confirm, list, ask.

The clock stands on Monday 11 January 2027, 09:00 in Paris.
"""

from __future__ import annotations

import asyncio

import pytest

from storage.appointments import Status

CLAIRE = 111111111


@pytest.fixture
def claire(tg):
    return tg.user(CLAIRE, "Claire", language="fr")


@pytest.fixture
async def alice(bot, tg, claire):
    """Alice with a confirmed descaling on Tuesday 12 January at 10:00."""
    alice = tg.user(5001, "Alice", language="fr")
    await alice.send("/start cabinet-dupont")
    await alice.send("un détartrage mardi à 10h")
    await alice.tap("10:00")
    await claire.tap("✅ Confirmer", in_message=claire.last)
    return alice


async def only_appointment(store, patient_id, tg):
    (appointment,) = await store.appointments.of_patient(patient_id, tg.now())
    return appointment


async def test_cancel_in_words_asks_once_then_frees_the_slot_and_tells_the_office(
    alice, claire, store, tg
):
    await alice.send("je ne pourrai pas venir mardi, désolé")
    assert alice.last.text == (
        "Annuler votre rendez-vous Détartrage du mardi 12 janvier à 10:00 avec Dr Dupont ?"
    )
    await alice.tap("Oui, annuler")
    assert alice.last.text.startswith(
        "Votre rendez-vous Détartrage du mardi 12 janvier à 10:00 est annulé"
    )
    assert (await only_appointment(store, 5001, tg)).status == Status.CANCELLED
    assert claire.last.text.startswith("🗑 Annulation · Cabinet dentaire Dupont\nAlice")
    bob = tg.user(5002, "Bob", language="fr")
    await bob.send("/start cabinet-dupont")
    await bob.send("un détartrage mardi à 10h")
    assert "le créneau demandé est libre" in bob.last.text


async def test_keeping_it_changes_nothing(alice, store, tg):
    await alice.send("je voudrais annuler mon rdv")
    await alice.tap("Non, je le garde")
    assert (await only_appointment(store, 5001, tg)).status == Status.CONFIRMED
    assert alice.last.text.startswith("Vos rendez-vous :")


async def test_move_in_words_offers_the_new_time_and_makes_a_new_request(alice, claire, store, tg):
    await alice.send("est-ce que je peux décaler mon rdv de mardi à jeudi 15h ?")
    assert "le créneau demandé est libre" in alice.last.text
    await alice.tap("15:00")
    assert alice.last.text.startswith(
        "Votre demande de déplacement est envoyée : Détartrage, jeudi 14 janvier à 15:00"
    )
    moved = await only_appointment(store, 5001, tg)
    assert moved.status == Status.REQUESTED
    assert claire.last.text.splitlines()[2] == "Détartrage · jeudi 14 janvier à 15:00"
    await claire.tap("✅ Confirmer", in_message=claire.last)
    assert "confirmé" in alice.last.text
    history = await store.appointments.history(moved.id)
    assert history[-2].note.startswith("moved from 2027-01-12T09:00:00+00:00")


async def test_a_move_without_a_new_day_shows_the_days(alice):
    await alice.send("je dois déplacer mon rendez-vous")
    assert alice.last.text.startswith("Détartrage (30 min). Quel jour vous conviendrait ?")
    await alice.tap("mer. 13 janv.")
    await alice.tap("08:30")
    assert "mercredi 13 janvier à 08:30" in alice.last.text


async def test_confirming_attendance_is_recorded(alice, store, tg):
    await alice.send("je confirme pour mardi, merci")
    assert alice.last.text.startswith("Merci ! C'est noté : nous vous attendons mardi 12 janvier")
    assert (await only_appointment(store, 5001, tg)).patient_confirmed_at == tg.now()


async def test_with_several_appointments_the_patient_picks_which(alice, store, tg):
    await alice.send("une consultation jeudi à 11h")
    await alice.tap("11:00")
    await alice.send("je voudrais annuler mon rendez-vous")
    assert alice.last.text == "Lequel de vos rendez-vous ?"
    assert alice.last.buttons == [
        ["mar. 12 janv. 10:00 · Détartrage"],
        ["jeu. 14 janv. 11:00 · Consultation"],
    ]
    await alice.tap("jeu. 14 janv. 11:00 · Consultation")
    await alice.tap("Oui, annuler")
    statuses = [a.status for a in await store.appointments.of_patient(5001, tg.now())]
    assert statuses == [Status.CONFIRMED, Status.CANCELLED]


async def test_nobody_acts_on_someone_elses_appointment(alice, store, tg):
    await alice.send("je voudrais annuler mon rdv")
    question = alice.last
    mallory = tg.user(6666, "Mallory", language="fr")
    await mallory.send("/start cabinet-dupont")
    await mallory.tap("Oui, annuler", in_message=question)
    assert (
        mallory.answers[-1] == "Ce bouton n'est plus valable. Reprenez depuis le dernier message."
    )
    assert (await only_appointment(store, 5001, tg)).status == Status.CONFIRMED


async def test_a_cancelled_appointment_cannot_be_cancelled_twice(alice, store, tg):
    await alice.send("je voudrais annuler mon rdv")
    question = alice.last
    # A double tap: both reach the bot before the first answer removes the button.
    await asyncio.gather(
        alice.tap("Oui, annuler", in_message=question),
        alice.tap("Oui, annuler", in_message=question),
    )
    assert alice.last.text == "Ce rendez-vous n'est plus modifiable (statut : annulé)."
    history = await store.appointments.history((await only_appointment(store, 5001, tg)).id)
    assert [h.to_status for h in history].count(Status.CANCELLED) == 1


async def test_no_appointment_to_act_on_is_said_plainly(bot, tg):
    bob = tg.user(5002, "Bob", language="fr")
    await bob.send("/start cabinet-dupont")
    await bob.send("je veux annuler mon rdv de demain")
    assert bob.last.text == "Vous n'avez aucun rendez-vous à venir."


async def test_a_question_about_opening_days_gets_the_opening_hours(bot, tg):
    bob = tg.user(5002, "Bob", language="fr")
    await bob.send("/start cabinet-dupont")
    await bob.send("vous êtes ouverts le samedi ?")
    lines = bob.last.text.splitlines()
    assert lines[0] == "🕘 Horaires · Cabinet dentaire Dupont"
    assert "lundi 08:30-12:30, 14:00-19:00" in lines
    assert not any(line.startswith("samedi") for line in lines)


async def test_thanks_naming_a_day_is_not_a_booking(bot, tg):
    bob = tg.user(5002, "Bob", language="fr")
    await bob.send("/start cabinet-dupont")
    await bob.send("ok parfait, à demain")
    assert bob.last.text == "Avec plaisir ! Que puis-je faire pour vous ?"
    assert bob.last.buttons == [["📅 Prendre rendez-vous", "🗓 Mes rendez-vous"]]


async def test_a_move_is_a_new_request_that_does_not_expire_at_once(
    alice, claire, store, tg, bot, clock
):
    from datetime import timedelta

    from tests.conftest import sweep

    await alice.send("une consultation jeudi à 11h")
    await alice.tap("11:00")
    await claire.tap("✅ Confirmer", in_message=claire.last)
    # The booking is now more than a day old; Thursday is still outside the cancel notice.
    clock.advance(timedelta(hours=25))
    await alice.send("je voudrais décaler mon rdv de jeudi à vendredi 15h")
    await alice.tap("15:00")
    request = claire.last
    assert request.text.splitlines()[-1] == "🔁 Déplacement : au lieu de jeudi 14 janvier à 11:00"
    await sweep(bot)
    moved = [
        a
        for a in await store.appointments.of_patient(5001, tg.now())
        if a.service == "consultation"
    ]
    assert moved[0].status == Status.REQUESTED  # still waiting for the office, not expired
    await claire.send("/demandes")
    assert "Alice" in claire.last.text


async def test_a_declined_move_keeps_the_appointment_the_patient_had(alice, claire, store, tg):
    await alice.send("je voudrais décaler mon rdv de mardi à jeudi 15h")
    await alice.tap("15:00")
    await claire.tap("❌ Refuser", in_message=claire.last)
    kept = await only_appointment(store, 5001, tg)
    assert kept.status == Status.CONFIRMED
    assert kept.starts_at.isoformat() == "2027-01-12T09:00:00+00:00"
    assert alice.last.text == (
        "Le secrétariat ne peut pas déplacer votre rendez-vous : il reste prévu mardi 12 janvier"
        " à 10:00, avec Dr Dupont (Détartrage)."
    )


async def test_an_unanswered_move_expires_back_to_the_old_time(
    alice, claire, store, tg, bot, clock
):
    from datetime import timedelta

    from tests.conftest import sweep

    await alice.send("je voudrais décaler mon rdv de mardi à jeudi 15h")
    await alice.tap("15:00")
    clock.advance(timedelta(hours=24, minutes=1))
    await sweep(bot)
    kept = await only_appointment(store, 5001, tg)
    assert (kept.status, kept.starts_at.isoformat()) == (
        Status.CONFIRMED,
        "2027-01-12T09:00:00+00:00",
    )
    assert alice.last.text.startswith("Votre demande de déplacement n'a pas pu être confirmée")


async def test_an_old_time_taken_meanwhile_cannot_be_kept(alice, claire, store, tg):
    await alice.send("je voudrais décaler mon rdv de mardi à jeudi 15h")
    await alice.tap("15:00")
    bob = tg.user(5002, "Bob", language="fr")
    await bob.send("/start cabinet-dupont")
    await bob.send("un détartrage mardi à 10h avec le Dr Dupont")
    await bob.tap("10:00")  # Alice's old time, freed by her move
    await claire.tap("❌ Refuser", in_message=claire.messages[-2])
    assert (await only_appointment(store, 5001, tg)).status == Status.DECLINED
    assert "ne peut pas vous recevoir" in alice.last.text


async def test_a_move_acts_on_the_appointments_own_practice(alice, tg, store):
    await alice.send("/start institut-belle-peau")  # Alice follows another practice's link
    await alice.send("je dois déplacer mon rendez-vous")
    assert alice.last.text.startswith("Détartrage (30 min). Quel jour")
    await alice.tap("mer. 13 janv.")
    await alice.tap("08:30")
    assert "mercredi 13 janvier à 08:30" in alice.last.text
