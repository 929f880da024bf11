"""A model's own images (icon, banner, model and profile images) get previews like post media,
made by real worker processes after a sync, against moto's S3 server: shown on the staged
model page and in the public API; an unchanged re-sync makes nothing again; a replaced icon
gets new previews and a removed banner loses its own."""

from __future__ import annotations

from typing import Any

import pytest

from domain.platform.settings import Settings
from domain.staging import activation
from tests.conftest import Bucket, rows
from tests.processes import Processes
from tests.test_media import derived_objects, image_size, jpeg, png, synced, workers
from tests.web import admin, browser, running_app

pytestmark = pytest.mark.timeout(240)


async def images() -> dict[str, dict[str, Any]]:
    found = await rows("SELECT * FROM whitelabel_model_images ORDER BY s3_key")
    return {r["s3_key"]: r for r in found}


async def test_model_images_get_previews_kept_replaced_and_removed(
    bucket: Bucket, procs: Processes, queue: None
) -> None:
    await bucket.put("Dee/profile/icon.jpg", body=jpeg((800, 800), "red"))
    await bucket.put("Dee/profile/banner.png", body=png((1600, 400)))
    await bucket.put("Dee/profile/side.jpg", body=jpeg((600, 900), "green"))
    await bucket.put("Dee/cover-shot.jpg", body=jpeg((1200, 800), "blue"))
    await bucket.put("Dee/P1/a.jpg", body=jpeg((640, 480), "gray"))
    await workers(procs, bucket, 1)

    run = await synced(procs)
    assert run.status == "succeeded", run.error
    found = await images()
    assert {k: r["role"] for k, r in found.items()} == {
        "Dee/cover-shot.jpg": "image",
        "Dee/profile/banner.png": "banner",
        "Dee/profile/icon.jpg": "icon",
        "Dee/profile/side.jpg": "image",
    }
    assert all(r["derived_etag"] == r["etag"] and not r["media_error"] for r in found.values())
    icon, banner = found["Dee/profile/icon.jpg"], found["Dee/profile/banner.png"]
    assert await image_size(bucket, icon["thumb_key"]) == (160, 160)
    assert await image_size(bucket, banner["preview_key"]) == (480, 120)
    objects = await derived_objects(bucket)
    assert len(objects) == 10  # two per image: four of the model's own, one of its post
    assert all(w <= 640 for w, _ in [await image_size(bucket, k) for k in objects])

    # Unchanged: the re-sync makes nothing again.
    await synced(procs)
    assert {k: r["derived_at"] for k, r in (await images()).items()} == {
        k: r["derived_at"] for k, r in found.items()
    }
    assert await derived_objects(bucket) == objects

    # A replaced icon gets new previews; a removed banner's previews go from the bucket.
    await bucket.put("Dee/profile/icon.jpg", body=jpeg((400, 200), "yellow"))
    await bucket.delete("Dee/profile/banner.png")
    run = await synced(procs)
    assert run.status == "succeeded", run.error
    after = await images()
    assert "Dee/profile/banner.png" not in after
    new_icon = after["Dee/profile/icon.jpg"]
    assert new_icon["derived_etag"] == new_icon["etag"] != icon["etag"]
    assert await image_size(bucket, new_icon["thumb_key"]) == (160, 80)
    now_there = await derived_objects(bucket)
    gone = {icon["thumb_key"], icon["preview_key"], banner["thumb_key"], banner["preview_key"]}
    assert not gone & set(now_there), gone & set(now_there)
    assert len(now_there) == 8


async def test_model_page_and_public_api_show_model_image_previews(
    bucket: Bucket,
    procs: Processes,
    queue: None,
    settings: Settings,
    pg_engine: Any,
) -> None:
    await bucket.put("Eve/profile/avatar.jpg", body=jpeg((500, 500), "purple"))
    await bucket.put("Eve/profile/torn.jpg", body=jpeg((500, 500), "red")[:300])
    await bucket.put("Eve/profile/cover.jpg", body=jpeg((1500, 500), "teal"))
    await bucket.put("Eve/headshot.jpg", body=jpeg((700, 700), "orange"))
    await bucket.put("Eve/P1/a.jpg", body=jpeg((640, 480), "gray"))
    await workers(procs, bucket, 1)
    await synced(procs)
    # Added while no worker runs: the page shows a placeholder until its previews exist.
    await procs.stop_all()
    await bucket.put("Eve/profile/later.jpg", body=jpeg((300, 300), "black"))
    await bucket.sync()
    found = await images()
    icon, banner = found["Eve/profile/avatar.jpg"], found["Eve/profile/cover.jpg"]
    headshot = found["Eve/headshot.jpg"]
    assert found["Eve/profile/later.jpg"]["derived_etag"] is None
    assert "truncated" in found["Eve/profile/torn.jpg"]["media_error"].lower()
    await activation.activate(["Eve"])
    await admin()
    async with running_app(settings, bucket, pg_engine, worker=False) as app, browser(app) as b:
        model = (await b.client.get("/api/v1/models/eve")).json()
        assert headshot["preview_key"] in model["preview"]  # the model image is its thumbnail
        assert icon["thumb_key"] in model["iconPreview"]
        assert banner["preview_key"] in model["bannerPreview"]
        assert "avatar.jpg" in model["icon"] and "Signature=" in model["iconPreview"]
        posts = (await b.client.get("/api/v1/models/eve/posts")).json()["data"]
        post_image = (await rows("SELECT preview_key FROM whitelabel_media"))[0]["preview_key"]
        assert post_image in posts[0]["preview"]  # the post's main item, 480 px
        listed = (await b.client.get("/api/v1/models")).json()["data"]
        assert listed[0]["bannerPreview"] == model["bannerPreview"]
        schema = (await b.client.get("/schema/openapi.json")).json()
        fields = schema["components"]["schemas"]["PublicModel"]["properties"]
        assert {"preview", "icon", "iconPreview", "banner", "bannerPreview"} <= set(fields)

        await b.sign_in()
        page = (await b.get("/staged/Eve")).text
        assert banner["preview_key"] in page  # the banner at 480 px, not the original
        assert icon["thumb_key"] in page
        assert headshot["preview_key"] in page  # the model images gallery
        assert 'data-lightbox="model-images"' in page
        assert "/static/media-pending.svg" in page  # later.jpg: a placeholder
        assert "no preview: torn.jpg" in page
        preview = await b.get(f"/production/{model['id']}/preview")
        assert icon["thumb_key"] in preview.text and post_image in preview.text
        listing = (await b.get("/staged")).text
        assert headshot["thumb_key"] in listing  # the list's thumbnail, 160 px
