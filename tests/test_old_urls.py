"""Links to the staged pages' old address (`/whitelabel/...`, before they took the glossary's
word "staged") still work: signed in they land on the same page under `/staged`, query string
kept; signed out they go to sign-in first and arrive there after it. The only test that may
still name the old path."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import quote

import pytest

from tests.conftest import Bucket, count
from tests.web import PASSWORD, Browser, admin, browser, running_app

NAME = "Анна Ли 🌸"
ODD = "50% off? #1"  # characters that mean something in a URL must stay part of the name
OLD = "/whitelabel"


def old(name: str) -> str:
    return f"{OLD}/{quote(name, safe='')}"


def new(name: str) -> str:
    return f"/staged/{quote(name, safe='')}"


@pytest.fixture
async def app_browser(
    database: Any, bucket: Bucket, settings: Any, pg_engine: Any
) -> AsyncIterator[Browser]:
    await bucket.put(*(f"{n}/Post/a.jpg" for n in (NAME, ODD, "Ben")))
    assert (await bucket.sync()).status == "succeeded"
    await admin()
    async with running_app(settings, bucket, pg_engine) as app, browser(app) as b:
        yield b


async def test_signed_out_an_old_link_goes_to_sign_in_then_lands_on_the_new_page(
    app_browser: Browser,
) -> None:
    b = app_browser
    link = old(NAME) + "?page=1"
    to_login = await b.client.get(link)
    assert to_login.status_code == 303
    target = f"{OLD}/{NAME}?page=1"  # as the sign-in form carries it
    assert to_login.headers["location"] == "/login?next=" + quote(target, safe="")
    await b.get(to_login.headers["location"])
    form = {"username": "tester", "password": PASSWORD, "next": target}
    signed_in = await b.post("/login", form)
    assert signed_in.status_code == 303 and signed_in.headers["location"] == link
    moved = await b.client.get(link)
    assert moved.status_code == 301
    assert moved.headers["location"] == new(NAME) + "?page=1"
    page = await b.client.get(link, follow_redirects=True)
    assert page.status_code == 200 and page.url.path == f"/staged/{NAME}"
    assert NAME in page.text


async def test_signed_in_old_links_keep_the_path_and_the_query(app_browser: Browser) -> None:
    b = app_browser
    await b.sign_in()
    listing = await b.client.get(OLD + "?q=%D0%B0%D0%BD%D0%BD%D0%B0&size=10")
    assert listing.status_code == 301
    assert listing.headers["location"] == "/staged?q=%D0%B0%D0%BD%D0%BD%D0%B0&size=10"
    found = await b.client.get(listing.headers["location"])
    assert NAME in found.text and "Ben" not in found.text  # the search still applies
    for name in (NAME, ODD):
        moved = await b.client.get(old(name))
        assert (moved.status_code, moved.headers["location"]) == (301, new(name))
        page = await b.client.get(moved.headers["location"])
        assert page.status_code == 200, (name, page.text[:200])
    bulk = await b.client.get(OLD + "/_bulk/activate-all-new")
    assert (bulk.status_code, bulk.headers["location"]) == (301, "/staged/_bulk/activate-all-new")
    trailing = await b.client.get(OLD + "/")
    assert (trailing.status_code, trailing.headers["location"]) == (301, "/staged")


async def test_a_form_posted_to_an_old_url_is_redone_at_the_new_one(app_browser: Browser) -> None:
    b = app_browser
    await b.sign_in()
    refused = await b.post(old(NAME) + "/activate", {}, csrf=False)
    assert refused.status_code == 403  # no token, no redirect: CSRF is checked first
    assert await count("models") == 0
    moved = await b.post(old(NAME) + "/activate", {})
    assert (moved.status_code, moved.headers["location"]) == (308, new(NAME) + "/activate")
    assert await count("models") == 0  # the redirect itself does nothing
    done = await b.post(old(NAME) + "/activate", {}, follow_redirects=True)
    assert done.status_code == 200 and done.url.path == f"/staged/{NAME}"
    assert await count("models") == 1
