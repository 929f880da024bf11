"""Safety: partial failures, mass deletion, single flight, cancel, stale runs, one-model sync."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import timedelta
from itertools import groupby
from typing import Any

import pytest

from domain.catalogue import runs
from domain.catalogue.confirm import NotConfirmable, confirm, discard
from domain.catalogue.sync import SyncOptions, run_sync
from domain.platform.db import now
from domain.platform.s3 import S3Object, S3Service, S3Unreachable
from tests.conftest import Bucket, count, eventually, rows

CATALOGUE = [
    f"{m}/P{p}/{i}.jpg"
    for m in ("Alpha", "Bravo", "Charlie", "Delta", "Echo")
    for p in range(2)
    for i in range(3)
]


class FailingSource:
    """Moto's listing, handed out one model folder at a time: chosen folders fail after their
    first share (S3 dying part way), and one folder can wait for a gate before it is listed."""

    def __init__(
        self,
        s3: S3Service,
        failing: set[str],
        gate: asyncio.Event | None = None,
        gate_prefix: str | None = None,
    ) -> None:
        self.s3, self.failing, self.gate, self.gate_prefix = s3, failing, gate, gate_prefix
        self.started: set[str] = set()

    async def list_top(self) -> tuple[list[str], list[S3Object]]:
        return await self.s3.list_top()

    async def list_level(self, prefix: str) -> tuple[list[str], list[S3Object]]:
        return await self.s3.list_level(prefix)

    async def list_pages(self, prefix: str) -> AsyncIterator[list[S3Object]]:
        async for page in self.s3.list_pages(prefix):
            yield page

    async def list_after(self, start_after: str) -> AsyncIterator[list[S3Object]]:
        async for page in self.s3.list_after(start_after):
            for prefix, share in groupby(page, key=lambda o: o.key.partition("/")[0] + "/"):
                self.started.add(prefix)
                if self.gate is not None and prefix == self.gate_prefix:
                    await self.gate.wait()
                yield list(share)
                if prefix in self.failing:
                    raise S3Unreachable(f"S3 endpoint timed out listing {prefix!r}")


def options(bucket: Bucket, **kw: Any) -> SyncOptions:
    return SyncOptions(public_base=bucket.public_base, **kw)


async def test_s3_failing_part_way_keeps_that_model_and_deletes_nothing(
    database: Any, bucket: Bucket
) -> None:
    await bucket.put(*CATALOGUE)
    await bucket.sync()
    await bucket.delete("Bravo/P0/0.jpg", "Alpha/P1/2.jpg")  # would be deleted normally
    await bucket.put("Alpha/P9/new.jpg", "Bravo/P9/new.jpg")
    source = FailingSource(bucket.s3, failing={"Bravo/"})
    run = await run_sync(source, options(bucket))
    assert run.status == "failed"
    assert "Bravo" in run.error and "timed out" in run.error
    keys = {r["s3_key"] for r in await rows("SELECT s3_key FROM whitelabel_media")}
    assert "Alpha/P9/new.jpg" in keys  # a finished model's additions were applied
    assert "Bravo/P9/new.jpg" not in keys  # the failed model is untouched
    assert {"Bravo/P0/0.jpg", "Alpha/P1/2.jpg"} <= keys  # a partial view deletes nothing
    healed = await bucket.sync()  # the next good run converges
    assert healed.status == "succeeded"
    keys = {r["s3_key"] for r in await rows("SELECT s3_key FROM whitelabel_media")}
    assert "Bravo/P9/new.jpg" in keys and "Bravo/P0/0.jpg" not in keys
    assert "Alpha/P1/2.jpg" not in keys


async def test_empty_listing_deletes_nothing_until_confirmed(database: Any, bucket: Bucket) -> None:
    await bucket.put(*CATALOGUE)
    await bucket.sync()
    await bucket.delete(*CATALOGUE)
    run = await bucket.sync()
    assert run.status == "needs_confirmation"
    assert "empty" in run.error
    assert await count("whitelabel_models") == 5 and await count("whitelabel_media") == 30
    summary = run.plan["summary"]
    assert summary["models"] == 5 and summary["media"] == 30
    assert summary["model_names"] == ["Alpha", "Bravo", "Charlie", "Delta", "Echo"]
    confirmed = await confirm(bucket.s3, run.id, "tester", bucket.public_base)
    assert confirmed.status == "succeeded"
    assert (confirmed.models_deleted, confirmed.media_deleted) == (5, 30)
    assert await count("whitelabel_models") == 0
    assert (await runs.get(run.id)).status == "succeeded"  # type: ignore[union-attr]


async def test_mass_deletion_is_held_back_then_discarded_or_allowed(
    database: Any, bucket: Bucket
) -> None:
    await bucket.put(*CATALOGUE)
    await bucket.sync()
    await bucket.delete(*[k for k in CATALOGUE if k.startswith(("Alpha/", "Bravo/"))])
    run = await bucket.sync()
    assert run.status == "needs_confirmation"
    assert run.plan["summary"]["model_names"] == ["Alpha", "Bravo"]
    assert await count("whitelabel_models") == 5
    await discard(run.id, "tester")
    assert (await runs.get(run.id)).status == "cancelled"  # type: ignore[union-attr]
    with pytest.raises(NotConfirmable):
        await confirm(bucket.s3, run.id, "tester", bucket.public_base)
    assert await count("whitelabel_models") == 5
    forced = await bucket.sync(allow_mass_delete=True)
    assert forced.status == "succeeded" and forced.models_deleted == 2
    assert await count("whitelabel_models") == 3


async def listing_started(source: FailingSource, folder: str, timeout: float = 20) -> None:
    """Wait, at most `timeout` s, until the sync has begun listing `folder`."""

    async def began() -> bool:
        return folder in source.started

    await eventually(began, True, timeout)


async def test_dry_run_writes_nothing(database: Any, bucket: Bucket) -> None:
    await bucket.put(*CATALOGUE)
    run = await bucket.sync(dry_run=True)
    assert run.status == "succeeded" and run.media_inserted == 30
    assert await count("whitelabel_media") == 0


async def test_two_syncs_at_once_one_runs(database: Any, bucket: Bucket) -> None:
    await bucket.put(*CATALOGUE)
    gate = asyncio.Event()
    source = FailingSource(bucket.s3, set(), gate, "Alpha/")
    first = asyncio.create_task(run_sync(source, options(bucket)))
    await listing_started(source, "Alpha/")
    with pytest.raises(runs.SyncBusy) as busy:
        await bucket.sync()
    assert busy.value.run is not None
    assert f"#{busy.value.run.id}" in str(busy.value)
    gate.set()
    assert (await first).status == "succeeded"
    assert (await bucket.sync()).status == "succeeded"  # the lock was released


async def test_cancel_stops_at_a_model_boundary(database: Any, bucket: Bucket) -> None:
    await bucket.put(*CATALOGUE)
    gate = asyncio.Event()
    source = FailingSource(bucket.s3, set(), gate, "Charlie/")
    task = asyncio.create_task(run_sync(source, options(bucket, concurrency=1)))
    await listing_started(source, "Charlie/")
    current = await runs.current()
    assert current is not None
    assert await runs.request_cancel(current.id)
    gate.set()
    run = await task
    assert run.status == "cancelled"
    names = {r["folder_name"] for r in await rows("SELECT folder_name FROM whitelabel_models")}
    # Alpha was listed whole before the cancel and is kept; Bravo's listing ended only after it
    # (at Charlie's first key), so Bravo and the rest are untouched.
    assert names == {"Alpha"}


async def test_stale_running_run_is_failed_and_no_longer_blocks(
    database: Any, bucket: Bucket
) -> None:
    await bucket.put(*CATALOGUE)
    old = now() - timedelta(minutes=5)
    await rows(
        "INSERT INTO sync_runs (scope, status, phase, started_at, heartbeat_at, "
        "triggered_by) VALUES ('all', 'running', 'syncing', $1, $1, 'crashed') "
        "RETURNING id",
        old,
    )
    run = await bucket.sync()
    assert run.status == "succeeded"
    dead = (await rows("SELECT status, error FROM sync_runs WHERE triggered_by = 'crashed'"))[0]
    assert dead["status"] == "failed" and "stopped" in dead["error"]


async def test_one_model_sync(database: Any, bucket: Bucket) -> None:
    await bucket.put(*CATALOGUE)
    run = await bucket.sync(model="Charlie")
    assert run.status == "succeeded" and run.scope == "Charlie"
    assert [r["folder_name"] for r in await rows("SELECT folder_name FROM whitelabel_models")] == [
        "Charlie"
    ]
    missing = await bucket.sync(model="Nobody")
    assert missing.status == "failed"
    assert "'Nobody' is not in the bucket" in missing.error
    assert await count("whitelabel_models") == 1  # defect 8: no model for a missing folder
    await bucket.put("_res/P/a.jpg")  # a folder the key rules ignore: not a model either
    ignored = await bucket.sync(model="_res")
    assert ignored.status == "failed"
    assert "'_res' is not in the bucket" in ignored.error, ignored.error
    assert await count("whitelabel_models") == 1


async def test_media_share_alone_holds_deletions_back(database: Any, bucket: Bucket) -> None:
    """No model goes, but 3 of 10 media do: over the 20% media share, so nothing is deleted."""
    keys = [f"{m}/P/{i}.jpg" for m in ("Alpha", "Bravo") for i in range(5)]
    await bucket.put(*keys)
    assert (await bucket.sync()).status == "succeeded"
    tables = ("whitelabel_models", "whitelabel_posts", "whitelabel_media")
    before = [await count(t) for t in tables]
    assert before == [2, 2, 10]
    gone = ["Alpha/P/0.jpg", "Alpha/P/1.jpg", "Bravo/P/4.jpg"]
    await bucket.delete(*gone)
    run = await bucket.sync()
    assert run.status == "needs_confirmation", run.error
    assert "more than 20%" in run.error and run.media_deleted == 0
    summary = run.plan["summary"]
    assert (summary["models"], summary["media"]) == (0, 3)
    assert sorted(summary["media_keys"]) == gone
    assert [await count(t) for t in tables] == before  # every staged row is still there
    assert {r["s3_key"] for r in await rows("SELECT s3_key FROM whitelabel_media")} == set(keys)
    confirmed = await confirm(bucket.s3, run.id, "tester", bucket.public_base)
    assert confirmed.media_deleted == 3
    left = {r["s3_key"] for r in await rows("SELECT s3_key FROM whitelabel_media")}
    assert left == set(keys) - set(gone)
