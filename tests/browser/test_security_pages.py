"""In Chromium: the API docs render under the app's CSP from vendored files (a CSP violation is a
console error, which fails the test), a 1,000-character name keeps its row's actions on screen,
and Back after signing out does not show an admin page from the cache."""

from __future__ import annotations

from playwright.async_api import expect

from tests.browser.support import UI, staged_row
from tests.conftest import Bucket

LONG = "Long" + "x" * 996  # 1,000 characters, no place to break


async def test_api_docs_render_under_the_csp_offline(ui: UI) -> None:
    page = ui.page
    outside: list[str] = []
    page.on(
        "request",
        lambda r: outside.append(r.url) if not r.url.startswith(ui.base) else None,
    )
    for path in ("/schema", "/schema/swagger"):
        await ui.goto(path)
        await expect(page.locator(".swagger-ui .info .title")).to_contain_text(
            "CreatorFlix public API"
        )
        await expect(page.get_by_text("/api/v1/models/{ref}/posts", exact=True)).to_be_visible()
    assert outside == []  # everything from this server: works offline
    await ui.screenshot("api-docs")
    assert not ui.errors, ui.errors  # no "Refused to ..." CSP reports


async def test_a_1000_character_name_keeps_the_row_actions_on_screen(
    ui: UI, app_data: Bucket
) -> None:
    await app_data.put(f"{LONG}/P/a.jpg", "Short/P/a.jpg")
    assert (await app_data.sync()).status == "succeeded"
    ui.allow_console_error(r"Failed to load resource")  # the thumbnail body is not an image
    await ui.sign_in()
    await ui.goto("/staged")
    page = ui.page
    row = staged_row(page, LONG)
    activate = row.get_by_role("button", name="Activate")
    await expect(activate).to_be_in_viewport()
    box = await activate.bounding_box()
    assert box is not None and box["x"] + box["width"] <= 1280, box
    widths = await page.evaluate(
        "() => [document.documentElement.scrollWidth, window.innerWidth,"
        " document.querySelector('#staged-table table').scrollWidth]"
    )
    assert widths[0] <= widths[1] and widths[2] <= widths[1], widths
    link = row.get_by_role("link", name=LONG, exact=True)
    assert await link.get_attribute("title") == LONG  # the whole name, on hover
    await activate.click()
    await expect(row.locator(".badge")).to_have_text("active")
    await ui.screenshot("long-name-row")


async def test_back_after_sign_out_does_not_show_the_audit_log(ui: UI) -> None:
    await ui.sign_in()
    await ui.goto("/audit")
    await expect(ui.page.get_by_role("heading", name="Audit log")).to_be_visible()
    ui.accept_confirms = True  # "Sign out of CreatorFlix Admin?"
    await ui.page.get_by_role("button", name="Sign out").click()
    await expect(ui.page.get_by_label("Username")).to_be_visible()
    await ui.page.go_back()
    await expect(ui.page.get_by_label("Username")).to_be_visible()  # sent to sign in again
    await expect(ui.page.get_by_role("heading", name="Audit log")).to_have_count(0)
