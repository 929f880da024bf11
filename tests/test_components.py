"""The row pieces built in Python (controllers/components.py) escape what they show, as the
macros they replaced did under autoescape: bucket names are user content."""

from __future__ import annotations

import pytest

from controllers.components import badge, thumb, tick
from domain.platform.tables import StagedStatus
from domain.production.visibility import Reason

HOSTILE = '"><img src=x onerror=alert(1)>&'
ESCAPED = "&#34;&gt;&lt;img src=x onerror=alert(1)&gt;&amp;"


def test_a_tick_box_escapes_the_name_value_and_label_it_carries() -> None:
    html = str(tick(HOSTILE, HOSTILE, HOSTILE))
    assert html == (
        f'<input type="checkbox" name="{ESCAPED}" value="{ESCAPED}" form="selection-form" '
        f'aria-label="Select {ESCAPED}">'
    )


def test_a_thumbnail_beside_a_name_is_decorative() -> None:
    assert str(thumb("https://cdn/x.webp", "Cleo")) == (
        '<img class="thumb" src="https://cdn/x.webp" alt="" loading="lazy">'
    )


def test_a_thumbnail_escapes_its_url_class_and_alt_text() -> None:
    html = str(thumb("https://cdn/x.webp?a=1&b=2", "n", HOSTILE, HOSTILE))
    assert html == (
        f'<img class="{ESCAPED}" src="https://cdn/x.webp?a=1&amp;b=2" alt="{ESCAPED}" '
        'loading="lazy">'
    )


@pytest.mark.parametrize(
    ("name", "letter"), [("<b>", "&lt;"), ("Zoë", "Z"), ("😀 x", "😀"), ("", ""), (None, "")]
)
def test_a_model_without_a_thumbnail_shows_its_first_letter_escaped(
    name: str | None, letter: str
) -> None:
    assert str(thumb(None, name)) == f'<div class="thumb placeholder">{letter}</div>'
    assert str(thumb("", name, "thumb-lg")) == (
        f'<div class="thumb thumb-lg placeholder">{letter}</div>'
    )


def test_a_badge_reads_underscores_as_spaces_and_escapes_its_status_and_label() -> None:
    assert str(badge("source_missing")) == (
        '<span class="badge badge-source_missing">source missing</span>'
    )
    assert str(badge(StagedStatus.new)) == '<span class="badge badge-new">new</span>'
    assert str(badge("retired", Reason.MODEL_RETIRED)) == (
        '<span class="badge badge-retired">model retired</span>'
    )
    assert str(badge(HOSTILE)) == (f'<span class="badge badge-{ESCAPED}">{ESCAPED}</span>')
    assert str(badge("", HOSTILE)) == f'<span class="badge">{ESCAPED}</span>'
