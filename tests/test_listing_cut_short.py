"""A listing that cannot go on is an error, never the end of the bucket: a store that says a page
is truncated but sends no continuation token (or sends one it sent before) fails the sync, which
keeps every row and deletes nothing. Through moto's server, behind a proxy that rewrites pages."""

from __future__ import annotations

import asyncio
import re
from typing import Any

from domain.catalogue.sync import SyncOptions, run_sync
from tests.conftest import Proxied, count

MODELS = [f"Model{i:02d}" for i in range(12)]
KEYS = [f"{m}/Post{p}/{f}.jpg" for m in MODELS for p in (1, 2) for f in ("a", "b")]
TOKEN = re.compile(rb"<NextContinuationToken>([^<]*)</NextContinuationToken>")
BOUND_S = 45.0  # a sync of 48 keys at 3 a page takes a few seconds; a looping one never ends


def key_listing(target: str) -> bool:
    return "delimiter=" not in target  # the sync's key ranges, not its top-level listing


async def synced_through(proxied: Proxied) -> Any:
    options = SyncOptions(public_base=proxied.bucket.public_base)
    try:
        return await asyncio.wait_for(run_sync(proxied.s3, options), BOUND_S)
    except TimeoutError:
        raise AssertionError(f"the sync did not end within {BOUND_S:.0f} s (a loop?)") from None


async def first_synced(proxied: Proxied) -> int:
    await asyncio.gather(*(proxied.bucket.s3.upload(k, b"data") for k in KEYS))
    assert (await proxied.bucket.sync()).status == "succeeded"
    media = await count("whitelabel_media")
    assert media == len(KEYS)
    return media


async def test_a_truncated_page_without_a_token_fails_the_sync_and_deletes_nothing(
    database: Any, proxied: Proxied
) -> None:
    media = await first_synced(proxied)
    proxied.proxy.page_size = 3

    def drop_token(target: str, body: bytes) -> bytes:
        return TOKEN.sub(b"", body) if key_listing(target) else body

    proxied.proxy.rewrite = drop_token
    run = await synced_through(proxied)
    assert run.status == "failed", (run.status, run.error)
    assert "NextContinuationToken" in (run.error or ""), run.error
    assert await count("whitelabel_media") == media
    assert await count("whitelabel_models") == len(MODELS)


async def test_a_continuation_token_that_comes_back_fails_the_sync_instead_of_looping(
    database: Any, proxied: Proxied
) -> None:
    media = await first_synced(proxied)
    proxied.proxy.page_size = 3
    first: dict[str, bytes] = {}

    def repeat_token(target: str, body: bytes) -> bytes:
        if not key_listing(target) or not (match := TOKEN.search(body)):
            return body
        start = re.search(r"start-after=([^&]*)", target)
        scope = start.group(1) if start else ""
        token = first.setdefault(scope, match.group(1))  # this range's first token, again
        return TOKEN.sub(b"<NextContinuationToken>" + token + b"</NextContinuationToken>", body)

    proxied.proxy.rewrite = repeat_token
    run = await synced_through(proxied)
    assert run.status == "failed", (run.status, run.error)
    assert "sent before" in (run.error or ""), run.error
    assert await count("whitelabel_media") == media
