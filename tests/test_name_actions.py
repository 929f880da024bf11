"""Names drawn by hypothesis (emoji, Cyrillic, CJK, combining marks, bidi and other format
characters) through every htmx action: activate, re-sync, publish, unpublish (model and post),
bulk activate. Each answers 2xx and the database agrees with what the page then shows. And
look-alike names are shown apart: invisible characters as markers, NFD spellings flagged."""

from __future__ import annotations

import asyncio
import html
import json
import re
import unicodedata
from collections.abc import Coroutine
from typing import Any, TypeVar
from urllib.parse import quote

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from domain.catalogue.keys import parse_key
from tests.conftest import Bucket, rows
from tests.served import staged
from tests.web import Browser

T = TypeVar("T")
TRICKY = ["\u00eb", "e\u0308", "Ж", "李", "🌸", "👩\u200d👧", "\u202e", "\u200b", "\u200f"]
TRICKY += ["\u2066", "\ufeff", "\u00ad", "\u0301", "ß", "ﬁ", "İ", "\u3164", "\u00a0"]
PIECES = st.one_of(
    st.sampled_from(list("abcXYZ019 -_.")),
    st.sampled_from(TRICKY),
    st.characters(categories=["Cf"]),
    st.characters(codec="utf-8", categories=["L", "M", "N", "P", "S", "Zs"]),
)


def folder_name(name: str) -> bool:
    return parse_key(f"{name}/Post/a.jpg").model == name


NAME = st.lists(PIECES, min_size=1, max_size=16).map("".join).filter(folder_name)
NAMES = st.lists(NAME, min_size=1, max_size=3).map(lambda names: list(dict.fromkeys(names)))


def toast(response: Any) -> str:
    header = response.headers["hx-trigger-after-settle"]
    assert header.isascii()
    return str(json.loads(header)["toast"]["message"])


async def one_round(b: Browser, bucket: Bucket, names: list[str]) -> None:
    await bucket.put(*(f"{n}/Post/a.jpg" for n in names))
    assert (await bucket.sync()).status == "succeeded"
    name = names[0]
    path = "/staged/" + quote(name, safe="")
    activated = await b.post(f"{path}/activate", {}, htmx=True)
    assert activated.status_code == 200, (name, activated.text[:200])
    assert name in toast(activated) and "badge-active" in activated.text
    state = await rows("SELECT status FROM whitelabel_models WHERE folder_name = $1", name)
    assert [r["status"] for r in state] == ["active"]
    resynced = await b.post(f"{path}/resync", {}, htmx=True)
    assert resynced.status_code == 200, (name, resynced.text[:200])
    run_id = int(re.search(r"run #(\d+)", toast(resynced)).group(1))  # type: ignore[union-attr]
    run = await b.wait_for_run(run_id)
    assert run.status == "succeeded" and run.scope == name
    model = (await rows("SELECT id FROM models WHERE name = $1", name))[0]["id"]
    post = (await rows("SELECT id FROM posts WHERE model = $1", model))[0]["id"]
    for target, table, row_id in (
        (f"/production/{model}/publish", "models", model),
        (f"/production/posts/{post}/publish", "posts", post),
    ):
        for published in (False, True):
            answer = await b.post(target, {"published": str(published).lower()}, htmx=True)
            assert answer.status_code == 200, (name, target, answer.text[:200])
            shown = "published" if published else "unpublished"
            assert f"badge-{shown}" in answer.text
            stored = await rows(f"SELECT is_published FROM {table} WHERE id = $1", row_id)
            assert stored[0]["is_published"] is published
    bulk = await b.post("/staged/_bulk/activate", {"name": names}, htmx=True)
    assert bulk.status_code == 200 and bulk.headers.get("hx-refresh") == "true"
    shown_rows = await staged(b)
    stored_rows = await rows("SELECT folder_name, status FROM whitelabel_models")
    stored = {r["folder_name"]: r["status"] for r in stored_rows}
    for n in names:
        assert stored[n] == "active" and shown_rows[n][3] == "active", n


async def test_names_through_every_htmx_action(signed_in: Browser, bucket: Bucket) -> None:
    loop = asyncio.get_running_loop()
    tried: list[str] = []

    def run(coro: Coroutine[Any, Any, T]) -> T:
        return asyncio.run_coroutine_threadsafe(coro, loop).result(timeout=60)

    @settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))
    @given(names=NAMES)
    def example(names: list[str]) -> None:
        tried.extend(names)
        run(one_round(signed_in, bucket, names))

    await asyncio.to_thread(example)
    assert len(tried) >= 25
    print(f"\nnames through htmx actions: {len(tried)} names")


TWINS = ["Zoë", unicodedata.normalize("NFD", "Zoë"), "abc\u202egnp.exe", "zero\u200bwidth", " lead"]


async def test_look_alike_names_are_shown_apart(signed_in: Browser, bucket: Bucket) -> None:
    await bucket.put(*(f"{n}/Post/a.jpg" for n in TWINS))
    assert (await bucket.sync()).status == "succeeded"
    page = (await signed_in.get("/staged?size=100")).text
    found = re.findall(r'<a href="/staged/[^"]*" title="([^"]*)">(.*?)</a>', page)
    links = {html.unescape(title): text for title, text in found}
    assert set(links) == set(TWINS)  # stored and shown as they are: never normalised
    assert "cf-mark" not in links["Zoë"]
    assert ">NFD<" in links[unicodedata.normalize("NFD", "Zoë")]
    assert 'title="U+202E RIGHT-TO-LEFT OVERRIDE">U+202E<' in links["abc\u202egnp.exe"]
    assert "\u202e" not in links["abc\u202egnp.exe"]  # the override itself never reaches text
    assert 'title="U+200B ZERO WIDTH SPACE">U+200B<' in links["zero\u200bwidth"]
    assert 'title="U+0020 SPACE (leading)">␠<' in links[" lead"]
    stored = {r["folder_name"] for r in await rows("SELECT folder_name FROM whitelabel_models")}
    assert stored == set(TWINS)
