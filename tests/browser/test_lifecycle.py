"""Production lifecycle in Chromium, at desktop and phone widths: a folder deleted from the
bucket shows as "source missing" after a sync, the filter finds it, "Unpublish all matching"
works, a model is edited (slug included) and its preview and history show the result."""

from __future__ import annotations

import asyncio
import re

import httpx
import pytest
from playwright.async_api import expect

from domain.staging import activation
from tests.browser.support import UI, demo, production_row, synced_demo
from tests.conftest import Bucket, rows

AFTER_SETTLE = """() => new Promise((done) =>
  document.addEventListener('htmx:afterSettle', () => done(), {once: true}))"""


@pytest.mark.parametrize("width", [1366, 390])
async def test_source_missing_filter_bulk_unpublish_and_edit(
    ui: UI, app_data: Bucket, width: int
) -> None:
    await synced_demo(app_data)
    await activation.activate(["Aurora Vale", "Bruno Díaz", "Chloé Martin"])
    bruno_keys = [key for key, _ in demo() if key.startswith("Bruno Díaz/")]
    await app_data.delete(*bruno_keys)
    run = await app_data.sync(allow_mass_delete=True)
    assert run.status == "succeeded", run
    page = ui.page
    await ui.sign_in()  # at the default width, where "Sign out" is on screen
    await page.set_viewport_size({"width": width, "height": 900})

    # The deleted creator is off the public site and marked in production.
    await ui.goto("/production")
    bruno = production_row(page, "Bruno Díaz")
    await expect(bruno.locator(".badge-source_missing")).to_have_text("source missing")
    await expect(bruno.locator(".badge-unpublished")).to_be_visible()
    await page.get_by_label("Source missing").check()
    await expect(page.locator("#production-position")).to_have_text("1–1 of 1 model(s)")
    assert "missing=1" in page.url
    await ui.screenshot(f"production-source-missing-{width}")

    # Unpublish all matching: everything "o" matches (Aurora and Chloé; Bruno already is).
    settled = asyncio.ensure_future(page.evaluate(AFTER_SETTLE))
    await asyncio.sleep(0)  # the listener is sent before the click
    await page.get_by_label("Source missing").uncheck()
    await expect(page.locator("#production-position")).to_have_text("1–3 of 3 model(s)")
    # Typed into the swapped-in search box before htmx had wired it, "a" sent no search (one
    # full run): the swap settles first.
    try:
        await asyncio.wait_for(settled, 10)
    except TimeoutError:
        raise AssertionError("htmx did not settle the list swapped in by the uncheck") from None
    await page.get_by_label("Search production models").fill("a")
    await expect(page).to_have_url(re.compile(r"[?&]q=a(&|$)"))  # the search's swap landed
    await expect(page.locator("#production-position")).to_have_text("1–3 of 3 model(s)")
    ui.accept_confirms = True
    await page.get_by_role("button", name="Unpublish all 3 matching").click()
    await expect(page.locator("#toasts .toast-success").last).to_contain_text(
        "2 model(s) unpublished"
    )
    assert ui.confirms and "leave the public site" in ui.confirms[-1]
    async with httpx.AsyncClient(base_url=ui.base) as client:
        assert (await client.get("/api/v1/models")).json()["data"] == []

    # Edit Aurora: a new slug, featured; the preview shows what the API serves once published.
    aurora_id = (await rows("SELECT id FROM models WHERE name = 'Aurora Vale'"))[0]["id"]
    await ui.goto(f"/production/{aurora_id}")
    await page.get_by_role("button", name="Publish model").click()
    await expect(page.locator(".page-header .badge-published")).to_be_visible()
    await page.get_by_role("link", name="Edit", exact=True).click()
    await page.get_by_label("Slug").fill("aurora")
    await page.get_by_label("Description").fill("Light & water <b>not bold</b>")
    await page.get_by_label("Featured").check()
    await page.get_by_role("button", name="Save", exact=True).click()
    await expect(page.locator("#toasts .toast-success").last).to_contain_text("saved")
    await expect(page.locator(".page-header")).to_contain_text("/aurora")
    await expect(page.locator(".description")).to_have_text("Light & water <b>not bold</b>")
    await page.get_by_role("link", name="Preview").click()
    await expect(page.locator(".preview-model h2")).to_have_text("Aurora Vale")
    await expect(page.locator(".gallery figure").first).to_be_visible()
    await ui.screenshot(f"production-preview-{width}")
    await page.get_by_role("link", name="Back to model").click()
    await page.get_by_role("link", name="History").click()
    await expect(page.locator("table.data")).to_contain_text("model edited")
    await expect(page.locator("table.data")).to_contain_text("'aurora-vale' → 'aurora'")
    async with httpx.AsyncClient(base_url=ui.base) as client:
        for ref in ("aurora", "aurora-vale"):
            posts = await client.get(f"/api/v1/models/{ref}/posts")
            assert posts.status_code == 200 and posts.json()["model"]["slug"] == "aurora"
