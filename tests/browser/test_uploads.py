"""In Chromium: files dropped on the upload page go straight to the bucket (its CORS rule and
the page's CSP allow it), each with its progress bar, then the model's sync shows the new post."""

from __future__ import annotations

import base64
import io
from urllib.parse import quote

import pytest
from PIL import Image
from playwright.async_api import expect

from domain.platform.demo import CLIP, image_bytes
from domain.platform.s3 import S3Service
from tests.browser.support import UI
from tests.conftest import Bucket

# Builds a DataTransfer of File objects in the page, as a drag from the desktop carries.
DATA_TRANSFER = """(files) => {
  const transfer = new DataTransfer();
  for (const f of files) {
    const bytes = Uint8Array.from(atob(f.data), (c) => c.charCodeAt(0));
    transfer.items.add(new File([bytes], f.name, { type: f.type }));
  }
  return transfer;
}"""


def noisy_jpeg(side: int) -> bytes:
    """A real JPEG that compresses badly: a few megabytes, so progress has steps to show."""
    out = io.BytesIO()
    Image.effect_noise((side, side), 120).convert("RGB").save(out, "JPEG", quality=95)
    return out.getvalue()


def dropped(name: str, body: bytes, type: str) -> dict[str, str]:
    return {"name": name, "type": type, "data": base64.b64encode(body).decode()}


async def test_dropped_files_upload_with_progress_and_the_new_post_appears(
    ui: UI, app_data: Bucket, server_s3: S3Service, live_server: str
) -> None:
    # The bucket CORS rule docs/uploads.md asks for, naming this app's origin.
    await server_s3.allow_browser_uploads([live_server])
    page = ui.page
    await ui.sign_in()
    await page.get_by_role("link", name="Upload", exact=True).click()
    await expect(page.get_by_role("heading", name="Upload", level=1)).to_be_visible()
    await page.get_by_label("Model", exact=True).fill("Zoë Drop")
    await page.get_by_label("Post", exact=True).fill("Dropped post")
    files = [
        dropped("sunrise.jpg", noisy_jpeg(1800), "image/jpeg"),
        dropped("sunset.jpg", image_bytes("sunset", 0.6, (2400, 1800)), "image/jpeg"),
        dropped("clip.mp4", CLIP.read_bytes(), "video/mp4"),
        dropped("notes.txt", b"not media", "text/plain"),
    ]
    transfer = await page.evaluate_handle(DATA_TRANSFER, files)
    await page.dispatch_event("[data-drop-zone]", "drop", {"dataTransfer": transfer})
    rows = page.locator(".upload-file")
    await expect(rows).to_have_count(4)

    # The app refuses the batch before anything is sent, naming the file that cannot go.
    ui.allow_console_error(r"status of 400")
    await page.get_by_role("button", name="Upload", exact=True).click()
    error = page.get_by_role("alert")
    await expect(error).to_contain_text("'notes.txt': .txt files cannot be uploaded")
    await page.get_by_role("button", name="Remove notes.txt").click()
    await expect(rows).to_have_count(3)
    await expect(rows.locator("progress")).to_have_count(3)

    await page.get_by_role("button", name="Upload", exact=True).click()
    for row in await rows.all():  # each bar fills as its bytes go out, then says so
        await expect(row).to_have_attribute("data-state", "done")
        await expect(row.locator(".upload-status")).to_have_text("uploaded")
        bar = row.locator("progress")
        assert await bar.evaluate("(p) => p.value === p.max && p.max > 1000")
    big = rows.filter(has_text="sunrise.jpg").locator("progress")
    assert await big.evaluate("(p) => p.max") > 2_000_000
    await expect(error).to_be_hidden()
    # The app's finish step moves the sent files into place, then says so.
    result = page.locator("[data-upload-result]")
    await expect(result).to_contain_text("Uploaded 3 file(s) to Zoë Drop / Dropped post")
    listed = {o.key async for page_ in server_s3.list_pages("Zoë Drop/") for o in page_}
    assert listed == {
        f"Zoë Drop/Dropped post/{n}" for n in ("sunrise.jpg", "sunset.jpg", "clip.mp4")
    }

    # Then the model's sync, live in the page, and the way to the new post.
    await expect(result.locator("[data-status]")).to_have_attribute(
        "data-status", "succeeded", timeout=30_000
    )
    await ui.screenshot("upload-done")
    await result.get_by_role("link", name="Open Zoë Drop").click()
    await expect(page).to_have_url(ui.url("/staged/" + quote("Zoë Drop")))
    post = page.locator("#posts article.post").filter(has_text="Dropped post")
    await expect(post).to_contain_text("2 image(s) · 1 video(s)")
    await expect(post.locator(".gallery img")).to_have_count(2)
    await expect(post.locator(".gallery video")).to_have_count(1)


@pytest.mark.parametrize("width", [1366, 390])
async def test_the_model_field_warns_of_a_lookalike_and_takes_its_name(
    ui: UI, app_data: Bucket, width: int
) -> None:
    await app_data.put("Emi Tanaka/P/a.jpg", "Emma Stone/P/a.jpg")
    assert (await app_data.sync()).status == "succeeded"
    page = ui.page
    await ui.sign_in()
    await page.set_viewport_size({"width": width, "height": 900})
    await ui.goto("/uploads")
    field = page.get_by_label("Model", exact=True)
    await field.press_sequentially("emi tanaka", delay=20)
    warning = page.locator("[data-lookalike]")
    await expect(warning).to_contain_text("Emi Tanaka exists and differs only in case")
    await expect(page.locator("#upload-model-names option").first).to_have_attribute(
        "value", "Emi Tanaka"
    )
    await ui.screenshot(f"upload-lookalike-{width}")
    await warning.get_by_role("link", name="Use Emi Tanaka").click()
    await expect(field).to_have_value("Emi Tanaka")
    await expect(warning).to_have_count(0)
    await expect(page.locator("[data-existing-model]")).to_contain_text("existing model")
    await expect(page).to_have_url(ui.url("/uploads"))  # the files chosen stay: no navigation
