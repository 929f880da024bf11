"""Text contrast of static/app.css at WCAG AA (4.5:1 for normal text), in the light and the dark
color scheme: the colour pairs the pages really draw, computed from the CSS variables."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

CSS = Path(__file__).resolve().parents[1] / "static" / "app.css"
AA = 4.5
RGBA = tuple[float, float, float, float]

# (what, foreground, background layers from the bottom up). A layer is a variable, a literal
# colour, or (variable, alpha): that colour at that opacity, as `color-mix(in srgb, var(--c) N%,
# transparent)` draws it. Badges, danger buttons and alerts tint their own background.
TINTS = ("--green", "--red", "--amber", "--blue", "--grey", "--accent")
Layer = str | tuple[str, float]
PAIRS: list[tuple[str, str, tuple[Layer, ...]]] = [
    *[
        (f"{fg} text on {bg}", fg, (bg,))
        for fg in ("--text", "--muted", "--accent")
        for bg in ("--bg", "--surface", "--surface-2", "--hover")
    ],
    ("active menu item", "--accent", ("--surface", "--accent-soft")),
    ("selection bar", "--text", ("--bg", "--accent-soft")),
    ("primary button", "--accent-fg", ("--btn-primary",)),
    ("primary button, hovered", "--accent-fg", ("--btn-primary-hover",)),
    ("danger button", "--red", ("--surface",)),
    ("danger button in a hovered row", "--red", ("--hover",)),
    ("danger button, hovered", "--red", ("--hover", ("--red", 0.10))),
    ("form error in an alert", "--red", ("--surface", ("--red", 0.09))),
    *[(f"badge {c} in a row", c, ("--surface", (c, 0.12))) for c in TINTS],
    *[(f"badge {c} in a hovered row", c, ("--hover", (c, 0.12))) for c in TINTS],
    *[(f"badge {c} on the page", c, ("--bg", (c, 0.12))) for c in TINTS],
    *[(f"text in an alert {c}", "--text", ("--surface", (c, 0.09))) for c in TINTS],
    ("invisible-character marker", "#b42318", ("#fff4e5",)),
]


def parse_color(value: str) -> RGBA:
    value = value.strip()
    if m := re.fullmatch(r"#([0-9a-fA-F]{3}|[0-9a-fA-F]{6})", value):
        h = m[1] if len(m[1]) == 6 else "".join(c * 2 for c in m[1])
        return (int(h[0:2], 16), int(h[2:4], 16), int(h[4:6], 16), 1.0)
    if m := re.fullmatch(r"rgb\(\s*(\d+)\s+(\d+)\s+(\d+)\s*(?:/\s*([\d.]+)\s*)?\)", value):
        return (int(m[1]), int(m[2]), int(m[3]), float(m[4]) if m[4] else 1.0)
    raise ValueError(f"cannot read the colour {value!r}: write it as #rrggbb or rgb(r g b / a)")


def declarations(block: str) -> dict[str, str]:
    return {m[1]: m[2].strip() for m in re.finditer(r"(--[\w-]+)\s*:\s*([^;]+);", block)}


def schemes(css: str) -> dict[str, dict[str, str]]:
    """The light :root variables, and the dark ones (the light ones with the dark overrides)."""
    css = re.sub(r"/\*.*?\*/", "", css, flags=re.S)
    light = re.search(r"^:root\s*\{([^}]*)\}", css, re.M)
    dark = re.search(r"@media\s*\(prefers-color-scheme:\s*dark\)\s*\{\s*:root\s*\{([^}]*)\}", css)
    assert light and dark, "app.css lost its :root blocks"
    base = declarations(light[1])
    return {"light": base, "dark": {**base, **declarations(dark[1])}}


def over(top: RGBA, bottom: RGBA) -> RGBA:
    """`top` painted over an opaque `bottom`."""
    a = top[3]
    return (*(t * a + b * (1 - a) for t, b in zip(top[:3], bottom[:3], strict=True)), 1.0)


def resolve(layer: Layer, var: dict[str, str]) -> RGBA:
    name, alpha = (layer, 1.0) if isinstance(layer, str) else layer
    r, g, b, a = parse_color(var[name] if name.startswith("--") else name)
    return (r, g, b, a * alpha)


def luminance(c: RGBA) -> float:
    def channel(v: float) -> float:
        s = v / 255
        return s / 12.92 if s <= 0.04045 else ((s + 0.055) / 1.055) ** 2.4

    r, g, b = (channel(v) for v in c[:3])
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def ratio(fg: RGBA, bg: RGBA) -> float:
    hi, lo = sorted((luminance(fg), luminance(bg)), reverse=True)
    return (hi + 0.05) / (lo + 0.05)


def contrast(fg: str, layers: tuple[Layer, ...], var: dict[str, str]) -> float:
    bg = resolve(layers[0], var)
    assert bg[3] == 1.0, f"the bottom layer {layers[0]} must be opaque"
    for layer in layers[1:]:
        bg = over(resolve(layer, var), bg)
    return ratio(over(resolve(fg, var), bg), bg)


def test_the_ratio_matches_known_values() -> None:
    black, white = parse_color("#000"), parse_color("#fff")
    assert ratio(black, white) == pytest.approx(21.0)
    assert ratio(parse_color("#777777"), white) == pytest.approx(4.48, abs=0.01)
    half = over(parse_color("rgb(0 0 0 / .5)"), white)
    assert half[:3] == pytest.approx((127.5, 127.5, 127.5))


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_text_pairs_meet_wcag_aa(scheme: str) -> None:
    var = schemes(CSS.read_text())[scheme]
    failing = [
        f"{what}: {contrast(fg, layers, var):.2f}:1"
        for what, fg, layers in PAIRS
        if contrast(fg, layers, var) < AA
    ]
    assert not failing, f"below {AA}:1 in the {scheme} scheme:\n" + "\n".join(failing)


def test_placeholders_are_not_faded_below_the_muted_colour() -> None:
    css = CSS.read_text()
    rule = re.search(r"::placeholder\s*\{([^}]*)\}", css)
    assert rule and "var(--muted)" in rule[1]
    opacity = re.search(r"opacity:\s*([\d.]+)", rule[1])
    assert opacity is None or float(opacity[1]) == 1.0, rule[1]
