"""In Chromium: /schema says it is loading while Swagger UI's bundle (slowed down here) loads,
and the message is gone once Swagger UI has drawn the docs; no CSP complaint (console errors
fail the test)."""

from __future__ import annotations

import asyncio

from playwright.async_api import Route, expect

from tests.browser.support import UI


async def test_the_api_docs_show_a_loading_state_until_swagger_draws(ui: UI) -> None:
    page = ui.page

    async def slowly(route: Route) -> None:
        await asyncio.sleep(2)
        await route.continue_()

    await page.route("**/swagger-ui-bundle.js", slowly)
    await page.goto(ui.url("/schema"), wait_until="commit")
    loading = page.get_by_role("status").filter(has_text="Loading the API docs")
    await expect(loading).to_be_visible()
    await ui.screenshot("api-docs-loading")
    await expect(page.locator(".swagger-ui .info .title")).to_contain_text("CreatorFlix public API")
    await expect(page.get_by_text("Loading the API docs")).to_have_count(0)
    await expect(page.locator(".api-docs-loading")).to_have_count(0)
