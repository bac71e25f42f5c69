"""The reader's regular expressions, compiled when first used.

Built from long alternations of words (numbers, weekdays, months, in two languages), they
take a tenth of a second to compile: paid at import, every start would pay it before its
first poll; paid on first use, the first message read pays it once.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Callable, Iterator


class Pattern:
    """``re.compile(source)``, made the first time it is matched."""

    __slots__ = ("_source", "_compiled")

    def __init__(self, source: str):
        self._source = source
        self._compiled: re.Pattern[str] | None = None

    def _regex(self) -> re.Pattern[str]:
        if self._compiled is None:
            self._compiled = re.compile(self._source)
        return self._compiled

    def search(self, text: str, pos: int = 0, endpos: int = sys.maxsize) -> re.Match[str] | None:
        return self._regex().search(text, pos, endpos)

    def match(self, text: str, pos: int = 0, endpos: int = sys.maxsize) -> re.Match[str] | None:
        return self._regex().match(text, pos, endpos)

    def fullmatch(self, text: str, pos: int = 0, endpos: int = sys.maxsize) -> re.Match[str] | None:
        return self._regex().fullmatch(text, pos, endpos)

    def finditer(
        self, text: str, pos: int = 0, endpos: int = sys.maxsize
    ) -> Iterator[re.Match[str]]:
        return self._regex().finditer(text, pos, endpos)

    def findall(self, text: str) -> list[str]:
        return self._regex().findall(text)

    def sub(self, replacement: str | Callable[[re.Match[str]], str], text: str) -> str:
        return self._regex().sub(replacement, text)
