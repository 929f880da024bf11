"""A worker's media job: previews and posters for waiting media, stale derivatives deleted.

Derivatives live in the bucket under the reserved `_derived/` prefix (keys starting with `_`
are no model folder), named by the source key and its ETag, so a replaced object gets new
keys and an unchanged one is never made again. One original at a time per job, downloaded to a
temporary file (never held in memory), rendered in a child process under a memory ceiling
(sandbox.py), RENDERS at once per process.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import re
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from botocore.exceptions import ClientError

from domain.media import records, sandbox
from domain.media.records import Pending
from domain.media.rendered import MediaError
from domain.platform.loops import LoopSemaphore
from domain.platform.s3 import S3Service, explain

log = logging.getLogger("creatorflix.media")
DERIVED_PREFIX = "_derived/"
BATCH = 4  # rows a job claims at a time: small, so several jobs share the work evenly
RENDERS = LoopSemaphore(sandbox.PROCESSES)  # decodes at once per worker process
MAX_BYTES = {"image": 200 * 2**20, "video": 4 * 2**30}  # larger originals are not previewed
CHUNK = 2**20
CACHE = "public, max-age=31536000, immutable"  # a derivative's key changes with its source
ROLES = {"w160": "thumb", "w480": "preview", "poster": "poster"}
_UNSAFE = re.compile(r"[^A-Za-z0-9-]")


def derived_prefix(source_key: str, etag: str) -> str:
    """Where one version of one object's derivatives go: `_derived/<hash>/<etag>/`."""
    digest = hashlib.sha256(source_key.encode()).hexdigest()[:32]
    return f"{DERIVED_PREFIX}{digest}/{_UNSAFE.sub('', etag) or 'none'}/"


@dataclass
class DeriveStats:
    derived: int = 0
    failed: int = 0  # recorded on their rows: corrupt, unsupported or too large
    skipped: int = 0  # changed or deleted in the bucket since the sync; the next sync sees it
    deleted: int = 0  # derivative objects removed (replaced or deleted sources)
    more: bool = False  # stopped at its time budget with media still waiting

    def __str__(self) -> str:
        return (
            f"{self.derived} derived, {self.failed} failed, {self.skipped} skipped, "
            f"{self.deleted} stale derivative(s) deleted"
        )


class _Gone(Exception):
    """The object changed or went away since the sync listed it."""


async def run(s3: S3Service, budget_s: float = 30.0) -> DeriveStats:
    """Empty the trash, then derive waiting media until none is left or `budget_s` passed
    (then `more` is set: the caller queues a follow-up, so queued syncs are not held up)."""
    stats = DeriveStats()
    stats.deleted += await empty_trash(s3)
    deadline = time.monotonic() + budget_s
    while items := await records.claim(BATCH):
        for item in items:
            await derive_one(s3, item, stats)
        if time.monotonic() > deadline:
            stats.more = True
            break
    return stats


async def empty_trash(s3: S3Service) -> int:
    deleted = 0
    while True:
        async with records.trash() as keys:
            if not keys:
                return deleted
            await delete_keys(s3, keys)
        deleted += len(keys)


async def derive_one(s3: S3Service, item: Pending, stats: DeriveStats) -> None:
    """Make and store one row's derivatives, or record why they cannot be made."""
    try:
        with tempfile.TemporaryDirectory(prefix="creatorflix-media-") as tmp:
            path = Path(tmp) / "original"
            await _download(s3, item, path)
            async with RENDERS:
                made = await sandbox.render_bounded(path, item.type)
    except _Gone:
        stats.skipped += 1
        return
    except MediaError as exc:
        log.info("no preview for %s: %s", item.s3_key, exc)
        if await records.record_error(item, str(exc)):
            stats.deleted += await delete_keys(s3, list(item.old_keys))
        stats.failed += 1
        return
    prefix = derived_prefix(item.s3_key, item.etag)
    keys = {ROLES[name]: f"{prefix}{name}.webp" for name in made.files}
    for name, data in made.files.items():
        await _put(s3, keys[ROLES[name]], data)
    if await records.record_done(item, dict(keys), made.width, made.height, made.duration):
        stats.derived += 1
        stale = [k for k in item.old_keys if k not in keys.values()]
        stats.deleted += await delete_keys(s3, stale)
    else:  # the row went or its object changed while we worked: these belong to nobody
        stats.skipped += 1
        await delete_keys(s3, list(keys.values()))


async def _download(s3: S3Service, item: Pending, path: Path) -> None:
    """The original into `path`, refusing more than MAX_BYTES and any other version."""
    cap = MAX_BYTES.get(item.type, MAX_BYTES["image"])
    if item.size > cap:
        raise MediaError(_too_large(item.size, cap))
    params: dict[str, object] = {"Bucket": s3.settings.bucket, "Key": item.s3_key}
    if item.etag:
        params["IfMatch"] = f'"{item.etag}"'
    try:
        response = await s3.client.get_object(**params)
    except ClientError as exc:
        code = str(exc.response.get("Error", {}).get("Code", ""))
        if code in ("NoSuchKey", "404", "PreconditionFailed", "412"):
            raise _Gone from exc
        raise explain(exc, s3.settings) from exc
    except Exception as exc:
        raise explain(exc, s3.settings) from exc
    body = response["Body"]
    out = await asyncio.to_thread(path.open, "wb")
    try:
        written = 0
        while chunk := await body.read(CHUNK):
            written += len(chunk)
            if written > cap:
                raise MediaError(_too_large(written, cap))
            await asyncio.to_thread(out.write, chunk)
    finally:
        body.close()
        out.close()


def _too_large(size: int, cap: int) -> str:
    return f"the file is larger than {cap // 2**20:,} MB ({size / 2**20:,.0f} MB or more)."


async def _put(s3: S3Service, key: str, data: bytes) -> None:
    try:
        await s3.client.put_object(
            Bucket=s3.settings.bucket,
            Key=key,
            Body=data,
            ContentType="image/webp",
            CacheControl=CACHE,
        )
    except Exception as exc:
        raise explain(exc, s3.settings) from exc


async def delete_keys(s3: S3Service, keys: list[str]) -> int:
    """Delete these objects, 1,000 a request; returns how many were asked for."""
    for start in range(0, len(keys), 1000):
        chunk = keys[start : start + 1000]
        try:
            await s3.client.delete_objects(
                Bucket=s3.settings.bucket,
                Delete={"Objects": [{"Key": k} for k in chunk], "Quiet": True},
            )
        except Exception as exc:
            raise explain(exc, s3.settings) from exc
    return len(keys)
