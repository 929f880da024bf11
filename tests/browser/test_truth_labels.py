"""What an admin reads in Chromium says what is public: a published post of an unpublished
model is labelled "model unpublished" (never a green badge), the model counts no public posts,
and a held deletion plan leads with what of it is live, its confirm dialog saying those go off
the public site."""

from __future__ import annotations

import pytest
from playwright.async_api import expect

from domain.staging import activation
from tests.browser.support import UI, counter_value, production_row
from tests.conftest import Bucket, rows


@pytest.mark.parametrize("width", [1366, 390])
async def test_labels_say_what_is_public_and_the_guard_leads_with_live_content(
    ui: UI, app_data: Bucket, width: int
) -> None:
    await app_data.put("Anna/Beach/a.jpg", "Anna/Gym/g.jpg", "Ben/Trip/t.png")
    assert (await app_data.sync()).status == "succeeded"
    await activation.activate(["Anna", "Ben"])
    anna = (await rows("SELECT id FROM models WHERE name = 'Anna'"))[0]["id"]
    page = ui.page
    await ui.sign_in()
    await page.set_viewport_size({"width": width, "height": 900})

    await ui.goto(f"/production/{anna}")
    await page.get_by_role("button", name="Unpublish model").click()
    await expect(page.locator(".page-header .visibility")).to_have_text("not public: unpublished")
    posts = page.locator("#production-posts tbody tr")
    await expect(posts).to_have_count(2)
    for i in range(2):
        await expect(posts.nth(i).locator(".visibility")).to_have_text(
            "not public: model unpublished"
        )
    await expect(page.locator("#production-posts .badge-published")).to_have_count(0)
    await ui.goto("/production")
    await expect(production_row(page, "Anna").locator('[data-label="Public posts"]')).to_have_text(
        "0"
    )
    await expect(production_row(page, "Ben").locator(".visibility")).to_have_text("public")

    # Ben's folder goes (half the models: held) and Anna's Gym post: only Ben is live.
    await app_data.delete("Ben/Trip/t.png", "Anna/Gym/g.jpg")
    held = await app_data.sync()
    assert held.status == "needs_confirmation", held.error
    await ui.goto(f"/sync-runs/{held.id}")
    panel = page.locator("#run-panel")
    await expect(panel.locator("[data-live]")).to_contain_text(
        "Live on the public site: 1 model(s) and 1 post(s) it deletes are public."
    )
    await expect(counter_value(panel, "Models")).to_have_text("1 / 1")  # Anna: Ben is gone
    ui.accept_confirms = True
    await panel.get_by_role("button", name="Confirm deletions").click()
    await expect(panel.locator("[data-status]")).to_have_attribute("data-status", "succeeded")
    assert ui.confirms and ui.confirms[-1].endswith(
        "1 live model(s) and 1 live post(s) go off the public site."
    ), ui.confirms
