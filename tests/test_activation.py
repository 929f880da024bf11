"""Activation into production, the read queries, and the main flow on SQLite too."""

from __future__ import annotations

from typing import Any
from urllib.parse import unquote, urlsplit

import httpx
import pytest

from domain.platform.paging import BadQuery
from domain.production import public
from domain.staging import overview, queries
from domain.staging.activation import UnknownModels, activate, activate_all_new, slugify
from tests.conftest import Bucket, count, rows

KEYS = [
    "Anna Lee/cover.jpg",
    "Anna Lee/profile/icon.jpg",
    "Anna Lee/Beach/a.jpg",
    "Anna Lee/Beach/b.mp4",
    "Anna Lee/Beach/c.mp4",
    "Anna Lee/Studio/x.jpg",
    "Anna Lee/Studio/y.jpg",
    "Ben/Trip/t.png",
    "Ben/Trip2/u.png",
]


async def production() -> dict[str, Any]:
    out = {}
    for m in await rows("SELECT * FROM models ORDER BY name"):
        posts = await rows(
            "SELECT source_key, title, content_key, type, is_published FROM "
            "posts WHERE model = $1 ORDER BY source_key",
            m["id"],
        )
        out[m["name"]] = {
            "slug": m["slug"],
            "icon": m["icon_key"],
            "banner": m["banner_key"],
            "published": m["is_published"],
            "post_count": m["post_count"],
            "posts": {p["source_key"]: p for p in posts},
        }
    return out


async def synced(bucket: Bucket) -> None:
    await bucket.put(*KEYS)
    assert (await bucket.sync()).status == "succeeded"


async def test_activate_creates_production_rows_with_keys(database: Any, bucket: Bucket) -> None:
    await synced(bucket)
    result = await activate(["Anna Lee"])
    assert (result.processed, result.models_created, result.posts_created) == (1, 1, 2)
    anna = (await production())["Anna Lee"]
    assert anna["slug"] == "anna-lee"
    assert anna["icon"] == "Anna Lee/profile/icon.jpg"
    assert anna["banner"] == "Anna Lee/cover.jpg"  # no banner: the thumbnail stands in
    beach = anna["posts"]["Anna Lee/Beach"]
    assert (beach["content_key"], beach["type"], beach["title"]) == (
        "Anna Lee/Beach/b.mp4",
        "video",
        "Beach",
    )  # first video in key order
    assert anna["posts"]["Anna Lee/Studio"]["content_key"] == "Anna Lee/Studio/x.jpg"
    status = await rows("SELECT folder_name, status FROM whitelabel_models ORDER BY folder_name")
    assert [(r["folder_name"], r["status"]) for r in status] == [
        ("Anna Lee", "active"),
        ("Ben", "new"),
    ]


async def test_activating_twice_changes_nothing(database: Any, bucket: Bucket) -> None:
    await synced(bucket)
    await activate_all_new()
    before = await production()
    versions = await rows("SELECT id, xmin::text AS v FROM posts ORDER BY id")
    model_versions = await rows("SELECT id, xmin::text AS v, updated_at FROM models ORDER BY id")
    again = await activate(["Anna Lee", "Ben"])
    assert (again.models_created, again.posts_created, again.posts_updated) == (0, 0, 0)
    assert await production() == before
    assert await rows("SELECT id, xmin::text AS v FROM posts ORDER BY id") == versions
    # The production model rows themselves are not rewritten either (any write moves xmin).
    assert (
        await rows("SELECT id, xmin::text AS v, updated_at FROM models ORDER BY id")
        == model_versions
    )
    assert await count("posts") == 4  # defect 7: no duplicates


async def test_a_sync_that_removes_a_post_unpublishes_it_before_any_activation(
    database: Any, bucket: Bucket
) -> None:
    await synced(bucket)
    await activate(["Anna Lee"])
    await bucket.delete("Anna Lee/Studio/x.jpg", "Anna Lee/Studio/y.jpg")
    await bucket.put("Anna Lee/Beach/a0.mp4")  # a new first video
    assert (await bucket.sync(allow_mass_delete=True)).status == "succeeded"
    anna = (await production())["Anna Lee"]
    assert anna["posts"]["Anna Lee/Studio"]["is_published"] is False  # by the sync itself
    assert anna["post_count"] == 1
    missing = await rows("SELECT source_key FROM posts WHERE source_missing_at IS NOT NULL")
    assert [r["source_key"] for r in missing] == ["Anna Lee/Studio"]
    result = await activate(["Anna Lee"])
    assert (result.posts_unpublished, result.posts_updated) == (0, 1)
    anna = (await production())["Anna Lee"]
    assert anna["posts"]["Anna Lee/Studio"]["is_published"] is False
    assert anna["posts"]["Anna Lee/Beach"]["content_key"] == "Anna Lee/Beach/a0.mp4"
    assert anna["post_count"] == 1


async def test_unknown_names_are_refused_before_any_write(database: Any, bucket: Bucket) -> None:
    await synced(bucket)
    with pytest.raises(UnknownModels, match="Nobody"):
        await activate(["Ben", "Nobody"])
    assert await count("models") == 0


def test_slugify() -> None:
    assert slugify("Zoë Ådahl") == "zoe-adahl"
    assert slugify("名前") == "model"


async def test_public_read_side_serves_published_content_with_signed_urls(
    database: Any, bucket: Bucket
) -> None:
    await synced(bucket)
    await activate(["Anna Lee", "Ben"])
    await rows("UPDATE models SET is_published = false WHERE name = 'Ben' RETURNING id")
    page = await public.models(1, bucket.s3.sign)
    assert [m["name"] for m in page["data"]] == ["Anna Lee"]
    assert page["meta"] == {"page": 1, "limit": 20, "count": 1, "next": None}
    posts = await public.model_posts("Anna Lee", 1, bucket.s3.sign)
    assert posts is not None and posts["meta"]["count"] == 2
    content = next(p["content"] for p in posts["data"] if p["title"] == "Beach")
    assert unquote(urlsplit(content).path).endswith("/Anna Lee/Beach/b.mp4")
    async with httpx.AsyncClient() as client:  # the signed URL really fetches the object
        assert (await client.get(content)).content == b"data"
    assert await public.model_posts("Ben", 1, bucket.s3.sign) is None
    with pytest.raises(BadQuery):
        await public.models(0, bucket.s3.sign)


async def test_staged_list_search_filter_sort_and_keyset_pages(
    database: Any, bucket: Bucket
) -> None:
    keys = [f"Model {i:02d}/P{p}/a.jpg" for i in range(30) for p in range(i % 4 + 1)]
    await bucket.put(*keys, "Zoë_x/P/a.jpg")
    await bucket.sync(allow_mass_delete=True)
    sign = bucket.s3.sign
    first = await queries.staged_models(queries.StagedQuery(size=10), sign)
    assert [r.folder_name for r in first.rows][:2] == ["Model 00", "Model 01"]
    assert first.total == 31 and first.prev_cursor is None
    second = await queries.staged_models(
        queries.StagedQuery(size=10, after=first.next_cursor), bucket.s3.sign
    )
    assert second.rows[0].folder_name == "Model 10"
    back = await queries.staged_models(
        queries.StagedQuery(size=10, before=second.prev_cursor), bucket.s3.sign
    )
    assert [r.id for r in back.rows] == [r.id for r in first.rows]
    by_posts = await queries.staged_models(
        queries.StagedQuery(sort="posts", desc=True, size=10), bucket.s3.sign
    )
    assert by_posts.rows[0].post_count == 4
    found = await queries.staged_models(
        queries.StagedQuery(search="_X"), bucket.s3.sign
    )  # LIKE chars literal
    assert [r.folder_name for r in found.rows] == ["Zoë_x"]
    await activate(["Model 03"])
    active = await queries.staged_models(queries.StagedQuery(status="active"), sign)
    assert [r.folder_name for r in active.rows] == ["Model 03"]
    with pytest.raises(BadQuery, match="sort"):
        await queries.staged_models(queries.StagedQuery(sort="password"), sign)
    with pytest.raises(BadQuery, match="cursor"):
        await queries.staged_models(queries.StagedQuery(after="garbage!!"), sign)
    stats = await overview.catalogue_stats()
    assert (stats.staged_models, stats.staged_active, stats.production_models) == (
        31,
        1,
        1,
    )
    top = await overview.top_creators(bucket.s3.sign, limit=3)
    assert [t.post_count for t in top] == [4, 4, 4] and top[0].thumbnail_url
