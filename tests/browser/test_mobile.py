"""Phone (390x844) and laptop (1366x768) widths: the menu reaches every section, lists fit the
screen with their row actions reachable, the skip link is the first Tab stop, focus stays on
the row an action swapped, and without JavaScript the menu still opens and nothing scrolls
the page sideways."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from playwright.async_api import Browser, Locator, Page, expect

from domain.staging.activation import activate_all_new
from tests.browser.support import PASSWORD, UI, USERNAME, production_row, staged_row, synced_demo
from tests.conftest import Bucket, rows

PHONE = {"width": 390, "height": 844}
LAPTOP = {"width": 1366, "height": 768}
VIEWPORTS = [pytest.param(PHONE, id="390"), pytest.param(LAPTOP, id="1366")]
SECTIONS = [
    ("Staged models", "Staged models"),
    ("Upload", "Upload"),
    ("Sync runs", "Sync runs"),
    ("Production", "Production"),
    ("Audit log", "Audit log"),
    ("Admins", "Admins"),
    ("Dashboard", "Dashboard"),
]
LONG = "Longname" + "x" * 120  # one unbreakable word, longer than a phone is wide


def narrow(viewport: dict[str, int]) -> bool:
    return viewport["width"] < 800


async def fits(page: Page) -> None:
    """No sideways scrolling of the page, and no table wider than its frame."""
    await page.wait_for_load_state()  # app.js (deferred) has run
    sizes = await page.evaluate(
        """() => ({page: document.documentElement.scrollWidth, view: window.innerWidth,
            tables: [...document.querySelectorAll('.table-wrap')]
              .filter((w) => w.scrollWidth > w.clientWidth)
              .map((w) => `${location.pathname} ${w.scrollWidth} > ${w.clientWidth}`)})"""
    )
    assert sizes["page"] <= sizes["view"], sizes
    assert sizes["tables"] == [], sizes


async def reachable(target: Locator, viewport: dict[str, int]) -> None:
    """On screen from left to right once scrolled to, and nothing covers it."""
    await target.scroll_into_view_if_needed()
    await expect(target).to_be_in_viewport()
    box = await target.bounding_box()
    assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= viewport["width"], box
    await target.click(trial=True)  # actionable: visible, enabled, receives the click


async def readable_names(cells: Locator) -> None:
    """Names get room: no column squeezed to a character or two per line."""
    widths = await cells.evaluate_all("(els) => els.map((e) => e.getBoundingClientRect().width)")
    assert widths and min(widths) >= 120, widths


async def labelled(page: Page) -> None:
    """Every data cell of a stacked table says which column it is."""
    missing = await page.evaluate(
        """() => [...document.querySelectorAll('table.data tbody td')]
          .filter((td) => !td.dataset.label && td.colSpan === 1 && !td.classList.contains('actions')
                  && td.textContent.trim() && !td.querySelector('input, img, .thumb'))
          .map((td) => td.textContent.trim().slice(0, 40))"""
    )
    assert missing == [], missing


async def open_menu(page: Page) -> None:
    toggle = page.get_by_role("button", name="Menu", exact=True)
    await expect(toggle).to_have_attribute("aria-expanded", "false")
    await toggle.click()
    await expect(toggle).to_have_attribute("aria-expanded", "true")


@pytest.mark.parametrize("viewport", VIEWPORTS)
async def test_the_menu_reaches_every_section(ui: UI, viewport: dict[str, int]) -> None:
    await ui.sign_in()
    page = ui.page
    await page.set_viewport_size(viewport)
    nav = page.get_by_role("navigation", name="Main")
    for link, heading in SECTIONS:
        if narrow(viewport):
            await expect(nav).to_be_hidden()  # folded: the top bar is one line
            await open_menu(page)
        else:
            await expect(page.get_by_role("button", name="Menu")).to_be_hidden()
        await expect(nav).to_be_visible()
        await nav.get_by_role("link", name=link, exact=True).click()
        await expect(page.get_by_role("heading", name=heading, level=1)).to_be_visible()
        await expect(page.locator(".nav a[aria-current=page]")).to_have_text(link)
        await fits(page)
    if narrow(viewport):
        await open_menu(page)
        await ui.screenshot("mobile-menu-open")
        await page.keyboard.press("Escape")
        await expect(nav).to_be_hidden()
        await expect(page.get_by_role("button", name="Menu")).to_be_focused()


@pytest.mark.parametrize("viewport", VIEWPORTS)
async def test_lists_fit_the_screen_and_keep_their_actions(
    ui: UI, app_data: Bucket, viewport: dict[str, int]
) -> None:
    await app_data.put(f"{LONG}/Post/a.jpg")
    await synced_demo(app_data)
    await activate_all_new()
    ui.allow_console_error(r"Failed to load resource")  # the long model's body is no image
    (bruno,) = await rows("SELECT id FROM models WHERE name = 'Bruno Díaz'")
    await ui.sign_in()
    page = ui.page
    await page.set_viewport_size(viewport)
    tag = viewport["width"]

    # Skip link: the first Tab stop, and it moves focus to the main content.
    await ui.goto("/production")
    await page.keyboard.press("Tab")
    skip = page.get_by_role("link", name="Skip to content")
    await expect(skip).to_be_focused()
    await expect(skip).to_be_in_viewport()
    await page.keyboard.press("Enter")
    assert await page.evaluate("document.activeElement.id") == "main"

    # Production: fits, names readable, sort headers announce their order.
    aurora = production_row(page, "Aurora Vale")
    await fits(page)
    await readable_names(page.locator("#production-list tbody td.name > a"))
    await expect(page.locator("table.data th:has(a.sort):not([aria-sort])")).to_have_count(0)
    await expect(page.locator("th[aria-sort]:not([aria-sort=none])")).to_have_count(1)
    await reachable(aurora.get_by_role("button", name="Unpublish"), viewport)
    await ui.screenshot(f"mobile-{tag}-production")

    # Unpublish swaps the row: focus stays on it, on the button that replaced the one pressed.
    await aurora.get_by_role("button", name="Unpublish").click()
    await expect(aurora.locator(".badge").first).to_have_text("unpublished")
    await expect(aurora.get_by_role("button", name="Publish")).to_be_focused()
    await page.keyboard.press("Enter")  # the keyboard user acts again at once
    await expect(aurora.locator(".badge").first).to_have_text("public")
    await expect(aurora.get_by_role("button", name="Unpublish")).to_be_focused()

    await ui.goto("/staged")
    await fits(page)
    await readable_names(page.locator("#staged-table tbody td.name > a"))
    await expect(page.locator("table.data th:has(a.sort):not([aria-sort])")).to_have_count(0)
    await reachable(staged_row(page, LONG).get_by_role("button", name="Re-activate"), viewport)
    await reachable(staged_row(page, "Aurora Vale").get_by_role("link", name="Open"), viewport)
    await ui.screenshot(f"mobile-{tag}-staged")

    await ui.goto("/sync-runs")
    await fits(page)
    run_link = page.locator("#runs-table tbody tr").first.get_by_role("link")
    await reachable(run_link, viewport)
    await expect(page.locator("#runs-table tbody tr").first.locator(".badge")).to_be_in_viewport()
    await ui.screenshot(f"mobile-{tag}-runs")

    await ui.goto("/audit")
    await fits(page)
    entry = page.locator("#audit-table tbody tr").filter(has_text="Aurora Vale").first
    await expect(entry.locator(".badge")).to_be_in_viewport()
    await ui.screenshot(f"mobile-{tag}-audit")

    await ui.goto(f"/production/{bruno['id']}")
    await fits(page)
    post = page.locator("#production-posts tbody tr").first
    await reachable(post.get_by_role("button", name="Unpublish"), viewport)
    await expect(post.locator(".badge")).to_be_in_viewport()
    await ui.screenshot(f"mobile-{tag}-production-model")

    # The public preview's pictures are named by their post's title, not by an S3 key.
    await ui.goto(f"/production/{bruno['id']}/preview")
    await fits(page)
    posts = await rows("SELECT title FROM posts WHERE model = $1", bruno["id"])
    titles = {r["title"] for r in posts}
    alts = await page.locator(".gallery img").evaluate_all("(imgs) => imgs.map((i) => i.alt)")
    assert alts and set(alts) <= titles, (alts, titles)

    if narrow(viewport):
        await labelled(page)
        await ui.goto("/staged")
        await labelled(page)  # a table whose template has no labels gets them from app.js


@pytest.fixture
async def no_js(browser: Browser, ui: UI) -> AsyncIterator[UI]:
    """A phone-sized page with JavaScript off, signed in through the plain form."""
    context = await browser.new_context(viewport=PHONE, java_script_enabled=False)
    page = await context.new_page()
    try:
        await page.goto(ui.url("/login"))
        await page.get_by_label("Username").fill(USERNAME)
        await page.get_by_label("Password").fill(PASSWORD)
        await page.get_by_role("button", name="Sign in").click()
        await expect(page.get_by_role("heading", name="Dashboard", level=1)).to_be_visible()
        yield UI(page, ui.base)
    finally:
        await context.close()


async def test_without_javascript_the_menu_opens_and_lists_fit(no_js: UI, app_data: Bucket) -> None:
    await app_data.put(f"{LONG}/Post/a.jpg", "Short/Post/a.jpg")
    assert (await app_data.sync()).status == "succeeded"
    page = no_js.page
    nav = page.get_by_role("navigation", name="Main")
    await expect(nav).to_be_hidden()
    await page.get_by_role("link", name="Menu").click()  # targets #menu: CSS opens it
    await expect(nav).to_be_visible()
    await page.get_by_role("link", name="Close menu").click()
    await expect(nav).to_be_hidden()
    await page.get_by_role("link", name="Menu").click()
    await nav.get_by_role("link", name="Staged models").click()
    await expect(page.get_by_role("heading", name="Staged models", level=1)).to_be_visible()
    sizes = await page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
    assert sizes[0] <= sizes[1], sizes  # the table scrolls inside its frame, not the page
    await readable_names(page.locator("#staged-table tbody td.name > a"))
    await no_js.screenshot("mobile-390-staged-no-js")
