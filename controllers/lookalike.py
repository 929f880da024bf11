"""Names as an admin must see them: invisible and direction-changing characters shown as marked
code points, decomposed (NFD) spellings flagged, so two look-alike names never look alike.
Display only: stored names are never normalised or changed."""

from __future__ import annotations

import unicodedata

from markupsafe import Markup, escape

# Invisible, though not of category Cf: fillers, the grapheme joiner, variation selectors.
INVISIBLE = {0x034F, 0x115F, 0x1160, 0x17B4, 0x17B5, 0x3164, 0xFFA0, *range(0x180B, 0x1810)}
INVISIBLE |= set(range(0xFE00, 0xFE10))
MARKED_CATEGORIES = {"Cf", "Cc", "Co", "Cs", "Cn", "Zl", "Zp", "Zs"}


def hidden(char: str) -> bool:
    """Shown as a marker: a format or control character, an unusual space, an invisible one."""
    if char == " ":
        return False
    return unicodedata.category(char) in MARKED_CATEGORIES or ord(char) in INVISIBLE


def code_point(char: str) -> str:
    name = unicodedata.name(char, "") or unicodedata.category(char)
    return f"U+{ord(char):04X} {name}"


def _marker(text: str, tooltip: str) -> str:
    return f'<span class="cf-mark" title="{escape(tooltip)}">{escape(text)}</span>'


def reveal(value: object) -> Markup:
    """HTML for a name: hidden characters as `U+200B` markers (tooltip: the code point's name),
    leading and trailing spaces as `␠`, and a `NFD` marker on a name not in NFC form."""
    name = "" if value is None else str(value)
    if name.isascii() and name.isprintable() and name.strip(" ") == name:
        return escape(name)  # the common case: nothing to mark
    stripped = name.strip(" ")
    lead = len(name) - len(name.lstrip(" "))
    trail = len(name) - len(name.rstrip(" ")) if stripped else 0
    parts = [_marker("␠", "U+0020 SPACE (leading)")] * lead
    for char in stripped:
        if hidden(char):
            parts.append(_marker(f"U+{ord(char):04X}", code_point(char)))
        else:
            parts.append(str(escape(char)))
    parts += [_marker("␠", "U+0020 SPACE (trailing)")] * trail
    if unicodedata.normalize("NFC", name) != name:
        tip = "Decomposed (not NFC): looks the same as a name spelled with composed letters"
        parts.append(_marker("NFD", tip))
    return Markup("".join(parts))
