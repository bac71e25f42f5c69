"""Webhook mode beside polling: the same booking conversation, taken both ways.

Two processes of the booking bot (``bench.botproc``), one polling its simulator, the other
in webhook mode, its simulator POSTing each update to it with the secret; each patient opens
the link, asks in words and taps the first slot, as in ``bench.throughput``, one update at a
time. The bots take turns, round after round, so that the machine's load falls on both alike;
the figures are the medians of the rounds, the polling bot's being the webhook's reference.

Against the simulator on loopback, what this compares is the bot's cost of taking an update:
a long poll answered with it, against a POST answered once the update is queued. Against
Telegram, the network's round trip comes on top of either, and a webhook saves the poll's.
"""

from __future__ import annotations

import asyncio
import socket
import statistics
import tempfile
from pathlib import Path

from bench.botproc import NOW
from bench.throughput import SECRETARY, STEPS, BotProcess, Run, _round
from bot.simulator import Simulator

ROUNDS = 3
PATIENTS = 150  # a round


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


async def _measure(folder: Path) -> tuple[Run, Run, Simulator]:
    polling, webhook = Run(), Run()
    clock = lambda: NOW  # noqa: E731 - the bots' clocks stand still too
    (folder / "polling").mkdir()
    (folder / "webhook").mkdir()
    async with Simulator(clock=clock) as poll_tg, Simulator(clock=clock) as hook_tg:
        poll_tg.user(SECRETARY, "Claire")
        hook_tg.user(SECRETARY, "Claire")
        async with (
            BotProcess("booking", poll_tg, folder / "polling") as poll_bot,
            BotProcess(
                "booking-webhook", hook_tg, folder / "webhook", str(_free_port())
            ) as hook_bot,
        ):
            for number in range(ROUNDS):
                await _round(poll_bot, polling, number * PATIENTS, PATIENTS)
                await _round(hook_bot, webhook, number * PATIENTS, PATIENTS)
    return polling, webhook, hook_tg


def report(polling: Run, webhook: Run, hook_tg: Simulator) -> None:
    med = statistics.median
    updates = PATIENTS * len(STEPS)
    print(f"{ROUNDS} rounds of {PATIENTS} patients, {updates} updates each; medians:")
    print(
        f"  webhook mode   {med(webhook.updates_per_s):6.0f} updates/s   "
        f"ref polling {med(polling.updates_per_s):.0f}   "
        f"({med(webhook.updates_per_s) / med(polling.updates_per_s):.0%} of it)"
    )
    print(
        f"  CPU            {med(webhook.cpu_ms):6.1f} ms/update    "
        f"ref polling {med(polling.cpu_ms):.1f}"
    )
    for step in STEPS:
        print(
            f"  {step:5}  p50 {med(webhook.steps[step]):6.1f} ms   "
            f"ref polling {med(polling.steps[step]):.1f}"
        )
    retried = len(hook_tg.deliveries) - len({d.update_id for d in hook_tg.deliveries})
    print(f"  deliveries retried: {retried}   ref 0")


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="bench-webhook-") as folder:
        report(*asyncio.run(_measure(Path(folder))))


if __name__ == "__main__":
    main()
