"""Settings loaded from YAML and validated with pydantic.

The token never lives in the file: it is read from ``TELEGRAM_BOT_TOKEN`` only, so a config
can be shared or committed without leaking it.
"""

from __future__ import annotations

import re
from datetime import date, time, timedelta
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml
from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
LANGUAGES = ("fr", "en")
_DURATION = re.compile(
    r"^\s*(?:(\d+)\s*d)?\s*(?:(\d+)\s*h)?\s*(?:(\d+)\s*m(?:in)?)?\s*(?:(\d+)\s*s)?\s*$"
)
_SLUG = re.compile(r"^[a-z0-9][a-z0-9-]{0,39}$")


class ConfigError(Exception):
    """An invalid configuration; ``errors`` are lines ``key.path: reason``."""

    def __init__(self, errors: list[str]):
        super().__init__("\n".join(errors))
        self.errors = errors


def parse_duration(value: Any) -> timedelta:
    """``48h``, ``2h``, ``30m``, ``1d``, ``1h30m``, ``30s`` or a number of minutes."""
    if isinstance(value, timedelta):
        return value
    if isinstance(value, int) and not isinstance(value, bool):
        return timedelta(minutes=value)
    match = _DURATION.match(str(value))
    if not match or not any(match.groups()):
        raise ValueError(f"{value!r} is not a duration such as 48h, 2h, 30m or 1d")
    days, hours, minutes, seconds = (int(g or 0) for g in match.groups())
    return timedelta(days=days, hours=hours, minutes=minutes, seconds=seconds)


def _parse_clock(text: str) -> time:
    try:
        return time.fromisoformat(text.strip())
    except ValueError:
        raise ValueError(f"{text!r} is not a time of day such as 08:30") from None


# Far above any fee, far below what SQLite's integers hold.
MAX_CENTS = 100_000_000


def parse_money(value: Any) -> int:
    """An amount in euros (``45``, ``37.5``, ``"37,50"``) -> integer cents, exactly."""
    if isinstance(value, bool):
        raise ValueError(f"{value!r} is not an amount in euros")
    try:
        euros = Decimal(str(value).replace(",", ".").strip())
    except InvalidOperation:
        raise ValueError(f"{value!r} is not an amount in euros such as 45 or 37.50") from None
    if not euros.is_finite() or euros > MAX_CENTS // 100:
        raise ValueError(f"{value!r} is not an amount in euros up to {MAX_CENTS // 100:,}")
    cents = euros * 100
    if cents != cents.to_integral_value() or cents < 0:
        raise ValueError(f"{value!r} is not a positive amount in whole cents")
    return int(cents)


Duration = Annotated[timedelta, BeforeValidator(parse_duration)]
Cents = Annotated[int, BeforeValidator(parse_money)]

# A remote secretary's usual missions and their default fees, in euros.
DEFAULT_MISSION_FEES = {
    "appointments": 40,
    "call": 35,
    "email": 35,
    "agenda": 40,
    "meeting": 45,
    "filing": 35,
    "writing": 50,
    "moderation": 40,
    "transcription": 45,
    "mail_merge": 50,
    "other": 40,
}


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class TimeRange(_Model):
    start: time
    end: time

    @model_validator(mode="before")
    @classmethod
    def _from_text(cls, value: Any) -> Any:
        if not isinstance(value, str):
            return value
        start, sep, end = value.partition("-")
        if not sep:
            raise ValueError(f"{value!r} is not a range such as 08:30-12:30")
        start_time, end_time = _parse_clock(start), _parse_clock(end)
        if end_time <= start_time:
            raise ValueError(f"{value.strip()} ends before it starts")
        return {"start": start_time, "end": end_time}

    def __str__(self) -> str:
        return f"{self.start:%H:%M}-{self.end:%H:%M}"


class Closure(_Model):
    first: date
    last: date

    @model_validator(mode="before")
    @classmethod
    def _from_text(cls, value: Any) -> Any:
        if isinstance(value, date):
            return {"first": value, "last": value}
        if not isinstance(value, str):
            return value
        first, _, last = value.partition("..")
        try:
            first_day = date.fromisoformat(first.strip())
            last_day = date.fromisoformat((last or first).strip())
        except ValueError:
            raise ValueError(
                f"{value!r} is not a day YYYY-MM-DD or a range YYYY-MM-DD..YYYY-MM-DD"
            ) from None
        if last_day < first_day:
            raise ValueError(f"{value} ends before it starts")
        return {"first": first_day, "last": last_day}

    def __contains__(self, day: date) -> bool:
        return self.first <= day <= self.last


def _check_languages(value: dict[str, str]) -> dict[str, str]:
    unknown = sorted(set(value) - set(LANGUAGES))
    if unknown:
        raise ValueError(f"{', '.join(unknown)}: the bot speaks {' and '.join(LANGUAGES)}")
    if any(not text.strip() for text in value.values()):
        raise ValueError("an empty text")
    return value


class Service(_Model):
    # Short: a service's key travels in buttons' callback data, 64 bytes at most.
    key: str = Field(pattern=r"^[a-z0-9_-]{1,20}$")
    name: str = Field(min_length=1)
    # The name in other languages than the office's: {en: "Teeth cleaning"}.
    names: dict[str, str] = {}
    duration: int = Field(gt=0, le=8 * 60, description="minutes")
    price: int | None = Field(default=None, ge=0, description="EUR")
    keywords: list[str] = []

    @field_validator("names")
    @classmethod
    def _names(cls, value: dict[str, str]) -> dict[str, str]:
        return _check_languages(value)

    def name_in(self, language: str) -> str:
        return self.names.get(language, self.name)


class FaqEntry(_Model):
    """A question the office answers the same way each time: matched by its keywords."""

    keywords: list[str] = Field(min_length=1)
    # One text, or one per language: {fr: "...", en: "..."}.
    answer: str | dict[str, str]

    @field_validator("keywords")
    @classmethod
    def _keywords(cls, value: list[str]) -> list[str]:
        if any(not keyword.strip() for keyword in value):
            raise ValueError("an empty keyword")
        return value

    @field_validator("answer")
    @classmethod
    def _answer(cls, value: str | dict[str, str]) -> str | dict[str, str]:
        if isinstance(value, str):
            if not value.strip():
                raise ValueError("an empty answer")
            return value
        if not value:
            raise ValueError("an answer in no language")
        return _check_languages(value)

    def answer_in(self, language: str) -> str:
        if isinstance(self.answer, str):
            return self.answer
        return self.answer.get(language) or next(iter(self.answer.values()))


class Secretary(_Model):
    telegram_id: int
    name: str
    language: str = "fr"


class TelegramSettings(_Model):
    base_url: str | None = None
    base_file_url: str | None = None
    # Telegram's flood limit for a bot: about 30 messages a second in all. The bot paces
    # every message under it (mail merges most of all); a local Bot API server may allow more.
    max_messages_per_second: float = Field(default=30, gt=0)
    # How long one Bot API call may take before the bot counts it as failed (and the outbox
    # tries again): python-telegram-bot's own default.
    timeout_seconds: float = Field(default=5, gt=0)


class Business(_Model):
    slug: str
    name: str = Field(min_length=1)
    employers: list[int] = []
    address: str = ""
    phone: str = ""
    requires_confirmation: bool = True
    min_notice: Duration = timedelta(hours=2)
    daily_summary_at: time = time(19, 0)
    timezone: str | None = None
    hours: dict[str, list[TimeRange]] = {}
    closed: list[Closure] = []
    public_holidays: str | None = "FR"
    practitioners: list[str] = Field(min_length=1)
    services: list[Service] = Field(min_length=1)
    reminders: list[Duration] | None = None
    slot_step: int = Field(default=15, gt=0, le=120, description="minutes between slot starts")
    # How far ahead patients book online; None: the office's ``booking_horizon``.
    booking_horizon: Duration | None = None
    # The older spelling, in whole days, still read when ``booking_horizon`` is not set.
    booking_horizon_days: int | None = Field(default=None, gt=0, le=730)
    # A request unanswered this long is flagged to the employers; None: the office's setting.
    escalate_after: Duration | None = None
    # Inside this much of an appointment a patient's cancel or move goes to the office;
    # None: the office's ``cancel_notice``.
    cancel_notice: Duration | None = None
    faq: list[FaqEntry] = []

    @field_validator("booking_horizon")
    @classmethod
    def _business_horizon(cls, value: timedelta | None) -> timedelta | None:
        return _check_horizon(value) if value is not None else None

    @field_validator("slug")
    @classmethod
    def _slug(cls, value: str) -> str:
        if not _SLUG.match(value):
            raise ValueError(f"{value!r} must be 1 to 40 lowercase letters, digits and dashes")
        return value

    @field_validator("hours")
    @classmethod
    def _weekdays(cls, value: dict[str, list[TimeRange]]) -> dict[str, list[TimeRange]]:
        for day, ranges in value.items():
            if day not in WEEKDAYS:
                raise ValueError(f"{day!r} is not a weekday (monday ... sunday)")
            ordered = sorted(ranges, key=lambda r: r.start)
            for before, after in zip(ordered, ordered[1:], strict=False):
                if after.start < before.end:
                    raise ValueError(f"{day}: {before} and {after} overlap")
        return value

    @field_validator("public_holidays")
    @classmethod
    def _country(cls, value: str | None) -> str | None:
        if value is None:
            return None
        # The registry's codes, not list_supported_countries(): that imports every one of the
        # package's 200-odd countries, a fifth of a second of each start.
        from holidays.registry import EntityLoader

        if value.upper() not in set(EntityLoader.get_country_codes()):
            raise ValueError(f"{value!r} is not a country code known to the holidays package")
        return value.upper()

    @field_validator("timezone")
    @classmethod
    def _zone(cls, value: str | None) -> str | None:
        return _check_zone(value) if value else None

    @model_validator(mode="after")
    def _unique_keys(self) -> Business:
        keys = [s.key for s in self.services]
        if len(keys) != len(set(keys)):
            raise ValueError("two services share a key")
        if len(self.practitioners) != len(set(self.practitioners)):
            raise ValueError("two practitioners share a name")
        return self

    def service(self, key: str) -> Service | None:
        return next((s for s in self.services if s.key == key), None)


# Booking further ahead than two years would outrun the holidays known and the callback days.
MAX_HORIZON = timedelta(days=730)


def _check_horizon(value: timedelta) -> timedelta:
    if not timedelta(days=1) <= value <= MAX_HORIZON:
        raise ValueError(f"{value} is not between 1d and {MAX_HORIZON.days}d")
    return value


def _check_zone(value: str) -> str:
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"{value!r} is not a time zone such as Europe/Paris") from None
    return value


class Billing(_Model):
    """Who invoices: the secretary as a French micro-entrepreneur, VAT-exempt."""

    name: str = Field(min_length=1)
    address: str = Field(min_length=1)
    siret: str = Field(pattern=r"^\d{3} ?\d{3} ?\d{3} ?\d{5}$")
    # The SIRET's first nine digits when not given; French law wants it on every invoice.
    siren: str | None = Field(default=None, pattern=r"^\d{3} ?\d{3} ?\d{3}$")
    email: str | None = None
    iban: str | None = None
    bic: str | None = Field(default=None, pattern=r"^[A-Z]{6}[A-Z0-9]{2}([A-Z0-9]{3})?$")
    # How the client pays: a transfer (to the IBAN, with a QR code on the invoice) or a
    # cheque; by default a transfer when an IBAN is given, else a cheque.
    payment_method: Literal["transfer", "cheque"] | None = None
    # Prints "TVA non applicable, art. 293 B du CGI", and says so in the Factur-X data.
    vat_exempt: bool = True

    @field_validator("iban")
    @classmethod
    def _iban(cls, value: str | None) -> str | None:
        if value is None:
            return None
        compact = value.replace(" ", "").upper()
        if re.fullmatch(r"[A-Z]{2}\d{2}[A-Z0-9]{11,30}", compact):
            # ISO 13616: country and check digits moved to the end, letters as numbers
            # (A is 10), and the whole is 1 modulo 97.
            digits = "".join(str(int(c, 36)) for c in compact[4:] + compact[:4])
            if int(digits) % 97 == 1:
                return value
        raise ValueError(f"{value!r} is not a valid IBAN")

    @field_validator("vat_exempt")
    @classmethod
    def _exempt(cls, value: bool) -> bool:
        if not value:
            # A VAT-liable seller's invoice needs rates and VAT amounts the bot has not.
            raise ValueError("the bot invoices as a VAT-exempt micro-entrepreneur only")
        return value

    @model_validator(mode="after")
    def _billing(self) -> Billing:
        if self.siren is not None and self.siren.replace(" ", "") != self.siret_digits[:9]:
            raise ValueError(f"SIREN {self.siren} is not the start of SIRET {self.siret}")
        if self.payment_method == "transfer" and self.iban is None:
            raise ValueError("payment_method: transfer needs the iban to pay to")
        return self

    @property
    def siret_digits(self) -> str:
        return self.siret.replace(" ", "")

    @property
    def siren_number(self) -> str:
        """As printed: ``812 345 678``."""
        digits = self.siret_digits[:9]
        return self.siren or f"{digits[:3]} {digits[3:6]} {digits[6:]}"

    @property
    def payment(self) -> str:
        return self.payment_method or ("transfer" if self.iban else "cheque")


class Retention(_Model):
    """How long what concerns patients is kept (see README, "Data retention")."""

    # After the appointment ended: the business's records of who came when, for disputes
    # over care or fees, which French civil law allows five years to raise.
    appointments: Duration = timedelta(days=5 * 365 + 1)
    # After the message was written: what a patient asked the office, answered long since.
    messages: Duration = timedelta(days=365)

    @field_validator("appointments", "messages")
    @classmethod
    def _at_least_a_day(cls, value: timedelta) -> timedelta:
        if value < timedelta(days=1):
            raise ValueError(f"{value} is too short: at least 1d")
        return value


class Settings(_Model):
    telegram: TelegramSettings = TelegramSettings()
    timezone: str = "Europe/Paris"
    language: str = "fr"
    # A SQLite file, or a PostgreSQL database as a postgresql:// URL (several workers).
    database: Path | str = Path("data/secretary.sqlite3")
    secretaries: list[Secretary] = Field(min_length=1)
    reminders: list[Duration] = [timedelta(hours=48), timedelta(hours=2)]
    request_ttl: Duration = timedelta(hours=24)
    escalate_after: Duration = timedelta(hours=2)  # see Business.escalate_after
    # How far ahead patients book online; a business may override it.
    booking_horizon: Duration = timedelta(days=90)
    # Inside this much of an appointment a patient cannot cancel or move it online: the office
    # is asked, so that a late cancellation is known and the slot offered to someone else.
    cancel_notice: Duration = timedelta(hours=24)
    # How long a freed slot is kept for the waitlisted patient it is offered to.
    waitlist_hold: Duration = timedelta(minutes=15)
    secretary_digest_at: time = time(8, 0)
    # How often each worker does the scheduled work (reminders, expiries, summaries): what
    # falls due is sent within this much of its time.
    sweep_every: Duration = Field(default=timedelta(minutes=1), gt=timedelta(0))
    # Someone who wrote to the bot but never booked is forgotten this long after their last
    # message: long enough to come back and book within the month, no longer, since the
    # office has no use for the name and number of someone who never became a patient.
    visitor_retention: Duration = timedelta(days=30)
    retention: Retention = Retention()
    businesses: list[Business] = Field(min_length=1)
    billing: Billing | None = None
    mission_kinds: dict[str, Cents] = Field(
        default_factory=lambda: {k: v * 100 for k, v in DEFAULT_MISSION_FEES.items()}
    )

    @field_validator("timezone")
    @classmethod
    def _zone(cls, value: str) -> str:
        return _check_zone(value)

    @field_validator("database", mode="before")
    @classmethod
    def _database(cls, value: Any) -> Path | str:
        if isinstance(value, str) and value.startswith(("postgresql://", "postgres://")):
            return value
        if isinstance(value, str | Path) and str(value):
            return Path(value)
        raise ValueError("a SQLite file's path, or a postgresql:// URL")

    @field_validator("language")
    @classmethod
    def _language(cls, value: str) -> str:
        if value not in LANGUAGES:
            raise ValueError(f"{value!r} is not one of {', '.join(LANGUAGES)}")
        return value

    @field_validator("booking_horizon")
    @classmethod
    def _horizon(cls, value: timedelta) -> timedelta:
        return _check_horizon(value)

    @field_validator("visitor_retention")
    @classmethod
    def _retention(cls, value: timedelta) -> timedelta:
        # A person's last visit is recorded to within a day (storage.people.SEEN_PRECISION).
        if value < timedelta(days=1):
            raise ValueError(f"{value} is too short: at least 1d")
        return value

    @model_validator(mode="after")
    def _unique(self) -> Settings:
        slugs = [b.slug for b in self.businesses]
        duplicates = sorted({s for s in slugs if slugs.count(s) > 1})
        if duplicates:
            raise ValueError(f"business slugs must be unique: {', '.join(duplicates)}")
        return self

    def business(self, slug: str) -> Business | None:
        return next((b for b in self.businesses if b.slug == slug), None)

    def zone(self, business: Business) -> ZoneInfo:
        return ZoneInfo(business.timezone or self.timezone)

    def horizon(self, business: Business) -> timedelta:
        """How far ahead ``business`` books online: its own setting, else the office's."""
        if business.booking_horizon is not None:
            return business.booking_horizon
        if business.booking_horizon_days is not None:
            return timedelta(days=business.booking_horizon_days)
        return self.booking_horizon

    def cancel_notice_of(self, business: Business) -> timedelta:
        """How close to an appointment a patient may still cancel or move it online."""
        return business.cancel_notice if business.cancel_notice is not None else self.cancel_notice

    def is_secretary(self, user_id: int) -> bool:
        return any(s.telegram_id == user_id for s in self.secretaries)

    def businesses_of_employer(self, user_id: int) -> list[Business]:
        return [b for b in self.businesses if user_id in b.employers]

    def staff_ids(self) -> set[int]:
        """The secretaries and every business's employers."""
        return {s.telegram_id for s in self.secretaries} | {
            i for b in self.businesses for i in b.employers
        }


def _location(loc: tuple[int | str, ...]) -> str:
    """``('businesses', 0, 'hours', 'monday', 1)`` -> ``businesses[0].hours.monday[1]``."""
    path = ""
    for part in loc:
        if isinstance(part, int):
            path += f"[{part}]"
        elif part.startswith(("function-", "[")):
            # pydantic names the validator in the path; the user cares only about the key.
            continue
        else:
            path += f".{part}" if path else part
    return path or "(top level)"


def _reason(error: dict[str, Any]) -> str:
    message = str(error["msg"])
    for prefix in ("Value error, ", "Assertion failed, "):
        message = message.removeprefix(prefix)
    if error["type"] == "extra_forbidden":
        return "unknown key"
    if error["type"] == "missing":
        return "is required"
    return message


def format_errors(error: ValidationError) -> list[str]:
    return [f"{_location(e['loc'])}: {_reason(e)}" for e in error.errors()]


def parse_settings(data: Any) -> Settings:
    try:
        return Settings.model_validate(data if data is not None else {})
    except ValidationError as error:
        raise ConfigError(format_errors(error)) from None


def load_settings(path: str | Path) -> Settings:
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as error:
        raise ConfigError([f"{path}: cannot be read ({error.strerror})"]) from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as error:
        raise ConfigError([f"{path}: not valid YAML ({error})"]) from None
    return parse_settings(data)
