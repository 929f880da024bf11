"""Signing in and out, and the dashboard a signed-in admin lands on."""

from __future__ import annotations

import re

from playwright.async_api import expect

from domain.staging import overview
from tests.browser.support import UI, card_value, demo, expected, put_many
from tests.conftest import Bucket


async def test_sign_in_lands_on_dashboard_with_synced_numbers(ui: UI, app_data: Bucket) -> None:
    objects = demo()
    await put_many(app_data.s3, objects)
    run = await app_data.sync()
    assert run.status == "succeeded", run.error
    want = expected(key for key, _ in objects)
    stats = await overview.catalogue_stats()
    assert (stats.staged_models, stats.posts, stats.images, stats.videos) == (
        want.models,
        want.posts,
        want.images,
        want.videos,
    )
    page = ui.page

    await page.goto(ui.url("/"))
    await expect(page).to_have_url(ui.url("/login?next=%2F"))
    await expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    await expect(page.get_by_label("Username")).to_be_focused()
    await ui.screenshot("login")

    await page.get_by_label("Username").fill("tester")
    await page.get_by_label("Password").fill("correct-horse-42")
    await page.get_by_role("button", name="Sign in").click()
    await expect(page).to_have_url(ui.url("/"))
    await expect(page.get_by_role("heading", name="Dashboard", level=1)).to_be_visible()
    await expect(page.get_by_role("button", name="Sign out")).to_be_visible()
    await expect(page.locator(".user")).to_contain_text("tester")
    await expect(page.get_by_role("link", name="Dashboard")).to_have_attribute(
        "aria-current", "page"
    )
    await expect(card_value(page, "Staged models")).to_have_text(str(want.models))
    await expect(card_value(page, "Posts")).to_have_text(str(want.posts))
    await expect(card_value(page, "Images")).to_have_text(str(want.images))
    await expect(card_value(page, "Videos")).to_have_text(str(want.videos))
    await expect(card_value(page, "Production models")).to_have_text("0")
    await expect(card_value(page, "Last sync")).to_have_text("succeeded")
    await expect(page.locator(".card").filter(has_text="Staged models")).to_contain_text(
        f"{want.models} new · 0 active"
    )
    top = page.locator(".creator-list li")
    await expect(top).to_have_count(want.models)
    await expect(top.first).to_contain_text("Emi Tanaka")  # the model with the most posts
    await expect(page.locator("#runs-table tbody tr")).to_have_count(1)
    await expect(page.locator("#runs-table tbody tr")).to_contain_text(
        re.compile(rf"#{run.id}\s+all\s+succeeded")
    )
    await ui.screenshot("dashboard")


async def test_wrong_password_shows_an_error(ui: UI) -> None:
    page = ui.page
    ui.allow_console_error(r"status of 400 \(Bad Request\).*/login")
    await ui.goto("/login?next=%2Fproduction")
    await page.get_by_label("Username").fill("tester")
    await page.get_by_label("Password").fill("wrong-password-1")
    await page.get_by_role("button", name="Sign in").click()
    await expect(page.get_by_role("alert")).to_contain_text(
        "Wrong username or password", timeout=3000
    )
    await expect(page.get_by_label("Username")).to_have_value("tester")
    await expect(page.get_by_label("Password")).to_have_value("")
    await expect(page.locator(".user")).to_have_count(0)
    await ui.screenshot("login-error")
    # The next attempt keeps ?next: the right password lands on the page asked for first.
    await page.get_by_label("Password").fill("correct-horse-42")
    await page.get_by_role("button", name="Sign in").click()
    await expect(page).to_have_url(ui.url("/production"))


async def test_sign_out_ends_the_session(ui: UI) -> None:
    page = ui.page
    await ui.sign_in()
    await expect(page).to_have_url(ui.url("/"))

    ui.accept_confirms = True  # "Sign out of CreatorFlix Admin?"
    await page.get_by_role("button", name="Sign out").click()
    await expect(page).to_have_url(ui.url("/login"))
    await expect(page.get_by_role("heading", name="Sign in")).to_be_visible()

    await page.goto(ui.url("/"))
    await expect(page).to_have_url(ui.url("/login?next=%2F"))
    await page.goto(ui.url("/staged?q=a"))
    await expect(page).to_have_url(ui.url("/login?next=%2Fstaged%3Fq%3Da"))
