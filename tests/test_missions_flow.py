"""The secretary runs her business from her phone: missions, statements, earnings, mail merge.

End to end: the real bot polling the simulator. The clock stands on Monday 11 January 2027,
09:00 in Paris.
"""

from __future__ import annotations

import asyncio
import csv
import io
from datetime import UTC, date, datetime, timedelta

import pytest
from pypdf import PdfReader

from handlers import mailmerge as mail_merge_handlers
from storage.appointments import NewAppointment, Source, Status
from storage.missions import MissionStatus, NewMission
from tests.conftest import PARIS

CLAIRE = 111111111
NBSP = "\xa0"


def euros(text: str) -> str:
    """``45,00 €`` as Babel writes it, with its no-break spaces."""
    return text.replace(" €", f"{NBSP}€")


@pytest.fixture
def claire(tg):
    return tg.user(CLAIRE, "Claire", language="fr")


def dupont(store) -> int:
    return store.business_ids["cabinet-dupont"]


async def a_mission(store, what="Compte rendu", kind="transcription", fee=4500, **kw):
    return await store.missions.create(
        NewMission(kw.pop("business_id", dupont(store)), kind, what, fee, kw.pop("due", None)),
        now=kw.pop("now", datetime(2027, 1, 4, 9, tzinfo=UTC)),
        actor=CLAIRE,
    )


async def done(store, when, **kw):
    mission = await a_mission(store, now=when - timedelta(hours=1), **kw)
    return await store.missions.finish(mission.id, now=when)


# -- creating missions -----------------------------------------------------------------------


async def test_a_guided_mission_with_buttons_and_the_usual_fee(bot, tg, store, claire):
    await claire.send("/mission")
    assert claire.last.text == "Pour quelle entreprise est cette mission ?"
    assert claire.last.buttons == [
        ["Cabinet dentaire Dupont"],
        ["Institut Belle Peau"],
        ["Annuler"],
    ]
    await claire.tap("Cabinet dentaire Dupont")
    assert claire.last.text == "Mission pour Cabinet dentaire Dupont. De quel type ?"
    assert claire.last.buttons[:2] == [["Rendez-vous", "Appel"], ["E-mail", "Agenda"]]
    await claire.tap("Transcription")
    assert claire.last.text == (
        "Transcription pour Cabinet dentaire Dupont. Décrivez la mission en une ligne :"
    )
    await claire.send("Compte rendu réunion")
    assert claire.last.text.startswith("Quel tarif ?")
    await claire.tap(euros("45,00 € (tarif habituel)"))
    assert claire.last.text.startswith("Pour quand ?")
    assert claire.last.buttons[:2] == [["Aujourd'hui", "Demain", "Dans 7 jours"], ["Sans échéance"]]
    await claire.tap("Sans échéance")

    assert claire.last.text.splitlines() == [
        "✅ Mission enregistrée.",
        "",
        "📌 Mission n° 1 · Cabinet dentaire Dupont",
        "Transcription — Compte rendu réunion",
        euros("Tarif : 45,00 €"),
        "Statut : à faire",
    ]
    assert claire.last.buttons == [["▶️ Commencée", "✅ Terminée", "✖️ Annuler"]]
    (mission,) = await store.missions.active()
    assert (mission.kind, mission.fee, mission.due_on, mission.created_by) == (
        "transcription",
        4500,
        None,
        CLAIRE,
    )


async def test_typed_fee_and_due_day_with_a_mistake_on_the_way(bot, tg, store, claire):
    await claire.send("/mission")
    await claire.tap("Institut Belle Peau")
    await claire.tap("Rédaction")
    await claire.send("Textes du site")
    await claire.send("cher")
    assert claire.last.text == "« cher » n'est pas un montant : écrivez par exemple 45 ou 37,50."
    await claire.send("42,50")
    await claire.send("31/02")
    assert claire.last.text.startswith("« 31/02 » n'est pas une date")
    await claire.send("20/01")
    assert euros("Tarif : 42,50 €") in claire.last.text
    assert "Échéance : mercredi 20 janvier" in claire.last.text
    (mission,) = await store.missions.active()
    assert (mission.fee, mission.due_on) == (4250, date(2027, 1, 20))


async def test_the_one_line_form(bot, tg, store, claire):
    await claire.send('/mission cabinet-dupont transcription "Compte rendu réunion" 45')
    assert claire.last.text.splitlines()[2:5] == [
        "📌 Mission n° 1 · Cabinet dentaire Dupont",
        "Transcription — Compte rendu réunion",
        euros("Tarif : 45,00 €"),
    ]
    # Kinds may be named in French, fees default to the kind's.
    await claire.send("/mission institut-belle-peau appel « Rappeler Mme Roux » ")
    assert euros("Tarif : 35,00 €") in claire.last.text
    await claire.send("/mission cabinet-dupont danse Rappel")
    assert claire.last.text.startswith("Je ne connais pas le type « danse ». Types : agenda, ")
    await claire.send("/mission cabinet-dupont")
    assert claire.last.text.startswith("Pour créer une mission d'un coup")
    assert len(await store.missions.active()) == 2


async def test_abandoning_saves_nothing(bot, tg, store, claire):
    await claire.send("/mission")
    await claire.tap("Cabinet dentaire Dupont")
    await claire.tap("Appel")
    await claire.tap("Annuler")
    assert claire.last.text == "Saisie annulée : rien n'a été enregistré."
    await claire.send("Rappeler M. Martin")  # no longer a description
    assert await store.missions.active() == []


async def test_annuler_gives_up_whichever_flow_waits_for_words(bot, tg, store, claire):
    await claire.send("/mission")
    await claire.tap("Cabinet dentaire Dupont")
    await claire.tap("Appel")
    await claire.send("/annuler")
    assert claire.last.text == "Abandonné : rien n'a été enregistré."
    await claire.send("Rappeler M. Martin")  # no longer a description
    assert await store.missions.active() == []
    # With nothing waiting, /annuler is a command nobody takes.
    await claire.send("/annuler")
    assert claire.last.text.startswith("Je ne connais pas cette commande.")


async def test_a_command_ends_a_typed_step_and_patients_are_never_caught(bot, tg, store, claire):
    await claire.send("/mission")
    await claire.tap("Cabinet dentaire Dupont")
    await claire.tap("Appel")
    alice = tg.user(5001, "Alice", language="fr")
    await alice.send("/start cabinet-dupont")
    await alice.send("Bonjour, un détartrage le 14 janvier à 10h svp")
    assert "le créneau demandé est libre" in alice.last.text
    await claire.send("/missions")
    await claire.send("Rappeler M. Martin")
    assert await store.missions.active() == []


# -- the list and the life of a mission ------------------------------------------------------


async def test_started_done_with_time_spent_and_cancelled(bot, tg, store, claire):
    first = await a_mission(store, "Compte rendu", due=date(2027, 1, 12))
    await a_mission(store, "Rappels", kind="call", fee=3500)
    await claire.send("/missions")
    cards = claire.messages[-2:]
    assert claire.messages[-3].text == "Missions en cours : 2"
    assert cards[0].text.splitlines() == [
        "📌 Mission n° 1 · Cabinet dentaire Dupont",
        "Transcription — Compte rendu",
        euros("Tarif : 45,00 €"),
        "Échéance : mardi 12 janvier",
        "Statut : à faire",
    ]

    await claire.tap("▶️ Commencée", in_message=cards[0])
    assert cards[0].text.endswith("Statut : en cours")
    assert cards[0].buttons == [["✅ Terminée", "✖️ Annuler"]]
    await claire.tap("✅ Terminée", in_message=cards[0])
    assert cards[0].text.endswith("Combien de temps y avez-vous passé ? Touchez une durée ou "
                                  "écrivez-la (par exemple 1h30).")  # fmt: skip
    assert cards[0].buttons == [
        ["15 min", "30 min", "45 min"],
        ["1 h", "1 h 30", "2 h"],
        ["Passer"],
    ]
    await claire.send("1h20")
    assert claire.last.text == "Temps noté : 1 h 20."
    assert cards[0].buttons == []
    assert cards[0].text.splitlines()[-2:] == ["Statut : terminée", "Temps passé : 1 h 20"]
    mission = await store.missions.get(first.id)
    assert (mission.status, mission.minutes_spent) == (MissionStatus.DONE, 80)
    assert mission.done_at == tg.now()

    await claire.tap("✖️ Annuler", in_message=cards[1])
    assert cards[1].text.endswith("Annuler cette mission ? Elle ne sera pas facturée.")
    await claire.tap("Non, la garder", in_message=cards[1])
    assert cards[1].text.endswith("Statut : à faire")
    await claire.tap("✖️ Annuler", in_message=cards[1])
    await claire.tap("Oui, l'annuler", in_message=cards[1])
    assert cards[1].text.endswith("Statut : annulée")
    assert cards[1].buttons == []
    await claire.send("/missions")
    assert claire.last.text == "Aucune mission en cours. Tapez /mission pour en créer une."


async def test_time_buttons_and_a_button_overtaken_by_events(bot, tg, store, claire):
    mission = await a_mission(store)
    await claire.send("/missions")
    card = claire.last
    await claire.tap("✅ Terminée", in_message=card)
    await claire.tap("30 min", in_message=card)
    assert (await store.missions.get(mission.id)).minutes_spent == 30
    assert card.text.endswith("Temps passé : 30 min")

    other = await a_mission(store, "Autre")
    await claire.send("/missions")
    card = claire.last
    await store.missions.cancel(other.id, now=tg.now())  # meanwhile, elsewhere
    await claire.tap("✅ Terminée", in_message=card)
    assert claire.answers[-1] == "Cette mission est déjà annulée."
    assert card.text.endswith("Statut : annulée") and card.buttons == []


# -- only the secretary ----------------------------------------------------------------------


async def forged_tap(tg, user, data: str) -> None:
    """A callback query with data the user was never shown, as a modified client could send."""
    await user.send("/start cabinet-dupont")
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


async def test_anyone_else_is_refused_politely_and_nothing_changes(bot, tg, store, caplog):
    mission = await a_mission(store)
    for who in (tg.user(5001, "Alice", language="fr"), tg.user(222222222, "Dr Dupont")):
        for command in (
            '/mission cabinet-dupont call "Rien" 1',
            "/missions",
            "/releve cabinet-dupont",
            "/gains",
            "/publipostage",
        ):
            await who.send(command)
            assert who.last.text in (
                "Cette action est réservée au secrétariat.",
                "This action is for the office's secretaries only.",
            ), command
        for data in (f"m:d:{mission.id}", f"m:c:{mission.id}", "m:i:1:202701:1800000000", "mm:go"):
            await forged_tap(tg, who, data)
            assert who.answers[-1] in (
                "Cette action est réservée au secrétariat.",
                "This action is for the office's secretaries only.",
            )
    assert (await store.missions.get(mission.id)).status == MissionStatus.OPEN
    assert len(await store.missions.active()) == 1
    assert "not a secretary" in caplog.text


async def test_a_forged_or_outdated_button_is_stale_for_the_secretary_too(bot, tg, store, claire):
    await claire.send("/missions")
    for data in ("m:d:999", "m:zz:1", "m:d:x", "m:nk:0", "mm:go", "mm:a:everyone"):
        await forged_tap(tg, claire, data)
        assert claire.answers[-1] in (
            "Ce bouton n'est plus valable. Reprenez depuis le dernier message.",
            "Cette saisie a expiré. Recommencez avec la commande.",
        ), data


# -- statements and invoices -----------------------------------------------------------------


async def test_statement_csv_then_invoice_pdf_and_the_missions_are_locked(bot, tg, store, claire):
    a = await done(store, datetime(2027, 1, 5, 10, tzinfo=UTC), what="Compte rendu")
    await done(store, datetime(2027, 1, 8, 10, tzinfo=UTC), what="Rappels", kind="call", fee=3500)
    await done(
        store,
        datetime(2027, 1, 8, 10, tzinfo=UTC),
        business_id=store.business_ids["institut-belle-peau"],
    )
    await claire.send("/releve cabinet-dupont 2027-01")
    statement, sheet = claire.messages[-2:]
    assert statement.text.splitlines() == [
        "🧾 Relevé · Cabinet dentaire Dupont · janvier 2027",
        euros("• 5 janv. 2027 · Transcription — Compte rendu · 45,00 €"),
        euros("• 8 janv. 2027 · Appel — Rappels · 35,00 €"),
        "",
        "Par type :",  # in config's order of kinds
        euros("Appel × 1 : 35,00 €"),
        euros("Transcription × 1 : 45,00 €"),
        euros("Total : 80,00 €"),
        euros("Reste à facturer : 80,00 €"),
    ]
    assert statement.buttons == [["🧾 Émettre la facture"], ["◀ décembre 2026"]]
    name, data = sheet.document
    assert name == "releve-cabinet-dupont-2027-01.csv"
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig")), delimiter=";"))
    assert rows == [
        [
            "Date",
            "Type",
            "Description",
            "Minutes",
            "Quantité",
            "Prix unitaire (EUR)",
            "Montant (EUR)",
            "Facture",
        ],
        ["2027-01-05", "Transcription", "Compte rendu", "", "1", "45,00", "45,00", ""],
        ["2027-01-08", "Appel", "Rappels", "", "1", "35,00", "35,00", ""],
    ]

    await claire.tap("🧾 Émettre la facture", in_message=statement)
    name, pdf = claire.last.document
    assert name == "facture-2027-0001.pdf"
    assert claire.last.caption == euros("Facture n° 2027-0001 · Cabinet dentaire Dupont · 80,00 €")
    lines = PdfReader(io.BytesIO(pdf)).pages[0].extract_text().splitlines()
    assert lines[:5] == [
        "Claire Moreau — EI",
        "8 rue des Lilas, 69003 Lyon",
        "SIREN : 812 345 678 · SIRET : 812 345 678 00021",
        "claire.moreau@example.fr",
        "Facture n° 2027-0001",
    ]
    assert "Date d'émission : 11 janvier 2027" in lines
    assert "Échéance : 10 février 2027." in lines
    assert "TVA non applicable, art. 293 B du CGI" in lines
    assert statement.text.splitlines()[-1] == euros(
        "Facture n° 2027-0001 du 11 janvier 2027 : 80,00 €"
    )
    assert statement.buttons == [["◀ décembre 2026"]]
    assert (await store.missions.get(a.id)).locked

    # Asked again: the same invoice, never a new number.
    await claire.send("/releve cabinet-dupont 2027-01")
    assert claire.last.document == (name, pdf)
    assert "🧾 Émettre la facture" not in sum(claire.messages[-3].buttons, [])
    # A mission finished late gets the next number.
    await done(store, datetime(2027, 1, 11, 7, tzinfo=UTC), what="Oubli", fee=1000)
    await claire.send("/releve cabinet-dupont")
    await claire.tap("🧾 Émettre la facture")
    assert claire.last.document[0] == "facture-2027-0002.pdf"
    assert [i.total for i in await store.missions.invoices_for(dupont(store), "2027-01")] == [
        8000,
        1000,
    ]


async def test_the_invoice_holds_what_the_statement_showed(bot, tg, clock, store, claire):
    await done(store, datetime(2027, 1, 5, 10, tzinfo=UTC), what="Compte rendu")
    await claire.send("/releve cabinet-dupont 2027-01")
    statement, sheet = claire.messages[-2:]
    assert euros("Reste à facturer : 45,00 €") in statement.text
    # A mission finished between the statement and the tap goes on the next invoice.
    clock.advance(timedelta(minutes=5))
    await done(store, clock.now() - timedelta(minutes=1), what="Publipostage", fee=5000)
    await claire.tap("🧾 Émettre la facture", in_message=statement)
    assert claire.last.caption == euros("Facture n° 2027-0001 · Cabinet dentaire Dupont · 45,00 €")
    (invoice,) = await store.missions.invoices_for(dupont(store), "2027-01")
    assert [line.description for line in invoice.lines] == ["Compte rendu"]
    rows = list(csv.reader(io.StringIO(sheet.document[1].decode("utf-8-sig")), delimiter=";"))
    assert [row[2] for row in rows[1:]] == ["Compte rendu"]


async def test_statement_asks_the_business_then_walks_through_months(bot, tg, store, claire):
    await done(store, datetime(2026, 12, 15, 10, tzinfo=UTC), what="Décembre")
    await claire.send("/releve")
    assert claire.last.text == "Le relevé de quelle entreprise ?"
    await claire.tap("Cabinet dentaire Dupont")
    assert claire.last.text.splitlines() == [
        "🧾 Relevé · Cabinet dentaire Dupont · janvier 2027",
        "Aucune mission terminée ce mois-là.",
    ]
    await claire.tap("◀ décembre 2026")
    statement = claire.messages[-2]
    assert statement.text.splitlines()[1] == euros(
        "• 15 déc. 2026 · Transcription — Décembre · 45,00 €"
    )
    assert statement.buttons[-1] == ["◀ novembre 2026", "janvier 2027 ▶"]
    await claire.send("/releve 2026-13")
    assert claire.last.text == "« 2026-13 » n'est pas un mois : écrivez par exemple 2027-01."
    await claire.send("/releve cabinet-x")
    assert claire.last.text.startswith("Je ne connais pas l'entreprise « cabinet-x ».")


async def test_without_billing_details_no_invoice_is_offered(config_data, store, clock, tg, claire):
    from bot.config import parse_settings
    from tests.conftest import running_bot

    del config_data["billing"]
    await done(store, datetime(2027, 1, 5, 10, tzinfo=UTC))
    async with running_bot(parse_settings(config_data), store, clock, tg):
        await claire.send("/releve cabinet-dupont")
        statement = claire.messages[-2]
        assert statement.text.splitlines()[-1] == (
            "Pour émettre des factures, renseignez vos coordonnées (billing) dans la configuration."
        )
        assert statement.buttons == [["◀ décembre 2026"]]


# -- earnings --------------------------------------------------------------------------------


async def test_earnings_this_month_the_last_twelve_and_a_year_ago(bot, tg, store, claire):
    belle_peau = store.business_ids["institut-belle-peau"]
    await done(store, datetime(2027, 1, 5, 10, tzinfo=UTC), fee=4500)
    await done(store, datetime(2027, 1, 6, 10, tzinfo=UTC), fee=3500, business_id=belle_peau)
    await done(store, datetime(2026, 12, 6, 10, tzinfo=UTC), fee=5000)
    await done(store, datetime(2026, 1, 20, 10, tzinfo=UTC), fee=4000)
    await done(store, datetime(2025, 12, 20, 10, tzinfo=UTC), fee=2000)
    cancelled = await a_mission(store, fee=99900)
    await store.missions.cancel(cancelled.id, now=tg.now())

    await claire.send("/gains")
    text, chart = claire.messages[-2:]
    lines = text.text.splitlines()
    assert lines[:8] == [
        "💶 Vos gains",
        euros("Ce mois-ci, jusqu'à ce lundi 11 janvier : 80,00 €"),
        euros("   · Cabinet dentaire Dupont : 45,00 €"),
        euros("   · Institut Belle Peau : 35,00 €"),
        euros("   Il y a un an (janvier 2026) : 40,00 €"),
        "",
        euros(
            "Les 12 mois d'avant (sans le mois en cours) : 90,00 €, soit 7,50 € par mois en moyenne"
        ),
        euros("   · Cabinet dentaire Dupont : 90,00 €"),
    ]
    # Months that earned nothing, then or a year before, are left to the chart.
    assert lines[8:] == [
        euros("décembre 2026 : 50,00 € (en décembre 2025 : 20,00 €)"),
        euros("janvier 2026 : 40,00 €"),
    ]
    name, png = chart.photo
    assert name == "gains-2027-01.png"
    assert png.startswith(b"\x89PNG\r\n\x1a\n") and len(png) > 10_000


# -- mail merge ------------------------------------------------------------------------------


async def patient(tg, user_id, name, slug="cabinet-dupont"):
    user = tg.user(user_id, name, language="fr")
    await user.send(f"/start {slug}")
    return user


async def finish_mail_merges(application) -> None:
    tasks = list(mail_merge_handlers.mail_merge_tasks(application).values())
    await asyncio.wait_for(asyncio.gather(*tasks), timeout=20)


async def test_a_mail_merge_to_all_patients_with_a_preview(bot, tg, store, claire):
    alice = await patient(tg, 5001, "Alice")
    bob = await patient(tg, 5002, "Bob")
    carol = await patient(tg, 5003, "Carol")
    await patient(tg, 5004, "Dora", slug="institut-belle-peau")
    carol.block_bot()

    await claire.send("/publipostage")
    await claire.tap("Cabinet dentaire Dupont")
    assert claire.last.text == "Publipostage pour Cabinet dentaire Dupont. À qui écrire ?"
    await claire.tap("👥 Tous ses patients")
    assert claire.last.text.splitlines() == [
        "Destinataires : 3 (tous les patients).",
        "Écrivez maintenant le message. Vous pouvez y mettre : {prenom}, {cabinet}.",
        "Par exemple : Bonjour {prenom}, le cabinet sera fermé le 15 août.",
    ]
    await claire.send("Bonjour {prénom}, RDV {date}")
    assert claire.last.text == (
        "Le champ {date} n'a pas de sens pour ces destinataires. "
        "Champs possibles : {prenom}, {cabinet}."
    )
    await claire.send("Bonjour {Prénom}, le {cabinet} sera fermé le 15 août.")
    assert claire.last.text.splitlines() == [
        "Aperçu pour Alice (1 sur 3) :",
        "",
        "Bonjour Alice, le Cabinet dentaire Dupont sera fermé le 15 août.",
    ]
    assert claire.last.buttons == [["📤 Envoyer à 3"], ["✏️ Modifier le texte", "Annuler"]]
    await claire.tap("✏️ Modifier le texte")
    await claire.send("Bonjour {prenom}, le cabinet sera fermé le 15 août.")
    await claire.tap("📤 Envoyer à 3")
    await finish_mail_merges(bot)

    assert alice.last.text == "Bonjour Alice, le cabinet sera fermé le 15 août."
    assert bob.last.text == "Bonjour Bob, le cabinet sera fermé le 15 août."
    assert not any("15 août" in (m.text or "") for m in carol.messages)
    assert claire.last.text.splitlines() == [
        "✅ Publipostage terminé · Cabinet dentaire Dupont",
        "Envoyés : 2 · ont bloqué le bot : 1 · échecs : 0",
        "Enregistré comme mission.",
    ]
    progress = claire.messages[-2]
    assert progress.text.splitlines()[1] == (
        "Envoyés : 2 · ont bloqué le bot : 1 · échecs : 0 · restants : 0"
    )
    start, end = datetime(2027, 1, 1, tzinfo=PARIS), datetime(2027, 2, 1, tzinfo=PARIS)
    (mission,) = await store.missions.done_on(dupont(store), start, end)
    assert (mission.kind, mission.fee, mission.description) == (
        "mail_merge",
        5000,
        "Publipostage (tous les patients), destinataires : 3",
    )


async def test_a_mail_merge_to_tomorrows_appointments_with_date_and_time(bot, tg, store, claire):
    bob = await patient(tg, 5002, "Bob")
    await patient(tg, 5001, "Alice")  # no appointment tomorrow
    start = datetime(2027, 1, 12, 14, 30, tzinfo=PARIS)
    await store.appointments.book(
        NewAppointment(
            business_id=dupont(store),
            practitioner="Dr Martin",
            service="soin",
            starts_at=start,
            ends_at=start + timedelta(minutes=45),
            status=Status.CONFIRMED,
            source=Source.PATIENT,
            patient_id=5002,
        ),
        now=tg.now(),
    )
    await claire.send("/publipostage")
    await claire.tap("Cabinet dentaire Dupont")
    await claire.tap("📅 Ceux qui ont rendez-vous un jour donné")
    await claire.send("13/01")
    assert claire.last.text == "Personne à qui écrire (rendez-vous du mercredi 13 janvier)."
    await claire.tap("Choisir d'autres destinataires")
    await claire.tap("📅 Ceux qui ont rendez-vous un jour donné")
    await claire.tap("Demain")
    assert claire.last.text.startswith("Destinataires : 1 (rendez-vous du mardi 12 janvier).")
    await claire.send("{prenom}, n'oubliez pas votre rendez-vous {date} à {heure} au {cabinet}.")
    await claire.tap("📤 Envoyer à 1")
    await finish_mail_merges(bot)
    assert bob.last.text == (
        "Bob, n'oubliez pas votre rendez-vous mardi 12 janvier à 14:30 au Cabinet dentaire Dupont."
    )


async def test_a_mail_merge_can_be_abandoned_before_sending(bot, tg, store, claire):
    alice = await patient(tg, 5001, "Alice")
    await claire.send("/publipostage")
    await claire.tap("Cabinet dentaire Dupont")
    await claire.tap("🕘 Ceux venus depuis une date")
    await claire.tap("1 an")
    assert claire.last.text.startswith("Personne à qui écrire (venus depuis le")
    await claire.tap("Choisir d'autres destinataires")
    await claire.tap("👥 Tous ses patients")
    await claire.send("Bonjour {prenom}")
    await claire.tap("Annuler")
    assert claire.last.text == "Publipostage annulé : rien n'a été envoyé."
    assert alice.last.text.startswith("Bonjour Alice ! Je suis l'assistant")
    assert await store.mail_merges.running() == []


async def test_a_mail_merge_text_too_long_once_filled_in_is_refused(bot, tg, store, claire):
    await patient(tg, 5001, "Alice")
    await claire.send("/publipostage")
    await claire.tap("Cabinet dentaire Dupont")
    await claire.tap("🕘 Ceux venus depuis une date")
    await claire.send("demain")
    assert claire.last.text.startswith("« demain » n'est pas une date")
    await claire.send("01/01/2026")
    assert claire.last.text == "Personne à qui écrire (venus depuis le jeudi 1 janvier)."
    await claire.tap("Choisir d'autres destinataires")
    await claire.tap("👥 Tous ses patients")
    await claire.send("{prenom} " + "x" * 3795)
    assert claire.last.text == (
        "Une fois rempli, le message dépasse 3800 caractères : raccourcissez-le."
    )
    await claire.send("Bonjour {prenom}")
    assert claire.last.text.endswith("Bonjour Alice")


async def test_a_long_month_keeps_the_statement_within_one_message(bot, tg, store, claire):
    for day in range(60):
        await done(
            store,
            datetime(2027, 1, 1, 9, tzinfo=UTC) + timedelta(hours=day),
            what=f"Appel {day} " + "détail " * 20,
            kind="call",
            fee=3500,
        )
    await claire.send("/releve cabinet-dupont")
    statement, sheet = claire.messages[-2:]
    assert len(statement.text) <= 4096
    lines = statement.text.splitlines()
    shown = [line for line in lines if line.startswith("• ")]
    assert lines[len(shown) + 1] == f"… et {60 - len(shown)} de plus, toutes dans le fichier CSV."
    assert euros("Total : 2 100,00 €").replace("2 1", "2\u202f1") in lines
    assert len(sheet.document[1].decode("utf-8-sig").splitlines()) == 61


async def test_a_typed_step_forgotten_after_half_an_hour(bot, tg, store, claire, clock):
    await claire.send("/mission")
    await claire.tap("Cabinet dentaire Dupont")
    await claire.tap("Appel")
    clock.advance(timedelta(minutes=31))
    await claire.send("Rappeler M. Martin")
    assert await store.missions.active() == []
    await claire.send("/missions")
    assert claire.last.text == "Aucune mission en cours. Tapez /mission pour en créer une."


async def test_an_old_preview_cannot_send_a_mail_merge_hours_later(bot, tg, store, clock, claire):
    alice = await patient(tg, 5001, "Alice")
    await claire.send("/publipostage")
    await claire.tap("Cabinet dentaire Dupont")
    await claire.tap("👥 Tous ses patients")
    await claire.send("Bonjour {prenom}, le cabinet sera fermé le 15 août.")
    preview = claire.last
    clock.advance(timedelta(hours=3))
    await claire.tap("📤 Envoyer à 1", in_message=preview)
    await finish_mail_merges(bot)
    assert all("fermé le 15 août" not in (m.text or "") for m in alice.messages)


async def test_a_mail_merge_still_sending_cannot_be_cancelled_from_its_card(bot, tg, store, claire):
    from storage.missions import MissionBusy

    await patient(tg, 5001, "Alice")
    await claire.send("/publipostage")
    await claire.tap("Cabinet dentaire Dupont")
    await claire.tap("👥 Tous ses patients")
    await claire.send("Bonjour {prenom}.")
    await claire.tap("📤 Envoyer à 1")
    (run,) = await store.mail_merges.running()
    with pytest.raises(MissionBusy):
        await store.missions.cancel(run.mission_id, now=tg.now())
    await finish_mail_merges(bot)
    assert (await store.missions.get(run.mission_id)).status == MissionStatus.DONE


async def test_a_statement_at_the_edge_of_the_calendar_still_answers(bot, tg, claire):
    await claire.send("/releve cabinet-dupont 2000-01")
    assert claire.last.text.startswith("🧾 Relevé · Cabinet dentaire Dupont · janvier 2000")
    assert claire.last.buttons == [["février 2000 ▶"]]


async def test_the_offices_own_people_are_not_written_to_as_patients(bot, tg, store, claire):
    await patient(tg, 5001, "Alice")
    await patient(tg, 222222222, "Dr Dupont")  # the employer once followed the link
    await claire.send("/start cabinet-dupont")  # and so did the secretary
    await claire.send("/publipostage")
    await claire.tap("Cabinet dentaire Dupont")
    await claire.tap("👥 Tous ses patients")
    assert claire.last.text.startswith("Destinataires : 1 (tous les patients).")
