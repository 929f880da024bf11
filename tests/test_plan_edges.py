"""Held deletion plans at their edges, through HTTP and the app's in-process worker: confirming
keeps what came back (media and posts, not only whole models), and which runs make an older
held plan out of date (a newer complete run of its scope) and which do not (a failed run, a
one-model run of another model)."""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

from domain import tasks
from domain.catalogue import runs
from domain.catalogue.runs import Run
from domain.platform.settings import Settings
from tests.conftest import Bucket, Proxied, rows
from tests.fault_proxy import Rule, listing
from tests.web import Browser, admin, browser, running_app

# Ann: post P (5 images) and post Q (1 image); Bea and Cid: 5 images each. 16 media in all.
ANN = [f"Ann/P/{i}.jpg" for i in range(5)] + ["Ann/Q/0.jpg"]
OTHERS = [f"{m}/P/{i}.jpg" for m in ("Bea", "Cid") for i in range(5)]


def run_of(response: Any) -> int:
    assert response.status_code == 200, response.text[:300]
    return int(response.text.split('data-run="')[1].split('"')[0])


async def sync(b: Browser, model: str = "") -> Run:
    """ "Sync now" (or a one-model sync) over HTTP; the run as it ended, at most 60 s."""
    return await b.wait_for_run(
        run_of(await b.post("/sync", {"model": model} if model else {}, htmx=True)), timeout=60
    )


async def confirm(b: Browser, run_id: int) -> Run:
    """Confirm a held plan as the run page's button does; the confirming run as it ended."""
    return await b.wait_for_run(run_of(await b.post(f"/sync-runs/{run_id}/confirm", {}, htmx=True)))


async def staged_keys() -> set[str]:
    return {r["s3_key"] for r in await rows("SELECT s3_key FROM whitelabel_media")}


async def public_keys(b: Browser, slug: str) -> set[str]:
    """The object keys the public API shows for one model's posts (from the signed URLs)."""
    answer = await b.client.get(f"/api/v1/models/{slug}/posts")
    assert answer.status_code == 200, answer.text[:300]
    urls = [m["url"] for p in answer.json()["data"] for m in p["media"]]
    return {u.split("?")[0].split("/", 4)[-1] for u in urls}


async def test_confirming_keeps_a_media_file_and_a_post_that_came_back_before_the_confirm(
    signed_in: Browser, bucket: Bucket
) -> None:
    b = signed_in
    await bucket.put(*ANN, *OTHERS)
    assert (await sync(b)).status == "succeeded"
    assert (await b.post("/staged/Ann/activate", {})).status_code == 303
    assert await public_keys(b, "ann") == set(ANN)
    gone = ["Ann/P/0.jpg", "Ann/P/1.jpg", "Ann/Q/0.jpg", "Bea/P/4.jpg"]  # 4 of 16: held
    await bucket.delete(*gone)
    held = await sync(b)
    assert held.status == "needs_confirmation", held.error
    assert set(await staged_keys()) == set(ANN + OTHERS)  # nothing deleted yet
    # Before the admin confirms, one file of post P and the whole post Q come back.
    await bucket.put("Ann/P/0.jpg", "Ann/Q/0.jpg")
    applied = await confirm(b, held.id)
    assert applied.status == "succeeded", applied.error
    left = await staged_keys()
    assert "Ann/P/0.jpg" in left, "confirming deleted a file that was back in the bucket"
    assert "Ann/Q/0.jpg" in left, "confirming deleted a post that was back in the bucket"
    assert "Ann/P/1.jpg" not in left and "Bea/P/4.jpg" not in left  # still gone: deleted
    assert (applied.media_deleted, applied.posts_deleted) == (2, 0)
    posts = {r["folder_name"] for r in await rows("SELECT folder_name FROM whitelabel_posts")}
    assert {"P", "Q"} <= posts
    # The public site still shows what is in the bucket: the file and the post that came back.
    shown = await public_keys(b, "ann")
    assert {"Ann/P/0.jpg", "Ann/Q/0.jpg"} <= shown and "Ann/P/1.jpg" not in shown, shown
    page = (await b.get(f"/sync-runs/{applied.id}")).text
    assert "kept 3 that came back since" in page  # 2 files and post Q
    # The confirm did not record the held-time listing's fingerprint as Ann's: when what came
    # back goes again (the bucket is as the held run saw it), the next sync removes it.
    await bucket.delete("Ann/P/0.jpg", "Ann/Q/0.jpg")
    again = await sync(b)
    assert again.status == "succeeded", again.error
    left = await staged_keys()
    assert not {"Ann/P/0.jpg", "Ann/Q/0.jpg"} & left, "the next sync skipped Ann as unchanged"


async def held_for_ann(b: Browser, bucket: Bucket) -> Run:
    """A one-model sync of Ann that holds its deletions (4 of her files: 4 of 16 media)."""
    await bucket.put(*ANN, *OTHERS)
    assert (await sync(b)).status == "succeeded"
    await bucket.delete(*ANN[:4])
    held = await sync(b, "Ann")
    assert (held.status, held.scope) == ("needs_confirmation", "Ann"), held.error
    return held


async def test_a_full_run_supersedes_an_older_one_model_held_plan(
    signed_in: Browser, bucket: Bucket
) -> None:
    b = signed_in
    held = await held_for_ann(b, bucket)
    other = await sync(b, "Bea")  # a one-model run of another model: not Ann's scope
    assert other.status == "succeeded"
    untouched = await runs.get(held.id)
    assert untouched is not None and untouched.status == "needs_confirmation", (
        f"a one-model run of Bea made Ann's held plan {untouched and untouched.status}"
    )
    full = await sync(b)  # the whole bucket, seen later: Ann's plan is out of date
    assert full.status in ("succeeded", "needs_confirmation"), full.error
    stale = await runs.get(held.id)
    assert stale is not None and (stale.status, stale.superseded_by) == ("superseded", full.id)
    refused = await b.post(f"/sync-runs/{held.id}/confirm", {}, htmx=True)
    assert refused.status_code == 409, refused.text[:300]
    assert f"superseded by run #{full.id}" in refused.text
    assert not [r for r in await runs.recent(20) if r.kind == "confirm"]  # no run applied it


async def test_a_failed_full_run_leaves_a_one_model_held_plan_confirmable(
    database: Any, proxied: Proxied, settings: Settings, pg_engine: Any
) -> None:
    bucket = proxied.bucket
    await admin()
    # The app talks to S3 through the fault proxy, so that one full run can fail.
    async with running_app(settings, Bucket(proxied.s3), pg_engine) as app, browser(app) as b:
        await b.sign_in()
        held = await held_for_ann(b, bucket)
        proxied.proxy.rules = [Rule(listing(), 403, "AccessDenied")]
        failed = await sync(b)
        assert failed.status == "failed", f"the run meant to fail ended {failed.status}"
        proxied.proxy.rules = []
        still = await runs.get(held.id)
        assert still is not None
        assert (still.status, still.superseded_by) == ("needs_confirmation", None), (
            f"a failed full run made the held plan {still.status} by run #{still.superseded_by}"
        )
        applied = await confirm(b, held.id)
        assert applied.status == "succeeded", applied.error
        assert applied.media_deleted == 4
        assert not {k for k in ANN[:4]} & await staged_keys()
        assert (await runs.get(held.id)).status == "succeeded"  # type: ignore[union-attr]


async def test_a_confirm_queued_before_the_plan_was_discarded_deletes_nothing(
    admin_app: Any, bucket: Bucket
) -> None:
    """The admin confirms, then discards before a worker takes the confirm: the worker checks
    the plan again and deletes nothing. Discarding a run that holds no plan is refused."""
    await bucket.put(*ANN, *OTHERS)
    first = await bucket.sync()
    await bucket.delete(*ANN)  # a whole model of three: held
    held = await bucket.sync()
    assert held.status == "needs_confirmation", held.error
    async with browser(admin_app) as b:
        await b.sign_in()
        confirming = run_of(await b.post(f"/sync-runs/{held.id}/confirm", {}, htmx=True))
        discarded = await b.post(f"/sync-runs/{held.id}/discard", {}, htmx=True)
        assert discarded.status_code == 200, discarded.text[:300]
        not_held = await b.post(f"/sync-runs/{first.id}/discard", {}, htmx=True)
        assert not_held.status_code == 409, "discarding a run that holds no plan was accepted"
        assert (await runs.get(first.id)).status == "succeeded"  # type: ignore[union-attr]
        worker = asyncio.create_task(
            tasks.run_worker(admin_app.state["runtime"], "late-worker", 2, signals=False)
        )
        try:
            ended = await b.wait_for_run(confirming, timeout=30)
        finally:
            worker.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await asyncio.wait_for(worker, 10)
    assert ended.status == "failed", f"the confirm of a discarded plan ended {ended.status}"
    names = {r["folder_name"] for r in await rows("SELECT folder_name FROM whitelabel_models")}
    assert names == {"Ann", "Bea", "Cid"}, "a discarded plan's deletions were applied"
    assert (await runs.get(held.id)).status == "cancelled"  # type: ignore[union-attr]
