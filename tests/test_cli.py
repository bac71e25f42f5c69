"""``secretary-bot parse``: how the bot reads a message, as JSON."""

from __future__ import annotations

import json

from bot.__main__ import main
from tests.conftest import EXAMPLE


def test_parse_prints_the_reading_as_json(capsys):
    code = main(
        [
            "parse",
            "rdv mardi prochain vers 10h pour un détartrage svp",
            "--now",
            "2027-01-11T08:47:00+01:00",
            "--config",
            str(EXAMPLE),
        ]
    )
    assert code == 0
    reading = json.loads(capsys.readouterr().out)
    assert reading["intent"] == "book"
    assert (reading["day_from"], reading["day_to"]) == ("2027-01-12", "2027-01-12")
    assert (reading["time_from"], reading["time_to"]) == ("10:00", "10:00")
    assert reading["service"] == "detartrage"


def test_parse_reads_a_naive_now_in_the_business_zone_and_names_the_business(capsys):
    main(
        [
            "parse",
            "un massage demain après-midi",
            "--now",
            "2027-01-11T22:30",
            "--config",
            str(EXAMPLE),
            "--business",
            "institut-belle-peau",
        ]
    )
    reading = json.loads(capsys.readouterr().out)
    assert reading["day_from"] == "2027-01-12"
    assert (reading["time_from"], reading["time_to"], reading["service"]) == (
        "14:00",
        "18:00",
        "massage",
    )


def test_parse_refuses_an_unknown_business(capsys):
    assert main(["parse", "demain", "--config", str(EXAMPLE), "--business", "nope"]) == 2
    assert "no business 'nope'" in capsys.readouterr().err


def test_parse_refuses_a_now_that_is_no_moment(capsys):
    assert main(["parse", "demain", "--now", "lundi"]) == 2
    assert "--now 'lundi' is not an ISO 8601 moment" in capsys.readouterr().err
