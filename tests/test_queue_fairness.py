"""The job queue cannot be flooded (issue 21 item 8), through HTTP against the app: a bulk
activation asked for again while the first is queued answers with that one, and a sync queued
behind bulk activations and media jobs is the job a free worker takes first."""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator
from typing import Any

import pytest
from piccolo.engine import Engine

from domain.platform import queue
from domain.platform.settings import Settings
from tests.conftest import Bucket, rows
from tests.web import Browser, admin, browser, running_app

FLOOD = 40
WORKER_BOUND_S = 90


@pytest.fixture
async def app_without_worker(
    database: Any, bucket: Bucket, settings: Settings, pg_engine: Engine
) -> AsyncIterator[tuple[Any, Browser, Bucket]]:
    """The app, signed in, with no worker: what it queues stays queued until a test runs one."""
    await admin()
    names = [f"model-{i:02d}" for i in range(12)]
    await bucket.put(*(f"{n}/P1/a.jpg" for n in names))
    assert (await bucket.sync(allow_mass_delete=True)).status == "succeeded"
    async with (
        running_app(settings, bucket, pg_engine, worker=False) as app,
        browser(app) as b,
    ):
        await b.sign_in()
        yield app, b, bucket


def bulk_id(text: str) -> int:
    found = re.search(r'data-bulk="(\d+)"', text)
    assert found, text[:500]
    return int(found.group(1))


async def queued(task: str) -> list[dict[str, Any]]:
    return await rows(
        "SELECT id, priority, status::text AS status FROM procrastinate_jobs "
        "WHERE task_name = $1 ORDER BY id",
        task,
    )


@pytest.mark.timeout(120)
async def test_forty_rapid_bulk_activations_queue_one_job_and_all_answer_with_it(
    app_without_worker: tuple[Any, Browser, Bucket],
) -> None:
    _, b, _ = app_without_worker
    form = {"matching": "1", "q": "", "status": "new"}
    flood = [b.post("/staged/_bulk/activate", form, htmx=True) for _ in range(FLOOD)]
    answers = await asyncio.wait_for(asyncio.gather(*flood), 60)
    assert [r.status_code for r in answers] == [200] * FLOOD, [r.text[:200] for r in answers]
    ids = {bulk_id(r.text) for r in answers}
    assert len(ids) == 1, ids
    (the_one,) = ids
    assert len(await queued("activate")) == 1
    assert len(await rows("SELECT id FROM bulk_activations")) == 1
    repeats = [
        r for r in answers if "already queued" in r.headers.get("hx-trigger-after-settle", "")
    ]
    assert len(repeats) == FLOOD - 1, [r.headers.get("hx-trigger-after-settle") for r in answers]
    # A plain form post (no JavaScript) goes to the same job's progress page, as the first did.
    plain = await b.post("/staged/_bulk/activate", form)
    assert plain.status_code == 303, plain.text[:200]
    assert plain.headers["location"].endswith(f"?id={the_one}"), plain.headers["location"]
    # Another selection is another job; so is the same one once its job has left the queue.
    other = await b.post("/staged/_bulk/activate", {**form, "q": "model-0"}, htmx=True)
    assert bulk_id(other.text) != the_one
    (job,) = await rows("SELECT job_id FROM bulk_activations WHERE id = $1", the_one)
    await queue.abort(int(job["job_id"]))
    again = await b.post("/staged/_bulk/activate", form, htmx=True)
    assert again.status_code == 200, again.text[:200]
    assert bulk_id(again.text) not in (the_one, bulk_id(other.text))
    old = await rows("SELECT status, error FROM bulk_activations WHERE id = $1", the_one)
    assert old[0]["status"] == "failed" and "left the queue" in old[0]["error"], old


@pytest.mark.timeout(180)
async def test_a_sync_queued_after_bulk_and_media_jobs_has_the_highest_priority_and_runs_first(
    app_without_worker: tuple[Any, Browser, Bucket],
) -> None:
    app, b, _ = app_without_worker
    for i in range(10):  # ten different selections: ten jobs, queued first
        form = {"matching": "1", "q": f"model-{i:02d}", "status": "new"}
        response = await b.post("/staged/_bulk/activate", form, htmx=True)
        assert response.status_code == 200, response.text[:200]
    await queue.defer_many("derive_media", 3)
    started = await b.post("/sync", {}, htmx=True)
    assert started.status_code == 200, started.text[:300]
    (sync,) = await queued("sync")
    behind = await queued("activate") + await queued("derive_media")
    assert len(behind) == 13
    assert all(sync["id"] > job["id"] for job in behind)  # queued last...
    assert all(sync["priority"] > job["priority"] for job in behind), (sync, behind)  # ...first
    # A real worker, one job at a time, until the queue is empty: which did it start first?
    worker = queue.app.run_worker_async(
        name="fairness",
        concurrency=1,
        wait=False,
        additional_context={"runtime": app.state["runtime"], "name": "fairness"},
        delete_jobs="never",
        install_signal_handlers=False,
    )
    await asyncio.wait_for(worker, WORKER_BOUND_S)
    order = await rows(
        "SELECT j.task_name FROM procrastinate_events e JOIN procrastinate_jobs j "
        "ON j.id = e.job_id WHERE e.type = 'started' "
        "AND j.task_name IN ('sync', 'activate', 'derive_media') ORDER BY e.at, e.id"
    )
    tasks = [r["task_name"] for r in order]
    assert tasks[0] == "sync", tasks
    assert tasks.count("activate") == 10 and "derive_media" in tasks, tasks
    assert tasks.index("derive_media") > max(i for i, t in enumerate(tasks) if t == "activate")
