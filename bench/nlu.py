"""How well and how fast bot.nlu reads the shared corpus, with dateparser as a baseline.

    python -m bench.nlu

Prints, in one run:
- the share of corpus lines parse_request gets right (intent, date and time, scored as
  shared/corpus/README.md says);
- on the lines whose date or time the README scores, the share right for parse_request and for
  dateparser.search_dates alone (intent not counted for either, and dateparser is even told
  which match to take: the last one for a reschedule, else the first);
- p50 and p99 per message after warm-up, for both;
- "import plus first parse" of bot.nlu, measured in fresh interpreters.
Nothing here asserts a timing: the figures are for reading.
"""

import json
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

from bot.nlu import BookingRequest, parse_request

# A copy of the team's corpus (../shared/corpus) ships here, so that a clone alone is measured
# and tested against it.
CORPUS = Path(__file__).resolve().parent / "corpus" / "requests.jsonl"
REPO = Path(__file__).resolve().parents[1]
ROUNDS = 20  # timed passes over the corpus for parse_request
BASELINE_ROUNDS = 2  # dateparser is much slower
FRESH_RUNS = 5

Fields = tuple[str | None, str | None]  # (date, time) written as the corpus writes them


def load_corpus() -> list[dict]:
    return [json.loads(line) for line in CORPUS.read_text(encoding="utf-8").splitlines() if line]


def request_fields(request: BookingRequest) -> Fields:
    if request.day_from is None:
        day = None
    elif request.day_from == request.day_to:
        day = request.day_from.isoformat()
    else:
        day = f"{request.day_from.isoformat()}..{request.day_to.isoformat()}"
    if request.part_of_day is not None:
        clock = request.part_of_day.value
    elif request.time_from is None:
        clock = None
    elif request.time_from == request.time_to:
        clock = f"{request.time_from:%H:%M}"
    else:
        clock = f"{request.time_from:%H:%M}-{request.time_to:%H:%M}"
    return day, clock


def fields_right(line: dict, fields: Fields) -> bool:
    """The README's scoring of the date and time, for the intent the line has."""
    if line["intent"] in ("book", "reschedule"):
        return fields == (line["date"], line["time"])
    return fields[0] == line["date"]  # cancel, confirm: the day names the appointment


def scored(line: dict) -> bool:
    return line["intent"] in ("book", "reschedule", "cancel", "confirm")


def is_right(line: dict, request: BookingRequest) -> bool:
    """The corpus README's scoring: the intent, and the date and time where they count."""
    return request.intent.value == line["intent"] and (
        not scored(line) or fields_right(line, request_fields(request))
    )


def dateparser_reader() -> Callable[[dict], Fields]:
    """dateparser.search_dates as a reader of the corpus, as fairly as it allows."""
    from dateparser.search import search_dates

    def read(line: dict) -> Fields:
        now = datetime.fromisoformat(line["now"])
        settings = {
            "RELATIVE_BASE": now.replace(tzinfo=None),  # local wall clock, as the corpus is
            "PREFER_DATES_FROM": "future",
            "RETURN_TIME_AS_PERIOD": True,  # so that a time given is told from none
            "DATE_ORDER": "DMY",  # French numeric dates
        }
        found = (
            search_dates(line["text"], languages=["fr", "en"], settings=settings, add_period=True)
            or []
        )
        if not found:
            return None, None
        _, moment, period = found[-1] if line["intent"] == "reschedule" else found[0]
        if period == "time":
            clock = f"{moment:%H:%M}"
        elif period == "part_of_day":  # "tomorrow morning" comes back as 09:00
            clock = (
                "morning" if moment.hour < 12 else "afternoon" if moment.hour < 17 else "evening"
            )
        else:
            clock = None
        return moment.date().isoformat(), clock

    return read


def percentiles(samples_ns: list[int]) -> tuple[float, float]:
    ordered = sorted(samples_ns)
    p50 = ordered[len(ordered) // 2]
    p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]
    return p50 / 1e6, p99 / 1e6


def time_per_message(read: Callable[[dict], object], lines: list[dict], rounds: int) -> list[int]:
    for line in lines:  # warm-up: caches, lazily loaded data
        read(line)
    samples = []
    for _ in range(rounds):
        for line in lines:
            start = time.perf_counter_ns()
            read(line)
            samples.append(time.perf_counter_ns() - start)
    return samples


FRESH_PARSE = """
import time
start = time.perf_counter()
from datetime import datetime
from bot.nlu import parse_request
parse_request({text!r}, datetime.fromisoformat({now!r}))
print((time.perf_counter() - start) * 1000)
"""


def import_and_first_parse(line: dict) -> tuple[list[float], list[float]]:
    """(import + first parse, whole process) in ms, each in a fresh interpreter."""
    inside, whole = [], []
    code = FRESH_PARSE.format(text=line["text"], now=line["now"])
    for _ in range(FRESH_RUNS):
        start = time.perf_counter()
        done = subprocess.run(
            [sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, check=True
        )
        whole.append((time.perf_counter() - start) * 1000)
        inside.append(float(done.stdout.strip()))
    return inside, whole


def share(right: int, total: int) -> str:
    return f"{right}/{total} = {100 * right / total:.1f}%"


def main() -> None:
    lines = load_corpus()
    requests = [parse_request(line["text"], datetime.fromisoformat(line["now"])) for line in lines]
    all_right = sum(is_right(line, request) for line, request in zip(lines, requests, strict=True))
    with_fields = [
        (line, request) for line, request in zip(lines, requests, strict=True) if scored(line)
    ]
    ours = sum(fields_right(line, request_fields(request)) for line, request in with_fields)
    baseline = dateparser_reader()
    theirs = sum(fields_right(line, baseline(line)) for line, _ in with_fields)

    print(f"corpus: {len(lines)} messages ({CORPUS})")
    print(f"parse_request, intent + date + time:  {share(all_right, len(lines))}")
    print(f"date and time only, on the {len(with_fields)} lines where the README scores them:")
    print(f"  parse_request                        {share(ours, len(with_fields))}")
    print(f"  dateparser.search_dates              {share(theirs, len(with_fields))}")

    def ours_read(line: dict) -> object:
        return parse_request(line["text"], datetime.fromisoformat(line["now"]))

    p50, p99 = percentiles(time_per_message(ours_read, lines, ROUNDS))
    print(f"per message after warm-up ({len(lines)} messages x {ROUNDS} rounds):")
    print(f"  parse_request                        p50 {p50:.3f} ms   p99 {p99:.3f} ms")
    p50, p99 = percentiles(time_per_message(baseline, lines, BASELINE_ROUNDS))
    print(
        f"  dateparser.search_dates ({BASELINE_ROUNDS} rounds)     "
        f"p50 {p50:.3f} ms   p99 {p99:.3f} ms"
    )

    inside, whole = import_and_first_parse(lines[0])
    print(
        f"import plus first parse, fresh interpreter x {FRESH_RUNS}: "
        f"median {statistics.median(inside):.0f} ms, max {max(inside):.0f} ms "
        f"(whole process with interpreter start: median {statistics.median(whole):.0f} ms)"
    )


if __name__ == "__main__":
    main()
