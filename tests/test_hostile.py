"""Hostile bucket keys go through sync, pages, signed URLs and the public API: no 500s,
(newlines are left out: moto's HTTP server cannot route keys holding them)
nothing executable in the HTML, and every signed URL still fetches its object."""

from __future__ import annotations

import html
import re
import unicodedata
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import quote, unquote, urlsplit

import httpx
import pytest

from domain.staging.activation import activate
from tests.conftest import Bucket, count, eventually, rows
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
    assert run.status == "succeeded", run.error
    assert await staged() == expected(KEYS)
    await b.post("/staged/_bulk/activate-all-new", {})
    await eventually(lambda: count("models"), len(expected(KEYS)))  # a worker activates them
    bodies = {key: f"object {i}".encode() for i, key in enumerate(KEYS)}
    models = sorted(expected(KEYS))
    contents = {
        name: {
            post: next((k for k, t in media if t == "video"), None)
            or next(k for k, t in media if t == "image")
            for post, media in model["posts"].items()
        }
        for name, model in expected(KEYS).items()
    }
    async with httpx.AsyncClient() as s3:
        for name in models:
            page = await b.get(f"/staged/{quote(name, safe='')}")
            assert page.status_code == 200, (name, page.status_code)
            assert "<img src=x onerror" not in page.text and "<svg onload" not in page.text
            assert "onerror=alert" not in page.text.replace("onerror=alert(1)&gt;", "")
            search = await b.get("/staged", params={"q": name[:200]})
            assert search.status_code == 200
            api = await b.client.get(f"/api/models/{quote(name, safe='')}/posts")
            assert api.status_code == 200, (name, api.text)
            posts = api.json()["data"]
            wanted = contents[name]  # post folder -> its first video, else first image
            assert sorted(p["title"] for p in posts) == sorted(wanted), name
            for post in posts:
                key = wanted[post["title"]]
                bucket_path = unquote(urlsplit(post["content"]).path)
                assert bucket_path == f"/{bucket.s3.settings.bucket}/{key}", (key, bucket_path)
                fetched = await s3.get(post["content"])
                assert fetched.status_code == 200, (key, fetched.status_code)
                assert fetched.content == bodies[key]  # that post's own object, no other
    listing = await b.get("/staged", params={"size": 100})
    assert listing.status_code == 200 and "<img src=x" not in listing.text
    for url in ("/", "/production", "/audit", "/sync-runs", f"/sync-runs/{run.id}"):
        response = await b.get(url)
        assert response.status_code == 200 and "<svg onload" not in response.text
    public = (await b.client.get("/api/models")).json()
    assert public["meta"]["count"] == len(models)


@pytest.fixture
async def catalogue(
    database: Any, bucket: Bucket, settings: Any, pg_engine: Any
) -> AsyncIterator[tuple[Browser, dict[str, int]]]:
    """Signed in, with one staged model `x` synced and activated, so every id and name the
    bad requests use exists: only the handlers' own validation can refuse them."""
    await bucket.put("x/P/a.jpg", "x/Q/b.jpg")
    run = await bucket.sync()
    assert run.status == "succeeded", run.error
    await activate(["x"])
    model = (await rows("SELECT id FROM models WHERE name = 'x'"))[0]["id"]
    post = (await rows("SELECT id FROM posts WHERE source_key = 'x/P'"))[0]["id"]
    await admin()
    async with running_app(settings, bucket, pg_engine) as app, browser(app) as b:
        await b.sign_in()
        yield b, {"run": run.id, "model": model, "post": post}


def error_message(response: httpx.Response) -> str:
    """The message an admin or API client reads: the JSON detail, or the error page's text."""
    if response.headers.get("content-type", "").startswith("application/json"):
        return str(response.json()["detail"])
    found = re.search(
        r'<section class="error-page">.*?<h1>.*?</h1>\s*<p>(.*?)</p>', response.text, re.S
    )
    if found:
        return html.unescape(found.group(1))
    found = re.search(r'<p class="form-error[^"]*"[^>]*>(.*?)</p>', response.text, re.S)
    return html.unescape(found.group(1)) if found else response.text


async def state() -> list[Any]:
    """What a bad request must leave alone: runs, staged statuses, what is published, and the
    audit log (sign-ins aside: a failed one is recorded on purpose)."""
    return [
        await rows("SELECT id, status FROM sync_runs ORDER BY id"),
        await rows("SELECT folder_name, status FROM whitelabel_models ORDER BY id"),
        await rows("SELECT id, is_published FROM models ORDER BY id"),
        await rows("SELECT id, is_published FROM posts ORDER BY id"),
        await rows(
            "SELECT action, target FROM audit_log WHERE action NOT LIKE 'sign_in%' ORDER BY id"
        ),
    ]


W = "is not a whole number"  # controllers/numbers.py: ASCII digits within the range


@pytest.mark.parametrize(
    ("url", "status", "names"),
    [
        ("/staged?size=-1", 400, f"size='-1' {W} from 1 to 1000"),
        ("/staged?size=99999999999999999999", 400, f"size='99999999999999999999' {W}"),
        ("/staged?dir=up", 400, "dir='up' is not supported"),
        ("/staged?after=" + "A" * 5000, 400, "after='AAAA"),
        ("/staged?q=" + "x" * 5000, 400, "search is too long"),
        ("/staged?status=gone", 400, "status='gone' is not supported"),
        ("/staged/x?page=0", 400, f"page='0' {W}"),
        ("/staged/x?page=abc", 400, f"page='abc' {W}"),
        ("/production?page=1e9", 400, f"page='1e9' {W}"),
        ("/production/{model}?page=0", 400, f"page='0' {W}"),
        ("/production/0", 400, f"model_id='0' {W} from 1 to 2147483647"),
        ("/production/abc", 404, "Not Found"),  # no route takes a non-numeric id
        ("/sync-runs/99999999999999999999", 400, f"run_id='99999999999999999999' {W}"),
        ("/audit?before=-", 400, f"before='-' {W}"),
        ("/api/models?page=", 400, f"page='' {W}"),
        ("/api/models?page=100001", 400, f"page='100001' {W} from 1 to 100000"),
        ("/api/models/x/posts?page=two", 400, f"page='two' {W}"),
    ],
)
async def test_bad_query_parameters_are_400s(
    catalogue: tuple[Browser, dict[str, int]], url: str, status: int, names: str
) -> None:
    b, ids = catalogue
    response = await b.get(url.format(**ids))
    assert response.status_code == status, (url, response.status_code, response.text[:300])
    assert names in error_message(response), (url, error_message(response)[:300])


@pytest.mark.parametrize(
    ("url", "form", "status", "names"),
    [
        ("/login", {"username": "tester"}, 400, "missing required field `password`"),
        (
            "/login",
            {"username": "x" * 100_000, "password": "y" * 100_000},
            400,
            "Wrong username or password",
        ),
        ("/sync", {"model": "a/b"}, 400, "model='a/b' is not a model folder name"),
        ("/sync", {"model": "x" * 5000}, 400, "is not a model folder name"),
        ("/production/{model}/publish", {}, 400, "missing required field `published`"),
        (
            "/production/{model}/publish",
            {"published": ["true", "false"]},
            400,
            "published: Expected `bool`, got `array`",
        ),
        ("/production/{model}/publish", {"published": "maybe"}, 400, "published: Expected `bool`"),
        ("/production/posts/0/publish", {"published": "false"}, 400, f"post_id='0' {W}"),
        ("/production/posts/abc/publish", {"published": "false"}, 404, "Not Found"),
        ("/staged/_bulk/activate", {"name": ["Nobody"] * 3}, 404, "model named 'Nobody'"),
        ("/staged/_bulk/activate", {}, 400, "No models selected"),
        ("/sync-runs/{run}/confirm", {}, 409, "#{run} is not waiting for confirmation"),
        ("/sync-runs/{run}/discard", {}, 409, "#{run} is not waiting for confirmation"),
        ("/sync-runs/0/cancel", {}, 400, f"run_id='0' {W}"),
        ("/sync-runs/abc/cancel", {}, 404, "Not Found"),
    ],
)
async def test_bad_forms_are_refused_with_a_message_and_change_nothing(
    catalogue: tuple[Browser, dict[str, int]],
    url: str,
    form: dict[str, Any],
    status: int,
    names: str,
) -> None:
    b, ids = catalogue
    before = await state()
    response = await b.post(url.format(**ids), form)  # with the page's valid CSRF token
    assert response.status_code == status, (url, response.status_code, response.text[:300])
    assert names.format(**ids) in error_message(response), (url, error_message(response)[:300])
    assert await state() == before
