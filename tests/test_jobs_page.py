"""The jobs page (issue 25): counts per kind of job, a failed job's reason and its Retry, Pause
and Resume for previews; all through the app's own worker and procrastinate's tables."""

from __future__ import annotations

import asyncio
import contextlib
import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from procrastinate.jobs import Status

from domain import tasks
from domain.catalogue import jobs as catalogue_jobs
from domain.media import jobs as media_jobs
from domain.media import pause
from domain.media import records as media_records
from domain.platform import queue
from domain.platform.tables import Model
from tests.conftest import Bucket, eventually, rows
from tests.web import Browser, browser

IMAGES = ("Ana/P1/a.jpg", "Ana/P1/b.jpg", "Ana/P2/c.jpg", "Ana/P2/d.jpg")
KINDS = ("queued", "running", "failed", "done")


def counts(page: str, task: str) -> dict[str, int]:
    """A kind's row of the board, as the admin reads it ("not kept" is -1)."""
    row = page.split(f'<tr data-task="{task}">', 1)[1].split("</tr>", 1)[0]
    found = {}
    for kind in KINDS:
        cell = row.split(f'data-count="{kind}">', 1)[1].split("</td>", 1)[0]
        number = re.match(r"[\d,]+", cell)
        found[kind] = int(number.group().replace(",", "")) if number else -1
    return found


async def backlog() -> int:
    return (await media_records.counts())[0]


async def job_statuses(task: str) -> list[str]:
    found = await rows(
        "SELECT status::text AS s FROM procrastinate_jobs WHERE task_name = $1 ORDER BY id", task
    )
    return [r["s"] for r in found]


async def status_of(job_id: int) -> str | None:
    found = await rows("SELECT status::text AS s FROM procrastinate_jobs WHERE id = $1", job_id)
    return found[0]["s"] if found else None


async def audited(action: str) -> list[str]:
    return [
        r["target"] for r in await rows("SELECT target FROM audit_log WHERE action = $1", action)
    ]


@asynccontextmanager
async def worker(app: Any) -> AsyncIterator[None]:
    """The app's own worker, in this process, until the block ends."""
    task = asyncio.create_task(
        tasks.run_worker(app.state["runtime"], "jobs-test-worker", 4, signals=False)
    )
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.wait_for(task, 10)


async def test_counts_per_kind_match_the_jobs_queued_and_run(
    admin_app: Any, bucket: Bucket
) -> None:
    await bucket.put(*IMAGES)
    await bucket.sync()  # in this process: stages 4 media waiting for previews, one run ended
    await queue.defer_many("derive_media", 2)
    await catalogue_jobs.defer_helpers(
        999_999, 1
    )  # a helper for a run that is gone: it does nothing
    async with browser(admin_app) as b:
        await b.sign_in()
        page = (await b.get("/jobs")).text
        assert counts(page, "derive_media") == {"queued": 2, "running": 0, "failed": 0, "done": 0}
        assert counts(page, "sync_part") == {"queued": 1, "running": 0, "failed": 0, "done": -1}
        assert counts(page, "sync") == {"queued": 0, "running": 0, "failed": 0, "done": 1}
        assert counts(page, "activate")["queued"] == 0
        assert "<strong data-backlog>4</strong> media wait for previews" in page
        # The dashboard's jobs line links here with the backlog.
        dashboard = (await b.get("/")).text
        assert '<a href="/jobs">3 job(s) queued · 0 running · 4 preview(s) waiting</a>' in dashboard

        # A worker takes the helper (procrastinate's fetch): running, and not to be retried.
        manager = queue.app.job_manager
        taker = await manager.register_worker()
        taken = await manager.fetch_job(None, taker)
        assert taken is not None and taken.id is not None and taken.task_name == "sync_part"
        page = (await b.get("/jobs")).text
        assert counts(page, "sync_part") == {"queued": 0, "running": 1, "failed": 0, "done": -1}
        assert (await b.post(f"/jobs/{taken.id}/retry")).status_code == 409
        assert await job_statuses("sync_part") == ["doing"]
        await manager.finish_job_by_id_async(taken.id, Status.SUCCEEDED, delete_job=True)
        await manager.unregister_worker(taker)

        # Pausing takes the queued preview jobs off the queue (procrastinate's cancel)...
        assert (await b.post("/jobs/previews/pause")).status_code == 303
        page = (await b.get("/jobs")).text
        assert counts(page, "derive_media")["queued"] == 0
        assert await job_statuses("derive_media") == ["cancelled", "cancelled"]
        # ...and a sync ending meanwhile queues none.
        assert await media_jobs.queue_media(admin_app.state["runtime"].settings) == 0
        assert await job_statuses("derive_media") == ["cancelled", "cancelled"]
        assert 'data-previews="paused"' in page and "<strong data-backlog>4</strong>" in page
        # A preview job that failed is not retried while paused; resumed, it is.
        failed = await queue.app.configure_task("derive_media").defer_async()
        taker = await manager.register_worker()
        assert (await manager.fetch_job(None, taker)).id == failed  # type: ignore[union-attr]
        await manager.finish_job_by_id_async(failed, Status.FAILED, delete_job=False)
        await manager.unregister_worker(taker)
        assert counts((await b.get("/jobs")).text, "derive_media")["failed"] == 1
        assert (await b.post(f"/jobs/{failed}/retry")).status_code == 409
        assert await status_of(failed) == "failed"
        # Resuming queues jobs for the backlog again.
        assert (await b.post("/jobs/previews/resume")).status_code == 303
        assert counts((await b.get("/jobs")).text, "derive_media")["queued"] >= 1
        assert (await b.post(f"/jobs/{failed}/retry")).status_code == 303
        assert await status_of(failed) == "todo"

        async with worker(admin_app):
            await eventually(backlog, 0)
            await eventually(lambda: job_statuses("derive_media"), ["cancelled", "cancelled"])
        page = (await b.get("/jobs")).text
    assert counts(page, "derive_media") == {"queued": 0, "running": 0, "failed": 0, "done": 4}
    assert counts(page, "sync_part") == {"queued": 0, "running": 0, "failed": 0, "done": -1}
    assert await audited("previews_paused") == ["previews"]
    assert await audited("previews_resumed") == ["previews"]


async def test_a_failed_job_shows_its_reason_and_retry_runs_it_again(
    signed_in: Browser, bucket: Bucket
) -> None:
    b = signed_in
    # A bulk activation job (as older versions queued them) of a model not staged yet.
    job_id = await queue.app.configure_task("activate").defer_async(names=["Ghost"])
    await eventually(lambda: job_statuses("activate"), ["failed"])
    page = (await b.get("/jobs")).text
    assert counts(page, "activate")["failed"] == 1
    failure = page.split(f'<tr data-job="{job_id}">', 1)[1].split("</tr>", 1)[0]
    assert "no staged model named &#39;Ghost&#39;; sync the bucket or check the name." in failure
    assert f'action="/jobs/{job_id}/retry"' in failure and "Retry" in failure
    assert '<td class="num" data-label="Runs">1</td>' in failure

    await bucket.put("Ghost/P1/a.jpg")
    await bucket.sync()  # now it is staged: the same job succeeds
    answer = await b.post(f"/jobs/{job_id}/retry", htmx=True)
    assert answer.status_code == 200 and 'id="jobs-board"' in answer.text
    await eventually(lambda: job_statuses("activate"), [])  # succeeded: deleted by the worker
    assert await Model.exists().where(Model.name == "Ghost")
    page = (await b.get("/jobs")).text
    assert f'data-job="{job_id}"' not in page and "No failed jobs." in page
    assert await audited("job_retried") == [f"job #{job_id}"]
    assert await audited("job_failed") == [f"job #{job_id}"]
    # Gone now: retrying it again is a 404, not a second run.
    assert (await b.post(f"/jobs/{job_id}/retry")).status_code == 404


async def test_pause_keeps_the_backlog_and_resume_drains_it(
    signed_in: Browser, bucket: Bucket
) -> None:
    b = signed_in
    assert (await b.post("/jobs/previews/pause", htmx=True)).status_code == 200
    assert await pause.is_paused()
    await bucket.put(*IMAGES)
    run = await b.sync_now()  # through the worker, which queues previews after a sync
    assert run.status == "succeeded", run
    await queue.defer_many(
        "derive_media", 1
    )  # one queued meanwhile (a race with the pause): it takes nothing
    await eventually(lambda: job_statuses("derive_media"), [])
    for _ in range(20):  # two seconds: a preview job would have claimed media by then
        assert await backlog() == 4
        await asyncio.sleep(0.1)
    page = (await b.get("/jobs")).text
    assert 'data-previews="paused"' in page and "<strong data-backlog>4</strong>" in page
    assert "Resume previews" in page

    answer = await b.post("/jobs/previews/resume", htmx=True)
    assert answer.status_code == 200 and "Pause previews" in answer.text
    await eventually(backlog, 0)
    assert not await pause.is_paused()


async def test_signed_out_goes_to_sign_in_and_changes_nothing(admin_app: Any) -> None:
    async with browser(admin_app) as b:
        page = await b.get("/jobs")
        assert page.status_code == 303 and page.headers["location"] == "/login?next=%2Fjobs"
        partial = await b.get("/jobs", headers={"HX-Request": "true"})
        assert partial.headers.get("HX-Redirect", "").startswith("/login")
        for path in ("/jobs/previews/pause", "/jobs/1/retry"):
            answer = await b.post(path, csrf=False)
            assert answer.status_code == 303, (path, answer.status_code)
            assert answer.headers["location"].startswith("/login?next=%2Fjobs%2F"), path
    assert not await pause.is_paused()


async def test_posts_without_a_csrf_token_are_refused(signed_in: Browser) -> None:
    b = signed_in
    for path in ("/jobs/previews/pause", "/jobs/previews/resume", "/jobs/1/retry"):
        assert (await b.post(path, csrf=False)).status_code == 403, path
    assert not await pause.is_paused()
    assert await audited("previews_paused") == []


async def test_two_admins_pausing_at_once_get_one_pause_and_one_409(admin_app: Any) -> None:
    """The switch flips only from the other position: of two pauses sent together one wins,
    the other is told it is paused already, and the audit log says paused once. The switch
    is its own row: clearing the audit log does not resume the previews."""
    async with browser(admin_app) as ann, browser(admin_app) as bob:
        await ann.sign_in()
        await bob.sign_in()
        for _ in range(3):
            answers = await asyncio.gather(
                ann.post("/jobs/previews/pause"), bob.post("/jobs/previews/pause")
            )
            assert sorted(a.status_code for a in answers) == [303, 409], answers
            await rows("DELETE FROM audit_log RETURNING id")
            assert await pause.is_paused()
            answers = await asyncio.gather(
                ann.post("/jobs/previews/resume"), bob.post("/jobs/previews/resume")
            )
            assert sorted(a.status_code for a in answers) == [303, 409], answers
            assert await audited("previews_resumed") == ["previews"]
            assert await audited("previews_paused") == []
            assert not await pause.is_paused()
