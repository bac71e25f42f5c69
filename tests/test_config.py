from datetime import time, timedelta

import pytest

from bot.__main__ import main
from bot.config import ConfigError, load_settings, parse_duration, parse_settings
from tests.conftest import EXAMPLE


def errors_of(data) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        parse_settings(data)
    return caught.value.errors


def test_example_config_describes_a_dental_clinic_and_a_beauty_institute():
    settings = load_settings(EXAMPLE)
    dupont, institute = settings.businesses
    assert dupont.practitioners == ["Dr Dupont", "Dr Martin"]
    assert dupont.hours["monday"][1].start == time(14, 0)
    assert dupont.min_notice == timedelta(hours=2)
    assert institute.requires_confirmation is False
    assert settings.reminders == [timedelta(hours=48), timedelta(hours=2)]
    assert settings.is_secretary(111111111)
    assert [b.slug for b in settings.businesses_of_employer(222222222)] == ["cabinet-dupont"]


def test_a_range_that_ends_before_it_starts_names_its_key_path(config_data):
    config_data["businesses"][0]["hours"]["monday"][1] = "14:00-13:00"
    assert errors_of(config_data) == [
        "businesses[0].hours.monday[1]: 14:00-13:00 ends before it starts"
    ]


def test_every_error_is_reported_at_once(config_data):
    config_data["secretaries"][0].pop("name")
    config_data["businesses"][1]["min_notice"] = "soon"
    config_data["businesses"][1]["colour"] = "pink"
    config_data["businesses"][0]["hours"]["funday"] = ["09:00-10:00"]
    config_data["timezone"] = "Europe/Pariss"
    assert sorted(errors_of(config_data)) == sorted(
        [
            "secretaries[0].name: is required",
            "businesses[1].min_notice: 'soon' is not a duration such as 48h, 2h, 30m or 1d",
            "businesses[1].colour: unknown key",
            "businesses[0].hours: 'funday' is not a weekday (monday ... sunday)",
            "timezone: 'Europe/Pariss' is not a time zone such as Europe/Paris",
        ]
    )


def test_overlapping_ranges_are_refused(config_data):
    config_data["businesses"][0]["hours"]["monday"] = ["08:00-12:00", "11:00-13:00"]
    assert errors_of(config_data) == [
        "businesses[0].hours: monday: 08:00-12:00 and 11:00-13:00 overlap"
    ]


def test_two_businesses_cannot_share_a_slug(config_data):
    config_data["businesses"][1]["slug"] = "cabinet-dupont"
    assert errors_of(config_data) == ["(top level): business slugs must be unique: cabinet-dupont"]


def test_a_slug_is_as_long_as_a_button_can_carry(config_data):
    """Pickers carry the slug in callback data, which reads at most 40 characters of it."""
    config_data["businesses"][1]["slug"] = "c" * 40
    assert parse_settings(config_data).businesses[1].slug == "c" * 40
    config_data["businesses"][1]["slug"] = "c" * 41
    assert errors_of(config_data) == [
        f"businesses[1].slug: {'c' * 41!r} must be 1 to 40 lowercase letters, digits and dashes"
    ]


def test_the_token_cannot_be_put_in_the_file(config_data):
    config_data["telegram"]["token"] = "123:ABC"
    assert errors_of(config_data) == ["telegram.token: unknown key"]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("48h", timedelta(hours=48)),
        ("30m", timedelta(minutes=30)),
        ("1d", timedelta(days=1)),
        ("1h30m", timedelta(minutes=90)),
        ("30s", timedelta(seconds=30)),
        ("1m30s", timedelta(seconds=90)),
        (45, timedelta(minutes=45)),
    ],
)
def test_durations(text, expected):
    assert parse_duration(text) == expected


def test_the_sweep_runs_every_minute_unless_told_and_never_every_zero(config_data):
    assert parse_settings(config_data).sweep_every == timedelta(minutes=1)
    config_data["sweep_every"] = "1s"
    assert parse_settings(config_data).sweep_every == timedelta(seconds=1)
    config_data["sweep_every"] = "0s"
    (error,) = errors_of(config_data)
    assert error.startswith("sweep_every: ")


def test_check_config_prints_each_error_and_fails(tmp_path, capsys, config_data):
    import yaml

    config_data["businesses"][0]["hours"]["monday"][1] = "14:00-13:00"
    path = tmp_path / "bad.yaml"
    path.write_text(yaml.safe_dump(config_data, allow_unicode=True), encoding="utf-8")
    with pytest.raises(SystemExit) as exited:
        main(["check-config", str(path)])
    assert exited.value.code == 2
    assert (
        "businesses[0].hours.monday[1]: 14:00-13:00 ends before it starts"
        in capsys.readouterr().err
    )


def test_check_config_accepts_the_example(capsys):
    assert main(["check-config", str(EXAMPLE)]) == 0
    assert "valid — 2 businesses, 1 secretaries" in capsys.readouterr().out


def test_run_refuses_an_invalid_file_before_looking_for_a_token(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", "123:SECRET")
    path = tmp_path / "bad.yaml"
    path.write_text("secretaries: []\nbusinesses: []\n", encoding="utf-8")
    with pytest.raises(SystemExit):
        main(["run", "--config", str(path)])
    err = capsys.readouterr().err
    assert "secretaries: List should have at least 1 item" in err
    assert "SECRET" not in err


def test_run_without_token_says_where_to_put_it(capsys, monkeypatch):
    monkeypatch.delenv("TELEGRAM_BOT_TOKEN", raising=False)
    assert main(["run", "--config", str(EXAMPLE)]) == 2
    assert "TELEGRAM_BOT_TOKEN is not set" in capsys.readouterr().err


@pytest.mark.parametrize("text", ["inf", "-inf", "NaN", "sNaN", "1e999999", "12,345", "-5", "oui"])
def test_an_amount_that_is_no_fee_is_refused_plainly(text):
    from bot.config import parse_money

    with pytest.raises(ValueError):
        parse_money(text)


def test_the_example_answers_questions_and_names_services_in_english():
    dupont, institute = load_settings(EXAMPLE).businesses
    assert dupont.service("detartrage").name_in("en") == "Teeth cleaning"
    assert dupont.service("detartrage").name_in("fr") == "Détartrage"
    assert len(dupont.faq) >= 3 and len(institute.faq) >= 3
    assert dupont.faq[0].answer_in("en").startswith("Indigo")


def test_a_faq_entry_is_checked(config_data):
    config_data["businesses"][0]["faq"] = [
        {"keywords": [], "answer": "Oui."},
        {"keywords": ["parking"], "answer": {"de": "Ja."}},
        {"keywords": ["  "], "answer": ""},
        {"keywords": ["parking"]},
    ]
    config_data["businesses"][0]["services"][0]["names"] = {"es": "Consulta"}
    errors = errors_of(config_data)
    assert any(e.startswith("businesses[0].faq[0].keywords:") for e in errors), errors
    assert "businesses[0].faq[1].answer: de: the bot speaks fr and en" in " ".join(errors)
    assert any(e.startswith("businesses[0].faq[2].keywords:") for e in errors), errors
    assert any(e.startswith("businesses[0].faq[2].answer:") for e in errors), errors
    assert "businesses[0].faq[3].answer: is required" in errors
    assert any(e.startswith("businesses[0].services[0].names:") for e in errors), errors


@pytest.mark.parametrize(("code", "kept"), [("fr", "FR"), ("GB", "GB"), ("UK", "UK")])
def test_public_holidays_take_any_country_code_the_holidays_package_knows(config_data, code, kept):
    config_data["businesses"][0]["public_holidays"] = code
    assert parse_settings(config_data).businesses[0].public_holidays == kept


def test_an_unknown_country_for_public_holidays_is_refused(config_data):
    config_data["businesses"][0]["public_holidays"] = "XX"
    assert errors_of(config_data) == [
        "businesses[0].public_holidays: 'XX' is not a country code known to the holidays package"
    ]
