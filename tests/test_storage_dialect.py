"""The repositories' SQL is the one both backends read: SQLite's own words stay in sqlite.py."""

import re
from pathlib import Path

import pytest

STORAGE = Path(__file__).parent.parent / "storage"
BACKENDS = {"sqlite.py", "checkpoint.py", "postgres.py", "plans.py", "backup.py"}
SQLITE_ONLY = re.compile(
    r"INSERT OR (IGNORE|REPLACE)|REPLACE INTO|lastrowid|sqlite_|PRAGMA|IS (NOT )?\?"
    r"|aiosqlite|\bGLOB\b|julianday|\bmax\(\w+, |\bmin\(\w+, ",
    re.IGNORECASE,
)


@pytest.mark.parametrize(
    "module",
    sorted(p.name for p in STORAGE.glob("*.py") if p.name not in BACKENDS),
)
def test_a_repository_speaks_no_sqlite_of_its_own(module):
    source = (STORAGE / module).read_text(encoding="utf-8")
    assert SQLITE_ONLY.findall(source) == []
