"""Media benchmark: previews per second on 12-megapixel JPEGs, a first sync of many images with
their derivatives on 1 worker and on 2, and the workers' peak RSS.

    make bench-media                          # 10,000 images (2 MP each) for the sync phases
    make bench-media ARGS="--images 2000"     # a quicker run

Render phase: `domain.media.render` on generated 12 MP JPEGs in this process, one thread (one
render slot) and two (a worker renders RENDERS=2 at once). Sync phases: moto's S3 server in a
process of its own, its images put straight into its backend; real `python -m app worker`
processes take the sync job, then the media jobs it queues, downloading every original and
uploading its previews over HTTP. Timed from queueing the sync to the last preview stored.
The sync phases use 2 MP images (moto keeps every object in memory). Prints figures; asserts
nothing. Needs DATABASE_URL (tests/run.py --only-db sets one).
"""

from __future__ import annotations

import argparse
import asyncio
import io
import json
import os
import random
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from PIL import Image, ImageDraw

from bench.harness import database_and_queue
from bench.sync_workers import Workers, queued_sync
from domain.media import records, render
from domain.platform import db
from domain.platform.settings import S3Settings, Settings
from harness.processes import PYTHON, announced, spawn_announcing

BUCKET = "creatorflix-media-bench"
MOTO_STARTUP_S = 1800.0  # the bound on moto seeding its bucket and saying it is ready


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m bench.media_bench", description=__doc__)
    p.add_argument("--images", type=int, default=10_000, help="images in the synced bucket")
    p.add_argument("--size", default="1600x1200", help="their size (the sync phases)")
    p.add_argument("--distinct", type=int, default=40, help="distinct images among them")
    p.add_argument("--jpegs", type=int, default=6, help="12 MP JPEGs for the render phase")
    p.add_argument("--rounds", type=int, default=3, help="renders of each 12 MP JPEG")
    p.add_argument("--workers", default="1,2", help="worker counts to compare")
    p.add_argument("--concurrency", type=int, default=4, help="WORKER_CONCURRENCY")
    p.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)  # the moto process
    return p.parse_args(argv)


def say(text: str) -> None:
    print(text, flush=True)


def photo(size: tuple[int, int], seed: int, quality: int = 90) -> bytes:
    """A JPEG with gradients, shapes and grain: closer to a photo's cost than a flat image."""
    rng = random.Random(seed)
    w, h = size
    small = Image.new("RGB", (64, 48))
    small.putdata([(rng.randrange(256), rng.randrange(256), rng.randrange(256))] * (64 * 48))
    draw = ImageDraw.Draw(small)
    for _ in range(12):
        x, y = rng.randrange(64), rng.randrange(48)
        fill = (rng.randrange(256), rng.randrange(256), rng.randrange(256))
        draw.ellipse([x - 10, y - 8, x + 10, y + 8], fill=fill)
    image = small.resize(size, Image.Resampling.BICUBIC)
    grain = Image.effect_noise(size, 24).convert("RGB")
    image = Image.blend(image, grain, 0.18)
    out = io.BytesIO()
    image.save(out, "JPEG", quality=quality)
    return out.getvalue()


def keys(count: int) -> list[str]:
    """Models of 10 posts of 10 images each."""
    return [f"M{i // 100:04d}/P{i // 10 % 10:02d}/img{i % 10:02d}.jpg" for i in range(count)]


def serve(args: argparse.Namespace) -> None:
    """The moto process: seed the bucket through the backend, serve S3, print the endpoint."""
    import logging

    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.s3.models import s3_backends
    from moto.server import ThreadedMotoServer

    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    size = tuple(int(x) for x in args.size.split("x"))
    pool = [photo((size[0], size[1]), seed) for seed in range(args.distinct)]
    backend = s3_backends[DEFAULT_ACCOUNT_ID]["aws"]
    backend.create_bucket(BUCKET, "us-east-1")
    for i, key in enumerate(keys(args.images)):
        backend.put_object(BUCKET, key, pool[i % len(pool)], disable_notification=True)
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    mean = sum(len(b) for b in pool) / len(pool)
    print(json.dumps({"endpoint": f"http://{host}:{port}", "mean_bytes": mean}), flush=True)
    sys.stdin.read()  # until the bench closes our stdin
    server.stop()


def render_phase(args: argparse.Namespace) -> dict[str, float]:
    folder = Path(tempfile.mkdtemp(prefix="bench-media-"))
    paths = []
    for seed in range(args.jpegs):
        path = folder / f"photo{seed}.jpg"
        path.write_bytes(photo((4000, 3000), 1000 + seed))
        paths.append(path)
    mean_mb = sum(p.stat().st_size for p in paths) / len(paths) / 2**20
    say(f"\n-- render: {len(paths)} JPEGs of 4000x3000 (12 MP, {mean_mb:.1f} MB each) --")
    render.render(paths[0], "image")  # warm up
    work = paths * args.rounds
    figures = {}
    for threads in (1, 2):
        start = time.perf_counter()
        with ThreadPoolExecutor(threads) as pool:
            made = list(pool.map(lambda p: render.render(p, "image"), work))
        seconds = time.perf_counter() - start
        widths = [Image.open(io.BytesIO(b)).size[0] for m in made for b in m.files.values()]
        assert max(widths) <= render.MAX_WIDTH
        figures[threads] = len(work) / seconds
        say(
            f"{threads} render thread(s): {figures[threads]:.1f} images/s "
            f"(each: a 480 px and a 160 px WebP), {seconds / len(work) * 1000:.0f} ms per image"
        )
    say(f"2 threads / 1 thread: {figures[2] / figures[1]:.2f}x")
    return {"render_1": figures[1], "render_2": figures[2]}


async def reset() -> None:
    await db.fetch(
        "TRUNCATE whitelabel_media, whitelabel_posts, whitelabel_models, sync_runs, "
        "media_derived_trash, procrastinate_jobs CASCADE"
    )


async def media_done(within: float = 7200) -> None:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        waiting = await db.fetchval(
            "SELECT COUNT(*) FROM procrastinate_jobs WHERE task_name = 'derive_media' "
            "AND status IN ('todo', 'doing')"
        )
        if waiting == 0 and (await records.counts())[0] == 0:
            return
        await asyncio.sleep(0.2)
    raise TimeoutError("media jobs did not finish")


async def delete_derived(settings: S3Settings) -> None:
    from domain.media.derive import delete_keys
    from domain.platform.s3 import S3Service

    async with S3Service(settings, timeout=120) as s3:
        gone: list[str] = []
        async for page in s3.list_pages("_derived/"):
            gone.extend(o.key for o in page)
        await delete_keys(s3, gone)


def worker_env(endpoint: str, concurrency: int, bucket: str = BUCKET) -> dict[str, str]:
    """The environment of a bench's worker processes: the run's database, the bench's bucket."""
    return {
        "DATABASE_URL": os.environ["DATABASE_URL"],
        "DO_SPACES_ENDPOINT": endpoint,
        "DO_SPACES_KEY": "bench",
        "DO_SPACES_SECRET": "bench-secret",
        "DO_SPACES_BUCKET": bucket,
        "WORKER_CONCURRENCY": str(concurrency),
    }


async def sync_phase(args: argparse.Namespace, endpoint: str, count: int) -> dict[str, Any]:
    env = worker_env(endpoint, args.concurrency)
    settings = S3Settings(endpoint, "us-east-1", "bench", "bench-secret", BUCKET)
    await reset()
    await delete_derived(settings)
    log_dir = Path(tempfile.mkdtemp(prefix="bench-media-workers-"))
    async with Workers(count, env, log_dir) as workers:
        workers.reset_peaks()
        start = time.perf_counter()
        run = await queued_sync()
        synced = time.perf_counter() - start
        await media_done()
        total = time.perf_counter() - start
        peaks = workers.peak_rss_mb()
    rows = await db.fetch(
        "SELECT COUNT(*) FILTER (WHERE derived_etag = etag) AS done, "
        "COUNT(*) FILTER (WHERE media_error IS NOT NULL) AS failed FROM whitelabel_media"
    )
    derived = int(rows[0]["done"])
    rate = derived / (total - synced) if total > synced else float("nan")
    say(
        f"{count} worker(s): sync {run.status} in {synced:.1f} s, previews for {derived:,} "
        f"images ({rows[0]['failed']} failed) {total - synced:.1f} s later: {total:.1f} s in all; "
        f"{rate:.1f} images/s ({rate / count:.1f} per worker); peak RSS "
        + ", ".join(f"{p:,.0f} MB" for p in peaks)
        + f" (logs: {log_dir})"
    )
    return {"sync_s": synced, "total_s": total, "rate": rate, "peak_mb": max(peaks)}


async def main(args: argparse.Namespace) -> int:
    settings = Settings.from_env()
    if not settings.database_url:
        say("DATABASE_URL is not set: run `make bench-media` (tests/run.py --only-db sets it).")
        return 2
    say(
        f"media benchmark: {os.cpu_count()} CPUs, load average "
        + " ".join(f"{x:.2f}" for x in os.getloadavg())
    )
    figures: dict[str, Any] = render_phase(args)
    say(f"\n-- first sync of {args.images:,} images ({args.size}) with derivatives --")
    serve = [PYTHON, "-m", "bench.media_bench", "--serve", *sys.argv[1:]]
    moto = spawn_announcing(serve, None, stdin=True)
    assert moto.stdin is not None
    info = await asyncio.to_thread(announced, moto, MOTO_STARTUP_S, "moto's server, seeded")
    say(f"moto seeded: {args.images:,} objects, {info['mean_bytes'] / 1024:,.0f} KB on average")
    try:
        async with database_and_queue(settings.database_url):
            try:
                for count in (int(n) for n in args.workers.split(",")):
                    figures[f"workers_{count}"] = await sync_phase(args, info["endpoint"], count)
            finally:
                await reset()
    finally:
        moto.stdin.close()
        moto.wait(30)
    one, two = figures.get("workers_1"), figures.get("workers_2")
    if one and two:
        say(
            f"\n2 workers / 1 worker: {two['rate'] / one['rate']:.2f}x the previews per second, "
            f"{one['total_s'] / two['total_s']:.2f}x faster from sync to the last preview"
        )
    say(json.dumps(figures, default=float))
    return 0


if __name__ == "__main__":
    arguments = parse_args()
    if arguments.serve:
        serve(arguments)
    else:
        sys.exit(asyncio.run(main(arguments)))
