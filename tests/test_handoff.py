"""A person when the bot cannot: what it cannot serve reaches the secretaries, her reply comes
back to the patient, and the thread goes on both ways until she closes it or it goes quiet."""

from __future__ import annotations

from datetime import timedelta

import pytest

from bot.config import parse_settings
from tests.conftest import running_bot, sweep

CLAIRE, NINA = 111111111, 444444444


@pytest.fixture
def settings(config_data):
    config_data["secretaries"].append({"telegram_id": NINA, "name": "Nina", "language": "en"})
    config_data["businesses"][0]["faq"] = [
        {
            "keywords": ["parking", "garer"],
            "answer": {"fr": "Parking Indigo en face.", "en": "Indigo car park opposite."},
        }
    ]
    return parse_settings(config_data)


@pytest.fixture
async def bot(settings, store, clock, tg):
    async with running_bot(settings, store, clock, tg) as application:
        yield application


@pytest.fixture
def claire(tg):
    return tg.user(CLAIRE, "Claire", language="fr")


@pytest.fixture
def nina(tg):
    return tg.user(NINA, "Nina", language="en")


async def patient(tg, language="fr", name="Alice", user_id=5001):
    user = tg.user(user_id, name, language=language)
    await user.send("/start cabinet-dupont")
    return user


async def test_a_request_for_a_person_reaches_the_secretaries_and_her_reply_comes_back(
    bot, tg, store, claire, nina
):
    alice = await patient(tg)
    await alice.send("Bonjour, je voudrais parler à quelqu'un")
    assert alice.last.text.startswith(
        "📨 J'ai transmis votre message au secrétariat de Cabinet dentaire Dupont."
    )
    assert "Il répond en général dans l'heure." in alice.last.text
    copy = claire.last
    assert copy.text.splitlines() == [
        "📨 Demande à parler à quelqu'un · Cabinet dentaire Dupont",
        "Alice",
        "« Bonjour, je voudrais parler à quelqu'un »",
        "↩️ Répondez à ce message pour lui écrire.",
    ]
    assert copy.buttons == [["✅ Clore"]]
    assert nina.last.text.startswith("📨 Asks to talk to someone · Cabinet dentaire Dupont")

    await claire.reply(copy, "Bonjour Alice, je vous rappelle dans 5 minutes.")
    assert alice.last.text == (
        "💬 Cabinet dentaire Dupont :\nBonjour Alice, je vous rappelle dans 5 minutes."
    )
    assert claire.last.text == "✅ Envoyé à Alice."
    # The other secretary sees who answered, and what.
    assert nina.last.text.splitlines() == [
        "↩️ Claire answered Alice · Cabinet dentaire Dupont",
        "“Bonjour Alice, je vous rappelle dans 5 minutes.”",
    ]

    # The patient's next words reach the same thread, even a thank-you.
    await alice.send("ok merci")
    assert alice.last.text == "📨 Transmis au secrétariat de Cabinet dentaire Dupont."
    assert claire.last.text.splitlines() == [
        "📨 Suite · Cabinet dentaire Dupont",
        "Alice",
        "« ok merci »",
    ]
    (thread,) = [await store.threads.get(1)]
    assert [m.content for m in await store.threads.messages(thread.id)] == [
        "Bonjour, je voudrais parler à quelqu'un",
        "Bonjour Alice, je vous rappelle dans 5 minutes.",
        "ok merci",
    ]

    # Closed by the secretary: a thank-you is the bot's to answer again.
    await claire.tap("✅ Clore", in_message=copy)
    assert copy.text.endswith("✅ Conversation close par Claire.")
    await alice.send("merci !")
    assert alice.last.text == "Avec plaisir ! Que puis-je faire pour vous ?"


@pytest.mark.parametrize(
    ("language", "text", "reason"),
    [
        ("fr", "je serai en retard de 10 min", "📨 Retard annoncé · Cabinet dentaire Dupont"),
        ("en", "do you speak English?", "📨 Message à traiter · Cabinet dentaire Dupont"),
        ("en", "I'd like to speak to someone", "📨 Demande à parler à quelqu'un · Cabinet"),
    ],
)
async def test_what_the_bot_cannot_serve_is_passed_on_in_both_languages(
    bot, tg, claire, language, text, reason
):
    user = await patient(tg, language=language)
    await user.send(text)
    acknowledgement = {
        "fr": "📨 J'ai transmis votre message au secrétariat de Cabinet dentaire Dupont.",
        "en": "📨 I have passed your message on to the Cabinet dentaire Dupont office.",
    }[language]
    assert user.last.text.startswith(acknowledgement)
    assert claire.last.text.startswith(reason)


async def test_a_photo_reaches_the_secretary_as_it_is(bot, tg, claire):
    alice = await patient(tg)
    await alice.send_photo(b"\x89PNG-ordonnance", caption="mon ordonnance")
    header, photo = claire.messages[-2:]
    assert header.text.startswith("📨 Fichier envoyé · Cabinet dentaire Dupont\nAlice")
    assert photo.photo == ("photo.jpg", b"\x89PNG-ordonnance")
    assert photo.caption == "mon ordonnance"
    # Replying to the photo itself writes on the same thread.
    await claire.reply(photo, "Bien reçu, merci.")
    assert alice.last.text == "💬 Cabinet dentaire Dupont :\nBien reçu, merci."


async def test_out_of_hours_the_patient_is_told_when_the_office_answers(bot, tg, clock, claire):
    clock.set(clock.now().replace(hour=21))  # Monday evening: the office opens Tuesday 08:30
    alice = await patient(tg)
    await alice.send("vous parlez anglais ?")
    assert (
        "Le cabinet est fermé en ce moment : réponse à partir de mardi 12 janvier 08:30."
        in alice.last.text
    )


async def test_a_quiet_thread_ends_after_a_day(bot, tg, clock, store, claire):
    alice = await patient(tg)
    await alice.send("je voudrais parler à quelqu'un")
    clock.advance(timedelta(days=1, minutes=1))
    await sweep(bot)
    assert (await store.threads.get(1)).closed_at is not None
    await alice.send("merci")
    assert alice.last.text == "Avec plaisir ! Que puis-je faire pour vous ?"


async def test_questions_the_bot_answers_itself(bot, tg, claire):
    alice = await patient(tg)
    await alice.send("Combien coûte un détartrage ?")
    assert alice.last.text.replace("\u202f", " ").replace("\xa0", " ") == (
        "💶 Détartrage : 43,00 €, 30 min. Pour réserver, dites-moi quand."
    )
    await alice.send("Avez-vous un parking ?")
    assert alice.last.text == "Parking Indigo en face."
    await alice.send("Quelle est votre adresse ?")
    assert alice.last.text.splitlines()[:2] == [
        "📍 Cabinet dentaire Dupont",
        "12 rue de la Paix, 75002 Paris",
    ]
    assert "openstreetmap.org/search?query=12+rue+de+la+Paix" in alice.last.text
    bob = await patient(tg, language="en", name="Bob", user_id=5002)
    await bob.send("is there a parking?")
    assert bob.last.text == "Indigo car park opposite."
    assert claire.messages == []  # nothing needed a person


async def test_a_reply_to_anything_else_is_not_taken_for_an_answer(bot, tg, claire):
    await claire.send("/start")
    welcome = claire.last
    await claire.reply(welcome, "/demandes")
    assert not claire.last.text.startswith("✅ Envoyé")


async def test_the_employer_s_summary_counts_messages_passed_on_and_answered(
    bot, tg, clock, claire
):
    from telegram.ext import CallbackContext

    from bot.summaries import Summaries
    from handlers.common import deps

    alice = await patient(tg)
    await alice.send("je voudrais parler à quelqu'un")
    await claire.reply(claire.messages[-1], "Je vous appelle.")
    bob = await patient(tg, name="Bob", user_id=5002)
    await bob.send("je serai en retard")
    d = deps(CallbackContext(bot))
    text = await Summaries(d.booking, d.store, d.i18n).employer_summary(
        "fr", d.settings.business("cabinet-dupont"), clock.now().date()
    )
    assert (
        "📨 Messages de patients transmis au secrétariat : 2 ; conversations répondues : 1" in text
    )
