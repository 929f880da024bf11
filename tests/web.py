"""Helpers for controller tests: the real app over httpx.ASGITransport, signed in or not."""

from __future__ import annotations

import asyncio
import contextlib
import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import replace
from typing import Any

import httpx
from piccolo.engine import Engine

from app import create_app
from domain import tasks
from domain.catalogue import runs
from domain.platform import db
from domain.platform.settings import Settings
from tests.conftest import TEARDOWN_TIMEOUT_S, Bucket, seed_admin

PASSWORD = "correct-horse-42"
CSRF = re.compile(r'name="_csrf_token" value="([^"]+)"')


class Browser:
    """An httpx client with a cookie jar that knows the page's CSRF token."""

    def __init__(self, client: httpx.AsyncClient) -> None:
        self.client = client
        self.token = ""

    async def get(self, url: str, **kw: Any) -> httpx.Response:
        response = await self.client.get(url, **kw)
        if match := CSRF.search(response.text):
            self.token = match.group(1)
        return response

    async def post(
        self,
        url: str,
        data: dict[str, Any] | None = None,
        *,
        htmx: bool = False,
        csrf: bool = True,
        **kw: Any,
    ) -> httpx.Response:
        if not self.token:
            await self.get("/login")
        headers = dict(kw.pop("headers", {}))
        if htmx:
            headers["HX-Request"] = "true"
        form = dict(data or {})
        if csrf:
            form["_csrf_token"] = self.token
        return await self.client.post(url, data=form, headers=headers, **kw)

    async def sign_in(self, username: str = "tester", password: str = PASSWORD) -> httpx.Response:
        await self.get("/login")
        response = await self.post(
            "/login", {"username": username, "password": password, "next": "/"}
        )
        await self.get("/")  # a page with a token for the next posts
        return response

    async def sync_now(self, timeout: float = 60) -> runs.Run:
        """ "Sync now", as the dashboard's button sends it; the run as it ended."""
        response = await self.post("/sync", {}, htmx=True)
        assert response.status_code == 200, response.text
        run_id = int(response.text.split('data-run="')[1].split('"')[0])
        return await self.wait_for_run(run_id, timeout=timeout)

    async def wait_for_run(self, run_id: int, timeout: float = 30) -> runs.Run:
        for _ in range(int(timeout * 20)):
            run = await runs.get(run_id)
            if run and run.status not in runs.ACTIVE:
                return run
            await asyncio.sleep(0.05)
        raise AssertionError(f"run {run_id} did not finish")


@asynccontextmanager
async def running_app(
    settings: Settings, bucket: Bucket, pg_engine: Engine, *, worker: bool = True
) -> AsyncIterator[Any]:
    """The app with its lifespan entered and exited inside one task of its own.

    With `worker`, procrastinate's worker runs the app's jobs in this process too (the tests of
    real worker processes, killed and restarted, are in tests/test_workers.py).
    """
    app = create_app(replace(settings, s3=bucket.s3.settings))
    started, stop = asyncio.Event(), asyncio.Event()

    async def serve() -> None:
        async with app.lifespan():
            runner = None
            if worker:
                runtime = app.state["runtime"]
                runner = asyncio.create_task(
                    tasks.run_worker(runtime, "test-worker", 4, signals=False)
                )
            started.set()
            await stop.wait()
            if runner is not None:
                runner.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await asyncio.wait_for(runner, 10)

    task = asyncio.create_task(serve())
    await asyncio.wait(
        [task, asyncio.create_task(started.wait())], return_when=asyncio.FIRST_COMPLETED
    )
    if task.done():
        task.result()
    try:
        yield app
    finally:
        stop.set()
        try:  # the app's shutdown (background syncs, its pool) must end, or the test fails
            await asyncio.wait_for(task, TEARDOWN_TIMEOUT_S)
        finally:
            db.install_engine(pg_engine)


@asynccontextmanager
async def browser(app: Any) -> AsyncIterator[Browser]:
    transport = httpx.ASGITransport(app=app, client=("203.0.113.7", 50000))
    async with httpx.AsyncClient(
        transport=transport, base_url="http://testserver", follow_redirects=False
    ) as client:
        yield Browser(client)


async def admin(username: str = "tester") -> None:
    await seed_admin(username, f"{username}@example.com", PASSWORD)
