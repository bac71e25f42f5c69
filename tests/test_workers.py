"""Several workers, one database: what a person is in the middle of is read from the store
for each of their updates and written before that update is done, so whichever worker gets
the next one goes on from there.

Two applications ("workers") run on the same SQLite file, each with its own connection. Only
one polls the simulator at a time, as a reverse proxy would hand each update to one of them.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime, timedelta

import pytest
from telegram import Update
from telegram.ext import Application

from bot.app import POLL_TIMEOUT, build_application
from handlers import agenda, delivery, steps
from storage import Store
from storage.missions import MissionStatus
from tests.conftest import PARIS

CLAIRE = 111111111
DUPONT_BUSINESS = "Cabinet dentaire Dupont"


class Worker:
    def __init__(self, application: Application, store: Store):
        self.application, self.store = application, store

    async def serve(self) -> None:
        await self.application.updater.start_polling(
            poll_interval=0, timeout=POLL_TIMEOUT, allowed_updates=Update.ALL_TYPES
        )

    async def pause(self) -> None:
        """Stop taking updates; the application and what it remembers stay as they are."""
        await self.application.updater.stop()

    def remembers(self, user_id: int) -> dict:
        return dict(self.application.user_data.get(user_id, {}))


@asynccontextmanager
async def worker(settings, clock, tg) -> AsyncIterator[Worker]:
    """A started application with its own store on the shared file, not polling yet."""
    telegram = settings.telegram.model_copy(
        update={"base_url": tg.base_url, "base_file_url": tg.base_file_url}
    )
    settings = settings.model_copy(update={"telegram": telegram})
    store = await Store.open(settings.database, [(b.slug, b.name) for b in settings.businesses])
    application = build_application(settings, store, clock, token=tg.token, sweep_every=None)
    waiters = (
        application.update_queue.join,
        delivery.deliverer(application).idle,
        agenda.drawings(application).idle,
    )
    try:
        async with application:
            await application.post_init(application)
            await application.start()
            deliverer = delivery.deliverer(application)
            await deliverer.start()
            for waiter in waiters:
                tg.add_idle_waiter(waiter)
            try:
                yield Worker(application, store)
            finally:
                for waiter in waiters:
                    tg.remove_idle_waiter(waiter)
                if application.updater.running:
                    await application.updater.stop()
                await deliverer.stop()
                await application.stop()
    finally:
        await store.close()


@pytest.fixture
async def workers(settings, clock, tg) -> AsyncIterator[tuple[Worker, Worker]]:
    async with worker(settings, clock, tg) as a, worker(settings, clock, tg) as b:
        yield a, b


@pytest.fixture
def claire(tg):
    return tg.user(CLAIRE, "Claire", language="fr")


async def test_a_phone_booking_begun_on_one_worker_is_finished_on_another(
    workers, store, tg, claire
):
    a, b = workers
    await a.serve()
    await claire.send("/rdv cabinet-dupont Mme Durand mardi 10h")
    assert "Écrivez le téléphone de l'appelant" in claire.last.text
    # Written as the update ended, not at some later interval: a crash now loses nothing.
    assert await store.sessions.get(CLAIRE) is not None
    await a.pause()

    await b.serve()
    await claire.send("06.12.34.56.78")
    assert claire.last.text.startswith("📞 Mme Durand · +33 6 12 34 56 78\nPour quel motif ?")
    await claire.tap("Détartrage")
    await claire.tap("10:00")
    assert claire.last.text.startswith("✅ Rendez-vous confirmé · Cabinet dentaire Dupont")
    (appointment,) = await store.appointments.between(
        store.business_ids["cabinet-dupont"], tg.now(), tg.now() + timedelta(days=30)
    )
    assert (appointment.caller_name, appointment.caller_phone, appointment.service) == (
        "Mme Durand",
        "+33 6 12 34 56 78",
        "detartrage",
    )
    # The booking over, nothing waits for her any more on B; A never saw the rest: its
    # memory still holds the half-typed draft.
    assert steps.STEP_KEY not in b.remembers(CLAIRE)
    assert a.remembers(CLAIRE)[steps.STEP_KEY]["draft"].phone is None


async def test_a_mission_being_described_goes_on_on_another_worker(workers, store, claire):
    a, b = workers
    await a.serve()
    await claire.send("/mission")
    await claire.tap(DUPONT_BUSINESS)
    await claire.tap("Transcription")
    assert claire.last.text.endswith("Décrivez la mission en une ligne :")
    await a.pause()

    await b.serve()
    await claire.send("Compte rendu de la réunion de service")
    assert claire.last.text.startswith("Quel tarif ?")
    await claire.send("45")
    assert claire.last.text.startswith("Pour quand ?")
    await claire.tap("Sans échéance")
    assert claire.last.text.startswith("✅ Mission enregistrée.")
    (mission,) = await store.missions.active(store.business_ids["cabinet-dupont"])
    assert (mission.kind, mission.description, mission.fee, mission.status) == (
        "transcription",
        "Compte rendu de la réunion de service",
        4500,
        MissionStatus.OPEN,
    )


async def test_a_mail_merge_being_prepared_is_sent_from_another_worker(workers, tg, claire):
    a, b = workers
    await a.serve()
    patients = [tg.user(5001 + i, f"Patient{i}", language="fr") for i in range(3)]
    for patient in patients:
        await patient.send("/start cabinet-dupont")
    await claire.send("/publipostage")
    await claire.tap(DUPONT_BUSINESS)
    await claire.tap("👥 Tous ses patients")
    await a.pause()

    await b.serve()
    await claire.send("Bonjour {prenom}, le cabinet sera fermé le 15 août.")
    assert claire.last.buttons[0] == ["📤 Envoyer à 3"]
    await claire.tap("📤 Envoyer à 3")
    for patient in patients:
        assert (
            patient.last.text == f"Bonjour {patient.first_name}, le cabinet sera fermé le 15 août."
        )


async def test_a_worker_acts_on_what_another_changed_not_on_its_own_memory(
    workers, store, tg, claire
):
    a, b = workers
    await a.serve()
    await claire.send("/rdv cabinet-dupont Mme Durand 0612345678 détartrage mardi 10h")
    offered_on_a = claire.last
    await a.pause()

    # On B she moved on to another caller.
    await b.serve()
    await claire.send("/rdv cabinet-dupont M. Petit détartrage jeudi 15h")
    assert "Écrivez le téléphone de l'appelant" in claire.last.text
    await b.pause()

    await a.serve()
    assert a.remembers(CLAIRE)[steps.STEP_KEY]["draft"].name == "Mme Durand"  # stale
    # A's memory would book Mme Durand from its own old offer; the store says it is over.
    await claire.tap("10:00", in_message=offered_on_a)
    assert claire.answers[-1] == "Ce bouton n'est plus valable. Reprenez depuis le dernier message."
    await claire.send("06 11 22 33 44")
    assert claire.last.text.startswith("📞 M. Petit · +33 6 11 22 33 44")
    await claire.tap("15:00")
    (appointment,) = await store.appointments.between(
        store.business_ids["cabinet-dupont"], tg.now(), tg.now() + timedelta(days=30)
    )
    assert (appointment.caller_name, appointment.starts_at) == (
        "M. Petit",
        datetime(2027, 1, 14, 15, tzinfo=PARIS),
    )
