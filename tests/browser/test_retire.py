"""Retire and restore a production model in Chromium, at laptop and phone widths: Retire on the
model's page asks first (hx-confirm), then shows the "retired" badge and notice; the list leaves
it out until "Retired" is picked; Restore, through the confirmation page its row links to (the
way without JavaScript), brings it back unpublished."""

from __future__ import annotations

import re

import httpx
import pytest
from playwright.async_api import expect

from domain.staging import activation
from tests.browser.support import UI, production_row, synced_demo
from tests.conftest import Bucket, rows


@pytest.mark.parametrize("width", [1366, 390])
async def test_retire_from_the_model_page_then_find_it_under_retired_and_restore_it(
    ui: UI, app_data: Bucket, width: int
) -> None:
    await synced_demo(app_data)
    await activation.activate(["Aurora Vale", "Bruno Díaz"])
    aurora_id = (await rows("SELECT id FROM models WHERE name = 'Aurora Vale'"))[0]["id"]
    page = ui.page
    await ui.sign_in()  # at the default width, where "Sign out" is on screen
    await page.set_viewport_size({"width": width, "height": 900})

    await ui.goto(f"/production/{aurora_id}")
    header = page.locator(".page-header")
    await expect(header.locator(".badge-published")).to_have_text("public")
    ui.accept_confirms = True
    await header.get_by_role("link", name="Retire", exact=True).click()
    await expect(header.locator(".badge-retired")).to_have_text("retired")
    assert ui.confirms and ui.confirms[-1].startswith(
        "Retire Aurora Vale? It is unpublished at once"
    )
    await expect(page.locator("#toasts .toast-success").last).to_contain_text("Aurora Vale retired")
    notice = page.locator(".notice-warning")
    await expect(notice).to_contain_text("Retired")
    await expect(notice).to_contain_text("by tester")
    await expect(header.get_by_role("button", name="Publish model")).to_have_count(0)
    await expect(header.get_by_role("link", name="Restore", exact=True)).to_be_visible()
    await ui.screenshot(f"production-retired-{width}")
    async with httpx.AsyncClient(base_url=ui.base) as client:
        listing = (await client.get("/api/v1/models")).json()
    assert [m["name"] for m in listing["data"]] == ["Bruno Díaz"]

    # Off the list by default; the State filter's "Retired" finds it.
    await ui.goto("/production")
    await expect(page.locator("#production-position")).to_have_text("1–1 of 1 model(s)")
    await expect(production_row(page, "Aurora Vale")).to_have_count(0)
    await page.get_by_label("State").select_option("retired")
    await expect(page).to_have_url(re.compile(r"[?&]state=retired(&|$)"))
    aurora = production_row(page, "Aurora Vale")
    await expect(aurora.locator(".badge-retired")).to_have_text("retired")
    await expect(page.locator("#production-position")).to_have_text("1–1 of 1 model(s)")
    await expect(production_row(page, "Bruno Díaz")).to_have_count(0)
    await ui.screenshot(f"production-retired-filter-{width}")

    # Restore from the row: its link opens the confirmation page, whose form posts.
    await aurora.get_by_role("link", name="Restore").click()
    await expect(page.get_by_role("heading", name="Restore Aurora Vale", level=1)).to_be_visible()
    await expect(page.locator(".panel")).to_contain_text("It becomes a normal model again")
    await page.get_by_role("button", name="Restore Aurora Vale").click()
    await expect(page.get_by_role("heading", name="Aurora Vale", level=1)).to_be_visible()
    await expect(page.locator("#toasts .toast-success").last).to_contain_text(
        "Aurora Vale restored"
    )
    await expect(header.locator(".badge-retired")).to_have_count(0)
    await expect(header.locator(".badge-unpublished")).to_have_text("unpublished")
    await expect(header.get_by_role("button", name="Publish model")).to_be_visible()
    await expect(header.get_by_role("link", name="Retire", exact=True)).to_be_visible()
    state = await rows("SELECT is_published, retired_at FROM models WHERE id = $1", aurora_id)
    assert state[0]["is_published"] is False and state[0]["retired_at"] is None
    await ui.goto("/production")
    await expect(page.locator("#production-position")).to_have_text("1–2 of 2 model(s)")
