"""Sync against real PostgreSQL and moto's S3 server: what an operator would see in the tables."""

from __future__ import annotations

import json
from typing import Any

import pytest

from domain.catalogue import sync_writes
from domain.catalogue.keys import media_url
from tests.conftest import Bucket, count, rows

BASE = [
    "Anna/cover.jpg",
    "Anna/profile/icon.jpg",
    "Anna/profile/banner.webp",
    "Anna/Beach/a.jpg",
    "Anna/Beach/b.mp4",
    "Anna/Studio/a.jpg",
    "Ben/Trip/x.png",
    "Ben/Trip/y.mov",
    "README.txt",
    "Anna/Beach/notes.txt",
]


async def staged() -> dict[str, Any]:
    """The staged catalogue as a person reading the tables would describe it."""
    out: dict[str, Any] = {}
    for m in await rows("SELECT * FROM whitelabel_models ORDER BY folder_name"):
        posts = {}
        for p in await rows(
            "SELECT * FROM whitelabel_posts WHERE whitelabel_model = $1 ORDER BY folder_name",
            m["id"],
        ):
            media = await rows(
                "SELECT s3_key, type FROM whitelabel_media WHERE "
                "whitelabel_post = $1 ORDER BY s3_key",
                p["id"],
            )
            cdns = p["media_cdns"]
            posts[p["folder_name"]] = {
                "media": [(r["s3_key"], r["type"]) for r in media],
                "cdns": json.loads(cdns) if isinstance(cdns, str) else cdns,
                "title": p["title"],
            }
        out[m["folder_name"]] = {
            "thumbnail": m["thumbnail_key"],
            "icon": m["icon_key"],
            "banner": m["banner_key"],
            "counts": (m["post_count"], m["image_count"], m["video_count"]),
            "status": m["status"],
            "posts": posts,
        }
    return out


async def media_versions() -> dict[str, str]:
    """Row versions: any write to a media row changes its xmin."""
    return {
        r["s3_key"]: r["v"]
        for r in await rows("SELECT s3_key, xmin::text AS v FROM whitelabel_media")
    }


async def test_first_sync_builds_the_catalogue(database: Any, bucket: Bucket) -> None:
    await bucket.put(*BASE)
    run = await bucket.sync()
    assert run.status == "succeeded", run.error
    assert (run.models_inserted, run.posts_inserted, run.media_inserted) == (2, 3, 5)
    assert run.keys_listed == len(BASE)
    assert run.keys_ignored == 2  # README.txt and notes.txt are counted, never stored
    cat = await staged()
    anna = cat["Anna"]
    assert anna["thumbnail"] == "Anna/cover.jpg"
    assert anna["icon"] == "Anna/profile/icon.jpg"
    assert anna["banner"] == "Anna/profile/banner.webp"
    assert anna["counts"] == (2, 2, 1)
    assert anna["status"] == "new"
    assert anna["posts"]["Beach"]["media"] == [
        ("Anna/Beach/a.jpg", "image"),
        ("Anna/Beach/b.mp4", "video"),
    ]
    assert anna["posts"]["Beach"]["cdns"] == {
        "images": [media_url(bucket.public_base, "Anna/Beach/a.jpg")],
        "videos": [media_url(bucket.public_base, "Anna/Beach/b.mp4")],
    }
    assert anna["posts"]["Beach"]["title"] == "Beach"
    # No model image: the thumbnail is the first post image in key order.
    assert cat["Ben"]["thumbnail"] == "Ben/Trip/x.png"
    assert cat["Ben"]["icon"] is None
    assert await count("whitelabel_media") == 5


async def test_unchanged_resync_writes_nothing(database: Any, bucket: Bucket) -> None:
    await bucket.put(*BASE)
    await bucket.sync()
    before, cat = await media_versions(), await staged()
    run = await bucket.sync()
    assert run.status == "succeeded"
    counters = [
        getattr(run, f"{e}_{c}")
        for e in ("models", "posts", "media")
        for c in ("inserted", "updated", "deleted")
    ]
    assert counters == [0] * 9
    assert await media_versions() == before
    assert await staged() == cat


async def test_added_changed_and_removed_objects(database: Any, bucket: Bucket) -> None:
    await bucket.put(*BASE)
    await bucket.sync()
    before = await media_versions()
    await bucket.put("Anna/Beach/c.jpg")  # added
    await bucket.put("Anna/Studio/a.jpg", body=b"a new version")  # changed
    await bucket.delete("Anna/Beach/a.jpg")  # removed (defect 1: stale media stayed forever)
    run = await bucket.sync()
    assert run.status == "succeeded", run.error
    assert (run.media_inserted, run.media_updated, run.media_deleted) == (1, 1, 1)
    after = await media_versions()
    assert "Anna/Beach/a.jpg" not in after
    assert after["Anna/Beach/b.mp4"] == before["Anna/Beach/b.mp4"]  # untouched row not written
    assert after["Anna/Studio/a.jpg"] != before["Anna/Studio/a.jpg"]
    etag = (
        await rows("SELECT etag, size FROM whitelabel_media WHERE s3_key = $1", "Anna/Studio/a.jpg")
    )[0]
    assert etag["size"] == len(b"a new version")
    beach = (await staged())["Anna"]["posts"]["Beach"]
    assert beach["cdns"]["images"] == [media_url(bucket.public_base, "Anna/Beach/c.jpg")]


async def test_last_media_of_a_post_removed_removes_the_post(database: Any, bucket: Bucket) -> None:
    await bucket.put(*BASE)
    await bucket.sync()
    await bucket.delete("Anna/Studio/a.jpg")
    run = await bucket.sync()
    assert run.status == "succeeded", run.error
    assert (run.posts_deleted, run.media_deleted) == (1, 1)
    anna = (await staged())["Anna"]
    assert list(anna["posts"]) == ["Beach"]
    assert anna["counts"] == (1, 1, 1)


async def test_post_and_model_removed(database: Any, bucket: Bucket) -> None:
    models = [f"M{i:02d}/P/{n}.jpg" for i in range(10) for n in "abc"]
    await bucket.put(*models, "M00/Q/a.jpg", "M00/Q/b.jpg")
    await bucket.sync()
    await bucket.delete("M00/Q/a.jpg", "M00/Q/b.jpg")  # a whole post
    await bucket.delete("M09/P/a.jpg", "M09/P/b.jpg", "M09/P/c.jpg")  # a whole model
    run = await bucket.sync()  # 1 of 10 models, 5 of 32 media: under the 20% guard
    assert run.status == "succeeded", run.error
    assert (run.models_deleted, run.posts_deleted, run.media_deleted) == (1, 2, 5)
    cat = await staged()
    assert "M09" not in cat
    assert list(cat["M00"]["posts"]) == ["P"]


async def test_icon_banner_and_thumbnail_rules(database: Any, bucket: Bucket) -> None:
    await bucket.put(
        "A/profile/avatar.png",
        "A/profile/icon.jpg",  # first in key order wins
        "A/profile/cover.jpg",
        "A/profile/me.jpg",
        "A/z.jpg",
        "A/b.gif",
        "B/Post/v.mp4",
        "B/Post2/i.jpg",  # first post has only a video
        "C/profile/icon.jpg",  # a model with profile media and no posts still exists
        "D/notes.txt",  # only ignored keys: no model
    )
    run = await bucket.sync()
    assert run.status == "succeeded", run.error
    cat = await staged()
    assert cat["A"]["icon"] == "A/profile/avatar.png"
    assert cat["A"]["banner"] == "A/profile/cover.jpg"
    assert cat["A"]["thumbnail"] == "A/b.gif"
    assert cat["B"]["thumbnail"] == "B/Post2/i.jpg"
    assert cat["C"]["counts"] == (0, 0, 0) and cat["C"]["icon"] == "C/profile/icon.jpg"
    assert "D" not in cat


async def test_deep_unicode_and_space_keys(database: Any, bucket: Bucket) -> None:
    keys = [
        "Zoë Ådahl/Été 2024/sub/dir/phöto 1.jpg",
        " Lead Space/Post #1/a+b.jpg",
        "名前/投稿/写真.webp",
        "Zoe\u0308/p/a.jpg",
    ]
    await bucket.put(*keys)
    run = await bucket.sync()
    assert run.status == "succeeded", run.error
    cat = await staged()
    assert set(cat) == {"Zoë Ådahl", " Lead Space", "名前", "Zoe\u0308"}
    deep = cat["Zoë Ådahl"]["posts"]["Été 2024"]
    assert deep["media"] == [("Zoë Ådahl/Été 2024/sub/dir/phöto 1.jpg", "image")]
    assert deep["cdns"]["images"] == [
        f"{bucket.public_base}/Zo%C3%AB%20%C3%85dahl/%C3%89t%C3%A9%202024/sub/dir/"
        "ph%C3%B6to%201.jpg"
    ]
    assert list(cat[" Lead Space"]["posts"]) == ["Post #1"]
    again = await bucket.sync()
    assert again.media_updated == again.media_inserted == 0


async def test_model_with_more_than_1000_keys(database: Any, bucket: Bucket) -> None:
    keys = [f"Big/P{i // 100:02d}/img_{i:04d}.jpg" for i in range(1150)]
    await bucket.put(*keys)
    run = await bucket.sync()
    assert run.status == "succeeded", run.error
    assert run.media_inserted == 1150
    assert (await staged())["Big"]["counts"] == (12, 1150, 0)


async def test_resync_skips_unchanged_models_without_reading_their_rows(
    database: Any, bucket: Bucket
) -> None:
    """A planted etag survives in a model whose listing did not change (its rows were never
    read), while the same plant in a changed model is repaired by its re-diff."""
    await bucket.put(*BASE)
    await bucket.sync()
    planted = "planted-etag"
    await rows(
        "UPDATE whitelabel_media SET etag = $1 WHERE s3_key IN ($2, $3) RETURNING id",
        planted,
        "Anna/Beach/a.jpg",
        "Ben/Trip/x.png",
    )
    await bucket.put("Ben/Trip/z.jpg")  # only Ben's listing changes
    run = await bucket.sync()
    assert run.status == "succeeded", run.error
    assert (run.models_updated, run.media_inserted, run.media_updated) == (1, 1, 1)
    etags = {
        r["s3_key"]: r["etag"]
        for r in await rows(
            "SELECT s3_key, etag FROM whitelabel_media WHERE s3_key IN ($1, $2)",
            "Anna/Beach/a.jpg",
            "Ben/Trip/x.png",
        )
    }
    assert etags["Anna/Beach/a.jpg"] == planted  # Anna was skipped: not even read
    assert etags["Ben/Trip/x.png"] not in (planted, "", None)  # Ben was re-diffed and fixed


async def test_a_model_staged_after_its_part_began_is_diffed_not_failed(
    database: Any, bucket: Bucket, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A part reads its staged models once, when it begins. When another writer (the worker
    the part was taken over from) stages a model after that read, the model's insert meets
    it: the sync diffs against that model instead of failing it."""
    await bucket.put(*BASE)
    await bucket.sync()
    before = await media_versions()
    await bucket.put("Anna/Beach/c.jpg")
    real = sync_writes.known_models_in

    async def read_before_the_other_writer(folders: list[str]) -> Any:
        return {} if len(folders) > 1 else await real(folders)

    monkeypatch.setattr(sync_writes, "known_models_in", read_before_the_other_writer)
    run = await bucket.sync()
    assert run.status == "succeeded", run.error
    assert run.error is None
    assert (run.models_inserted, run.media_inserted, run.media_deleted) == (0, 1, 0)
    assert ("Anna/Beach/c.jpg", "image") in (await staged())["Anna"]["posts"]["Beach"]["media"]
    after = await media_versions()
    assert {k: after[k] for k in before} == before  # every earlier row kept as it was
    assert await count("whitelabel_models") == 2
