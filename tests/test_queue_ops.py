"""Operating the queue: superseded plans, /metrics and the workers card, a worker without a
database. Through HTTP (the app with an in-process worker) and a real worker process."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from pathlib import Path
from typing import Any

import httpx

from domain.catalogue import runs
from domain.catalogue.runs import Run
from harness.app import start_worker
from harness.processes import stop_group
from tests.conftest import Bucket, cli_env, count
from tests.web import admin, browser, running_app

MODELS = ["Ann", "Bea", "Cid", "Dee", "Eve"]


def keys(models: list[str]) -> list[str]:
    return [f"{m}/P/{i}.jpg" for m in models for i in range(2)]


async def synced(b: Any) -> Run:
    response = await b.post("/sync", {}, htmx=True)
    assert response.status_code == 200, response.text
    return await b.wait_for_run(int(response.text.split('data-run="')[1].split('"')[0]))


async def test_a_newer_run_supersedes_a_held_plan_which_can_no_longer_be_confirmed(
    database: Any, bucket: Bucket, settings: Any, pg_engine: Any
) -> None:
    await bucket.put(*keys(MODELS))
    await admin()
    async with running_app(settings, bucket, pg_engine) as app, browser(app) as b:
        await b.sign_in()
        assert (await synced(b)).status == "succeeded"
        await bucket.delete(*keys(["Ann", "Bea"]))
        older = await synced(b)
        assert older.status == "needs_confirmation"
        await bucket.delete(*keys(["Cid"]))
        newer = await synced(b)  # the same scope, seen later: the older plan is out of date
        assert newer.status == "needs_confirmation"
        stale = await runs.get(older.id)
        assert stale is not None and stale.status == "superseded"
        assert stale.superseded_by == newer.id
        page = (await b.get(f"/sync-runs/{older.id}")).text
        assert "This plan is out of date" in page and "Confirm deletions" not in page
        assert f'href="/sync-runs/{newer.id}"' in page
        refused = await b.post(f"/sync-runs/{older.id}/confirm", {}, htmx=True)
        assert refused.status_code == 409
        assert f"superseded by run #{newer.id}" in refused.text
        assert await count("whitelabel_models") == len(MODELS)  # nothing was deleted
        assert (await runs.get(newer.id)).status == "needs_confirmation"  # type: ignore[union-attr]


async def test_metrics_are_for_admins_and_the_scraper_token_only(
    database: Any, bucket: Bucket, settings: Any, pg_engine: Any
) -> None:
    await bucket.put(*keys(["Ann"]))
    await admin()
    tokened = replace(settings, metrics_token="scrape-" + "m" * 32)
    async with running_app(tokened, bucket, pg_engine) as app, browser(app) as b:
        signed_out = await b.client.get("/metrics")
        assert signed_out.status_code == 303 and "/login" in signed_out.headers["location"]
        wrong = await b.client.get("/metrics", headers={"Authorization": "Bearer nope"})
        assert wrong.status_code == 303
        await b.sign_in()
        await synced(b)
        page = (await b.get("/")).text
        assert "Workers" in page and "job(s) queued" in page
        metrics = await b.client.get("/metrics")
        assert metrics.status_code == 200
        assert metrics.headers["content-type"].startswith("text/plain")
        text = metrics.text
        assert 'creatorflix_sync_runs{status="succeeded"} 1.0' in text
        assert "creatorflix_last_sync_keys_listed 2.0" in text
        assert 'creatorflix_jobs{state="queued"}' in text and "creatorflix_workers" in text
        assert "creatorflix_requests_total" in text  # request counts and latencies
    async with running_app(tokened, bucket, pg_engine, worker=False) as app:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as scraper:
            scraped = await scraper.get(
                "/metrics", headers={"Authorization": f"Bearer {tokened.metrics_token}"}
            )
            assert scraped.status_code == 200 and "creatorflix_sync_runs" in scraped.text
            assert (await scraper.get("/")).status_code == 303  # the token opens /metrics only


async def test_a_worker_without_its_database_waits_and_says_so(
    bucket: Bucket, tmp_path: Path
) -> None:
    env = cli_env(bucket.s3.settings, DATABASE_URL="postgresql://nobody@127.0.0.1:9/none")
    log = tmp_path / "worker.log"
    worker = await asyncio.to_thread(start_worker, "lonely", env, log, session=False)
    process = worker.popen
    try:
        text = ""
        deadline = asyncio.get_running_loop().time() + 40  # a worker at nice 19 on a busy box
        while text.count("retrying in") < 2 and asyncio.get_running_loop().time() < deadline:
            await asyncio.sleep(0.1)
            text = log.read_text(errors="replace")
        assert text.count("retrying in") >= 2, f"no second retry within 40 s; log:\n{text}"
        assert process.poll() is None, text  # still there, not crash-looping
        assert "worker lonely cannot start" in text and "127.0.0.1:9" in text, text
        assert "retrying in 1 s" in text and "retrying in 2 s" in text, text  # a backoff
        assert "Traceback" not in text
    finally:
        stop_group(process, 10, reap=5, sweep=False)
