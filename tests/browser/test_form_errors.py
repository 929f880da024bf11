"""Errors that stay: a refused form is marked in place with what was typed, an error toast stays
until dismissed, and the "Sync #N queued" toast becomes the run's outcome when the run ends
(a real sync through the real worker). At a laptop's width and a phone's."""

from __future__ import annotations

import re

import pytest
from playwright.async_api import expect

from domain.platform.demo import image_bytes
from domain.platform.tables import Model
from tests.browser.support import UI, put_many, roster
from tests.browser.test_sync_panel import SyncGate, sync_gate  # noqa: F401 - the fixture
from tests.conftest import Bucket

WIDTHS = [pytest.param(1366, id="1366"), pytest.param(390, id="390")]
TYPED_NAME = "Bén «typed» 🌸"
TOAST_MS = 6_000  # static/app.js: how long a success or info toast stays


async def two_models() -> tuple[int, int]:
    ids = []
    for name, slug in (("Anna", "anna"), ("Ben", "ben")):
        made = await Model.insert(Model(name=name, slug=slug)).returning(Model.id)
        ids.append(int(made[0]["id"]))
    return ids[0], ids[1]


@pytest.mark.parametrize("width", WIDTHS)
async def test_a_taken_slug_marks_the_field_inline_and_keeps_every_typed_value(
    ui: UI, width: int
) -> None:
    page = ui.page
    await page.set_viewport_size({"width": width, "height": 900})
    ui.allow_console_error(r"409")  # the refused save's answer, swapped in
    _, ben = await two_models()
    await ui.sign_in()
    await ui.goto(f"/production/{ben}/edit")
    await ui.mark_document()
    await page.get_by_label("Name").fill(TYPED_NAME)
    await page.get_by_label("Slug").fill("anna")
    await page.get_by_label("Description").fill("typed <b>description</b>")
    await page.get_by_label("Featured").check()
    await page.get_by_role("button", name="Save", exact=True).click()

    slug = page.get_by_label("Slug")
    await expect(slug).to_have_attribute("aria-invalid", "true")
    taken = "Slug 'anna' is taken by another model: choose another."
    hint = "Lowercase letters, digits and single hyphens, e.g. jane-doe."
    await expect(slug).to_have_accessible_description(f"{taken} {hint}")
    await expect(page.locator("#field-slug-error")).to_be_visible()
    await expect(page.locator("#field-slug-error")).to_contain_text("taken by another model")
    summary = page.locator("[data-error-summary]")
    await expect(summary).to_be_focused()
    await expect(summary).to_contain_text("Slug 'anna' is taken")
    await expect(page.get_by_label("Name")).to_have_value(TYPED_NAME)
    await expect(page.get_by_label("Name")).not_to_have_attribute("aria-invalid", "true")
    await expect(slug).to_have_value("anna")
    await expect(page.get_by_label("Description")).to_have_value("typed <b>description</b>")
    await expect(page.get_by_label("Featured")).to_be_checked()
    await expect(page.locator("#toasts .toast")).to_have_count(0)  # said in place, not toasted
    assert await ui.same_document(), "the refused save reloaded the page"
    await ui.screenshot(f"form-errors-slug-{width}")

    # Fixed, "Save and continue editing" stays on the form, which shows what was saved.
    await slug.fill("ben-typed")
    await page.get_by_role("button", name="Save and continue editing").click()
    await expect(page.locator("#toasts .toast-success")).to_contain_text("saved: 4 change(s)")
    await expect(page.get_by_label("Slug")).to_have_value("ben-typed")
    await expect(page.get_by_label("Slug")).not_to_have_attribute("aria-invalid", "true")
    await expect(page.locator("[data-error-summary]")).to_have_count(0)
    await expect(page).to_have_url(ui.url(f"/production/{ben}/edit"))
    # Cancel goes back without saving; Save goes to the model's page.
    await page.get_by_label("Slug").fill("not-saved")
    await page.get_by_role("link", name="Cancel").click()
    await expect(page).to_have_url(ui.url(f"/production/{ben}"))
    await expect(page.locator(".page-header")).to_contain_text("/ben-typed")
    await ui.goto(f"/production/{ben}/edit")
    await page.get_by_label("Slug").fill("ben-saved")
    await page.get_by_role("button", name="Save", exact=True).click()
    await expect(page).to_have_url(ui.url(f"/production/{ben}"))
    await expect(page.locator("#toasts .toast-success")).to_contain_text("saved: 1 change(s)")


@pytest.mark.parametrize("width", WIDTHS)
async def test_an_error_toast_stays_after_ten_seconds_and_goes_when_dismissed(
    ui: UI, width: int
) -> None:
    page = ui.page
    await page.set_viewport_size({"width": width, "height": 900})
    ui.allow_console_error(r"404")  # htmx logs the refused save
    _, ben = await two_models()
    await ui.sign_in()
    await ui.goto(f"/production/{ben}/edit")
    await Model.delete().where(Model.id == ben)  # another admin's doing, meanwhile
    await page.get_by_role("button", name="Save", exact=True).click()
    toast = page.locator("#toasts .toast-error")
    await expect(toast).to_contain_text(re.compile(f"there is no production model #{ben}", re.I))
    await expect(toast).to_have_attribute("role", "alert")
    await page.wait_for_timeout(10_500)
    await expect(toast).to_be_visible(timeout=1_000)
    await toast.get_by_role("button", name="Dismiss").click()
    await expect(toast).to_have_count(0, timeout=2_000)


async def bucket_of(bucket: Bucket, models: int) -> None:
    tiny = image_bytes("x", 0.3, (40, 40))
    await put_many(bucket.s3, [(key, tiny) for key in roster(models, "Toast")])


@pytest.mark.parametrize("width", WIDTHS)
async def test_the_queued_toast_stays_while_the_run_goes_and_becomes_its_outcome(
    ui: UI,
    app_data: Bucket,
    sync_gate: SyncGate,  # noqa: F811 - the fixture imported above
    width: int,
) -> None:
    page = ui.page
    await page.set_viewport_size({"width": width, "height": 900})
    await bucket_of(app_data, 3)
    await ui.sign_in()
    await page.get_by_role("button", name="Sync now").click()
    toast = page.locator('#toasts .toast[data-run="1"]')
    await expect(toast).to_contain_text("Sync #1 queued")
    await expect(toast).to_have_class(re.compile(r"\btoast-info\b"))
    await expect(page.locator('#run-panel [data-status="running"]')).to_be_visible()
    await page.wait_for_timeout(TOAST_MS + 1_500)  # longer than an info toast stays
    await expect(toast).to_contain_text("Sync #1 queued", timeout=1_000)

    await sync_gate.release()
    await expect(page.locator('#run-panel [data-status="succeeded"]')).to_be_visible(timeout=30_000)
    await expect(toast).to_contain_text("Sync #1 finished: 3 new, 0 changed, 0 removed model(s).")
    await expect(toast).to_have_class(re.compile(r"\btoast-success\b"))
    await expect(toast).not_to_contain_text("queued")
    await expect(page.locator("#toasts .toast")).to_have_count(1)  # replaced, not added
    await ui.screenshot(f"run-toast-outcome-{width}")
    await expect(toast).to_have_count(0, timeout=TOAST_MS + 3_000)  # a success fades
