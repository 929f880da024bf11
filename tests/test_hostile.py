"""Hostile bucket keys go through sync, pages, signed URLs and the public API: no 500s,
(newlines are left out: moto's HTTP server cannot route keys holding them)
nothing executable in the HTML, and every signed URL still fetches its object."""

from __future__ import annotations

import unicodedata
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import quote

import httpx
import pytest

from tests.conftest import Bucket
from tests.oracle import expected
from tests.test_convergence import staged
from tests.web import Browser, admin, browser, running_app

NAMES = [
    "Zoë",
    unicodedata.normalize("NFD", "Zoë"),
    "\u200fRTL mark",
    "\u202eevil.gpj",
    "🔥 hot",
    "👩‍👩‍👧 family",
    "tab\there",
    "vt\x0bline",
    "bell\x07",
    "%2F",
    "%252F",
    "a+b",
    "..x",
    "...",
    "<img src=x onerror=alert(1)>",
    '"dq"',
    "'sq'",
    "`bt`",
    "Case",
    "case",
    "CASE",
    "&amp;",
    "?q=1",
    "#frag",
    ";semi",
    "back\\slash",
    " lead",
    "trail ",
    "   ",
    "名前",
    "ümlaut",
    "x" * 300,
    "{{ 7*7 }}",
    "{% raw %}",
    "javascript:alert(1)",
    "\ufeffbom",
    "null\x01",
]
FILES = ["a.jpg", "b.MP4", "<svg onload=alert(1)>.png", "é.jpeg", "'quote'.webp"]


def hostile_keys() -> list[str]:
    keys = []
    for i, name in enumerate(NAMES):
        post = NAMES[(i * 7 + 3) % len(NAMES)][:60]
        for file in FILES:
            keys.append(f"{name}/{post}/{file}")
        keys.append(f"{name}/profile/icon.jpg")
    long_file = "y" * (1024 - len("Long/P/.jpg")) + ".jpg"
    keys.append(f"Long/P/{long_file}")
    assert len(f"Long/P/{long_file}".encode()) == 1024 + len(".jpg") - 4
    return keys


KEYS = hostile_keys()


@pytest.fixture
async def signed_in(
    database: Any, bucket: Bucket, settings: Any, pg_engine: Any
) -> AsyncIterator[Browser]:
    await admin()
    async with running_app(settings, bucket, pg_engine) as app, browser(app) as b:
        await b.sign_in()
        yield b


@pytest.fixture
async def hostile(
    database: Any, bucket: Bucket, settings: Any, pg_engine: Any
) -> AsyncIterator[tuple[Browser, Bucket]]:
    for index, key in enumerate(KEYS):
        await bucket.put(key, body=f"object {index}".encode())
    await admin()
    async with running_app(settings, bucket, pg_engine) as app, browser(app) as b:
        await b.sign_in()
        yield b, bucket


async def test_hostile_keys_sync_render_sign_and_serve(hostile: tuple[Browser, Bucket]) -> None:
    b, bucket = hostile
    assert len(KEYS) >= 200
    run = await bucket.sync()
    assert run["status"] == "succeeded", run["error"]
    assert await staged() == expected(KEYS)
    await b.post("/whitelabel/_bulk/activate-all-new", {})
    bodies = {key: f"object {i}".encode() for i, key in enumerate(KEYS)}
    models = sorted(expected(KEYS))
    async with httpx.AsyncClient() as s3:
        for name in models:
            page = await b.get(f"/whitelabel/{quote(name, safe='')}")
            assert page.status_code == 200, (name, page.status_code)
            assert "<img src=x onerror" not in page.text and "<svg onload" not in page.text
            assert "onerror=alert" not in page.text.replace("onerror=alert(1)&gt;", "")
            search = await b.get("/whitelabel", params={"q": name[:200]})
            assert search.status_code == 200
            api = await b.client.get(f"/api/models/{quote(name, safe='')}/posts")
            assert api.status_code == 200, (name, api.text)
            for post in api.json()["data"]:
                fetched = await s3.get(post["content"])
                assert fetched.status_code == 200 and fetched.content in bodies.values()
    listing = await b.get("/whitelabel", params={"size": 100})
    assert listing.status_code == 200 and "<img src=x" not in listing.text
    for url in ("/", "/production", "/audit", "/sync-runs", f"/sync-runs/{run['id']}"):
        response = await b.get(url)
        assert response.status_code == 200 and "<svg onload" not in response.text
    public = (await b.client.get("/api/models")).json()
    assert public["meta"]["count"] == len(models)


@pytest.mark.parametrize(
    "url",
    [
        "/whitelabel?size=-1",
        "/whitelabel?size=99999999999999999999",
        "/whitelabel?dir=up",
        "/whitelabel?after=" + "A" * 5000,
        "/whitelabel?q=" + "x" * 5000,
        "/whitelabel?status=gone",
        "/whitelabel/x?page=0",
        "/whitelabel/x?page=abc",
        "/production?page=1e9",
        "/production/abc",
        "/sync-runs/99999999999999999999",
        "/audit?before=-",
        "/api/models?page=",
        "/api/models?page=100001",
        "/api/models/x/posts?page=two",
    ],
)
async def test_bad_query_parameters_are_400s(signed_in: Browser, url: str) -> None:
    b = signed_in
    response = await b.get(url)
    assert 400 <= response.status_code < 500, (url, response.status_code)
    assert "Traceback" not in response.text


@pytest.mark.parametrize(
    ("url", "form"),
    [
        ("/login", {"username": "tester"}),
        ("/login", {"username": "x" * 100_000, "password": "y" * 100_000}),
        ("/sync", {"model": "a/b"}),
        ("/sync", {"model": "x" * 5000}),
        ("/production/1/publish", {}),
        ("/production/1/publish", {"published": ["true", "false"]}),
        ("/production/posts/abc/publish", {"published": "true"}),
        ("/whitelabel/_bulk/activate", {"name": ["Nobody"] * 3}),
        ("/sync-runs/12345/confirm", {}),
        ("/sync-runs/12345/discard", {}),
        ("/sync-runs/abc/cancel", {}),
    ],
)
async def test_bad_forms_are_4xx_with_a_message(
    signed_in: Browser, url: str, form: dict[str, Any]
) -> None:
    b = signed_in
    response = await b.post(url, form)
    assert 400 <= response.status_code < 500, (url, response.status_code, response.text[:200])
    assert "Traceback" not in response.text and response.text.strip()
