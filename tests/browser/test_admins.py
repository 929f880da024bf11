"""Admins: a superuser creates an admin through the form, then deactivates it from its row."""

from __future__ import annotations

from playwright.async_api import expect

from tests.browser.support import UI
from tests.conftest import Bucket, rows


async def test_create_an_admin_then_deactivate_it(ui: UI, app_data: Bucket) -> None:
    page = ui.page
    await ui.sign_in()  # the fixture's admin is made by the operator's command: a superuser
    await page.get_by_role("link", name="Admins", exact=True).click()
    await expect(page.get_by_role("heading", name="Admins", level=1)).to_be_visible()

    await page.get_by_label("Username", exact=True).fill("Zoë Ångström")
    await page.get_by_label("Email", exact=True).fill("zoe@example.com")
    await page.get_by_label("Password", exact=True).fill("a-long-enough-secret")
    await page.get_by_role("button", name="Create admin").click()
    await expect(page.locator("#toasts .toast-success")).to_contain_text(
        "Created admin 'Zoë Ångström'."
    )
    row = page.locator("#admins-table tbody tr").filter(has_text="Zoë Ångström")
    await expect(row.locator("td").nth(1)).to_have_text("zoe@example.com")
    await expect(row.locator(".badge")).to_have_text("active")
    await expect(row.locator("td").nth(4)).to_have_text("never")

    await ui.mark_document()
    ui.accept_confirms = True
    await row.get_by_role("button", name="Deactivate").click()
    await expect(row.locator(".badge")).to_have_text("inactive")
    await expect(row.get_by_role("button", name="Reactivate")).to_be_visible()
    await expect(page.locator("#toasts .toast-success").last).to_contain_text(
        "'Zoë Ångström' deactivated: their sessions have ended."
    )
    assert await ui.same_document()  # the row was swapped in place
    assert ui.confirms == [
        "Deactivate Zoë Ångström? They are signed out everywhere at once and cannot sign in "
        "until reactivated."
    ]
    await ui.screenshot("admins")
    found = await rows("SELECT active FROM piccolo_user WHERE username = 'Zoë Ångström'")
    assert [r["active"] for r in found] == [False]
