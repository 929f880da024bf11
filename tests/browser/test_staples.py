"""The admin staples in the browser, at a laptop's width (1366) and a phone's (390): filtering the
audit log, breadcrumbs that fit the screen, the questions asked before signing out, deactivating
an admin and activating ticked models (Cancel does nothing), and one select-all on every list."""

from __future__ import annotations

import asyncio
import re
from datetime import UTC, datetime

import pytest
from playwright.async_api import Locator, Page, expect

from domain.accounts import admins
from domain.platform.tables import AuditEntry
from domain.staging import activation
from tests.browser.support import UI, put_many, synced_demo
from tests.conftest import Bucket, rows

PHONE = {"width": 390, "height": 844}
LAPTOP = {"width": 1366, "height": 768}
VIEWPORTS = [pytest.param(PHONE, id="390"), pytest.param(LAPTOP, id="1366")]
LONG = "Émilie 山田花子・高橋美咲 " * 6  # a name far wider than a phone, wide letters too


async def asked(ui: UI, n: int, timeout: float = 3.0) -> str:
    """The n-th confirm() question, once the page has asked it (within `timeout` seconds)."""
    for _ in range(int(timeout * 20)):
        if len(ui.confirms) >= n:
            return ui.confirms[n - 1]
        await asyncio.sleep(0.05)
    raise AssertionError(f"no confirm() number {n} in {timeout} s; asked: {ui.confirms}")


async def at(ui: UI, viewport: dict[str, int]) -> Page:
    await ui.page.set_viewport_size(viewport)
    await ui.sign_in()
    return ui.page


async def open_menu(page: Page, viewport: dict[str, int]) -> None:
    if viewport["width"] < 800:
        await page.get_by_role("button", name="Menu").click()


async def fits(page: Page, target: Locator, viewport: dict[str, int]) -> None:
    """Visible, and inside the screen's width; the page itself scrolls no wider than it."""
    await expect(target).to_be_visible()
    box = await target.bounding_box()
    assert box is not None and box["x"] >= 0, box
    assert box["x"] + box["width"] <= viewport["width"] + 0.5, (box, viewport)
    wide = await page.evaluate("document.documentElement.scrollWidth")
    assert wide <= viewport["width"], f"the page scrolls sideways: {wide} px"


@pytest.mark.parametrize("viewport", VIEWPORTS)
async def test_filter_the_audit_log(ui: UI, app_data: Bucket, viewport: dict[str, int]) -> None:
    seed = [
        ("alice", "activation", "Emi Tanaka", "2026-11-01"),
        ("bob", "publish_change", "Emi Tanaka", "2026-11-05"),
        ("alice", "publish_change", "Ben", "2026-11-10"),
    ]
    await AuditEntry.insert(
        *[
            AuditEntry(
                actor=who,
                action=action,
                target=target,
                created_at=datetime.fromisoformat(day).replace(hour=9, tzinfo=UTC),
            )
            for who, action, target, day in seed
        ]
    )
    for name in ("alice", "bob"):  # the Admin choices are the admins
        await admins.create_admin(name, f"{name}@example.com", "a-long-enough-secret", False)
    page = await at(ui, viewport)
    await ui.goto("/audit")
    entries = page.locator("#audit-table tbody tr")
    count = page.locator("#audit-summary")
    await expect(entries).to_have_count(4)  # and the tester's sign-in
    await page.get_by_label("Admin").select_option("alice")
    await expect(page).to_have_url(re.compile(r"/audit\?(.*&)?admin=alice(&|$)"))
    await expect(entries).to_have_count(2)
    await expect(count).to_contain_text("2 matching entries")
    await page.get_by_label("Action").select_option("publish_change")
    await expect(entries).to_have_count(1)
    await expect(entries.first).to_contain_text("Ben")
    await page.get_by_label("Action").select_option("")
    await expect(entries).to_have_count(2)
    await page.get_by_label("From").fill("2026-11-02")
    await expect(entries).to_have_count(1)
    await expect(page).to_have_url(re.compile(r"[?&]from=2026-11-02(&|$)"))
    await page.get_by_label("To").fill("2026-11-03")
    await expect(page.get_by_text("No audit entry matches these filters.")).to_be_visible()
    await page.get_by_label("To").fill("")
    await page.get_by_label("From").fill("")
    await page.get_by_label("Admin").select_option("")
    await page.get_by_role("searchbox", name="Search the audit log").fill("tanaka")
    await expect(entries).to_have_count(2)
    await expect(count).to_contain_text("2 matching entries")
    await fits(page, page.locator("#audit-filters"), viewport)
    await ui.screenshot(f"staples-{viewport['width']}-audit-filtered")

    await page.get_by_role("link", name="Clear filters").click()
    await expect(page).to_have_url(ui.url("/audit"))
    await expect(entries).to_have_count(4)
    await expect(page.get_by_role("searchbox", name="Search the audit log")).to_have_value("")
    await expect(page.get_by_label("Admin")).to_have_value("")


@pytest.mark.parametrize("viewport", VIEWPORTS)
async def test_breadcrumbs_are_visible_and_fit(
    ui: UI, app_data: Bucket, viewport: dict[str, int]
) -> None:
    await put_many(app_data.s3, [(f"{LONG}/Beach/a.jpg", b"not really a jpeg")])
    assert (await app_data.sync()).status == "succeeded"
    await activation.activate([LONG])
    model_id = (await rows("SELECT id FROM models"))[0]["id"]
    page = await at(ui, viewport)
    await ui.goto(f"/production/{model_id}/edit")
    trail = page.get_by_role("navigation", name="Breadcrumb")
    crumbs = trail.locator("li")
    await expect(crumbs).to_have_count(4)
    await expect(crumbs.nth(0)).to_have_text("Dashboard")
    await expect(crumbs.nth(1)).to_have_text("Production")
    await expect(crumbs.nth(3)).to_have_text("Edit")
    name = trail.get_by_role("link", name=re.compile("^Émilie 山田花子"))
    await expect(name).to_have_attribute("title", LONG)
    await expect(trail.locator('[aria-current="page"]')).to_have_text("Edit")
    for i in range(4):  # each crumb's text, not only its list item, stays on the screen
        await fits(page, crumbs.nth(i).locator("a, span").first, viewport)
    await ui.screenshot(f"staples-{viewport['width']}-breadcrumbs")
    await name.click()
    await expect(page).to_have_url(ui.url(f"/production/{model_id}"))
    await trail.get_by_role("link", name="Production").click()
    await expect(page).to_have_url(ui.url("/production"))
    await expect(trail.locator('[aria-current="page"]')).to_have_text("Production")


@pytest.mark.parametrize("viewport", VIEWPORTS)
async def test_confirmations_appear_and_cancel_does_nothing(
    ui: UI, app_data: Bucket, viewport: dict[str, int]
) -> None:
    await synced_demo(app_data)
    await admins.create_admin("Zoë", "zoe@example.com", "a-long-enough-secret", False)
    page = await at(ui, viewport)
    ui.cancel_confirms = True

    await ui.goto("/staged")
    await page.get_by_label("Select Bruno Díaz").check()
    await page.get_by_label("Select Chloé Martin").check()
    await page.get_by_role("button", name="Activate selected").click()
    assert await asked(ui, 1) == (
        "Activate 2 selected model(s) into production? 2 go public on the site as each is done."
    )
    await expect(page.locator("#bulk-slot section")).to_have_count(0)
    await expect(page.locator("#selection-count")).to_have_text("2")

    await ui.goto("/admins")
    row = page.locator("#admins-table tbody tr").filter(has_text="Zoë")
    await row.get_by_role("button", name="Deactivate").click()
    assert (await asked(ui, 2)).startswith("Deactivate Zoë? They are signed out everywhere")
    await expect(row.locator(".badge")).to_have_text("active")

    await open_menu(page, viewport)
    await page.get_by_role("button", name="Sign out").click()
    assert await asked(ui, 3) == "Sign out of CreatorFlix Admin?"
    await expect(page).to_have_url(ui.url("/admins"))

    # Cancel changed nothing: nothing activated, Zoë active, still signed in.
    assert await rows("SELECT 1 FROM models") == []
    found = await rows("SELECT active FROM piccolo_user WHERE username = 'Zoë'")
    assert [r["active"] for r in found] == [True]
    await ui.goto("/audit")
    await expect(page.get_by_role("heading", name="Audit log", level=1)).to_be_visible()


@pytest.mark.parametrize("viewport", VIEWPORTS)
async def test_select_all_works_the_same_on_staged_and_production(
    ui: UI, app_data: Bucket, viewport: dict[str, int]
) -> None:
    want = await synced_demo(app_data)
    await activation.activate(["Aurora Vale", "Bruno Díaz", "Chloé Martin"])
    page = await at(ui, viewport)
    for url, rows_on_page, first in (
        ("/staged", want.models, "Aurora Vale"),
        ("/production", 3, "Aurora Vale"),
    ):
        await ui.goto(url)
        every = page.get_by_label("Select all on this page")
        count = page.locator("#selection-count")
        buttons = page.locator("#selection-form [data-needs-selection]")
        await expect(buttons).to_have_count(2)
        for i in range(2):
            await expect(buttons.nth(i)).to_be_disabled()
        await expect(page.locator("#selection-form")).to_contain_text("0 selected")

        await every.check()
        await expect(count).to_have_text(str(rows_on_page))
        for i in range(2):
            await expect(buttons.nth(i)).to_be_enabled()
        await every.uncheck()
        await expect(count).to_have_text("0")
        await expect(buttons.first).to_be_disabled()

        await page.get_by_label(f"Select {first}").check()
        await expect(count).to_have_text("1")
        await expect(buttons.first).to_be_enabled()
        assert await every.evaluate("(box) => box.indeterminate"), url
        await page.get_by_label(f"Select {first}").uncheck()
        await expect(count).to_have_text("0")
        await expect(buttons.first).to_be_disabled()
