"""The lightbox: a gallery link opens its original in a modal viewer; keys, swipes, video."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from urllib.parse import quote

import pytest
from playwright.async_api import Browser, ElementHandle, Locator, Page, expect

from domain.catalogue.keys import KeyKind, parse_key
from domain.platform.demo import image_bytes
from domain.staging import activation
from tests.browser.support import UI, demo, open_ui, put_many, synced_demo
from tests.conftest import Bucket, rows

MODEL = "Aurora Vale"  # six posts: two hold a video among their images
BLANK_GIF = "data:image/gif;base64,R0lGODlhAQABAAAAACH5BAEKAAEALAAAAAABAAEAAAICTAEAOw=="
PLAYED = "(v) => v.currentTime > 0 && v.readyState >= 2"  # frames shown and time has moved


def post_media(model: str) -> list[str]:
    """The keys of a model's post media in the demo catalogue."""
    return [
        key for key, _ in demo() if key.startswith(model + "/") and parse_key(key).is_post_media
    ]


def viewer(page: Page) -> Locator:
    return page.get_by_role("dialog", name="Media viewer")


async def hrefs(links: Locator) -> list[str]:
    return [str(h) for h in await links.evaluate_all("(as) => as.map((a) => a.href)")]


async def expect_showing(page: Page, href: str, position: str, caption: str) -> None:
    """The viewer shows the original at `href`, with the post title and "k of n"."""
    dialog = viewer(page)
    await expect(dialog).to_be_visible()
    media = dialog.locator(".lightbox-media")
    await expect(media).to_have_count(1)
    assert await media.evaluate("(m) => m.src") == href
    await expect(dialog.locator(".lightbox-count")).to_have_text(position)
    await expect(dialog.locator(".lightbox-title")).to_have_text(caption)
    await expect(dialog.get_by_role("link", name="Open original")).to_have_attribute("href", href)


async def captions(links: Locator) -> list[str]:
    return [str(c) for c in await links.evaluate_all("(as) => as.map((a) => a.dataset.caption)")]


async def expect_playing(page: Page) -> ElementHandle:
    """The viewer's video plays: returns it."""
    video = await viewer(page).locator("video.lightbox-media").element_handle()
    await page.wait_for_function(PLAYED, arg=video)
    assert await video.evaluate("(v) => v.videoWidth") > 0  # frames were decoded
    return video


async def expect_image_loaded(page: Page) -> None:
    img = viewer(page).locator("img.lightbox-media")
    await expect(img).to_be_visible()
    await page.wait_for_function(
        "(img) => img.complete && img.naturalWidth > 0", arg=await img.element_handle()
    )


async def test_staged_gallery_opens_originals_steps_plays_and_closes(
    ui: UI, app_data: Bucket
) -> None:
    await synced_demo(app_data)
    keys = post_media(MODEL)
    videos = sum(parse_key(k).kind is KeyKind.POST_VIDEO for k in keys)
    assert videos == 2 and len(keys) == 17
    page = ui.page
    await ui.sign_in()
    await ui.goto("/staged/" + quote(MODEL))
    links = page.locator('#posts a[data-lightbox="posts"]')
    await expect(links).to_have_count(len(keys))
    urls = await hrefs(links)
    titles = await captions(links)
    kinds = [str(t) for t in await links.evaluate_all("(as) => as.map((a) => a.dataset.type)")]
    assert kinds.count("video") == videos
    total = len(keys)
    # Thumbnails may become previews: the viewer must show the link's original, not the img's src.
    await links.first.locator("img").evaluate(f"(img) => {{ img.src = '{BLANK_GIF}'; }}")

    await links.first.click()
    dialog = viewer(page)
    await expect_showing(page, urls[0], f"1 of {total}", titles[0])
    await expect_image_loaded(page)
    assert await dialog.evaluate("(d) => d.matches(':modal')")
    await expect(dialog.get_by_role("button", name="Close")).to_be_focused()
    await ui.screenshot("lightbox-image", full_page=False)

    await page.keyboard.press("ArrowRight")
    await expect_showing(page, urls[1], f"2 of {total}", titles[1])
    await expect_image_loaded(page)
    await page.keyboard.press("ArrowLeft")
    await page.keyboard.press("ArrowLeft")  # wraps round to the last item
    await expect_showing(page, urls[-1], f"{total} of {total}", titles[-1])
    await dialog.get_by_role("button", name="Next").click()
    await expect_showing(page, urls[0], f"1 of {total}", titles[0])

    first_video = kinds.index("video")
    for _ in range(first_video):
        await page.keyboard.press("ArrowRight")
    await expect_showing(
        page, urls[first_video], f"{first_video + 1} of {total}", titles[first_video]
    )
    handle = await expect_playing(page)
    await ui.screenshot("lightbox-video", full_page=False)

    await page.keyboard.press("ArrowRight")  # moving on stops the video
    await expect_showing(
        page, urls[first_video + 1], f"{first_video + 2} of {total}", titles[first_video + 1]
    )
    assert await handle.evaluate("(v) => v.paused && !v.isConnected")

    await page.keyboard.press("Escape")
    await expect(dialog).to_be_hidden()
    await expect(links.first).to_be_focused()
    await expect(page.locator("html")).not_to_have_class(re.compile(r"\blightbox-open\b"))

    # From the keyboard: Enter on the focused link opens it, the Close button closes.
    await page.keyboard.press("Enter")
    await expect_showing(page, urls[0], f"1 of {total}", titles[0])
    await dialog.get_by_role("button", name="Close").click()
    await expect(dialog).to_be_hidden()
    await expect(links.first).to_be_focused()

    # Closing while a video plays pauses it.
    await links.nth(first_video).click()
    handle = await expect_playing(page)
    await page.keyboard.press("Escape")
    await expect(dialog).to_be_hidden()
    await page.wait_for_function("(v) => v.paused", arg=handle)
    await expect(links.nth(first_video)).to_be_focused()


@pytest.fixture
async def phone(browser: Browser, live_server: str, app_data: Bucket) -> AsyncIterator[UI]:
    """A touch phone 390 px wide; fails the test on JS errors like the `ui` fixture."""
    phone = {"viewport": {"width": 390, "height": 844}, "device_scale_factor": 2}
    async with open_ui(browser, live_server, is_mobile=True, has_touch=True, **phone) as wrapper:
        yield wrapper


async def swipe(page: Page, from_x: float, to_x: float, y: float = 400) -> None:
    """A one-finger horizontal swipe, as real touch input through the DevTools protocol."""
    cdp = await page.context.new_cdp_session(page)
    steps = [from_x + (to_x - from_x) * i / 5 for i in range(6)]
    await cdp.send(
        "Input.dispatchTouchEvent", {"type": "touchStart", "touchPoints": [{"x": from_x, "y": y}]}
    )
    for x in steps[1:]:
        await cdp.send(
            "Input.dispatchTouchEvent", {"type": "touchMove", "touchPoints": [{"x": x, "y": y}]}
        )
    await cdp.send("Input.dispatchTouchEvent", {"type": "touchEnd", "touchPoints": []})
    await cdp.detach()


async def test_phone_viewer_fits_and_swipes(phone: UI, app_data: Bucket) -> None:
    await synced_demo(app_data)
    page = phone.page
    await phone.sign_in()
    await phone.goto("/staged/" + quote(MODEL))
    links = page.locator('#posts a[data-lightbox="posts"]')
    urls = await hrefs(links)
    total = len(urls)
    caption = str(await links.first.get_attribute("data-caption"))

    await links.first.tap()
    dialog = viewer(page)
    await expect_showing(page, urls[0], f"1 of {total}", caption)
    await expect_image_loaded(page)
    for part in (dialog, dialog.locator(".lightbox-media"), dialog.locator(".lightbox-bar")):
        box = await part.bounding_box()
        assert box is not None
        assert box["x"] >= 0 and box["y"] >= 0, part
        assert box["x"] + box["width"] <= 390 and box["y"] + box["height"] <= 844, part
    for name in ("Close", "Previous", "Next"):
        await expect(dialog.get_by_role("button", name=name)).to_be_in_viewport()
    await phone.screenshot("lightbox-phone", full_page=False)

    await dialog.get_by_role("button", name="Next").tap()
    await expect(dialog.locator(".lightbox-count")).to_have_text(f"2 of {total}")
    await dialog.get_by_role("button", name="Previous").tap()
    await expect(dialog.locator(".lightbox-count")).to_have_text(f"1 of {total}")
    await swipe(page, 300, 80)  # the finger moves left: the next item
    await expect(dialog.locator(".lightbox-count")).to_have_text(f"2 of {total}")
    assert await dialog.locator(".lightbox-media").evaluate("(m) => m.src") == urls[1]
    await swipe(page, 80, 300)  # right: back
    await expect(dialog.locator(".lightbox-count")).to_have_text(f"1 of {total}")
    await swipe(page, 200, 190, y=300)  # too short to be a swipe: stays
    await expect(dialog.locator(".lightbox-count")).to_have_text(f"1 of {total}")
    await page.keyboard.press("Escape")  # a tap right after a swipe only stops its fling
    await expect(dialog).to_be_hidden()


async def test_production_rows_and_preview_open_the_lightbox(ui: UI, app_data: Bucket) -> None:
    await synced_demo(app_data)
    await activation.activate([MODEL])
    posts = await rows(
        "SELECT p.id, p.title, p.type, p.model FROM posts p JOIN models m ON m.id = p.model "
        "WHERE m.name = $1 ORDER BY p.source_key",
        MODEL,
    )
    assert [p["type"] for p in posts].count("video") == 2
    model_id = posts[0]["model"]
    page = ui.page
    await ui.sign_in()
    await ui.goto(f"/production/{model_id}")
    links = page.locator('#production-posts a[data-lightbox="production-posts"]')
    await expect(links).to_have_count(len(posts))
    assert await captions(links) == [p["title"] for p in posts]
    urls = await hrefs(links)
    video_at = [p["type"] for p in posts].index("video")

    # After htmx swaps the row (Unpublish), its new link still opens the viewer.
    row = page.locator(f"#pp-{posts[video_at]['id']}")
    await row.get_by_role("button", name="Unpublish").click()
    await expect(row.locator(".badge")).to_have_text("unpublished")
    await row.locator("a[data-lightbox]").click()
    await expect_showing(
        page, urls[video_at], f"{video_at + 1} of {len(posts)}", posts[video_at]["title"]
    )
    await expect_playing(page)
    await page.keyboard.press("Escape")
    await expect(viewer(page)).to_be_hidden()

    await ui.goto(f"/production/{model_id}/preview")
    public = sorted(p["title"] for p in posts if p["id"] != posts[video_at]["id"])
    items = page.locator('a[data-lightbox="preview"]')
    await expect(items).to_have_count(len(public))
    shown = await captions(items)
    assert sorted(shown) == public
    preview_urls = await hrefs(items)
    await items.first.click()
    await expect_showing(page, preview_urls[0], f"1 of {len(public)}", shown[0])
    await page.keyboard.press("ArrowRight")
    await expect_showing(page, preview_urls[1], f"2 of {len(public)}", shown[1])
    await ui.screenshot("lightbox-preview", full_page=False)


async def test_galleries_swapped_in_by_htmx_and_restored_by_back(ui: UI, app_data: Bucket) -> None:
    tiny = image_bytes("x", 0.3, (60, 80))
    await put_many(app_data.s3, [(f"Paged/Post {p:02d}/a.jpg", tiny) for p in range(1, 14)])
    assert (await app_data.sync()).status == "succeeded"
    page = ui.page
    await ui.sign_in()
    await ui.goto("/staged/Paged")
    links = page.locator('#posts a[data-lightbox="posts"]')
    await expect(links).to_have_count(12)
    dialog = viewer(page)
    await links.first.click()
    await expect(dialog.locator(".lightbox-count")).to_have_text("1 of 12")
    await page.keyboard.press("Escape")
    await expect(dialog).to_be_hidden()
    await ui.mark_document()

    await page.get_by_role("navigation", name="Pages").get_by_role("link", name="Next →").click()
    await expect(links).to_have_count(1)
    assert await ui.same_document()  # swapped by htmx, not loaded
    await links.first.click()
    await expect_showing(page, (await hrefs(links))[0], "1 of 1", "Post 13")
    await expect(dialog.get_by_role("button", name="Next")).to_be_hidden()
    await expect(dialog.get_by_role("button", name="Previous")).to_be_hidden()
    await page.keyboard.press("Escape")
    await expect(dialog).to_be_hidden()

    await page.go_back()  # htmx restores page 1 from its snapshot, which holds a copy of the viewer
    await expect(links).to_have_count(12)
    await links.nth(2).click()
    await expect_showing(page, (await hrefs(links))[2], "3 of 12", "Post 03")
    await expect(page.locator("dialog.lightbox")).to_have_count(1)
    await page.keyboard.press("Escape")
    await expect(links.nth(2)).to_be_focused()
