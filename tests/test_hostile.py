"""Hostile input, end to end: thousands of generated updates pushed through the simulator to
the real running bot, from patients, the secretary and employers, in private chats, groups
and channels.

Whatever arrives, the bot handles it: no unhandled exception, every tap answered, every
private message answered, every request one Telegram accepts, the database intact.

``HOSTILE_UPDATES`` sets how many updates (2,000 by default; ``make soak`` sends more). They
go in batches, one batch per Hypothesis example, all to one running bot: its state (bookings,
drafts, missions) grows across examples, as a real bot's does. For that reason examples are
not shrunk (an example cannot be replayed alone on a fresh bot); each failure names the one
update that caused it instead.
"""

from __future__ import annotations

import logging
import os
import re
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from telegram.ext import CommandHandler, ConversationHandler

from bot.app import build_application
from bot.callbacks import MAX_ID, TEMPLATES
from bot.simulator import Simulator, SimUser
from bot.simulator.raw import new_callback_query_id, submit
from tests.conftest import MONDAY_9AM, running_bot

HOSTILE_UPDATES = int(os.environ.get("HOSTILE_UPDATES", "2000"))
BATCH = 80
EXAMPLES = -(-HOSTILE_UPDATES // BATCH)

# Who talks to the bot: ids from config.example.yaml, patients, and a very large id.
SECRETARY = 111111111
EMPLOYERS = (222222222, 333333333)
ACTORS = (
    (SECRETARY, "Claire", "fr"),
    (EMPLOYERS[0], "Paul", "fr"),
    (EMPLOYERS[1], "Inès", None),
    (5001, "Alice", "fr"),
    (5002, "Bob", "en-GB"),
    (5003, "Zoë", "xx"),
    (2**52, "Max", None),
)
GROUPS = (
    {"id": -4001, "type": "group", "title": "Cabinet"},
    {"id": -1001000000001, "type": "supergroup", "title": "Équipe"},
)
CHANNEL = {"id": -1001000000002, "type": "channel", "title": "Infos"}
BOT_USERNAME = "secretary_test_bot"

# Every command app.py registers (test_every_command_is_generated keeps this list whole),
# and some it does not.
COMMANDS = (
    "start",
    "resume",
    "summary",
    "langue",
    "language",
    "mission",
    "missions",
    "releve",
    "gains",
    "publipostage",
    "demandes",
    "requests",
    "agenda",
    "ics",
    "bloquer",
    "block",
    "debloquer",
    "unblock",
    "presences",
    "attendance",
    "patient",
    "chercher",
    "rdv",
    "appointment",
    "appel",
    "call",
    "annuler",
    "cancel",
    "aide",
    "help",
    "mesdonnees",
    "mydata",
    "oublier",
    "forgetme",
    "journal",
    "log",
    "qr",
)
UNKNOWN_COMMANDS = ("settings", "foo", "START", "Rdv")

# -- what is said ------------------------------------------------------------------------------

CONTROL = "".join(map(chr, range(32))) + "\x7f\x85\u2028\u2029"
ZERO_WIDTH = "\u200b\u200c\u200d\u2060\ufeff\u00ad\u202e\u2066"
PHRASES = (
    "demain 10h pour un détartrage",
    "mardi prochain vers 10h",
    "avec le Dr Martin jeudi 15h",
    "annuler mon rendez-vous",
    "annuler mardi",
    "déplacer mon rendez-vous à vendredi 16h",
    "plutôt à 15h",
    "je confirme",
    "mes rendez-vous",
    "quels sont vos horaires ?",
    "c'est où ?",
    "could we move my appointment to Friday 4pm?",
    "cancel",
    "le 31 février à 25h",
    "le 29/02/2027",
    "dans 10000 ans",
    "le 1er janvier 9999",
    "99999999999999999999h",
    "-1h",
    "Mme Durand 06 12 34 56 78 détartrage mardi 10h",
    "M. Leroy 06 11 22 33 44 rappeler pour ses résultats",
    "+33 6 12 34 56 78",
    "oui",
    "non",
    "%s %d {business} {0}",
    "<b>gras</b> <a href='x'>",
    "'; DROP TABLE appointments; --",
    "45 min",
    "1h30",
    "12,50",
    "aujourd'hui",
    "2027-01",
)
ARGUMENTS = (
    "cabinet-dupont",
    "institut-belle-peau",
    "cabinet",
    "inst",
    "ca",
    "CABINET-DUPONT",
    "demain",
    "aujourd'hui",
    "semaine",
    "2027-01-11",
    "2027-13-45",
    "11/01/2027",
    "2027-01",
    "01/2027",
    "9999-12",
    "0000-00",
    "202701",
    "-1",
    "0",
    str(MAX_ID),
    "9" * 40,
    "10h-12h",
    "9h30-10h",
    "journée",
    "25h-26h",
    "12h-10h",
    "0h-24h",
    "Dr Martin",
    "formation",
)


def _long(piece: str) -> str:
    return (piece * (4096 // len(piece) + 1))[:4096]


TEXT = st.one_of(
    st.sampled_from(PHRASES),
    st.text(min_size=1, max_size=120),
    st.text(st.sampled_from(CONTROL + ZERO_WIDTH + "aé 😀:/-"), min_size=1, max_size=60),
    st.builds(lambda p, noise: p + noise, st.sampled_from(PHRASES), st.text(max_size=20)),
    st.text(min_size=1, max_size=4).map(_long),
    st.sampled_from(PHRASES).map(_long),
)
ARGUMENT = st.one_of(
    st.sampled_from(ARGUMENTS),
    st.text(max_size=40),
    st.text(st.sampled_from(CONTROL + ZERO_WIDTH + "9-:"), min_size=1, max_size=10),
)


@st.composite
def command_text(draw: st.DrawFn) -> str:
    name = draw(st.sampled_from(COMMANDS + UNKNOWN_COMMANDS))
    mention = draw(st.sampled_from(["", "", f"@{BOT_USERNAME}", "@other_bot"]))
    words = draw(st.lists(ARGUMENT, max_size=6))
    text = " ".join([f"/{name}{mention}", *words])
    if draw(st.integers(0, 9)) == 0:
        text = _long(text + " ")
    return text


# -- what is tapped ----------------------------------------------------------------------------

_FIRST_SLOT = int(MONDAY_9AM.timestamp())
VALID_FIELD = {
    "id": st.integers(1, 40).map(str),
    "index": st.integers(0, 3).map(str),
    "flow": st.integers(0, 5).map(str),
    "page": st.integers(0, 3).map(str),
    "minutes": st.sampled_from(["15", "90", "-"]),
    "start": st.integers(0, 14 * 24 * 4).map(lambda k: str(_FIRST_SLOT + 900 * k)),
    "day": st.integers(0, 20).map(lambda k: (MONDAY_9AM + timedelta(days=k)).strftime("%Y%m%d")),
    "month": st.sampled_from(["202612", "202701", "202702"]),
    "time": st.sampled_from(["0900", "1000", "1530", "-"]),
    "key": st.sampled_from(["detartrage", "soin", "soin-visage", "fr", "en", "x"]),
    "slug": st.sampled_from(["cabinet-dupont", "institut-belle-peau", "nope"]),
    "audience": st.sampled_from(["all", "day", "since"]),
    "urgent": st.sampled_from(["0", "1"]),
}
HOSTILE_FIELD = st.one_of(
    st.sampled_from(
        [
            "",
            "-",
            "0",
            "00",
            "01",
            "-1",
            "+1",
            " 1",
            "1.5",
            "1e9",
            "²",
            "١٢",
            str(MAX_ID),
            str(MAX_ID + 1),
            str(2**64),
            "9" * 40,
            "20270230",
            "99991231",
            "00000000",
            "19000101",
            "2027011",
            "202713",
            "2460",
            "99999999999",
            "null",
            "None",
        ]
    ),
    st.text(max_size=12),
    st.integers().map(str),
)


@st.composite
def callback_data(draw: st.DrawFn) -> str | None:
    """What a tap carries: a template of the bot's filled with valid, near-valid or hostile
    values, sometimes one field too many or too few; or any text at all."""
    kind = draw(st.integers(0, 9))
    if kind == 0:
        return draw(st.text(max_size=70))
    if kind == 1:
        return None  # a game's tap: no data at all
    parts = draw(st.sampled_from(TEMPLATES)).split(":")
    filled = []
    for part in parts:
        if not part.startswith("{"):
            filled.append(part)
            continue
        name = part.strip("{}?")
        valid = VALID_FIELD.get(name, HOSTILE_FIELD)
        filled.append(draw(st.one_of(valid, valid, HOSTILE_FIELD)))
    shape = draw(st.integers(0, 7))
    if shape == 0:
        filled.append(draw(HOSTILE_FIELD))
    elif shape == 1 and len(filled) > 1:
        filled.pop()
    return ":".join(filled)


# -- the updates -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Action:
    """One update to deliver; ``actor`` indexes ACTORS. Resolved against the chats' state at
    the moment it is delivered (which message a tap lands on, which real button it is)."""

    kind: str
    actor: int
    text: str | None = None
    data: str | None = None
    real_button: int | None = None  # tap the n-th button the bot shows, not ``data``
    where: str = "latest"  # the tapped message: latest, missing, inaccessible, inline, group
    chat: int = 0  # which group


ACTOR = st.integers(0, len(ACTORS) - 1)
PRIVATE_TEXT = st.one_of(TEXT, command_text())
PRIVATE = st.builds(Action, st.just("private"), ACTOR, text=PRIVATE_TEXT)
REAL_TAP = st.builds(
    Action,
    st.just("tap"),
    ACTOR,
    real_button=st.integers(0, 50),
    where=st.sampled_from(["latest"] * 6 + ["missing", "inaccessible"]),
)
FORGED_TAP = st.builds(
    Action,
    st.just("tap"),
    ACTOR,
    data=callback_data(),
    where=st.sampled_from(["latest"] * 4 + ["missing", "inaccessible", "inline", "group"]),
    chat=st.integers(0, len(GROUPS) - 1),
)
# What people mean to do, so that the hostile input also lands on deep states: a request
# waiting in the inbox, a mission half made, a phone booking's draft, a block to lift.
PLAUSIBLE = {
    0: (  # the secretary
        "/demandes",
        "/presences",
        "/agenda",
        "/agenda semaine",
        "/agenda cabinet-dupont demain",
        "/ics cabinet-dupont",
        "/qr cabinet-dupont",
        "/bloquer cabinet-dupont demain 10h-12h formation",
        "/bloquer institut-belle-peau mardi journée",
        "/debloquer",
        "/rdv cabinet-dupont Mme Durand 06 12 34 56 78 détartrage mardi 10h",
        "/rdv",
        "/appel cabinet-dupont M. Leroy 06 11 22 33 44 rappeler pour ses résultats",
        "/appel",
        "/annuler",
        "/mission cabinet-dupont",
        "/mission",
        "/missions",
        "/releve",
        "/releve cabinet-dupont 2027-01",
        "/gains",
        "/publipostage",
        "Relance des impayés",
        "Mme Durand 06 12 34 56 78",
        "45",
        "1h30",
        "demain",
        "Bonjour {prenom}, le {cabinet} sera fermé le 15 août.",
    ),
    1: (
        "/resume",
        "/agenda",
        "/agenda semaine",
        "/agenda cabinet-dupont demain",
        "/journal",
        "/journal semaine",
    ),
    3: ("/start cabinet-dupont", "/start institut-belle-peau", "/langue", *PHRASES[:12]),
}
MEANT = st.sampled_from(sorted(PLAUSIBLE)).flatmap(
    lambda actor: st.builds(
        Action, st.just("private"), st.just(actor), text=st.sampled_from(PLAUSIBLE[actor])
    )
)
# A tap on what the phone shows now: the latest buttons.
NEXT_TAP = st.builds(
    Action, st.just("tap"), st.sampled_from([0, 0, 1, 3]), real_button=st.integers(0, 3)
)
# one_of draws its branches alike: a branch given three times is drawn three times as often.
ACTION = st.one_of(
    PRIVATE,
    PRIVATE,
    MEANT,
    MEANT,
    NEXT_TAP,
    NEXT_TAP,
    REAL_TAP,
    FORGED_TAP,
    FORGED_TAP,
    FORGED_TAP,
    st.builds(Action, st.just("edited"), ACTOR, text=PRIVATE_TEXT),
    st.builds(
        Action, st.just("group"), ACTOR, text=PRIVATE_TEXT, chat=st.integers(0, len(GROUPS) - 1)
    ),
    st.builds(Action, st.just("channel"), ACTOR, text=PRIVATE_TEXT),
    st.builds(
        Action,
        st.just("contact"),
        ACTOR,
        text=st.sampled_from(["+33612345678", "0612345678", "abc", "+" * 30, "+1 (555) 0100"]),
        real_button=st.sampled_from([0, 1]),  # 1: someone else's contact
    ),
    st.builds(Action, st.just("photo"), ACTOR, text=st.none() | TEXT.map(lambda t: t[:1024])),
    st.builds(Action, st.just("location"), ACTOR),
)


def _says(actor: int, *texts: str) -> st.SearchStrategy[Action]:
    return st.builds(Action, st.just("private"), st.just(actor), text=st.sampled_from(texts))


def _taps(actor: int, *indexes: int) -> st.SearchStrategy[Action]:
    return st.builds(Action, st.just("tap"), st.just(actor), real_button=st.sampled_from(indexes))


# Whole flows, each tap on the button the flow needs (the first of the latest message, most
# often): without them a random walk seldom gets a mission made or a mail merge sent.
FLOWS = (
    st.tuples(  # a patient books with buttons; the secretary answers from her inbox
        _says(3, "/start cabinet-dupont", "/start institut-belle-peau"),
        _taps(3, 0),
        _taps(3, 0, 1, 2),
        _taps(3, 0, 1),
        _taps(3, 0, 1, 2),
        _says(0, "/demandes"),
        _taps(0, 0, 1, 2),
    ),
    st.tuples(
        _says(0, "/mission"),
        _taps(0, 0, 1),
        _taps(0, 0, 1, 5),
        _says(0, "Relance des impayés", "x" * 300),
        _taps(0, 0),
        _taps(0, 0, 1, 2, 3),
        _taps(0, 0, 1, 2),
        _taps(0, 0, 3),
    ),
    st.tuples(
        _says(0, '/mission cabinet-dupont transcription "Compte rendu" 45', "/missions"),
        _taps(0, 0, 1, 2),
        _taps(0, 0, 1, 2),
    ),
    st.tuples(
        _says(0, "/rdv cabinet-dupont Mme Durand 06 12 34 56 78 détartrage mardi 10h"),
        _taps(0, 0, 1, 6),
    ),
    st.tuples(
        _says(0, "/appel cabinet-dupont M. Leroy 06 11 22 33 44 rappeler pour ses résultats"),
        _taps(0, 0, 1),
    ),
    st.tuples(
        _says(0, "/publipostage"),
        _taps(0, 0, 1),
        _taps(0, 0, 1, 2),
        _taps(0, 0),
        _says(0, "Bonjour {prenom}, le cabinet {cabinet} sera fermé.", "{inconnu}", "x" * 4000),
        _taps(0, 0, 1),
    ),
    st.tuples(
        _says(0, "/bloquer cabinet-dupont demain 10h-12h formation"),
        _says(0, "/debloquer"),
        _taps(0, 0),
    ),
)
STEP = st.one_of(ACTION.map(lambda action: (action,)), *FLOWS)
BATCHES = st.lists(STEP, min_size=BATCH, max_size=BATCH).map(
    lambda steps: [action for step in steps for action in step][:BATCH]
)

# What answers a person in their chat.
ANSWERS = frozenset({"sendMessage", "editMessageText", "sendPhoto", "sendDocument"})


@dataclass
class Run:
    """The running bot, the users, and what has been seen so far."""

    tg: Simulator
    users: list[SimUser]
    errors: list[logging.LogRecord]
    sent: int = 0
    failed: bool = False


class _Errors(logging.Handler):
    """Every ERROR record that carries a traceback: an exception nobody handled."""

    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        if record.exc_info:
            self.records.append(record)


@pytest.fixture
def errors():
    handler = _Errors()
    logging.getLogger().addHandler(handler)
    yield handler.records
    logging.getLogger().removeHandler(handler)


@pytest.fixture
async def run(settings, store, clock, tg, errors):
    # Telegram's flood limit would pace thousands of answers at 30 a second; the simulator
    # has none, and the pacing has tests of its own.
    telegram = settings.telegram.model_copy(update={"max_messages_per_second": 100_000})
    settings = settings.model_copy(update={"telegram": telegram})
    users = [tg.user(i, name, language=lang) for i, name, lang in ACTORS]
    async with running_bot(settings, store, clock, tg):
        run = Run(tg, users, errors)
        yield run
    row = await store.db.fetch_one("PRAGMA integrity_check")
    assert row[0] == "ok"
    assert run.failed or run.sent >= HOSTILE_UPDATES


# What Telegram marks as a command at the start of a message, as SimUser.send does.
_COMMAND = re.compile(r"/[A-Za-z0-9_]+(?:@[A-Za-z0-9_]+)?")


def _epoch() -> int:
    return _FIRST_SLOT


def _message(user: SimUser, text: str, chat: dict[str, Any] | None = None) -> dict[str, Any]:
    message: dict[str, Any] = {
        "message_id": 10_000 + len(user.messages),
        "from": user.to_api(),
        "chat": chat or user.chat_to_api(),
        "date": _epoch(),
        "text": text,
    }
    command = _COMMAND.match(text)
    if command:
        length = len(command.group().encode("utf-16-le")) // 2
        message["entities"] = [{"type": "bot_command", "offset": 0, "length": length}]
    return message


def _tapped_message(run: Run, user: SimUser, action: Action) -> dict[str, Any]:
    """Where a tap lands: the latest message the bot sent, one long gone, one out of reach."""
    shown = [m for m in user.messages if not m.deleted]
    if action.where == "latest" and shown:
        return {"message": shown[-1].to_api()}
    if action.where == "inaccessible":
        return {"message": {"chat": user.chat_to_api(), "message_id": 1, "date": 0}}
    if action.where == "inline":
        return {"inline_message_id": "AAAAAgAAAB"}
    if action.where == "group":
        group = GROUPS[action.chat]
        bot_user = run.tg.bot_user
        return {"message": {"message_id": 7, "from": bot_user, "chat": group, "date": _epoch()}}
    return {
        "message": {
            "message_id": 999_999,
            "from": run.tg.bot_user,
            "chat": user.chat_to_api(),
            "date": _epoch(),
            "text": "…",
        }
    }


def _real_data(user: SimUser, index: int) -> str:
    # The latest message's buttons first, in the order the phone shows them: most taps are
    # on what the phone shows now.
    buttons = [
        button["callback_data"]
        for message in reversed(user.messages)
        if not message.deleted and message.reply_markup
        for row in message.reply_markup["inline_keyboard"]
        for button in row
        if "callback_data" in button
    ]
    return buttons[index % len(buttons)] if buttons else "book"


async def deliver(run: Run, action: Action) -> tuple[str, dict[str, Any], bool]:
    """Send one update; returns its kind, its payload, and whether it needs an answer."""
    user = run.users[action.actor]
    tg = run.tg
    if action.kind == "private":
        await user.send(action.text)
        return "message", {"text": action.text}, True
    if action.kind == "edited":
        payload = _message(user, action.text)
        payload["edit_date"] = _epoch()
        await submit(tg, "edited_message", payload)
        return "edited_message", payload, True
    if action.kind == "group":
        payload = _message(user, action.text, GROUPS[action.chat])
        await submit(tg, "message", payload)
        return "message", payload, False
    if action.kind == "channel":
        payload = {
            "message_id": 1,
            "chat": CHANNEL,
            "sender_chat": CHANNEL,
            "date": _epoch(),
            "text": action.text,
        }
        await submit(tg, "channel_post", payload)
        return "channel_post", payload, False
    if action.kind == "contact":
        if action.real_button:
            other = run.users[(action.actor + 1) % len(run.users)]
            contact = {"phone_number": action.text, "first_name": other.first_name}
            contact["user_id"] = other.id
            payload = _message(user, "x")
            del payload["text"]
            payload["contact"] = contact
            await submit(tg, "message", payload)
            return "message", payload, True
        await user.share_contact(action.text)
        return "message", {"contact": action.text}, True
    if action.kind == "photo":
        await user.send_photo(b"\xff\xd8\xff", caption=action.text)
        return "message", {"photo": True, "caption": action.text}, True
    if action.kind == "location":
        payload = _message(user, "x")
        del payload["text"]
        payload["location"] = {"latitude": 48.8566, "longitude": 2.3522}
        await submit(tg, "message", payload)
        return "message", payload, True
    data = _real_data(user, action.real_button) if action.real_button is not None else action.data
    payload = {
        "id": new_callback_query_id(tg, user),
        "from": user.to_api(),
        "chat_instance": f"{tg.bot_id}-{user.id}",
        **_tapped_message(run, user, action),
    }
    if data is None:
        payload["game_short_name"] = "game"
    else:
        payload["data"] = data
    await submit(tg, "callback_query", payload)
    return "callback_query", payload, True


def _answered(run: Run, since: int, kind: str, payload: dict[str, Any], user: SimUser) -> bool:
    made = run.tg.requests[since:]
    if kind == "callback_query":
        return any(
            r.method == "answerCallbackQuery"
            and str(r.params.get("callback_query_id")) == payload["id"]
            and r.status == 200
            for r in made
        )
    return any(
        r.method in ANSWERS and str(r.params.get("chat_id")) == str(user.id) and r.status == 200
        for r in made
    )


async def push(run: Run, batch: list[Action]) -> None:
    try:
        for action in batch:
            await _push_one(run, action)
    except AssertionError:
        run.failed = True
        raise


async def _push_one(run: Run, action: Action) -> None:
    since, errors_before = len(run.tg.requests), len(run.errors)
    violations_before = len(run.tg.violations)
    kind, payload, must_answer = await deliver(run, action)
    run.sent += 1
    shown = {**payload, "text": (payload.get("text") or "")[:200]}
    context = f"{action} -> {kind} {shown}"
    crashes = run.errors[errors_before:]
    if crashes:
        trace = logging.Formatter().formatException(crashes[0].exc_info)
        raise AssertionError(f"unhandled exception on {context}:\n{trace}")
    refused = run.tg.violations[violations_before:]
    assert not refused, f"requests Telegram would refuse after {context}: {refused}"
    if must_answer:
        user = run.users[action.actor]
        assert _answered(run, since, kind, payload, user), f"no answer to {context}"


@settings(
    max_examples=EXAMPLES,
    deadline=None,
    database=None,
    phases=[Phase.explicit, Phase.generate],
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
        HealthCheck.large_base_example,
    ],
)
@given(batch=BATCHES)
async def test_whatever_arrives_the_bot_answers_and_never_crashes(run, batch):
    await push(run, batch)


def test_every_command_is_generated(settings, store, clock):
    """COMMANDS names every command the application handles, so each gets hostile input."""
    application = build_application(settings, store, clock, token="1:x", sweep_every=None)
    registered: set[str] = set()

    def collect(handlers):
        for handler in handlers:
            if isinstance(handler, CommandHandler):
                registered.update(handler.commands)
            elif isinstance(handler, ConversationHandler):
                collect(handler.entry_points)
                collect(h for state in handler.states.values() for h in state)
                collect(handler.fallbacks)

    for group in application.handlers.values():
        collect(group)
    assert registered <= set(COMMANDS)


# -- the same, one case at a time --------------------------------------------------------------

STALE = "Ce bouton n'est plus valable. Reprenez depuis le dernier message."


async def _tap(tg: Simulator, user: SimUser, data: str, **where: Any) -> str:
    query_id = new_callback_query_id(tg, user)
    payload = {"id": query_id, "from": user.to_api(), "chat_instance": "1", "data": data}
    await submit(tg, "callback_query", {**payload, **where})
    return query_id


async def test_an_id_too_big_for_sqlite_is_an_expired_button(bot, tg):
    alice = tg.user(5001, "Alice", language="fr")
    await alice.send("/start cabinet-dupont")
    for data in ("cx:99999999999999999999", "mvs:9223372036854775808:1799913600:0", "att:0"):
        await _tap(tg, alice, data, message=alice.last.to_api())
    assert alice.answers == [STALE] * 3


async def test_a_tap_on_a_message_out_of_reach_is_answered(bot, tg):
    alice = tg.user(5001, "Alice", language="fr")
    await alice.send("/start cabinet-dupont")
    inaccessible = {"chat": alice.chat_to_api(), "message_id": 1, "date": 0}
    await _tap(tg, alice, "cx:99999999999999999999", inline_message_id="AAAB")
    await _tap(tg, alice, "book", message=inaccessible)
    assert alice.answers == [STALE]
    # The tap on a message the bot cannot edit any more gets its answer as a new message.
    assert alice.last.text == "Pour quel motif ?"


async def test_a_tap_on_a_deleted_message_gets_a_new_one(bot, tg):
    alice = tg.user(5001, "Alice", language="fr")
    await alice.send("/start cabinet-dupont")
    gone = {**alice.last.to_api(), "message_id": 999}
    await _tap(tg, alice, "book", message=gone)
    assert alice.last.text == "Pour quel motif ?"
    assert len(alice.messages) == 2


async def test_a_command_nobody_takes_lists_the_readers_own(bot, tg):
    alice = tg.user(5001, "Alice", language="fr")
    await alice.send("/reglages")
    assert alice.last.text.startswith("Je ne connais pas cette commande.")
    assert "/start" in alice.last.text
    claire = tg.user(SECRETARY, "Claire", language="fr")
    await claire.send("/help@other_bot")
    assert "/demandes" in claire.last.text
    # A command the desk takes is answered once, by the desk.
    before = len(claire.messages)
    await claire.send("/rdv")
    assert len(claire.messages) == before + 1
    assert not claire.last.text.startswith("Je ne connais pas")


async def test_a_call_message_too_long_to_pass_on_is_said_so(bot, tg):
    claire = tg.user(SECRETARY, "Claire", language="fr")
    await claire.send("/appel cabinet-dupont M. Leroy 06 11 22 33 44 rappeler")
    await claire.send("rappeler " * 455)
    assert claire.last.text.startswith("C'est trop long : 1000 caractères au plus")
    # The draft is still there: a shorter message goes on.
    await claire.send("rappeler pour ses résultats")
    assert claire.last.buttons == [["📨 Transmettre"], ["🚨 Transmettre en urgent"]]


async def test_words_too_long_to_say_back_are_cut_or_refused(bot, tg):
    claire = tg.user(SECRETARY, "Claire", language="fr")
    await claire.send("/releve " + "z" * 4088)
    assert claire.last.text.startswith("Je ne connais pas l'entreprise « zzz")
    assert "z" * 79 + "…" in claire.last.text
    await claire.send("/bloquer cabinet-dupont demain 10h-12h " + "x" * 4000)
    assert claire.last.text == "Le motif est trop long : 200 caractères au plus."
