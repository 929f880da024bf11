"""Media derivatives made by real worker processes after a sync, against moto's S3 server.

Real files: JPEG and PNG images drawn with Pillow and a one-second H.264 video written with
PyAV; broken ones too (a cut-off JPEG, a truncated MP4, a PNG that claims 100000x100000).
What an admin or a client would notice: previews in the bucket, none wider than 640 px; an
unchanged re-sync makes nothing again; a replaced object's previews change and a removed one's
go away; a broken file shows its error on the model page while the sync succeeds.
"""

from __future__ import annotations

import io
import struct
import zlib
from pathlib import Path
from typing import Any

import av
import pytest
from PIL import Image

from domain.catalogue import jobs as catalogue_jobs
from domain.catalogue import runs
from domain.catalogue.begin import RunRequest, begin
from domain.catalogue.runs import Run
from domain.media import records
from domain.platform import db
from domain.platform.settings import Settings
from domain.staging import activation
from tests.conftest import Bucket, cli_env, rows
from tests.processes import Processes
from tests.web import admin, browser, running_app

pytestmark = pytest.mark.timeout(240)


def jpeg(size: tuple[int, int], color: str, orientation: int | None = None) -> bytes:
    image = Image.new("RGB", size, color)
    image.paste("white", (0, 0, size[0] // 4, size[1] // 4))
    out = io.BytesIO()
    exif = Image.Exif()
    if orientation:
        exif[0x0112] = orientation
    image.save(out, "JPEG", quality=85, exif=exif.tobytes())
    return out.getvalue()


def png(size: tuple[int, int]) -> bytes:
    out = io.BytesIO()
    Image.new("RGBA", size, (20, 120, 220, 128)).save(out, "PNG")
    return out.getvalue()


def mp4(tmp: Path) -> bytes:
    """One second of 24 frames, 320x240, H.264."""
    path = tmp / "clip.mp4"
    with av.open(str(path), "w") as out:
        stream = out.add_stream("libx264", rate=24)
        stream.width, stream.height, stream.pix_fmt = 320, 240, "yuv420p"
        for i in range(24):
            frame = av.VideoFrame.from_image(Image.new("RGB", (320, 240), (i * 10, 90, 160)))
            for packet in stream.encode(frame):
                out.mux(packet)
        for packet in stream.encode():
            out.mux(packet)
    return path.read_bytes()


def bomb() -> bytes:
    """A tiny PNG whose header claims 100000x100000 pixels (10 gigapixels)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
        )

    header = struct.pack(">IIBBBBB", 100_000, 100_000, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(b"\0" * 1000))
        + chunk(b"IEND", b"")
    )


async def workers(procs: Processes, bucket: Bucket, count: int, **extra: str) -> None:
    s3 = bucket.s3.settings
    assert s3.cdn_url
    env = cli_env(s3, DO_SPACES_CDN_URL=s3.cdn_url, WORKER_CONCURRENCY="2", **extra)
    for i in range(count):
        procs.worker(f"W{i + 1}", env)
    await procs.workers_registered(count)


async def synced(procs: Processes, previews: bool = True, **options: Any) -> Run:
    """A whole-bucket sync as "Sync now" queues it; returns once its media work is done."""
    run_id = await begin(
        RunRequest("all", "test"), lambda run: catalogue_jobs.defer_run("sync", run, **options)
    )

    async def ended() -> Run | None:
        run = await runs.get(run_id)
        return run if run and run.status not in runs.ACTIVE else None

    run = await procs.wait_for(ended, f"run #{run_id} to end", 90)
    if not previews:
        return run

    async def media_idle() -> bool:
        waiting = await db.fetchval(
            "SELECT COUNT(*) FROM procrastinate_jobs WHERE task_name = 'derive_media' "
            "AND status IN ('todo', 'doing')"
        )
        return await records.counts() == (0, 0) and waiting == 0

    await procs.wait_for(media_idle, "media jobs to finish", 90)
    return run


async def derived_objects(bucket: Bucket) -> dict[str, Any]:
    """Every object under _derived/: key -> its LastModified."""
    listing = await bucket.s3.client.list_objects_v2(
        Bucket=bucket.s3.settings.bucket, Prefix="_derived/"
    )
    return {o["Key"]: o["LastModified"] for o in listing.get("Contents", [])}


async def image_size(bucket: Bucket, key: str) -> tuple[int, int]:
    got = await bucket.s3.client.get_object(Bucket=bucket.s3.settings.bucket, Key=key)
    async with got["Body"] as body:
        data = await body.read()
    with Image.open(io.BytesIO(data)) as image:
        assert image.format == "WEBP", key
        return image.size


async def media() -> dict[str, dict[str, Any]]:
    found = await rows("SELECT * FROM whitelabel_media ORDER BY s3_key")
    return {r["s3_key"].rsplit("/", 1)[-1]: r for r in found}


async def test_previews_made_once_replaced_and_removed(
    bucket: Bucket, procs: Processes, queue: None, tmp_path: Path
) -> None:
    await bucket.put("Ana/P1/wide.jpg", body=jpeg((1600, 900), "red"))
    await bucket.put("Ana/P1/turned.jpg", body=jpeg((800, 600), "green", orientation=6))
    await bucket.put("Ana/P1/alpha.png", body=png((300, 200)))
    await bucket.put("Ana/P2/clip.mp4", body=mp4(tmp_path))
    await workers(procs, bucket, 2)

    run = await synced(procs)
    assert run.status == "succeeded", run.error
    rows_by_name = await media()
    wide, turned, alpha, clip = (
        rows_by_name[n] for n in ("wide.jpg", "turned.jpg", "alpha.png", "clip.mp4")
    )
    assert all(
        r["derived_etag"] == r["etag"] and not r["media_error"] for r in rows_by_name.values()
    )
    assert (wide["width"], wide["height"]) == (1600, 900)
    assert (turned["width"], turned["height"]) == (600, 800)  # EXIF orientation applied
    assert (clip["width"], clip["height"]) == (320, 240)
    assert clip["duration"] == pytest.approx(1.0, abs=0.1)
    assert clip["poster_key"] and not clip["preview_key"]

    objects = await derived_objects(bucket)
    assert len(objects) == 8  # two per image, a poster and a thumbnail for the video
    sizes = {key: await image_size(bucket, key) for key in objects}
    assert all(w <= 640 for w, _ in sizes.values()), sizes
    assert sizes[wide["preview_key"]] == (480, 270)
    assert sizes[wide["thumb_key"]] == (160, 90)
    assert sizes[turned["preview_key"]] == (480, 640)
    assert sizes[alpha["preview_key"]] == (300, 200)  # never enlarged
    assert sizes[clip["poster_key"]] == (320, 240)

    # Unchanged: the re-sync makes nothing again.
    run = await synced(procs)
    assert run.status == "succeeded", run.error
    assert {n: r["derived_at"] for n, r in (await media()).items()} == {
        n: r["derived_at"] for n, r in rows_by_name.items()
    }
    assert await derived_objects(bucket) == objects

    # Replaced and removed.
    await bucket.put("Ana/P1/wide.jpg", body=jpeg((1000, 1000), "blue"))
    await bucket.delete("Ana/P1/alpha.png")
    run = await synced(procs, allow_mass_delete=True)  # 1 of 4 is above the guard's share
    assert run.status == "succeeded", run.error
    after = await media()
    assert "alpha.png" not in after
    new_wide = after["wide.jpg"]
    assert new_wide["derived_etag"] == new_wide["etag"] != wide["etag"]
    now_there = await derived_objects(bucket)
    assert {new_wide["thumb_key"], new_wide["preview_key"]} <= set(now_there)
    gone = {wide["thumb_key"], wide["preview_key"], alpha["thumb_key"], alpha["preview_key"]}
    assert not gone & set(now_there), gone & set(now_there)
    assert len(now_there) == 6
    assert await image_size(bucket, new_wide["preview_key"]) == (480, 480)
    kept = {turned["thumb_key"], clip["poster_key"]}
    assert all(now_there[k] == objects[k] for k in kept)  # untouched


async def test_pages_and_public_api_show_previews(
    bucket: Bucket,
    procs: Processes,
    queue: None,
    tmp_path: Path,
    settings: Settings,
    pg_engine: Any,
) -> None:
    await bucket.put("Cleo/P1/a.jpg", body=jpeg((1200, 800), "purple"))
    await bucket.put("Cleo/P1/b.mp4", body=mp4(tmp_path))
    await bucket.put("Cleo/P2/later.jpg", body=jpeg((900, 900), "teal"))
    await workers(procs, bucket, 1)
    await synced(procs)
    # A file added and synced while no worker runs: its previews do not exist yet.
    await procs.stop_all()
    await bucket.put("Cleo/P3/pending.jpg", body=jpeg((900, 900), "gray"))
    await bucket.sync()
    found = await media()
    assert found["pending.jpg"]["derived_etag"] is None
    await activation.activate(["Cleo"])
    await admin()
    async with running_app(settings, bucket, pg_engine, worker=False) as app, browser(app) as b:
        posts = (await b.client.get("/api/v1/models/cleo/posts")).json()["data"]
        items = {m["url"].split("?")[0].rsplit("/", 1)[-1]: m for p in posts for m in p["media"]}
        image, video, waiting = items["a.jpg"], items["b.mp4"], items["pending.jpg"]
        assert found["a.jpg"]["preview_key"] in image["preview"]
        assert found["a.jpg"]["thumb_key"] in image["thumbnail"]
        assert "Signature=" in image["preview"] and image["poster"] is None
        assert (image["width"], image["height"]) == (1200, 800)
        assert found["b.mp4"]["poster_key"] in video["poster"] == video["preview"]
        assert video["duration"] == pytest.approx(1.0, abs=0.1)
        assert waiting["preview"] is None and waiting["thumbnail"] is None
        schema = (await b.client.get("/schema/openapi.json")).json()
        fields = schema["components"]["schemas"]["PublicMedia"]["properties"]
        assert {"preview", "thumbnail", "poster", "width", "height", "duration"} <= set(fields)

        await b.sign_in()
        page = (await b.get("/staged/Cleo")).text
        assert found["a.jpg"]["preview_key"] in page  # the gallery shows the 480 px preview
        assert 'poster="' in page and found["b.mp4"]["poster_key"] in page
        assert "/static/media-pending.svg" in page  # pending.jpg: a placeholder, not the original
        listing = (await b.get("/staged")).text
        assert found["a.jpg"]["thumb_key"] in listing  # the model's thumbnail, 160 px


async def test_broken_files_are_recorded_and_skipped(
    bucket: Bucket,
    procs: Processes,
    queue: None,
    tmp_path: Path,
    settings: Settings,
    pg_engine: Any,
) -> None:
    good = jpeg((640, 480), "orange")
    clip = mp4(tmp_path)
    await bucket.put("Bea/P1/good.jpg", body=good)
    await bucket.put("Bea/P1/cut.jpg", body=good[: len(good) // 2])
    await bucket.put("Bea/P1/bomb.png", body=bomb())
    await bucket.put("Bea/P1/cut.mp4", body=clip[: len(clip) // 2])
    await bucket.put("Bea/P1/notes.jpg", body=b"plain text, not an image")
    await workers(procs, bucket, 1)

    run = await synced(procs)
    assert run.status == "succeeded", run.error
    found = await media()
    assert found["good.jpg"]["derived_etag"] == found["good.jpg"]["etag"]
    errors = {n: r["media_error"] for n, r in found.items() if r["media_error"]}
    assert set(errors) == {"cut.jpg", "bomb.png", "cut.mp4", "notes.jpg"}, errors
    assert "truncated" in errors["cut.jpg"]
    assert "decompression bomb" in errors["bomb.png"]
    assert errors["cut.mp4"].startswith("not a readable video")
    assert all(found[n]["media_error_etag"] == found[n]["etag"] for n in errors)
    assert not any(found[n]["thumb_key"] for n in errors)
    assert len(await derived_objects(bucket)) == 2

    # Not tried again while the files stay as they are.
    await synced(procs)
    assert {n: r["derived_at"] for n, r in (await media()).items()} == {
        n: r["derived_at"] for n, r in found.items()
    }

    # The model page names each file without a preview, the reason in its title.
    await admin()
    async with running_app(settings, bucket, pg_engine, worker=False) as app, browser(app) as b:
        await b.sign_in()
        page = (await b.get("/staged/Bea")).text
    for name in errors:
        assert f"no preview: {name}" in page
    assert 'title="not a readable image: image file is truncated' in page


async def test_media_previews_off_makes_none(bucket: Bucket, procs: Processes, queue: None) -> None:
    await bucket.put("Gus/P1/a.jpg", body=jpeg((640, 480), "red"))
    await workers(procs, bucket, 1, MEDIA_PREVIEWS="off")
    run = await synced(procs, previews=False)
    assert run.status == "succeeded", run.error
    row = (await media())["a.jpg"]
    assert row["derived_etag"] is None and not row["media_error"]  # waiting, not failed
    jobs_queued = await db.fetchval(
        "SELECT COUNT(*) FROM procrastinate_jobs WHERE task_name = 'derive_media'"
    )
    assert jobs_queued == 0 and await derived_objects(bucket) == {}
