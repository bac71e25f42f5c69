"""The QR code of a business's link, with the business's name under it: PNG or SVG.

segno makes the code; Pillow (which matplotlib brings) writes the name on the PNG, in
matplotlib's own DejaVu Sans (Pillow's built-in font has no accents: "Kinésithérapie").
All three are imported when a code is made, never when the bot starts. The SVG gets its name as a
``<text>`` element added with ElementTree to segno's own drawing.
"""

from __future__ import annotations

import io
import re
import xml.etree.ElementTree as ElementTree
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import segno

SCALE = 12  # pixels (PNG) or user units (SVG) per module
BORDER = 4  # modules of blank margin: the quiet zone the QR standard asks for
CAPTION_SIZE = 2 * SCALE  # the name's font size
SVG = "http://www.w3.org/2000/svg"
# What Telegram accepts as a bot's username, the ``@`` left out.
USERNAME = re.compile(r"[A-Za-z][A-Za-z0-9_]{4,31}")


def deep_link(bot_username: str, slug: str) -> str:
    """``https://t.me/<bot>?start=<slug>``: the link that opens the business's chat."""
    username = bot_username.removeprefix("@")
    if not USERNAME.fullmatch(username):
        raise ValueError(f"{bot_username!r} is not a Telegram bot username")
    return f"https://t.me/{username}?start={slug}"


def code(link: str) -> segno.QRCode:
    """Medium error correction: still read with a corner smudged or printed small."""
    import segno

    return segno.make_qr(link, error="m")


def png(link: str, caption: str) -> bytes:
    from matplotlib import font_manager
    from PIL import Image, ImageDraw, ImageFont

    drawn = io.BytesIO()
    code(link).save(drawn, kind="png", scale=SCALE, border=BORDER)
    drawn.seek(0)
    symbol = Image.open(drawn).convert("L")
    face = font_manager.findfont(font_manager.FontProperties(family="DejaVu Sans"))
    font = ImageFont.truetype(face, size=CAPTION_SIZE)
    left, top, right, bottom = font.getbbox(caption)
    margin = BORDER * SCALE
    width = max(symbol.width, right - left + 2 * margin)
    height = symbol.height + bottom + margin
    picture = Image.new("L", (width, height), 255)
    picture.paste(symbol, ((width - symbol.width) // 2, 0))
    ImageDraw.Draw(picture).text(
        (width // 2, symbol.height), caption, fill=0, font=font, anchor="ma"
    )
    out = io.BytesIO()
    picture.save(out, format="PNG")
    return out.getvalue()


def svg(link: str, caption: str) -> bytes:
    drawn = io.BytesIO()
    code(link).save(drawn, kind="svg", scale=SCALE, border=BORDER, light="white", xmldecl=False)
    ElementTree.register_namespace("", SVG)
    root = ElementTree.fromstring(drawn.getvalue())
    size = int(root.get("width"))
    # No font metrics here: about 0.6 em a character in a sans-serif font.
    width = max(size, round(0.6 * CAPTION_SIZE * len(caption)) + 2 * BORDER * SCALE)
    height = size + 2 * CAPTION_SIZE + BORDER * SCALE // 2
    root.set("width", str(width))
    root.set("height", str(height))
    root.set("viewBox", f"0 0 {width} {height}")
    symbol = ElementTree.Element(f"{{{SVG}}}g", transform=f"translate({(width - size) // 2} 0)")
    symbol.extend(list(root))
    for child in list(root):
        root.remove(child)
    ElementTree.SubElement(
        root, f"{{{SVG}}}rect", width=str(width), height=str(height), fill="#fff"
    )
    root.append(symbol)
    text = ElementTree.SubElement(
        root,
        f"{{{SVG}}}text",
        {
            "x": str(width // 2),
            "y": str(size + CAPTION_SIZE),
            "text-anchor": "middle",
            "font-family": "sans-serif",
            "font-size": str(CAPTION_SIZE),
        },
    )
    text.text = caption
    return ElementTree.tostring(root, encoding="utf-8", xml_declaration=True)


def write(path: Path, link: str, caption: str) -> None:
    """An SVG when ``path`` ends in ``.svg``, else a PNG."""
    made = svg(link, caption) if path.suffix.lower() == ".svg" else png(link, caption)
    path.write_bytes(made)
