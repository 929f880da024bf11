"""Controller tests: each page and fragment shows what the data says; actions are audited."""

from __future__ import annotations

import html
import re
from collections.abc import AsyncIterator
from typing import Any

import pytest

from domain.catalogue import run_handle
from domain.catalogue.begin import RunRequest, begin_here
from domain.staging import activation
from tests.conftest import Bucket, count, eventually, rows
from tests.web import Browser, admin, browser, running_app

KEYS = [
    "<b>Anna Lee/cover.jpg",
    "<b>Anna Lee/Beach/a.jpg",
    "<b>Anna Lee/Beach/b.mp4",
    "Ben/Trip/t.png",
    "Ben/Trip2/u.png",
    "Cleo/P/x.jpg",
]


@pytest.fixture
async def web(
    database: Any, bucket: Bucket, settings: Any, pg_engine: Any
) -> AsyncIterator[tuple[Any, Browser, Bucket]]:
    await bucket.put(*KEYS)
    await admin()
    async with running_app(settings, bucket, pg_engine) as app, browser(app) as b:
        yield app, b, bucket


async def audit_actions() -> list[tuple[str, str]]:
    return [
        (r["action"], r["target"])
        for r in await rows("SELECT action, target FROM audit_log ORDER BY id")
    ]


async def test_sign_in_then_dashboard_shows_the_catalogue(web: Any) -> None:
    _, b, _ = web
    assert (await b.get("/")).headers["location"] == "/login?next=%2F"
    bad = await b.post("/login", {"username": "tester", "password": "nope"})
    assert bad.status_code == 400 and "Wrong username or password" in bad.text
    ok = await b.sign_in()
    assert ok.status_code == 303 and ok.headers["location"] == "/"
    run = await b.sync_now()
    assert run.status == "succeeded"
    page = (await b.get("/")).text
    assert '<span class="card-value">3</span>' in page  # staged models
    assert "&lt;b&gt;Anna Lee" in page and "<b>Anna" not in page  # bucket names autoescaped
    assert ("sign_in_failed", "tester") in await audit_actions()
    assert ("sign_in", "tester") in await audit_actions()


def card(page: str, label: str) -> str:
    """A dashboard card's text as the admin reads it (tags dropped, spaces squeezed)."""
    start = page.index(f'<span class="card-label">{label}</span>')
    return " ".join(re.sub(r"<[^>]+>", " ", page[start : page.index("</div>", start)]).split())


async def test_dashboard_counts_staged_and_production_by_state(web: Any) -> None:
    _, b, _ = web
    await b.sign_in()
    await b.sync_now()
    await activation.activate(["<b>Anna Lee", "Ben"])
    await activation.activate(["Cleo"], draft=True)
    page = (await b.get("/")).text
    assert card(page, "Staged models") == "Staged models 3 0 new · 3 active"
    assert card(page, "Posts") == "Posts 4" and card(page, "Videos") == "Videos 1"
    assert card(page, "Production models") == "Production models 3 2 public"
    # Cleo is a draft: her post is published, but not public while she is not (issue 25).
    assert card(page, "Production posts") == "Production posts 4 3 public"


async def test_sync_fragment_events_and_busy(web: Any) -> None:
    _, b, _ = web
    await b.sign_in()
    run = await b.sync_now()
    assert (run.models_inserted, run.media_inserted) == (3, 5)
    events = await b.get(f"/sync-runs/{run.id}/events")
    assert events.headers["content-type"].startswith("text/event-stream")
    assert "event: done" in events.text and "succeeded" in events.text
    detail = (await b.get(f"/sync-runs/{run.id}")).text
    assert f"Sync #{run.id}" in detail and 'data-status="succeeded"' in detail
    handle = await begin_here(RunRequest("all", "someone else"), "elsewhere")  # already going
    try:
        again = await b.post("/sync", {}, htmx=True)
        assert again.status_code == 200 and f'data-run="{handle.id}"' in again.text
        assert "already running" in again.headers["hx-trigger-after-settle"]
    finally:
        await run_handle.finish(handle, "succeeded")
    listing = (await b.get("/sync-runs")).text
    assert f'href="/sync-runs/{run.id}"' in listing
    assert ("sync_started", "all") in await audit_actions()
    assert ("sync_finished", "all") in await audit_actions()


async def test_staged_list_fragment_model_page_and_activation(web: Any) -> None:
    _, b, _ = web
    await b.sign_in()
    await b.sync_now()
    full = await b.get("/staged?q=ben")
    assert "<html" in full.text and "Ben" in full.text and "Cleo" not in full.text
    fragment = await b.get("/staged?sort=posts&dir=desc", headers={"HX-Request": "true"})
    assert "<html" not in fragment.text and fragment.text.index("Ben") < fragment.text.index("Cleo")
    boosted = await b.get("/staged", headers={"HX-Request": "true", "HX-Boosted": "true"})
    assert "<html" in boosted.text
    model = await b.get("/staged/%3Cb%3EAnna%20Lee")
    assert model.status_code == 200 and "X-Amz-Signature" in model.text and "<video" in model.text
    row = await b.post("/staged/Ben/activate", {}, htmx=True)
    assert row.text.strip().startswith("<tr") and "badge-active" in row.text
    assert "Ben" in row.headers["hx-trigger-after-settle"]
    assert row.headers["hx-trigger"] == "catalogue-changed"  # the "all new (N)" button refreshes
    button = await b.get("/staged/_bulk/activate-all-button", headers={"HX-Request": "true"})
    assert "Activate all new (2)" in button.text
    bulk = await b.post("/staged/_bulk/activate", {"name": ["Cleo", "<b>Anna Lee"]})
    assert bulk.status_code == 303
    statuses = {
        r["folder_name"]: r["status"]
        for r in await rows("SELECT folder_name, status FROM whitelabel_models")
    }
    assert set(statuses.values()) == {"active"}
    assert ("activation", "Ben") in await audit_actions()
    missing = await b.post("/staged/_bulk/activate", {})
    assert missing.status_code == 400 and "No models selected" in missing.text


async def test_production_publish_toggles_and_public_api(web: Any) -> None:
    _, b, _ = web
    await b.sign_in()
    await b.sync_now()
    queued = await b.post("/staged/_bulk/activate-all-new", {})
    assert queued.status_code == 303
    assert "in the background" in (await b.get(queued.headers["location"])).text
    await eventually(lambda: count("models"), 3)  # a worker runs the activation job
    api = (await b.client.get("/api/models")).json()
    assert api["meta"] == {"page": 1, "limit": 20, "count": 3, "next": None}
    ben = (await rows("SELECT id FROM models WHERE name = 'Ben'"))[0]["id"]
    row = await b.post(f"/production/{ben}/publish", {"published": "false"}, htmx=True)
    assert "badge-unpublished" in row.text and row.text.strip().startswith("<tr")
    assert [m["name"] for m in (await b.client.get("/api/models")).json()["data"]] == [
        "<b>Anna Lee",
        "Cleo",
    ]
    assert (await b.client.get("/api/models/Ben/posts")).status_code == 404
    post = (await rows("SELECT id FROM posts WHERE source_key = 'Cleo/P'"))[0]["id"]
    await b.post(f"/production/posts/{post}/publish", {"published": "false"})
    assert (await b.client.get("/api/models/Cleo/posts")).json()["data"] == []
    page = (await b.get("/production")).text
    assert "Ben" in page and "unpublished" in page
    assert ("publish_change", "Ben") in await audit_actions()
    bad = await b.client.get("/api/models?page=abc")
    assert bad.status_code == 400 and "page" in bad.json()["detail"]
    audit_page = (await b.get("/audit")).text
    assert "publish change" in audit_page


async def test_errors_are_pages_or_toasts(web: Any) -> None:
    _, b, _ = web
    await b.sign_in()
    missing = await b.get("/staged/Nobody")
    assert missing.status_code == 404 and "<html" in missing.text and "Nobody" in missing.text
    hx = await b.get("/staged/Nobody", headers={"HX-Request": "true"})
    assert hx.status_code == 404 and hx.headers["hx-reswap"] == "none" and "<" not in hx.text
    for url, names in (
        ("/staged?size=999", "size=999 is not supported"),
        ("/staged?sort=x", "sort='x' is not supported"),
        ("/staged?after=%%%", "after='%%%' is not a cursor of this list"),
        ("/audit?action=drop", "action='drop' is not an audited action"),
        ("/production?page=-1", "page='-1' is not a whole number"),
        ("/sync-runs?before=x", "before='x' is not a whole number"),
    ):
        response = await b.get(url)
        assert response.status_code == 400, url
        assert "<html" in response.text and names in html.unescape(response.text), url
        toast = await b.get(url, headers={"HX-Request": "true"})
        assert toast.status_code == 400 and names in toast.text, url
        assert toast.headers["hx-reswap"] == "none"
    await b.sync_now()
    await b.post("/staged/Ben/activate", {})
    ben = (await rows("SELECT id, is_published FROM models WHERE name = 'Ben'"))[0]
    assert ben["is_published"] is True
    form = await b.post(f"/production/{ben['id']}/publish", {"published": "maybe"})
    assert form.status_code == 400  # the page's valid CSRF token: the form itself is refused
    assert "published: Expected `bool`" in html.unescape(form.text)
    assert (await rows("SELECT is_published FROM models WHERE name = 'Ben'"))[0]["is_published"]
