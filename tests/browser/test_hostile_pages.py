"""Hostile bucket names in a real browser: nothing executes (no dialog, no JS error), and
pages, search and activation keep working."""

from __future__ import annotations

from urllib.parse import quote

from playwright.async_api import expect

from domain.staging.activation import activate_all_new
from tests.browser.support import UI
from tests.conftest import Bucket
from tests.test_hostile import KEYS, NAMES

XSS = "<img src=x onerror=alert(1)>"


async def test_hostile_names_render_inert(ui: UI, app_data: Bucket) -> None:
    await app_data.put(*KEYS)
    run = await app_data.sync()
    assert run.status == "succeeded", run.error
    await activate_all_new()
    page = ui.page
    ui.allow_console_error(r"Failed to load resource")  # bodies are not real images
    await ui.sign_in()
    await ui.goto("/staged?size=100")
    await expect(page.get_by_role("link", name=XSS, exact=True)).to_be_visible()
    await ui.goto("/staged/" + quote(XSS, safe=""))
    await expect(page.get_by_role("heading", name=XSS, level=1)).to_be_visible()
    for name in NAMES[:12]:
        await ui.goto("/staged/" + quote(name, safe=""))
    await ui.goto("/staged")
    search = page.get_by_role("searchbox", name="Search models")
    await search.fill("onerror")
    await expect(page.locator("#staged-table tbody tr")).to_have_count(1)
    for path in ("/", "/production", "/audit", "/sync-runs", f"/sync-runs/{run.id}"):
        await ui.goto(path)
    assert await page.evaluate("() => document.querySelectorAll('img[src=x]').length") == 0
    await ui.screenshot("hostile-staged")
    assert not ui.alerts and not ui.errors, ui.errors
