"""The job queue with real processes: worker and web processes started, SIGKILLed and reaped.

Workers list the bucket through a proxy that delays every listing request (tests/fault_proxy.py),
so a sync lasts long enough to interrupt. Each test checks what an admin would see: the run's
status and ledger, the answer of the web, and staged tables equal to the bucket (tests/oracle.py).
"""

from __future__ import annotations

import asyncio
import json
import os
from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from domain.catalogue import jobs as catalogue_jobs
from domain.catalogue import run_handle, runs
from domain.catalogue.begin import RunRequest, begin, begin_here
from domain.catalogue.runs import Run
from domain.platform.db import now
from domain.platform.settings import S3Settings
from tests.conftest import Bucket, cli_env, count, rows
from tests.fault_proxy import FaultProxy, Rule, listing
from tests.oracle import expected
from tests.processes import Processes, run_cli
from tests.served import one_error_line
from tests.test_convergence import staged
from tests.web import Browser, admin, browser, running_app

SECRET = "w" * 64  # shared by the web processes, as in a deployment with two of them
LISTING_DELAY = 0.3  # seconds per listing request; pages of 3 keys: one model a request


def keys_for(models: int) -> list[str]:
    return [
        key
        for i in range(models)
        for key in (f"M{i:02d}/P0/a.jpg", f"M{i:02d}/P0/b.mp4", f"M{i:02d}/P1/c.png")
    ]


@pytest.fixture
async def proxy(bucket: Bucket) -> AsyncIterator[FaultProxy]:
    """A proxy in front of moto that slows down every listing request."""
    proxy = await FaultProxy(bucket.s3.settings.endpoint).start()
    proxy.rules = [Rule(listing(), 0, delay=LISTING_DELAY)]
    proxy.page_size = 3
    yield proxy
    await proxy.stop()


@pytest.fixture
def procs(proxy: FaultProxy, procs: Processes) -> Processes:
    """conftest's processes, started after the fault proxy and stopped before it."""
    return procs


def slow_s3(bucket: Bucket, proxy: FaultProxy) -> S3Settings:
    return replace(bucket.s3.settings, endpoint=proxy.endpoint)


def app_env(s3: S3Settings, **extra: str) -> dict[str, str]:
    """cli_env plus the CDN: every process builds the same media URLs, whatever its endpoint."""
    assert s3.cdn_url
    return cli_env(s3, DO_SPACES_CDN_URL=s3.cdn_url, **extra)


def worker_env(bucket: Bucket, proxy: FaultProxy, **extra: str) -> dict[str, str]:
    """One model at a time, through the slow proxy: a sync of N models takes N x 0.3 s."""
    return app_env(slow_s3(bucket, proxy), SYNC_CONCURRENCY="1", **extra)


def web_env(bucket: Bucket) -> dict[str, str]:
    return app_env(bucket.s3.settings, SECRET_KEY=SECRET)


async def run_of(run_id: int) -> Run:
    run = await runs.get(run_id)
    assert run is not None, f"run #{run_id} is gone"
    return run


async def finished(procs: Processes, run_id: int, timeout: float, **kw: Any) -> Run:
    async def probe() -> Run | None:
        run = await run_of(run_id)
        return run if run.status not in runs.ACTIVE else None

    return await procs.wait_for(probe, f"run #{run_id} to finish", timeout, **kw)


async def running_with(procs: Processes, run_id: int, models_done: int, timeout: float = 60) -> Run:
    """Wait until the run is running and at least `models_done` models are done."""

    async def probe() -> Run | None:
        run = await run_of(run_id)
        assert run.status in runs.ACTIVE, f"run #{run_id} ended early: {run}"
        ok = run.status == "running" and run.models_done >= models_done
        return run if ok else None

    return await procs.wait_for(probe, f"run #{run_id} running, {models_done} models", timeout)


def texts(run: Run) -> list[str]:
    return [e["text"] for e in run.events]


async def signed_in(client: httpx.AsyncClient) -> Browser:
    b = Browser(client)
    response = await b.sign_in()
    assert response.status_code == 303, response.text
    return b


def run_id_of(response: httpx.Response) -> int:
    assert response.status_code == 200, response.text
    return int(response.text.split('data-run="')[1].split('"')[0])


def http(url: str) -> httpx.AsyncClient:
    return httpx.AsyncClient(base_url=url, follow_redirects=False, timeout=30, verify=False)


@pytest.mark.timeout(240)  # its waits (60 s, then 150 s) end first and say what did not happen
async def test_worker_killed_mid_sync_another_takes_over(
    bucket: Bucket, proxy: FaultProxy, procs: Processes, queue: None
) -> None:
    keys = keys_for(60)  # three parts of 20 models (parts.MIN_FOLDERS is 25)
    await bucket.put(*keys)
    env = worker_env(bucket, proxy, SYNC_PARTS="3", WORKER_CONCURRENCY="2")
    workers = {name: procs.worker(name, env) for name in ("A", "B")}
    await procs.workers_registered(2)
    run_id = await begin(
        RunRequest("all", "test"), lambda run: catalogue_jobs.defer_run("sync", run)
    )
    await running_with(procs, run_id, models_done=3)
    started = [t for t in texts(await run_of(run_id)) if t.startswith("started on ")]
    victim = started[0].removeprefix("started on ")
    survivor = "B" if victim == "A" else "A"
    workers[victim].kill()
    assert await workers[victim].wait(10) == -9

    run = await finished(procs, run_id, timeout=150, alive=(workers[survivor],))
    ledger = texts(run)
    assert run.status == "succeeded", (run.error, ledger)
    assert f"resumed on {survivor}: the worker running it stopped" in ledger, ledger
    assert any(f"taken over by {survivor} from {victim}" in t for t in ledger), ledger
    assert ledger[-1] == "ended succeeded"
    # Every model counted once. (What the killed worker wrote before it died is not in
    # models_inserted: the part's counters restart with its new owner, which finds those
    # models already written and leaves them.)
    assert (run.models_total, run.models_done) == (60, 60), run
    assert await staged() == expected(keys)  # every model whole, none half-written
    assert await count("sync_runs") == 1


async def test_web_killed_mid_sync_the_worker_finishes(
    bucket: Bucket, proxy: FaultProxy, procs: Processes
) -> None:
    keys = keys_for(8)
    await bucket.put(*keys)
    await admin()
    web = procs.web("web", web_env(bucket))
    worker = procs.worker("W", worker_env(bucket, proxy, SYNC_PARTS="1"))
    await procs.web_ready(web)
    await procs.workers_registered(1)
    async with http(web.url) as client:
        b = await signed_in(client)
        run_id = run_id_of(await b.post("/sync", {}, htmx=True))
    await running_with(procs, run_id, models_done=1)
    web.kill()
    assert await web.wait(10) == -9

    run = await finished(procs, run_id, timeout=90, alive=(worker,))
    assert run.status == "succeeded", (run.error, texts(run))
    assert texts(run)[:2] == ["queued by tester", "started on W"]
    assert run.models_inserted == 8
    assert await staged() == expected(keys)


async def test_two_webs_two_workers_one_run(
    bucket: Bucket, proxy: FaultProxy, procs: Processes
) -> None:
    keys = keys_for(8)
    await bucket.put(*keys)
    await admin()
    webs = [procs.web(f"web{i}", web_env(bucket)) for i in (1, 2)]
    env = worker_env(bucket, proxy, SYNC_PARTS="1")
    workers = [procs.worker(name, env) for name in ("A", "B")]
    for web in webs:
        await procs.web_ready(web)
    await procs.workers_registered(2)
    async with http(webs[0].url) as one, http(webs[1].url) as two:
        browsers = [await signed_in(one), await signed_in(two)]
        answers = await asyncio.gather(*(b.post("/sync", {}, htmx=True) for b in browsers))
    ids = [run_id_of(a) for a in answers]
    toasts = [a.headers["hx-trigger-after-settle"] for a in answers]
    assert ids[0] == ids[1], toasts
    assert sum("already" in t for t in toasts) == 1, toasts
    assert sum("queued" in t and "already" not in t for t in toasts) == 1, toasts

    run = await finished(procs, ids[0], timeout=90, alive=tuple(workers))
    assert run.status == "succeeded", (run.error, texts(run))
    assert await count("sync_runs") == 1
    assert await staged() == expected(keys)


async def test_schedule_starts_a_run_or_records_a_skip(
    settings: Any, bucket: Bucket, proxy: FaultProxy, procs: Processes, pg_engine: Any
) -> None:
    keys = keys_for(2)
    await bucket.put(*keys)
    await admin()
    worker = procs.worker("W", worker_env(bucket, proxy))
    async with running_app(settings, bucket, pg_engine, worker=False) as app, browser(app) as b:
        await b.sign_in()
        bad = await b.post("/sync-schedule", {"schedule": "sometimes"}, htmx=True)
        assert bad.status_code == 400 and 'aria-invalid="true"' in bad.text, bad.text
        assert "schedule=&#39;sometimes&#39;" in bad.text, bad.text  # the message, at its field
        saved = await b.post("/sync-schedule", {"schedule": "every 1m"})
        assert saved.status_code == 303
        page = (await b.get("/")).text
        assert 'value="every 1m"' in page and "Next run:" in page
        await procs.workers_registered(1)

        await rows("UPDATE sync_schedule SET updated_at = $1", now() - timedelta(minutes=2))
        scheduled = await procs.wait_for(
            lambda: rows("SELECT id FROM sync_runs WHERE triggered_by = 'schedule'"),
            "a scheduled run",
            timeout=60,
            alive=(worker,),
        )
        run = await finished(procs, scheduled[0]["id"], timeout=60, alive=(worker,))
        assert run.status == "succeeded", (run.error, texts(run))
        assert await staged() == expected(keys)

        held = await begin_here(RunRequest("all", "someone"), "the test")
        try:
            await rows("UPDATE sync_schedule SET last_tick_at = $1", now() - timedelta(minutes=2))
            skipped = await procs.wait_for(
                lambda: rows("SELECT * FROM sync_runs WHERE status = 'skipped'"),
                "a skipped scheduled run",
                timeout=60,
                alive=(worker,),
            )
        finally:
            await run_handle.finish(held, "cancelled", "released by the test")
        assert skipped[0]["triggered_by"] == "schedule"
        assert f"sync run #{held.id} was still going" in skipped[0]["error"]
        assert "skipped" in (await b.get("/sync-runs")).text
    statuses = [r["status"] for r in await rows("SELECT status FROM sync_runs ORDER BY id")]
    assert statuses == ["succeeded", "cancelled", "skipped"]  # one tick, one skip: no more


async def test_cli_enqueue_then_worker_and_foreground_sync(
    bucket: Bucket, proxy: FaultProxy, procs: Processes
) -> None:
    keys = keys_for(3)
    await bucket.put(*keys)
    env = app_env(bucket.s3.settings)
    queued = await run_cli(["sync", "--enqueue", "--json"], env)
    assert queued.returncode == 0, queued.stderr
    printed = json.loads(queued.stdout.strip().splitlines()[-1])
    assert (printed["status"], printed["scope"]) == ("queued", "all")
    worker = procs.worker("W", worker_env(bucket, proxy))
    run = await finished(procs, printed["id"], timeout=90, alive=(worker,))
    assert run.status == "succeeded", (run.error, texts(run))
    assert "started on W" in texts(run)
    assert await staged() == expected(keys)

    await bucket.put("New/P/n.jpg")
    here = await run_cli(["sync", "--json"], env)
    assert here.returncode == 0, here.stderr
    stats = json.loads(here.stdout.strip().splitlines()[-1])
    assert stats["status"] == "succeeded"
    assert (stats["models_inserted"], stats["media_inserted"], stats["models_updated"]) == (1, 1, 0)
    assert await staged() == expected([*keys, "New/P/n.jpg"])


async def test_demo_mode_cli_without_the_app_refuses(database: Any, tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("DO_SPACES_")}
    env.update(DATABASE_URL=os.environ["TEST_DATABASE_URL"], DATA_DIR=str(tmp_path))
    refused = await run_cli(["sync"], env)
    line = one_error_line(refused)  # exit non-zero, one `error: ...` line, no traceback
    assert "`make run`" in line and "DO_SPACES_BUCKET" in line
    assert await count("sync_runs") == 0


async def test_cancel_queued_and_running_runs(
    settings: Any, bucket: Bucket, proxy: FaultProxy, procs: Processes, pg_engine: Any
) -> None:
    keys = keys_for(20)  # 6 s or more at one model at a time: cancelled long before its end
    await bucket.put(*keys)
    await admin()
    async with running_app(settings, bucket, pg_engine, worker=False) as app, browser(app) as b:
        await b.sign_in()
        first = run_id_of(await b.post("/sync", {}, htmx=True))  # no worker yet: it waits
        assert (await run_of(first)).status == "queued"
        cancel = await b.post(f"/sync-runs/{first}/cancel", {}, htmx=True)
        assert "cancelled before it started" in cancel.headers["hx-trigger-after-settle"]
        run = await run_of(first)
        assert (run.status, run.error) == ("cancelled", "cancelled before it started")

        worker = procs.worker("W", worker_env(bucket, proxy, SYNC_PARTS="1"))
        await procs.workers_registered(1)
        second = run_id_of(await b.post("/sync", {}, htmx=True))
        assert second != first
        await running_with(procs, second, models_done=1)
        stop = await b.post(f"/sync-runs/{second}/cancel", {}, htmx=True)
        assert "Cancelling sync" in stop.headers["hx-trigger-after-settle"]
        run = await finished(procs, second, timeout=60, alive=(worker,))
        assert run.status == "cancelled", (run.error, texts(run))
        assert "cancelled by an admin" in run.error
        page = (await b.get(f"/sync-runs/{second}")).text
        assert 'data-status="cancelled"' in page

    kept = await staged()
    assert 1 <= len(kept) < 20  # the finished models were kept...
    want = expected(keys)
    assert all(kept[name] == want[name] for name in kept)  # ...each one whole
    first_run = await run_of(first)
    assert first_run.status == "cancelled"
    assert not any(t.startswith("started on") for t in texts(first_run))
    job = await rows(
        "SELECT status::text AS status FROM procrastinate_jobs WHERE id = $1", first_run.job_id
    )
    assert job == [{"status": "cancelled"}]  # taken off the queue, not left for a worker
    assert worker.alive
