"""A staged model's page with signed media, and the audit log of what the admin did."""

from __future__ import annotations

import re
from urllib.parse import quote

import httpx
from playwright.async_api import expect

from domain.media import derive
from tests.browser.support import UI, demo, expected, synced_demo
from tests.conftest import Bucket

SIGNED = re.compile(r"^http://127\.0\.0\.1:\d+/browser-\d+/.+X-Amz-Signature=[0-9a-f]{64}")
PENDING = "/static/media-pending.svg"  # a preview not made yet
DERIVED = re.compile(SIGNED.pattern.replace(".+", "_derived/.+", 1))
ALL_LOADED = """() => [...document.images].every((img) => img.complete && img.naturalWidth > 0)"""


async def test_model_page_shows_signed_images_and_video(ui: UI, app_data: Bucket) -> None:
    await synced_demo(app_data)
    name = "Aurora Vale"
    own = [(key, body) for key, body in demo() if key.startswith(name + "/")]
    want = expected(key for key, _ in own)
    bodies = dict(own)
    page = ui.page
    await ui.sign_in()
    await page.get_by_role("link", name="Staged models", exact=True).click()
    await page.get_by_role("link", name=name, exact=True).click()
    await expect(page).to_have_url(ui.url("/staged/" + quote(name)))
    await expect(page.get_by_role("heading", name=name, level=1)).to_be_visible()
    await expect(page.locator(".page-header .badge")).to_have_text("new")
    await expect(page.get_by_text("not in production")).to_be_visible()
    # The banner and icon show placeholders until a worker made their previews.
    await expect(page.locator("img.banner-img")).to_have_attribute("src", PENDING)
    await expect(page.locator(".model-head .thumb-lg.placeholder")).to_be_visible()
    own = page.get_by_role("region", name="Model images").locator("img")
    await expect(own.first).to_have_attribute("src", PENDING)

    posts = page.locator("#posts article.post")
    await expect(posts).to_have_count(want.posts)
    images = page.locator("#posts .gallery img")
    await expect(images).to_have_count(want.images)
    # No worker has made previews yet: placeholders, never broken images; links open originals.
    for src in [await img.get_attribute("src") for img in await images.all()]:
        assert src == PENDING, src
    links = page.locator("#posts .gallery a")
    for href in [await a.get_attribute("href") for a in await links.all()]:
        assert href is not None and SIGNED.match(href), href
    videos = page.locator("#posts .gallery video")
    await expect(videos).to_have_count(want.videos)
    await expect(videos.first).to_have_attribute("src", SIGNED)
    # A thumbnail inside the link to its original (the lightbox plays it; test_lightbox.py).
    video_link = page.locator('#posts .gallery a[data-type="video"]').first
    await expect(video_link).to_have_attribute("href", str(await videos.first.get_attribute("src")))
    await expect(page.get_by_text(f"Page 1 of 1 · {want.posts} post(s)")).to_be_visible()
    await videos.first.scroll_into_view_if_needed()
    await expect(videos.first).not_to_have_js_property("readyState", 0)  # HAVE_NOTHING
    assert await videos.first.evaluate("(v) => v.error === null && v.duration > 0")

    await derive.run(app_data.s3)  # what the workers do after a sync
    await page.reload()
    for src in [await img.get_attribute("src") for img in await images.all()]:
        assert src is not None and SIGNED.match(src) and "/_derived/" in src, src
    await expect(videos.first).to_have_attribute("poster", SIGNED)
    for own_image in (page.locator("img.banner-img"), page.locator("img.thumb-lg"), own.first):
        await expect(own_image).to_have_attribute("src", DERIVED)

    # The browser really loads them: every preview decodes, at most 480 px wide.
    first = images.first
    await first.scroll_into_view_if_needed()
    await expect(first).to_have_js_property("complete", True)
    assert 0 < await first.evaluate("(img) => img.naturalWidth") <= 480

    key = await first.get_attribute("title")  # the alt text is the post's title, not the key
    assert key is not None and await first.get_attribute("alt") == key.split("/")[1]
    href = await links.first.get_attribute("href")
    assert key in bodies and href is not None
    async with httpx.AsyncClient() as client:
        response = await client.get(href)
        assert response.status_code == 200
        assert response.headers["content-type"] == "image/jpeg"
        assert response.content == bodies[key]

    await images.evaluate_all("(imgs) => imgs.forEach((img) => { img.loading = 'eager'; })")
    await page.wait_for_function(ALL_LOADED)
    await ui.screenshot("model")


async def test_audit_log_lists_sign_in_and_activation(ui: UI, app_data: Bucket) -> None:
    await synced_demo(app_data)
    page = ui.page
    await ui.sign_in()
    await ui.goto("/staged/" + quote("Bruno Díaz"))
    # The model page's Activate is a plain form post: redirect back, with a flash message.
    await page.get_by_role("button", name="Activate", exact=True).click()
    await expect(page.locator("#toasts .toast-success")).to_contain_text(
        "Bruno Díaz: 1 model(s) activated: 4 post(s) created"
    )
    await expect(page.locator(".page-header .badge").first).to_have_text("active")
    await expect(page.get_by_role("link", name="in production · published")).to_be_visible()

    await page.get_by_role("link", name="Audit log").click()
    await expect(page.get_by_role("heading", name="Audit log", level=1)).to_be_visible()
    entries = page.locator("#audit-table tbody tr")
    await expect(entries).to_have_count(2)
    newest, oldest = entries.nth(0), entries.nth(1)
    await expect(newest.locator("td")).to_have_text(
        [
            re.compile(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC"),
            "tester",
            "activation",
            "Bruno Díaz",
            re.compile(r"^1 model\(s\) activated: 4 post\(s\) created"),
            "127.0.0.1",
        ]
    )
    await expect(oldest.locator("td")).to_have_text(
        [re.compile(r"UTC$"), "tester", "sign in", "tester", "", "127.0.0.1"]
    )
    await ui.screenshot("audit")

    await ui.mark_document()
    await page.get_by_label("Action").select_option("sign_in")
    await expect(page).to_have_url(re.compile(r"/audit\?action=sign_in$"))
    await expect(entries).to_have_count(1)
    await expect(entries.locator(".badge")).to_have_text("sign in")
    await page.get_by_label("Action").select_option("activation")
    await expect(entries.locator(".badge")).to_have_text(["activation"])
    assert await ui.same_document()
