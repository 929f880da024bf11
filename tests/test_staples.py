"""The admin staples over HTTP: breadcrumbs on every page below the dashboard, the questions
asked before signing out, deactivating an admin and activating ticked models (each with a page
that works without JavaScript), one select-all markup on every list with ticks, and the API
docs in the menu."""

from __future__ import annotations

import html
import re
from collections.abc import AsyncIterator
from typing import Any

import pytest

from domain.accounts import admins
from tests.conftest import Bucket, rows
from tests.web import PASSWORD, Browser, admin, browser, running_app

LONG = "Émi " + "Tanaka" * 20  # past the crumb's 40 characters
KEYS = ["<b>Anna & Co/cover.jpg", "<b>Anna & Co/Beach/a.jpg", "Ben/Trip/t.png", f"{LONG}/P/x.jpg"]
CRUMBS = re.compile(r'<nav class="breadcrumbs" aria-label="Breadcrumb"><ol>(.*?)</ol></nav>', re.S)
ITEM = re.compile(r"<li>(.*?)</li>", re.S)


@pytest.fixture
async def web(
    database: Any, bucket: Bucket, settings: Any, pg_engine: Any
) -> AsyncIterator[tuple[Browser, dict[str, int]]]:
    await bucket.put(*KEYS)
    await admin()
    async with running_app(settings, bucket, pg_engine) as app, browser(app) as b:
        assert (await b.sign_in()).status_code == 303
        run = await b.sync_now()
        assert run.status == "succeeded"
        for name in ("Ben", LONG):
            response = await b.post(f"/staged/{name}/activate", {})
            assert response.status_code in (200, 303), response.text
        ids = {r["name"]: r["id"] for r in await rows("SELECT id, name FROM models")}
        yield b, {"run": run.id, "ben": ids["Ben"], "long": ids[LONG]}


def trail(page: str) -> list[tuple[str, str | None, bool]]:
    """Each crumb as (its text or title, its link or None, whether it is aria-current)."""
    found = CRUMBS.search(page)
    assert found is not None, "no breadcrumb trail on the page"
    crumbs = []
    for item in ITEM.findall(found.group(1)):
        href = re.search(r'<a href="([^"]*)"', item)
        title = re.search(r'title="([^"]*)"', item)
        text = html.unescape(title.group(1) if title else re.sub(r"<[^>]+>", "", item)).strip()
        crumbs.append(
            (text, html.unescape(href.group(1)) if href else None, "aria-current" in item)
        )
    return crumbs


async def test_every_page_below_the_dashboard_has_its_breadcrumbs(
    web: tuple[Browser, dict[str, int]],
) -> None:
    b, ids = web
    ben, run = ids["ben"], ids["run"]
    home = ("Dashboard", "/", False)
    pages: list[tuple[str, list[tuple[str, str | None, bool]]]] = [
        ("/staged", [("Staged models", None, True)]),
        ("/staged/Ben", [("Staged models", "/staged", False), ("Ben", None, True)]),
        (
            "/staged/_bulk/activate-all-new",
            [("Staged models", "/staged", False), ("Activate all new", None, True)],
        ),
        (
            "/staged/_bulk/activate?name=Ben",
            [("Staged models", "/staged", False), ("Activate selected", None, True)],
        ),
        ("/production", [("Production", None, True)]),
        (f"/production/{ben}", [("Production", "/production", False), ("Ben", None, True)]),
        (
            f"/production/{ben}/edit",
            [
                ("Production", "/production", False),
                ("Ben", f"/production/{ben}", False),
                ("Edit", None, True),
            ],
        ),
        (
            f"/production/{ben}/preview",
            [
                ("Production", "/production", False),
                ("Ben", f"/production/{ben}", False),
                ("Preview", None, True),
            ],
        ),
        (
            f"/production/{ben}/history",
            [
                ("Production", "/production", False),
                ("Ben", f"/production/{ben}", False),
                ("History", None, True),
            ],
        ),
        ("/sync-runs", [("Sync runs", None, True)]),
        (f"/sync-runs/{run}", [("Sync runs", "/sync-runs", False), (f"Sync #{run}", None, True)]),
        ("/charts", [("Charts", None, True)]),
        ("/jobs", [("Jobs", None, True)]),
        ("/uploads", [("Upload", None, True)]),
        ("/audit", [("Audit log", None, True)]),
        ("/admins", [("Admins", None, True)]),
        ("/logout", [("Sign out", None, True)]),
    ]
    zoe = await admins.create_admin("Zoë", "z@example.com", PASSWORD, False)
    pages.append(  # only the page itself is aria-current, not a crumb without a link
        (
            f"/admins/{zoe.id}/deactivate",
            [("Admins", "/admins", False), ("Zoë", None, False), ("Deactivate", None, True)],
        )
    )
    for url, want in pages:
        response = await b.get(url)
        assert response.status_code == 200, url
        assert trail(response.text) == [home, *want], url
    changes = (await b.get(f"/sync-runs/{run}/changes?kind=model&change=added")).text
    assert trail(changes)[:3] == [
        home,
        ("Sync runs", "/sync-runs", False),
        (f"Sync #{run}", f"/sync-runs/{run}", False),
    ]
    assert CRUMBS.search((await b.get("/")).text) is None  # the dashboard is the trail's start
    fragment = await b.get("/production", headers={"HX-Request": "true"})
    assert "Breadcrumb" not in fragment.text  # partials swap inside the page's trail


async def test_breadcrumb_names_are_escaped_and_long_ones_clipped(
    web: tuple[Browser, dict[str, int]],
) -> None:
    b, ids = web
    anna = (await b.get("/staged/%3Cb%3EAnna%20%26%20Co")).text
    crumbs = CRUMBS.search(anna)
    assert crumbs is not None and "<b>Anna" not in crumbs.group(1)
    assert "&lt;b&gt;Anna &amp; Co" in crumbs.group(1)
    page = (await b.get(f"/production/{ids['long']}/edit")).text
    crumbs = CRUMBS.search(page)
    assert crumbs is not None
    link = re.search(r'<a href="/production/\d+" title="([^"]*)">([^<]*)</a>', crumbs.group(1))
    assert link is not None, crumbs.group(1)
    assert html.unescape(link.group(1)) == LONG  # the whole name in the title
    shown = html.unescape(link.group(2))
    assert len(shown) <= 40 and shown.endswith("…") and LONG.startswith(shown[:-1])


async def test_sign_out_asks_first_and_works_without_javascript(
    web: tuple[Browser, dict[str, int]],
) -> None:
    b, _ = web
    page = (await b.get("/production")).text
    form = re.search(r'<form method="get" action="/logout"[^>]*>', page)
    assert form is not None, "the sign-out button does not lead to the question without JS"
    assert 'hx-post="/logout"' in form.group(0) and "hx-confirm=" in form.group(0)
    question = await b.get("/logout")
    assert question.status_code == 200 and "Yes, sign out" in question.text
    assert (await b.get("/production")).status_code == 200  # asking signed nobody out
    hx = await b.post("/logout", {}, htmx=True)
    assert hx.status_code == 200 and hx.headers["hx-redirect"] == "/login"
    assert (await b.get("/production")).status_code in (302, 303)


async def test_deactivating_an_admin_asks_first(web: tuple[Browser, dict[str, int]]) -> None:
    b, _ = web
    other = await admins.create_admin("Zoë <i>", "z@example.com", PASSWORD, False)
    page = (await b.get("/admins")).text
    url = f"/admins/{other.id}/deactivate"
    form = re.search(rf'<form method="get" action="{url}"[^>]*>', page)
    assert form is not None, "Deactivate does not lead to the question without JS"
    assert f'hx-post="{url}"' in form.group(0)
    assert 'hx-confirm="Deactivate Zoë &lt;i&gt;? They are signed out' in form.group(0)
    question = await b.get(url)
    assert question.status_code == 200 and "Deactivate Zoë &lt;i&gt;" in question.text
    assert (await admins.admin(int(other.id))).active  # asking changed nothing
    done = await b.post(url, {})
    assert done.status_code == 303
    assert not (await admins.admin(int(other.id))).active
    assert "already inactive" in (await b.get(url)).text
    assert (await b.get("/admins/999999/deactivate")).status_code == 404


async def test_activate_selected_asks_how_many_go_public(
    web: tuple[Browser, dict[str, int]],
) -> None:
    b, _ = web
    page = (await b.get("/staged")).text
    form = re.search(r'<form id="selection-form"[^>]*>', page)
    assert form is not None
    tag = form.group(0)
    assert 'method="get" action="/staged/_bulk/activate"' in tag  # without JS: the question
    assert 'hx-post="/staged/_bulk/activate"' in tag
    assert (
        'data-confirm-selected="Activate {n} selected model(s) into production? {n} go public'
        in tag
    )
    question = await b.get("/staged/_bulk/activate?name=%3Cb%3EAnna%20%26%20Co&name=Ben")
    assert question.status_code == 200
    text = question.text
    assert "<strong>2</strong> go public on the site" in text and "&lt;b&gt;Anna &amp; Co" in text
    assert await rows("SELECT 1 FROM models WHERE name = '<b>Anna & Co'") == []  # nothing yet
    drafts = (await b.get("/staged/_bulk/activate?name=Ben&draft=1")).text
    assert "stay unpublished" in drafts and "go public on the site" not in drafts
    none = await b.get("/staged/_bulk/activate")
    assert none.status_code == 400 and "tick at least one row" in html.unescape(none.text)


SELECT_ALL = '<input type="checkbox" data-select-all aria-label="Select all on this page">'
COUNT = '<span class="selection-count" role="status"><span id="selection-count">0</span> selected'
TICK = re.compile(
    r'<input type="checkbox" name="(name|id)" value="[^"]+" form="selection-form" '
    r'aria-label="Select Ben">'
)


async def test_staged_and_production_lists_share_one_select_all(
    web: tuple[Browser, dict[str, int]],
) -> None:
    b, _ = web
    for url in ("/staged", "/production"):
        page = (await b.get(url)).text
        assert page.count(SELECT_ALL) == 1, url
        assert COUNT in page, url
        assert TICK.search(page), url
        buttons = re.findall(r"<button [^>]*data-needs-selection[^>]*>", page)
        assert len(buttons) == 2, url


async def test_the_menu_links_the_api_docs(web: tuple[Browser, dict[str, int]]) -> None:
    b, _ = web
    page = (await b.get("/audit")).text
    nav = page[
        page.index('aria-label="Main"') : page.index("</nav>", page.index('aria-label="Main"'))
    ]
    assert re.search(r'<a href="/schema"[^>]*>API</a>', nav)
    assert (await b.get("/schema")).status_code == 200
