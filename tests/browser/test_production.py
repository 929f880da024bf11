"""Production: unpublish a model from the list and a post from the model's page."""

from __future__ import annotations

import httpx
from playwright.async_api import expect

from domain.staging import activation
from tests.browser.support import UI, production_row, synced_demo
from tests.conftest import Bucket, rows


async def test_unpublish_a_model_and_a_post(ui: UI, app_data: Bucket) -> None:
    await synced_demo(app_data)
    await activation.activate(["Aurora Vale", "Bruno Díaz"])
    bruno_posts = await rows(
        "SELECT p.id, p.title FROM posts p JOIN models m ON m.id = p.model "
        "WHERE m.name = 'Bruno Díaz' ORDER BY p.source_key"
    )
    assert len(bruno_posts) == 4
    page = ui.page
    await ui.sign_in()
    await page.get_by_role("link", name="Production", exact=True).click()
    await expect(page.get_by_role("heading", name="Production", level=1)).to_be_visible()
    aurora, bruno = production_row(page, "Aurora Vale"), production_row(page, "Bruno Díaz")
    await expect(aurora.locator(".badge")).to_have_text("public")
    await expect(bruno.locator(".badge")).to_have_text("public")
    await expect(aurora.locator("td.num")).to_have_text(["6", "6", "0"])
    await expect(bruno.locator("td.num")).to_have_text(["4", "4", "0"])
    await ui.mark_document()
    await bruno.evaluate("(tr) => { tr.dataset.before = '1'; }")

    await aurora.get_by_role("button", name="Unpublish").click()
    await expect(aurora.locator(".badge")).to_have_text("unpublished")
    await expect(aurora.get_by_role("button", name="Publish")).to_be_visible()
    await expect(page.locator("#toasts .toast-success")).to_contain_text("Aurora Vale unpublished.")
    await expect(bruno).to_have_attribute("data-before", "1")  # only Aurora's row was swapped
    assert await ui.same_document()
    await ui.screenshot("production")

    await bruno.get_by_role("link", name="Bruno Díaz").click()
    await expect(page.get_by_role("heading", name="Bruno Díaz", level=1)).to_be_visible()
    await expect(page.locator(".page-header .badge")).to_have_text("public")
    post_rows = page.locator("#production-posts tbody tr")
    await expect(post_rows.locator("td:nth-child(2)")).to_have_text(
        [p["title"] for p in bruno_posts]
    )
    await expect(post_rows.locator(".badge")).to_have_text(["public"] * 4)
    await ui.mark_document()

    first = page.locator(f"#pp-{bruno_posts[0]['id']}")
    await first.get_by_role("button", name="Unpublish").click()
    await expect(first.locator(".badge")).to_have_text("unpublished")
    await expect(first.get_by_role("button", name="Publish")).to_be_visible()
    await expect(page.locator("#toasts .toast-success")).to_contain_text(
        f"Post '{bruno_posts[0]['title']}' unpublished."
    )
    await expect(post_rows.locator(".badge")).to_have_text(
        ["unpublished", "public", "public", "public"]
    )
    assert await ui.same_document()
    await ui.screenshot("production-model")

    await ui.goto("/production")
    await expect(bruno.locator("td.num")).to_have_text(["3", "4", "0"])
    await expect(aurora.locator(".badge")).to_have_text("unpublished")
    # What the public API serves follows: Aurora is gone, Bruno has 3 posts.
    async with httpx.AsyncClient(base_url=ui.base) as client:
        listing = (await client.get("/api/models")).json()
        posts = (await client.get("/api/models/Bruno Díaz/posts")).json()
        hidden = await client.get("/api/models/Aurora Vale/posts")
    assert [m["name"] for m in listing["data"]] == ["Bruno Díaz"]
    assert listing["data"][0]["postCount"] == 3
    assert len(posts["data"]) == 3
    assert hidden.status_code == 404
