"""Starting the bot imports none of the libraries only some commands need.

matplotlib (with numpy, PIL and fontTools), fpdf2, factur-x (with lxml and pypdf), segno and
icalendar are imported where the week image, the earnings chart, the invoice (a Factur-X,
with its QR code) or the .ics file is made; dateparser is the NLU benchmark's baseline and no
part of the bot. A fresh interpreter, as ``secretary-bot run`` starts one: in this process
the other tests have imported them already.
"""

from __future__ import annotations

import json
import subprocess
import sys

from bench.startup import HEAVY
from tests.conftest import ROOT


def test_importing_the_application_loads_no_heavy_library():
    probe = (
        "import json, sys\n"
        "import bot.__main__, bot.app\n"
        f"print(json.dumps(sorted(name for name in {HEAVY!r} if name in sys.modules)))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", probe], cwd=ROOT, check=True, capture_output=True, text=True
    ).stdout
    assert json.loads(out) == []
