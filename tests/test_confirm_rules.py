"""Confirming or discarding a held deletion plan, in-process through moto and PostgreSQL: what an
admin reads on both runs afterwards (counts, what came back and was kept, who confirmed, why
one failed), what the confirming run lists as removed, and each refusal word for word."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest

from domain.catalogue import runs
from domain.catalogue.confirm import NotConfirmable, _listing, confirm, discard
from domain.catalogue.runs import Run
from domain.errors import NotFound
from domain.platform.s3 import S3Object, S3Service
from tests.conftest import Bucket, rows

# Five models; Alpha and Delta have two posts, the others one.
KEYS = [
    "Alpha/P1/a.jpg",
    "Alpha/P1/b.jpg",
    "Alpha/P2/c.jpg",
    "Bravo/P1/d.jpg",
    "Bravo/P1/e.jpg",
    "Charlie/P1/f.jpg",
    "Delta/P1/g.jpg",
    "Delta/P2/i.jpg",
    "Echo/P1/h.jpg",
]
GONE = [
    "Alpha/P1/b.jpg",
    "Alpha/P2/c.jpg",
    "Bravo/P1/d.jpg",
    "Bravo/P1/e.jpg",
    "Charlie/P1/f.jpg",
    "Delta/P2/i.jpg",
]


class Recording:
    """The bucket, noting each prefix the confirmation lists."""

    def __init__(self, s3: S3Service) -> None:
        self.s3, self.prefixes = s3, list[str]()

    def list_top(self) -> Any:
        return self.s3.list_top()

    def list_level(self, prefix: str) -> Any:
        return self.s3.list_level(prefix)

    async def list_pages(self, prefix: str) -> AsyncIterator[list[S3Object]]:
        self.prefixes.append(prefix)
        async for page in self.s3.list_pages(prefix):
            yield page


class Broken(Recording):
    async def list_pages(self, prefix: str) -> AsyncIterator[list[S3Object]]:
        self.prefixes.append(prefix)
        raise RuntimeError(f"listing {prefix} failed: the bucket went away")
        yield []  # pragma: no cover - an async generator


async def held(bucket: Bucket) -> Run:
    """A sync that would delete two of five models, a post of two others and a file: held."""
    await bucket.put(*KEYS)
    assert (await bucket.sync()).status == "succeeded"
    await bucket.delete(*GONE)
    run = await bucket.sync()
    assert run.status == "needs_confirmation", run.error
    return run


async def removed(run_id: int) -> list[tuple[str, str, str]]:
    found = await rows(
        "SELECT kind, model, name FROM sync_run_changes WHERE run = $1 AND change = 'removed' "
        "ORDER BY kind, model, name",
        run_id,
    )
    return [(r["kind"], r["model"], r["name"]) for r in found]


async def test_confirming_deletes_what_is_still_gone_and_says_what_came_back(
    database: Any, bucket: Bucket
) -> None:
    plan = await held(bucket)
    await bucket.put("Charlie/P1/f.jpg", "Alpha/P1/b.jpg")  # back before the confirm
    source = Recording(bucket.s3)
    done = await confirm(source, plan.id, "tester", bucket.public_base)
    assert (done.status, done.kind, done.confirms) == ("succeeded", "confirm", plan.id)
    assert done.error == f"confirmed deletions of run #{plan.id}; kept 2 that came back since"
    # Bravo (its post, two files), Alpha's and Delta's P2 (a file each) go; Charlie, b.jpg stay.
    assert (done.models_deleted, done.posts_deleted, done.media_deleted) == (1, 3, 4)
    assert await removed(done.id) == [
        ("model", "Bravo", "Bravo"),
        ("post", "Alpha", "P2"),
        ("post", "Bravo", "P1"),
        ("post", "Delta", "P2"),
    ]
    staged = await rows("SELECT s3_key FROM whitelabel_media ORDER BY s3_key")
    assert [r["s3_key"] for r in staged] == [
        "Alpha/P1/a.jpg",
        "Alpha/P1/b.jpg",
        "Charlie/P1/f.jpg",
        "Delta/P1/g.jpg",
        "Echo/P1/h.jpg",
    ]
    assert sorted(source.prefixes) == ["Alpha/", "Bravo/", "Charlie/", "Delta/"]  # what it touches
    after = await runs.get(plan.id)
    assert after is not None and after.status == "succeeded"
    assert after.error == f"deletions confirmed by tester in run #{done.id}"


async def test_a_confirm_with_nothing_back_keeps_the_models_fingerprint(
    database: Any, bucket: Bucket
) -> None:
    """Nothing came back: the note says no more than that, and Alpha keeps the fingerprint of
    the listing the plan saw, so the next sync skips it as unchanged."""
    plan = await held(bucket)
    done = await confirm(bucket.s3, plan.id, "tester", bucket.public_base)
    assert done.error == f"confirmed deletions of run #{plan.id}"
    assert (done.models_deleted, done.posts_deleted, done.media_deleted) == (2, 4, 6)
    stored = await rows("SELECT listing_hash FROM whitelabel_models WHERE folder_name = 'Alpha'")
    fingerprint = next(
        part["fingerprint"] for part in plan.plan["per_model"].values() if part["name"] == "Alpha"
    )
    assert stored[0]["listing_hash"] == fingerprint is not None


async def test_a_confirm_that_fails_says_why_on_its_run_and_keeps_the_plan(
    database: Any, bucket: Bucket
) -> None:
    plan = await held(bucket)
    broken = Broken(bucket.s3)
    with pytest.raises(RuntimeError, match="the bucket went away"):
        await confirm(broken, plan.id, "tester", bucket.public_base)
    (failed,) = [r for r in await runs.recent(5) if r.kind == "confirm"]
    assert failed.status == "failed"
    (first,) = broken.prefixes  # the first folder of the plan it listed (Alpha or Delta)
    assert first in ("Alpha/", "Delta/")
    assert failed.error == f"listing {first} failed: the bucket went away"
    still = await runs.get(plan.id)
    assert still is not None and still.status == "needs_confirmation"
    assert await rows("SELECT 1 FROM whitelabel_models WHERE folder_name = 'Bravo'")


async def test_refusals_name_the_run_and_what_to_do(database: Any, bucket: Bucket) -> None:
    with pytest.raises(NotFound) as missing:
        await confirm(bucket.s3, 999_999, "tester", bucket.public_base)
    assert str(missing.value) == (
        "sync run #999999 is not waiting for confirmation: there is no such run."
    )
    plan = await held(bucket)
    newer = await bucket.sync(allow_mass_delete=True)  # a complete view supersedes the plan
    with pytest.raises(NotConfirmable) as superseded:
        await confirm(bucket.s3, plan.id, "tester", bucket.public_base)
    assert str(superseded.value) == (
        f"sync run #{plan.id}'s plan was superseded by run #{newer.id}, which saw the bucket "
        "later: review that run instead."
    )
    with pytest.raises(NotConfirmable) as finished:
        await confirm(bucket.s3, newer.id, "tester", bucket.public_base)
    assert str(finished.value) == f"sync run #{newer.id} is not waiting for confirmation."
    with pytest.raises(NotConfirmable) as again:
        await discard(newer.id, "tester")
    assert str(again.value) == f"sync run #{newer.id} is not waiting for confirmation."


async def test_discarding_deletes_nothing_and_says_who(database: Any, bucket: Bucket) -> None:
    plan = await held(bucket)
    await discard(plan.id, "tester")
    after = await runs.get(plan.id)
    assert after is not None and after.status == "cancelled"
    assert after.error == "deletions discarded by tester; nothing was deleted"
    assert len(await rows("SELECT 1 FROM whitelabel_models")) == 5


async def test_a_folder_is_listed_under_its_own_prefix(database: Any, bucket: Bucket) -> None:
    await bucket.put("Ann/P/a.jpg", "Anna/P/b.jpg")
    source = Recording(bucket.s3)
    assert [o.key for o in await _listing(source, "Ann")] == ["Ann/P/a.jpg"]
    assert source.prefixes == ["Ann/"]
