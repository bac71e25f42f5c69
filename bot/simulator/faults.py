"""Fault injection: the bot's calls failing the ways Telegram's do in practice.

Three sources, checked in this order on every call that passed the spec check: an error asked
for with ``fail_next``, a fault drawn at random by ``inject_faults``, and the fixed latency of
``slow_down``. Random faults come from a seeded generator, so the same calls fail on every run.
"""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from aiohttp import web

from bot.simulator.errors import DEFAULT_DESCRIPTIONS, ApiError


class Fault(StrEnum):
    """How a call goes wrong; the value names the kind in ``Simulator.fault_counts``."""

    TOO_MANY_REQUESTS = "429"  # refused with parameters.retry_after, not applied
    INTERNAL_ERROR = "500"  # refused in Telegram's JSON, not applied
    BAD_GATEWAY = "502"  # the HTML page of the proxy in front of Telegram, not applied
    SLOW_AFTER_APPLY = "slow_after_apply"  # applied, answered after slow_seconds
    DROP_BEFORE = "drop_before"  # connection closed before applying
    DROP_AFTER = "drop_after"  # applied, then the connection closed without an answer


ALL_FAULTS = frozenset(Fault)
# Start-up calls and the long poll: faulting them tests python-telegram-bot's start-up and
# retry loop rather than the bot. Name them in ``methods=`` to fault them anyway. Webhook
# deliveries fail with ``fail_next_delivery``.
NOT_FAULTED_BY_DEFAULT = frozenset(
    {
        "getUpdates",
        "getMe",
        "deleteWebhook",
        "setWebhook",
        "getWebhookInfo",
        "setMyCommands",
        "getMyCommands",
        "deleteMyCommands",
        "setChatMenuButton",
        "close",
        "logOut",
    }
)
_NOT_FAULTED = frozenset(name.lower() for name in NOT_FAULTED_BY_DEFAULT)
# What nginx answers when Telegram's backend is down: not JSON, the client must cope.
_BAD_GATEWAY_PAGE = (
    "<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n"
    "<center><h1>502 Bad Gateway</h1></center>\r\n<hr><center>nginx</center>\r\n"
    "</body>\r\n</html>\r\n"
)


@dataclass
class _Injection:
    method: str  # lower case: Telegram method names are case-insensitive
    error: ApiError
    chat_id: int | None
    times: int


@dataclass
class _RandomFaults:
    rate: float
    kinds: tuple[Fault, ...]
    methods: frozenset[str] | None  # lower case; None: all but the start-up ones
    retry_after: int
    slow_seconds: float
    draws: random.Random

    def covers(self, method: str) -> bool:
        name = method.lower()
        return name not in _NOT_FAULTED if self.methods is None else name in self.methods


class Faults:
    """What goes wrong with the bot's calls, and how often each random kind went wrong."""

    def __init__(self) -> None:
        self.counts: Counter[Fault] = Counter()
        self._injections: list[_Injection] = []
        self._latency: dict[str, float] = {}
        self._random: _RandomFaults | None = None

    def fail_next(
        self,
        method: str,
        error_code: int,
        description: str | None,
        retry_after: int,
        chat_id: int | None,
        times: int,
    ) -> None:
        if description is None:
            description = (
                f"Too Many Requests: retry after {retry_after}"
                if error_code == 429
                else DEFAULT_DESCRIPTIONS.get(error_code, "Injected error")
            )
        error = ApiError(error_code, description, retry_after if error_code == 429 else None)
        self._injections.append(_Injection(method.lower(), error, chat_id, times))

    def slow_down(self, method: str, seconds: float) -> None:
        self._latency[method.lower()] = seconds

    def inject(
        self,
        rate: float,
        kinds: Iterable[str],
        *,
        seed: int,
        methods: Iterable[str] | None,
        retry_after: int,
        slow_seconds: float,
    ) -> None:
        if not 0 <= rate <= 1:
            raise ValueError(f"a fault rate is between 0 and 1, got {rate}")
        chosen = {Fault(kind) for kind in kinds}
        if not chosen:
            raise ValueError("no fault kind to inject")
        self.counts.clear()
        self._random = _RandomFaults(
            rate=rate,
            # In declaration order, so that a seed draws the same kinds whatever the set's order.
            kinds=tuple(kind for kind in Fault if kind in chosen),
            methods=None if methods is None else frozenset(m.lower() for m in methods),
            retry_after=retry_after,
            slow_seconds=slow_seconds,
            draws=random.Random(seed),
        )

    def clear(self) -> None:
        """No more failures of any kind; the counts stay readable."""
        self._injections.clear()
        self._latency.clear()
        self._random = None

    def raise_injected(self, method: str, params: dict[str, Any]) -> None:
        for injection in self._injections:
            chat_matches = injection.chat_id is None or injection.chat_id == params.get("chat_id")
            if injection.method == method.lower() and chat_matches:
                injection.times -= 1
                if injection.times <= 0:
                    self._injections.remove(injection)
                raise injection.error

    def draw(self, method: str) -> Fault | None:
        """The fault this call suffers, if any; each call covered takes its draws in turn."""
        plan = self._random
        if plan is None or not plan.covers(method) or plan.draws.random() >= plan.rate:
            return None
        fault = plan.kinds[plan.draws.randrange(len(plan.kinds))]
        self.counts[fault] += 1
        return fault

    def refusal(self, fault: Fault | None) -> web.Response | None:
        """The answer of a fault that refuses the call, or None when the call goes ahead."""
        if fault is Fault.TOO_MANY_REQUESTS:
            seconds = self._random.retry_after if self._random else 1
            error = ApiError(429, f"Too Many Requests: retry after {seconds}", seconds)
            return web.json_response(error.payload(), status=429)
        if fault is Fault.INTERNAL_ERROR:
            error = ApiError(500, DEFAULT_DESCRIPTIONS[500])
            return web.json_response(error.payload(), status=500)
        if fault is Fault.BAD_GATEWAY:
            return web.Response(text=_BAD_GATEWAY_PAGE, status=502, content_type="text/html")
        return None

    def delay(self, method: str, fault: Fault | None) -> float:
        """How long an applied call waits before its answer."""
        if fault is Fault.SLOW_AFTER_APPLY and self._random is not None:
            return self._random.slow_seconds
        return self._latency.get(method.lower(), 0)
