"""What the secretary was in the middle of survives a restart of the bot."""

from __future__ import annotations

from tests.conftest import running_bot

CLAIRE = 111111111


async def test_a_half_typed_phone_booking_goes_on_after_a_restart(settings, store, clock, tg):
    claire = tg.user(CLAIRE, "Claire", language="fr")
    async with running_bot(settings, store, clock, tg):
        await claire.send("/rdv cabinet-dupont Mme Durand mardi 10h")
        assert "Écrivez le téléphone de l'appelant" in claire.last.text

    async with running_bot(settings, store, clock, tg):
        await claire.send("06.12.34.56.78")
        assert claire.last.text.startswith("📞 Mme Durand · +33 6 12 34 56 78\nPour quel motif ?")
        await claire.tap("Détartrage")
        await claire.tap("10:00")
    (appointment,) = await store.appointments.between(
        store.business_ids["cabinet-dupont"], tg.now(), tg.now().replace(year=2028)
    )
    assert (appointment.caller_name, appointment.caller_phone) == (
        "Mme Durand",
        "+33 6 12 34 56 78",
    )


async def test_a_mission_being_described_goes_on_after_a_restart(settings, store, clock, tg):
    claire = tg.user(CLAIRE, "Claire", language="fr")
    async with running_bot(settings, store, clock, tg):
        await claire.send("/mission")
        await claire.tap("Cabinet dentaire Dupont")
        await claire.tap(claire.last.buttons[0][0])
        asked = claire.last.text

    async with running_bot(settings, store, clock, tg):
        await claire.send("Compte rendu de la réunion de service")
        assert claire.last.text != asked
        assert claire.last.text.startswith("Quel tarif ?")


async def test_a_kept_state_this_version_cannot_read_is_dropped_not_fatal(
    settings, store, clock, tg, caplog
):
    await store.sessions.put(CLAIRE, b"\x80\x04not a pickle")
    claire = tg.user(CLAIRE, "Claire", language="fr")
    async with running_bot(settings, store, clock, tg):
        await claire.send("/demandes")
        assert claire.last.text
    assert await store.sessions.get(CLAIRE) is None
    assert "dropping the kept state of user 111111111" in caplog.text
