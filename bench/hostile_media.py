"""Hostile media through real workers: each worker's peak RSS, each item's recorded outcome.

    python tests/run.py --only-db -- .venv/bin/python -m bench.hostile_media [--workers 2]

The corpus (bench/hostile_corpus.py) plus one ordinary photo goes into a moto S3 server (a
process of its own, seeded through its backend); real `python -m app worker` processes take
the sync job and the media jobs it queues. Prints, per worker, its own peak RSS (VmHWM) and
its render children's, and per item what its row recorded. `make reliability` runs it too.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import tempfile
from pathlib import Path
from typing import Any

from bench.harness import database_and_queue
from bench.hostile_corpus import EXPECTED, corpus
from bench.media_bench import MOTO_STARTUP_S, media_done, photo, reset, worker_env
from bench.sync_workers import Workers, queued_sync
from domain.platform import db
from domain.platform.settings import Settings
from harness.processes import PYTHON, announced, spawn_announcing

BUCKET = "creatorflix-hostile-media"
FOLDER = "Hostile/P1/"
TARGET_MB = 400


def serve() -> None:
    """The moto process: the corpus and one photo in the bucket, then serve until stdin ends."""
    import logging

    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.s3.models import s3_backends
    from moto.server import ThreadedMotoServer

    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    backend = s3_backends[DEFAULT_ACCOUNT_ID]["aws"]
    backend.create_bucket(BUCKET, "us-east-1")
    with tempfile.TemporaryDirectory() as tmp:
        for name, path in corpus(Path(tmp)).items():
            backend.put_object(BUCKET, FOLDER + name, path.read_bytes(), disable_notification=True)
    backend.put_object(BUCKET, FOLDER + "zz_photo.jpg", photo((1600, 1200), 1))
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    print(json.dumps({"endpoint": f"http://{host}:{port}"}), flush=True)
    sys.stdin.read()
    server.stop()


def descendants(pid: int) -> list[int]:
    found: list[int] = []
    try:
        tasks = list(Path(f"/proc/{pid}/task").iterdir())
    except OSError:
        return found
    for task in tasks:
        try:
            children = [int(c) for c in (task / "children").read_text().split()]
        except OSError:
            continue
        for child in children:
            found += [child, *descendants(child)]
    return found


def peak_mb(pid: int) -> float:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return float(line.split()[1]) / 1024
    except OSError:
        pass
    return float("nan")


async def run(workers: int = 1, concurrency: int = 2) -> dict[str, Any]:
    """Needs the database started and migrated, and the job queue open (see main)."""
    moto = spawn_announcing([PYTHON, "-m", "bench.hostile_media", "--serve"], None, stdin=True)
    assert moto.stdin is not None
    told = await asyncio.to_thread(announced, moto, MOTO_STARTUP_S, "moto's server")
    endpoint = told["endpoint"]
    env = worker_env(endpoint, concurrency, BUCKET)
    log_dir = Path(tempfile.mkdtemp(prefix="bench-hostile-media-"))
    try:
        await reset()
        async with Workers(workers, env, log_dir) as started:
            started.reset_peaks()
            run_ = await queued_sync(within=600)
            await media_done(within=600)
            procs = started.procs or []
            peaks = [
                {
                    "worker_mb": peak_mb(p.pid),
                    "children_mb": [peak_mb(c) for c in descendants(p.pid)],
                    "alive": p.poll() is None,
                }
                for p in procs
            ]
        rows = await db.fetch(
            "SELECT s3_key, media_error, derived_etag = etag AS derived FROM whitelabel_media "
            "ORDER BY s3_key"
        )
    finally:
        await reset()
        moto.stdin.close()
        moto.wait(30)
    items = {
        r["s3_key"].removeprefix(FOLDER): r["media_error"] or ("preview" if r["derived"] else "-")
        for r in rows
    }
    return {"sync": run_.status, "workers": peaks, "items": items, "logs": str(log_dir)}


def report(result: dict[str, Any]) -> None:
    print(f"hostile media: sync {result['sync']}; worker logs in {result['logs']}", flush=True)
    for i, w in enumerate(result["workers"], 1):
        kids = ", ".join(f"{mb:,.0f}" for mb in w["children_mb"]) or "none"
        verdict = "within" if w["worker_mb"] <= TARGET_MB else "ABOVE"
        print(
            f"  worker {i}: peak RSS {w['worker_mb']:,.0f} MB ({verdict} the {TARGET_MB} MB "
            f"target), {'alive' if w['alive'] else 'DEAD'}; its render children's peaks "
            f"{kids} MB"
        )
    for name, outcome in result["items"].items():
        want = EXPECTED.get(name, None)
        print(f"  {name:22} {outcome}" + ("" if want is None or want in outcome else " (!)"))


async def measure(workers: int = 1, concurrency: int = 2) -> dict[str, Any] | None:
    """`run`, with the database and job queue set up around it; None without DATABASE_URL."""
    settings = Settings.from_env()
    if not settings.database_url:
        print("DATABASE_URL is not set: run under tests/run.py --only-db.")
        return None
    async with database_and_queue(settings.database_url):
        return await run(workers, concurrency)


async def main(args: argparse.Namespace) -> int:
    result = await measure(args.workers, args.concurrency)
    if result is None:
        return 2
    report(result)
    print(json.dumps(result, default=float))
    return 0


if __name__ == "__main__":
    parser = argparse.ArgumentParser(prog="python -m bench.hostile_media", description=__doc__)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--concurrency", type=int, default=2, help="WORKER_CONCURRENCY")
    parser.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    arguments = parser.parse_args()
    if arguments.serve:
        serve()
    else:
        sys.exit(asyncio.run(main(arguments)))
