"""The QR code of a business's link: ``secretary-bot qr`` writes it, ``/qr`` sends it.

No QR reader is installed: the picture is read back module by module and compared with the
code segno makes of the link, which proves it holds that link.
"""

from __future__ import annotations

import io
import xml.etree.ElementTree as ElementTree

import pytest
import segno
from PIL import Image

from bot.__main__ import main
from bot.qr import BORDER, SCALE
from tests.conftest import EXAMPLE

CLAIRE = 111111111
DUPONT = 222222222  # the employer of cabinet-dupont
LINK = "https://t.me/secretary_test_bot?start=cabinet-dupont"
SVG = "{http://www.w3.org/2000/svg}"


def modules_of(picture: bytes) -> tuple[tuple[bool, ...], ...]:
    """The dark and light modules of the code at the top of the picture, read at each
    module's centre."""
    image = Image.open(io.BytesIO(picture)).convert("L")
    width = image.width
    side = segno.make_qr(LINK, error="m").symbol_size(scale=1, border=0)[0]
    left = (width - (side + 2 * BORDER) * SCALE) // 2 + BORDER * SCALE
    top = BORDER * SCALE
    return tuple(
        tuple(
            image.getpixel((left + x * SCALE + SCALE // 2, top + y * SCALE + SCALE // 2)) < 128
            for x in range(side)
        )
        for y in range(side)
    )


def expected_modules(link: str) -> tuple[tuple[bool, ...], ...]:
    return tuple(tuple(bool(m) for m in row) for row in segno.make_qr(link, error="m").matrix)


def test_the_cli_writes_a_png_of_the_link_with_the_name_under_it(tmp_path, capsys):
    out = tmp_path / "dupont.png"
    code = main(
        [
            "qr",
            "--config",
            str(EXAMPLE),
            "--bot-username",
            "@secretary_test_bot",
            "cabinet-dupont",
            str(out),
        ]
    )
    assert code == 0
    assert capsys.readouterr().out == (f"{out}: QR code of {LINK} (Cabinet dentaire Dupont)\n")
    picture = out.read_bytes()
    assert modules_of(picture) == expected_modules(LINK)
    image = Image.open(io.BytesIO(picture))
    bare = segno.make_qr(LINK, error="m").symbol_size(scale=SCALE, border=BORDER)
    assert image.height > bare[1] + SCALE  # room for the name
    caption = image.convert("L").crop((0, bare[1], image.width, image.height))
    assert caption.getextrema()[0] < 128  # and something written there


def test_the_cli_writes_an_svg_with_the_name_as_text(tmp_path):
    out = tmp_path / "dupont.svg"
    args = ["qr", "--config", str(EXAMPLE), "--bot-username", "secretary_test_bot"]
    assert main([*args, "institut-belle-peau", str(out)]) == 0
    root = ElementTree.fromstring(out.read_bytes())
    assert root.tag == f"{SVG}svg"
    (text,) = root.iter(f"{SVG}text")
    assert text.text == "Institut Belle Peau"
    assert (
        int(text.get("y"))
        > segno.make_qr(
            LINK.replace("cabinet-dupont", "institut-belle-peau"), error="m"
        ).symbol_size(scale=SCALE, border=BORDER)[1]
        - BORDER * SCALE
    )
    # segno's own drawing of the code is there, and it is the code of the institute's link.
    expected = io.BytesIO()
    segno.make_qr("https://t.me/secretary_test_bot?start=institut-belle-peau", error="m").save(
        expected, kind="svg", scale=SCALE, border=BORDER
    )
    (drawn,) = ElementTree.fromstring(expected.getvalue()).iter(f"{SVG}path")
    paths = [path.get("d") for path in root.iter(f"{SVG}path")]
    assert drawn.get("d") in paths


@pytest.mark.parametrize(
    ("args", "error"),
    [
        (["--bot-username", "secretary_test_bot", "nope", "x.png"], "no business 'nope'"),
        (["--bot-username", "secretary_test_bot", "cabinet-dupont", "x.jpg"], "x.jpg: name a"),
        (["--bot-username", "t.me/x", "cabinet-dupont", "x.png"], "--bot-username: 't.me/x'"),
    ],
)
def test_the_cli_refuses_what_it_cannot_do(tmp_path, capsys, monkeypatch, args, error):
    monkeypatch.chdir(tmp_path)
    assert main(["qr", "--config", str(EXAMPLE), *args]) == 2
    assert error in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == []


async def test_the_secretary_gets_the_png_in_her_chat(bot, tg):
    claire = tg.user(CLAIRE, "Claire", language="fr")
    await claire.send("/qr cabinet-dupont")
    filename, picture = claire.last.photo
    assert filename == "qr-cabinet-dupont.png"
    assert modules_of(picture) == expected_modules(LINK)
    assert claire.last.caption.splitlines() == [
        f"QR code de Cabinet dentaire Dupont : {LINK}",
        "À imprimer pour l'accueil : en le scannant, un patient ouvre la conversation avec "
        "l'établissement.",
    ]
    await claire.send("/qr")
    assert claire.last.text == (
        "Écrivez /qr suivi de l'établissement : cabinet-dupont, institut-belle-peau"
    )
    await claire.send("/qr boulangerie")
    assert claire.last.text.startswith("Écrivez /qr suivi de l'établissement")


async def test_in_english_for_a_secretary_who_reads_english(config_data, tg, store, clock):
    from bot.config import parse_settings
    from tests.conftest import running_bot

    config_data["secretaries"][0]["language"] = "en"
    settings = parse_settings(config_data)
    claire = tg.user(CLAIRE, "Claire", language="en")
    async with running_bot(settings, store, clock, tg):
        await claire.send("/qr institut")
        assert claire.last.photo[0] == "qr-institut-belle-peau.png"
        assert claire.last.caption.splitlines()[0] == (
            "Institut Belle Peau's QR code: "
            "https://t.me/secretary_test_bot?start=institut-belle-peau"
        )


async def test_an_employer_or_a_patient_is_refused(bot, tg):
    dupont = tg.user(DUPONT, "Dr Dupont", language="fr")
    await dupont.send("/qr cabinet-dupont")
    assert dupont.last.text == "Cette action est réservée au secrétariat."
    alice = tg.user(5001, "Alice", language="en")
    await alice.send("/qr cabinet-dupont")
    assert alice.last.text == "This action is for the office's secretaries only."
    assert dupont.last.photo is None and alice.last.photo is None
