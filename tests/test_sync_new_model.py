"""A new model is written in one transaction (catalogue/sync_writes.write_change): all of it or
none of it, each media row under its own post, numbered in the order of its keys."""

from __future__ import annotations

from typing import Any

from tests.conftest import Bucket, count, rows

ANNA = [
    "Anna/cover.jpg",
    "Anna/profile/icon.jpg",
    "Anna/Beach/a.jpg",
    "Anna/Beach/b.mp4",
    "Anna/Studio/c.jpg",
    "Anna/Studio/d.jpg",
    "Anna/Trip/e.png",
]


async def anna_rows() -> tuple[int, int, int, int]:
    """(models, posts, media, own images) stored for Anna."""
    (row,) = await rows(
        "SELECT (SELECT COUNT(*) FROM whitelabel_models WHERE folder_name = 'Anna') AS m, "
        "(SELECT COUNT(*) FROM whitelabel_posts p JOIN whitelabel_models m "
        " ON m.id = p.whitelabel_model WHERE m.folder_name = 'Anna') AS p, "
        "(SELECT COUNT(*) FROM whitelabel_media x JOIN whitelabel_posts p ON p.id = "
        " x.whitelabel_post JOIN whitelabel_models m ON m.id = p.whitelabel_model "
        " WHERE m.folder_name = 'Anna') AS x, "
        "(SELECT COUNT(*) FROM whitelabel_model_images WHERE s3_key LIKE 'Anna/%') AS i"
    )
    return row["m"], row["p"], row["x"], row["i"]


async def test_a_new_model_whose_media_cannot_be_stored_keeps_none_of_its_rows(
    database: Any, bucket: Bucket
) -> None:
    """One of Anna's keys is already held by a media row of another model (planted): her
    insert fails on it, and neither her model, her posts nor her own images stay behind."""
    await bucket.put(*ANNA, "Ben/Trip/x.png")
    (zed,) = await rows(
        "INSERT INTO whitelabel_models (folder_name, status) VALUES ('Zed', 'new') RETURNING id"
    )
    (post,) = await rows(
        "INSERT INTO whitelabel_posts (whitelabel_model, folder_name, title, media_cdns) "
        "VALUES ($1, 'P', 'P', '{}') RETURNING id",
        zed["id"],
    )
    await rows(
        "INSERT INTO whitelabel_media (whitelabel_post, s3_key, url, type) "
        "VALUES ($1, 'Anna/Studio/d.jpg', 'u', 'image') RETURNING id",
        post["id"],
    )
    run = await bucket.sync()
    assert run.status != "succeeded"
    assert await anna_rows() == (0, 0, 0, 0)
    assert await count("whitelabel_models") == 2  # Ben stored, Zed kept: nothing deleted
    await rows("DELETE FROM whitelabel_models WHERE folder_name = 'Zed' RETURNING id")
    run = await bucket.sync()
    assert run.status == "succeeded", run.error
    assert await anna_rows() == (1, 3, 5, 2)


async def test_a_new_models_media_sit_under_their_own_posts_numbered_in_key_order(
    database: Any, bucket: Bucket
) -> None:
    keys = [f"Anna/P{p}/{m:02d}.jpg" for p in (3, 1, 2) for m in (9, 1, 5, 3)]
    await bucket.put(*keys)
    run = await bucket.sync()
    assert run.status == "succeeded", run.error
    stored = await rows(
        "SELECT m.s3_key, p.folder_name FROM whitelabel_media m "
        "JOIN whitelabel_posts p ON p.id = m.whitelabel_post ORDER BY m.id"
    )
    assert [r["s3_key"] for r in stored] == sorted(keys)
    assert all(r["s3_key"].split("/")[1] == r["folder_name"] for r in stored)
