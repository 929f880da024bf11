"""The media job's rules (domain/media/derive.py), called in the test process.

Real PostgreSQL (rows made by a real in-process sync), moto's S3 server, real JPEGs and a real
H.264 clip, rendered by the real child processes (sandbox.py, shut down after each test). In
this process, so that mutation testing (tests/mutate.py, group `derive`) sees which tests reach
which function: tests/test_media.py reaches derive.py only inside worker processes.
What a user would notice: where previews land and how they are served, which rows say why they
have none, that a changed or deleted object is left for the next sync rather than failed, that
stale previews go, and that S3 trouble is reported in words naming the setting to fix.
"""

from __future__ import annotations

import asyncio
import hashlib
import io
import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import replace
from typing import Any

import pytest
from PIL import Image

from domain.media import derive, records, sandbox
from domain.media.derive import DeriveStats
from domain.platform import db
from domain.platform.demo import CLIP, image_bytes
from domain.platform.s3 import (
    S3BucketMissing,
    S3CredentialsError,
    S3Error,
    S3Service,
    S3Unreachable,
)
from tests.conftest import Bucket, bounded, rows
from tests.fault_proxy import FaultProxy, Rule

pytestmark = pytest.mark.timeout(90)
WAIT_S = 60.0  # one derive run over a few small files, renders included


@pytest.fixture
async def media(database: Any, bucket: Bucket) -> AsyncIterator[Bucket]:
    """A clean database and bucket; the render children stopped afterwards."""
    try:
        yield bucket
    finally:
        await bounded(sandbox.shutdown(), "stopping the render children")


async def derived(s3: S3Service, what: str, budget_s: float = 30.0) -> DeriveStats:
    """derive.run, bounded."""
    try:
        return await asyncio.wait_for(derive.run(s3, budget_s=budget_s), WAIT_S)
    except TimeoutError:
        raise AssertionError(f"derive.run ({what}) did not end within {WAIT_S:.0f} s") from None


async def row(name: str) -> dict[str, Any]:
    found = await rows("SELECT * FROM whitelabel_media WHERE s3_key LIKE $1", f"%/{name}")
    assert len(found) == 1, (name, found)
    return found[0]


async def objects(bucket: Bucket, prefix: str = "_derived/") -> set[str]:
    found: set[str] = set()
    paginator = bucket.s3.client.get_paginator("list_objects_v2")
    async for page in paginator.paginate(Bucket=bucket.s3.settings.bucket, Prefix=prefix):
        found |= {o["Key"] for o in page.get("Contents", [])}
    return found


def expected_prefix(key: str, etag: str) -> str:
    digest = hashlib.sha256(key.encode()).hexdigest()[:32]
    return f"_derived/{digest}/{re.sub('[^A-Za-z0-9-]', '', etag) or 'none'}/"


@asynccontextmanager
async def failing_gets(bucket: Bucket, status: int, code: str) -> AsyncIterator[S3Service]:
    """An S3 client (one attempt) whose every GET answers `status` with `code`, through a fault
    proxy in front of moto."""
    proxy = await FaultProxy(bucket.s3.settings.endpoint).start()
    proxy.rules = [Rule(lambda method, target: method == "GET", status, code)]
    try:
        through = replace(bucket.s3.settings, endpoint=proxy.endpoint)
        async with S3Service(through, max_attempts=1, timeout=5) as s3:
            yield s3
    finally:
        await bounded(proxy.stop(), "stopping the fault proxy")


def jpeg(label: str, hue: float, size: tuple[int, int] = (480, 600)) -> bytes:
    return image_bytes(label, hue, size)


async def synced(bucket: Bucket, **options: Any) -> None:
    run = await asyncio.wait_for(bucket.sync(**options), WAIT_S)
    assert run.status == "succeeded", run.error


# -- where derivatives go and how they are served ------------------------------------------------


def test_derived_prefix_hashes_the_key_and_keeps_only_safe_etag_characters() -> None:
    digest = hashlib.sha256(b"Ana/P1/a b.jpg").hexdigest()[:32]
    assert derive.derived_prefix("Ana/P1/a b.jpg", '"9f/x_Y.z-3"') == f"_derived/{digest}/9fxYz-3/"
    assert derive.derived_prefix("Ana/P1/a b.jpg", "") == f"_derived/{digest}/none/"
    assert derive.derived_prefix("Ana/P1/a b.jpg", '"_"') == f"_derived/{digest}/none/"
    assert derive.derived_prefix("Ana/P1/x.jpg", "e") != derive.derived_prefix("Ana/P1/y.jpg", "e")


async def test_image_previews_are_immutable_webp_under_derived_hash_etag_as_thumb_and_preview(
    media: Bucket,
) -> None:
    await media.put("Ana/P1/wide.jpg", body=jpeg("wide", 0.1, (1200, 600)))
    await synced(media)
    stats = await derived(media.s3, "one image")
    assert (stats.derived, stats.failed, stats.skipped, stats.deleted, stats.more) == (
        1, 0, 0, 0, False,
    )  # fmt: skip
    assert str(stats) == "1 derived, 0 failed, 0 skipped, 0 stale derivative(s) deleted"
    got = await row("wide.jpg")
    prefix = expected_prefix(got["s3_key"], got["etag"])
    assert got["thumb_key"] == f"{prefix}w160.webp"
    assert got["preview_key"] == f"{prefix}w480.webp"
    assert got["poster_key"] is None
    assert (got["width"], got["height"], got["duration"]) == (1200, 600, None)
    assert got["derived_etag"] == got["etag"] and got["media_error"] is None
    assert await objects(media) == {got["thumb_key"], got["preview_key"]}
    for key, width in ((got["thumb_key"], 160), (got["preview_key"], 480)):
        head = await media.s3.client.get_object(Bucket=media.s3.settings.bucket, Key=key)
        async with head["Body"] as body:
            data = await body.read()
        assert head["ContentType"] == "image/webp", key
        assert head["CacheControl"] == "public, max-age=31536000, immutable", key
        with Image.open(io.BytesIO(data)) as image:
            assert (image.format, image.width) == ("WEBP", width)
    assert await records.counts() == (0, 0)
    # Nothing waits now: a second run makes nothing.
    again = await derived(media.s3, "nothing waiting")
    assert str(again) == "0 derived, 0 failed, 0 skipped, 0 stale derivative(s) deleted"


async def test_video_gets_a_poster_and_a_thumb_but_no_preview_and_its_duration(
    media: Bucket,
) -> None:
    await media.put("Ana/P2/clip.mp4", body=CLIP.read_bytes())
    await synced(media)
    stats = await derived(media.s3, "one video")
    assert (stats.derived, stats.failed) == (1, 0), str(stats)
    got = await row("clip.mp4")
    prefix = expected_prefix(got["s3_key"], got["etag"])
    assert got["poster_key"] == f"{prefix}poster.webp"
    assert got["thumb_key"] == f"{prefix}w160.webp"
    assert got["preview_key"] is None
    assert got["duration"] and got["duration"] > 0
    assert await objects(media) == {got["poster_key"], got["thumb_key"]}


async def test_an_object_without_etag_is_fetched_unconditionally_under_none(
    media: Bucket,
) -> None:
    await media.put("Ana/P1/a.jpg", body=jpeg("a", 0.2))
    await synced(media)
    await db.fetch("UPDATE whitelabel_media SET etag = ''")
    stats = await derived(media.s3, "an empty ETag")
    assert (stats.derived, stats.skipped) == (1, 0), str(stats)
    got = await row("a.jpg")
    assert got["preview_key"] == f"{expected_prefix(got['s3_key'], '')}w480.webp"
    assert "/none/" in got["preview_key"]


# -- too large -----------------------------------------------------------------------------------


async def test_image_listed_over_200_mb_fails_with_its_size_without_being_downloaded(
    media: Bucket,
) -> None:
    await media.put("Ana/P1/huge.jpg", body=jpeg("huge", 0.3))
    await synced(media)
    await db.fetch("UPDATE whitelabel_media SET size = $1::bigint", 300 * 2**20 + 700 * 2**10)
    await media.delete("Ana/P1/huge.jpg")  # a download would find it gone and skip it
    stats = await derived(media.s3, "a listed-too-large image")
    assert (stats.failed, stats.skipped, stats.derived) == (1, 0, 0), str(stats)
    got = await row("huge.jpg")
    assert got["media_error"] == "the file is larger than 200 MB (301 MB or more)."  # rounded
    assert got["media_error_etag"] == got["etag"]
    assert await records.counts() == (0, 0)  # failed on this ETag: not tried again


async def test_video_listed_over_4_gb_fails_with_its_size_in_thousands_separated_mb(
    media: Bucket,
) -> None:
    await media.put("Ana/P2/long.mp4", body=CLIP.read_bytes())
    await synced(media)
    await db.fetch("UPDATE whitelabel_media SET size = $1::bigint", 5 * 2**30)
    await media.delete("Ana/P2/long.mp4")
    stats = await derived(media.s3, "a listed-too-large video")
    assert (stats.failed, stats.skipped) == (1, 0), str(stats)
    got = await row("long.mp4")
    assert got["media_error"] == "the file is larger than 4,096 MB (5,120 MB or more)."


async def test_video_of_300_mb_is_under_its_4_gb_cap_and_an_image_of_exactly_200_mb_is_allowed(
    media: Bucket,
) -> None:
    await media.put("Ana/P2/clip.mp4", body=CLIP.read_bytes())
    await media.put("Ana/P1/edge.jpg", body=jpeg("edge", 0.4))
    await synced(media)
    await db.fetch(
        "UPDATE whitelabel_media SET size = "
        "CASE WHEN type = 'video' THEN $1::bigint ELSE $2::bigint END",
        300 * 2**20,
        200 * 2**20,
    )
    stats = await derived(media.s3, "within the caps")
    assert (stats.derived, stats.failed) == (2, 0), str(stats)
    assert not (await row("clip.mp4"))["media_error"]
    assert not (await row("edge.jpg"))["media_error"]


async def test_body_larger_than_the_cap_is_cut_off_even_when_the_listing_said_small(
    media: Bucket, monkeypatch: pytest.MonkeyPatch
) -> None:
    big = jpeg("liar", 0.5, (1600, 1600)) + b"\0" * (3 * 2**20)  # trailing bytes: still a JPEG
    await media.put("Ana/P1/liar.jpg", body=big)
    await synced(media)
    await db.fetch("UPDATE whitelabel_media SET size = 1000")  # the listing lied
    monkeypatch.setitem(derive.MAX_BYTES, "image", 2**20)
    stats = await derived(media.s3, "a body over the cap")
    assert (stats.failed, stats.derived) == (1, 0), str(stats)
    error = (await row("liar.jpg"))["media_error"]
    assert re.fullmatch(r"the file is larger than 1 MB \([1-4] MB or more\)\.", error), error
    assert await objects(media) == set()


async def test_body_of_exactly_the_cap_is_read_whole_and_previewed(
    media: Bucket, monkeypatch: pytest.MonkeyPatch
) -> None:
    body = jpeg("exact", 0.6) + b"\0" * (2 * 2**20 + 7)  # more than one read of CHUNK
    await media.put("Ana/P1/exact.jpg", body=body)
    await synced(media)
    monkeypatch.setitem(derive.MAX_BYTES, "image", len(body))
    stats = await derived(media.s3, "a body of exactly the cap")
    assert (stats.derived, stats.failed) == (1, 0), str(stats)
    assert (await row("exact.jpg"))["media_error"] is None


# -- changed since the sync: skipped, not failed -------------------------------------------------


async def test_object_deleted_after_the_sync_is_skipped_and_still_waits(media: Bucket) -> None:
    await media.put("Ana/P1/gone.jpg", body=jpeg("gone", 0.7))
    await synced(media)
    await media.delete("Ana/P1/gone.jpg")
    stats = await derived(media.s3, "a deleted object")
    assert (stats.skipped, stats.failed, stats.derived) == (1, 0, 0), str(stats)
    got = await row("gone.jpg")
    assert got["media_error"] is None and got["derived_etag"] is None
    assert await objects(media) == set()


async def test_object_replaced_after_the_sync_is_skipped_by_its_etag_precondition(
    media: Bucket,
) -> None:
    await media.put("Ana/P1/swap.jpg", body=jpeg("first", 0.8))
    await synced(media)
    await media.put("Ana/P1/swap.jpg", body=jpeg("second", 0.9))
    stats = await derived(media.s3, "a replaced object")
    assert (stats.skipped, stats.failed, stats.derived) == (1, 0, 0), str(stats)
    got = await row("swap.jpg")
    assert got["media_error"] is None and got["derived_etag"] is None
    assert await objects(media) == set()
    # The next sync sees the new version, which then previews.
    await synced(media)
    stats = await derived(media.s3, "after the next sync")
    assert stats.derived == 1, str(stats)


@pytest.mark.parametrize(("status", "code"), [(404, "404"), (412, "412")])
async def test_bare_404_or_412_status_codes_count_as_changed_and_are_skipped(
    media: Bucket, status: int, code: str
) -> None:
    await media.put("Ana/P1/odd.jpg", body=jpeg("odd", 0.15))
    await synced(media)
    async with failing_gets(media, status, code) as s3:
        stats = await derived(s3, f"a bare {code}")
    assert (stats.skipped, stats.failed) == (1, 0), str(stats)


async def test_row_changed_while_rendering_is_skipped_and_its_new_previews_deleted(
    media: Bucket,
) -> None:
    await media.put("Ana/P1/race.jpg", body=jpeg("race", 0.25))
    await synced(media)
    [item] = await records.claim(derive.BATCH)
    await db.fetch("UPDATE whitelabel_media SET etag = 'newer'")  # a sync saw a change
    stats = DeriveStats(skipped=3)  # counted onto what the run saw before
    await asyncio.wait_for(derive.derive_one(media.s3, item, stats), WAIT_S)
    assert (stats.skipped, stats.derived, stats.failed) == (4, 0, 0), str(stats)
    assert await objects(media) == set()  # what it made belongs to nobody
    assert (await row("race.jpg"))["thumb_key"] is None


# -- corrupt files and replaced previews ---------------------------------------------------------


async def test_corrupt_replacement_fails_with_its_reason_and_the_old_previews_are_deleted(
    media: Bucket,
) -> None:
    good = jpeg("good", 0.35)
    await media.put("Ana/P1/photo.jpg", body=good)
    await synced(media)
    assert (await derived(media.s3, "the good version")).derived == 1
    before = await row("photo.jpg")
    old = {before["thumb_key"], before["preview_key"]}
    assert await objects(media) == old

    await media.put("Ana/P1/photo.jpg", body=good[: len(good) // 2])
    await synced(media)
    stats = await derived(media.s3, "the cut-off version")
    assert (stats.failed, stats.deleted, stats.derived, stats.skipped) == (1, 2, 0, 0), str(stats)
    assert str(stats) == "0 derived, 1 failed, 0 skipped, 2 stale derivative(s) deleted"
    after = await row("photo.jpg")
    assert after["media_error"].startswith("not a readable image"), after["media_error"]
    assert "truncated" in after["media_error"]
    assert after["media_error_etag"] == after["etag"] != before["etag"]
    assert after["thumb_key"] is None and after["preview_key"] is None
    assert await objects(media) == set()


async def test_corrupt_file_whose_row_changed_meanwhile_keeps_the_rows_previews(
    media: Bucket,
) -> None:
    good = jpeg("kept", 0.45)
    await media.put("Ana/P1/kept.jpg", body=good)
    await synced(media)
    await derived(media.s3, "the good version")
    old = await objects(media)
    assert len(old) == 2
    await media.put("Ana/P1/kept.jpg", body=b"not an image at all")
    await synced(media)
    [item] = await records.claim(derive.BATCH)
    await db.fetch("UPDATE whitelabel_media SET etag = 'newer'")
    stats = DeriveStats(failed=3, deleted=5)
    await asyncio.wait_for(derive.derive_one(media.s3, item, stats), WAIT_S)
    assert (stats.failed, stats.deleted) == (4, 5), str(stats)
    assert await objects(media) == old
    assert (await row("kept.jpg"))["media_error"] is None


async def test_good_replacement_gets_new_previews_and_the_old_ones_are_deleted(
    media: Bucket,
) -> None:
    await media.put("Ana/P1/swap.jpg", body=jpeg("v1", 0.55))
    await synced(media)
    await derived(media.s3, "version 1")
    old = await objects(media)
    await media.put("Ana/P1/swap.jpg", body=jpeg("v2", 0.65, (600, 600)))
    await synced(media)
    stats = await derived(media.s3, "version 2")
    assert (stats.derived, stats.deleted) == (1, 2), str(stats)
    got = await row("swap.jpg")
    assert await objects(media) == {got["thumb_key"], got["preview_key"]}
    assert not old & await objects(media)
    assert (got["width"], got["height"]) == (600, 600)


async def test_rederiving_the_same_version_keeps_its_previews(media: Bucket) -> None:
    await media.put("Ana/P1/same.jpg", body=jpeg("same", 0.75))
    await synced(media)
    await derived(media.s3, "the first time")
    made = await objects(media)
    await db.fetch("UPDATE whitelabel_media SET derived_etag = NULL")  # asked to redo it
    stats = await derived(media.s3, "the same ETag again")
    assert (stats.derived, stats.deleted) == (1, 0), str(stats)
    assert await objects(media) == made
    got = await row("same.jpg")
    assert {got["thumb_key"], got["preview_key"]} == made


# -- batches, budget, trash ----------------------------------------------------------------------


async def test_zero_budget_stops_after_one_batch_of_four_and_says_more(media: Bucket) -> None:
    for i in range(derive.BATCH + 1):
        await media.put(f"Ana/P1/{i}.jpg", body=jpeg(str(i), i / 10, (200, 200)))
    await synced(media)
    stats = await derived(media.s3, "a zero budget", budget_s=0)
    assert (stats.derived, stats.more) == (4, True), str(stats)
    assert await records.counts() == (1, 0)
    rest = await derived(media.s3, "the rest")
    assert (rest.derived, rest.more) == (1, False), str(rest)


async def test_default_budget_derives_more_than_one_batch_in_one_run(media: Bucket) -> None:
    for i in range(derive.BATCH + 2):
        await media.put(f"Ana/P1/{i}.jpg", body=jpeg(str(i), i / 10, (200, 200)))
    await synced(media)
    stats = await derive.run(media.s3)  # the default budget
    assert (stats.derived, stats.more) == (6, False), str(stats)
    assert await records.counts() == (0, 0)


async def test_removed_objects_previews_are_deleted_from_the_trash_by_the_next_run(
    media: Bucket,
) -> None:
    await media.put("Ana/P1/a.jpg", body=jpeg("a", 0.1))
    await media.put("Ana/P1/b.jpg", body=jpeg("b", 0.2))
    await media.put("Ana/P2/c.jpg", body=jpeg("c", 0.3))
    await synced(media)
    await derived(media.s3, "three images")
    assert len(await objects(media)) == 6
    await media.delete("Ana/P1/a.jpg", "Ana/P1/b.jpg")
    await synced(media, allow_mass_delete=True)
    assert await records.counts() == (0, 4)
    stats = await derived(media.s3, "emptying the trash")
    assert (stats.deleted, stats.derived) == (4, 0), str(stats)
    c = await row("c.jpg")
    assert await objects(media) == {c["thumb_key"], c["preview_key"]}
    assert await records.counts() == (0, 0)


async def test_empty_trash_takes_more_than_one_thousand_keys_and_counts_them_all(
    media: Bucket,
) -> None:
    keys = [f"_derived/x/none/{i:04d}.webp" for i in range(1500)]
    await db.fetch(
        "INSERT INTO media_derived_trash (source_key, etag, s3_key) "
        "SELECT 'Ana/P1/gone.jpg', 'e', k FROM unnest($1::text[]) k",
        keys,
    )
    present = [keys[0], keys[999], keys[1000], keys[1499]]
    await media.put(*present, body=b"webp")
    assert await asyncio.wait_for(derive.empty_trash(media.s3), WAIT_S) == 1500
    assert await objects(media) == set()
    assert await records.counts() == (0, 0)
    assert await derive.empty_trash(media.s3) == 0


async def test_delete_keys_deletes_over_a_thousand_in_chunks_and_returns_the_count(
    media: Bucket,
) -> None:
    keys = [f"_derived/y/none/{i:04d}.webp" for i in range(2001)]
    present = [keys[0], keys[999], keys[1000], keys[1999], keys[2000]]
    await media.put(*present, body=b"webp")
    await media.put("_derived/y/none/kept.webp", body=b"webp")
    sent: list[int] = []  # keys per DeleteObjects request: S3 refuses more than 1,000

    def count(params: dict[str, Any], **_: Any) -> None:
        sent.append(len(params["Delete"]["Objects"]))

    events = media.s3.client.meta.events
    events.register("provide-client-params.s3.DeleteObjects", count)
    try:
        assert await asyncio.wait_for(derive.delete_keys(media.s3, keys), WAIT_S) == 2001
    finally:
        events.unregister("provide-client-params.s3.DeleteObjects", count)
    assert sent == [1000, 1000, 1]
    assert await objects(media) == {"_derived/y/none/kept.webp"}
    assert await derive.delete_keys(media.s3, []) == 0


def test_stats_start_at_zero_and_read_as_a_sentence() -> None:
    stats = DeriveStats()
    assert (stats.derived, stats.failed, stats.skipped, stats.deleted, stats.more) == (
        0, 0, 0, 0, False,
    )  # fmt: skip
    assert str(stats) == "0 derived, 0 failed, 0 skipped, 0 stale derivative(s) deleted"
    assert str(DeriveStats(1, 2, 3, 4, True)) == (
        "1 derived, 2 failed, 3 skipped, 4 stale derivative(s) deleted"
    )


# -- S3 trouble is explained ---------------------------------------------------------------------


async def missing_bucket(bucket: Bucket) -> AsyncIterator[S3Service]:
    settings = replace(bucket.s3.settings, bucket=f"{bucket.s3.settings.bucket}-missing")
    async with S3Service(settings, max_attempts=1, timeout=5) as s3:
        yield s3


async def test_download_from_a_bucket_that_does_not_exist_raises_the_explained_error(
    media: Bucket,
) -> None:
    await media.put("Ana/P1/a.jpg", body=jpeg("a", 0.5))
    await synced(media)
    async for s3 in missing_bucket(media):
        with pytest.raises(S3BucketMissing, match="-missing' does not exist at .*DO_SPACES_BUCKET"):
            await derived(s3, "a missing bucket")


async def test_put_and_delete_in_a_bucket_that_does_not_exist_raise_the_explained_error(
    media: Bucket,
) -> None:
    async for s3 in missing_bucket(media):
        with pytest.raises(S3BucketMissing, match="does not exist"):
            await derive._put(s3, "_derived/x/none/w160.webp", b"data")
        with pytest.raises(S3BucketMissing, match="does not exist"):
            await derive.delete_keys(s3, ["_derived/x/none/w160.webp"])


@pytest.mark.parametrize(
    ("status", "code", "error"),
    [(500, "InternalError", S3Error), (403, "AccessDenied", S3CredentialsError)],
)
async def test_other_s3_errors_on_download_are_raised_explained_not_skipped(
    media: Bucket, status: int, code: str, error: type[Exception]
) -> None:
    await media.put("Ana/P1/a.jpg", body=jpeg("a", 0.5))
    await synced(media)
    async with failing_gets(media, status, code) as s3:
        with pytest.raises(error, match=code):
            await derived(s3, f"an S3 {code}")


async def test_unreachable_endpoint_on_download_raises_the_explained_error(
    media: Bucket,
) -> None:
    await media.put("Ana/P1/a.jpg", body=jpeg("a", 0.5))
    await synced(media)
    [item] = await records.claim(derive.BATCH)
    settings = replace(media.s3.settings, endpoint="http://127.0.0.1:9")  # discard: refused
    async with S3Service(settings, max_attempts=1, timeout=2) as s3:
        with pytest.raises(S3Unreachable, match="unreachable"):
            await derive.derive_one(s3, item, DeriveStats())


async def test_model_cover_replaced_after_the_sync_previews_after_the_next_sync(
    media: Bucket,
) -> None:
    await media.put("Ana/cover.jpg", body=jpeg("cover 1", 0.05))
    await media.put("Ana/P1/a.jpg", body=jpeg("a", 0.5))
    await synced(media)
    assert await records.counts() == (2, 0)
    await media.put("Ana/cover.jpg", body=jpeg("cover 2", 0.95))
    stats = await derived(media.s3, "a replaced cover")
    assert (stats.derived, stats.skipped) == (1, 1), str(stats)
    await synced(media)
    stats = await derived(media.s3, "after the next sync")
    assert (stats.derived, stats.skipped) == (1, 0), str(stats)
    [cover] = await rows("SELECT * FROM whitelabel_model_images")
    assert cover["derived_etag"] == cover["etag"]
    assert cover["preview_key"].startswith(expected_prefix("Ana/cover.jpg", cover["etag"]))


async def test_one_runs_counts_add_up_over_trash_stale_previews_failures_and_skips(
    media: Bucket, caplog: pytest.LogCaptureFixture
) -> None:
    """Two of each outcome in one run, so every count is a sum, not the last event's."""
    for name in ("bad1", "bad2", "removed", "ok1", "ok2"):
        await media.put(f"Ana/P1/{name}.jpg", body=jpeg(name, 0.3))
    await synced(media)
    assert (await derived(media.s3, "the first versions")).derived == 5
    for name in ("bad1", "bad2"):
        await media.put(f"Ana/P1/{name}.jpg", body=b"not an image: " + name.encode())
    await media.put("Ana/P1/ok1.jpg", body=jpeg("ok1 again", 0.9))  # its old previews go
    await media.delete("Ana/P1/removed.jpg")
    await synced(media, allow_mass_delete=True)
    for name in ("gone1", "gone2"):  # listed by a sync, then deleted before the job ran
        await media.put(f"Ana/P2/{name}.jpg", body=jpeg(name, 0.6))
    await synced(media)
    await media.delete("Ana/P2/gone1.jpg", "Ana/P2/gone2.jpg")
    caplog.set_level("INFO", "creatorflix.media")
    stats = await derived(media.s3, "mixed outcomes")
    # 2 in the trash (removed.jpg) + 2 stale previews of each replacement (bad1, bad2, ok1)
    assert (stats.deleted, stats.failed, stats.skipped, stats.derived) == (8, 2, 2, 1), str(stats)
    said = [r.getMessage() for r in caplog.records if r.name == "creatorflix.media"]
    assert any(m.startswith("no preview for Ana/P1/bad1.jpg: not a readable image") for m in said)
    ok = [await row(f"{n}.jpg") for n in ("ok1", "ok2")]
    assert await objects(media) == {r[k] for r in ok for k in ("thumb_key", "preview_key")}
