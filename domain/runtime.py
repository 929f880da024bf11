"""Process-wide services (database, S3, background syncs), shared by the web app and the CLI."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from piccolo.apps.user.tables import BaseUser

from domain import audit, db, runs
from domain.demo import fill_bucket
from domain.embedded_s3 import EmbeddedS3
from domain.s3 import S3Service
from domain.settings import S3Settings, Settings
from domain.sync import SyncOptions, run_sync

log = logging.getLogger("creatorflix")
DEMO_USER, DEMO_PASSWORD = "admin", "creatorflix-demo"


class Runtime:
    """Start with `await runtime.start()`; every failure there names what is unreachable."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.engine = db.make_engine(settings)
        self.embedded: EmbeddedS3 | None = None
        self.s3_settings: S3Settings | None = settings.s3
        self._s3: S3Service | None = None
        self.tasks: set[asyncio.Task[Any]] = set()
        self.demo_login: tuple[str, str] | None = None

    @property
    def s3(self) -> S3Service:
        if self._s3 is None:
            raise RuntimeError("Runtime.start() has not run")
        return self._s3

    async def start(self, *, migrate: bool = True, demo_content: bool | None = None) -> None:
        db.install_engine(self.engine)
        await db.start(self.engine, self.settings)
        if migrate:
            await db.migrate()
        if self.s3_settings is None:
            self.embedded = EmbeddedS3()
            self.s3_settings = self.embedded.start()
        self._s3 = S3Service(self.s3_settings, ttl=self.settings.signed_url_ttl)
        await self._s3.__aenter__()
        if self.embedded is not None:
            await self._s3.create_bucket()
        await self._s3.check()
        fill = self.settings.demo if demo_content is None else demo_content
        if fill and self.embedded is not None:
            count = await fill_bucket(self._s3)
            log.info("embedded S3 filled with %d demo objects", count)
        if self.settings.demo and migrate:
            self.demo_login = await ensure_demo_admin()

    async def first_demo_sync(self) -> int | None:
        """In demo mode, stage the demo catalogue once so the dashboard is not empty."""
        if not self.settings.demo or await db.fetch("SELECT id FROM sync_runs LIMIT 1"):
            return None
        try:
            return await self.start_sync(None, "demo")
        except runs.SyncBusy:
            return None

    async def stop(self) -> None:
        for task in list(self.tasks):
            task.cancel()
        if self.tasks:
            await asyncio.gather(*self.tasks, return_exceptions=True)
        if self._s3 is not None:
            await self._s3.__aexit__(None, None, None)
            self._s3 = None
        if self.embedded is not None:
            self.embedded.stop()
        await db.stop(self.engine)

    def sync_options(self, model: str | None = None, **overrides: Any) -> SyncOptions:
        assert self.s3_settings is not None
        return SyncOptions(
            public_base=self.s3_settings.public_base,
            model=model,
            concurrency=self.settings.sync_concurrency,
            max_delete_fraction=self.settings.sync_max_delete_fraction,
            **overrides,
        )

    async def start_sync(self, model: str | None, triggered_by: str) -> int:
        """Start a sync in the background; raises SyncBusy naming the run already going."""
        options = self.sync_options(model, triggered_by=triggered_by)
        handle = await runs.begin(model or "all", triggered_by)
        task = asyncio.create_task(self._run_and_audit(options, handle))
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)
        return handle.id

    async def _run_and_audit(self, options: SyncOptions, handle: runs.RunHandle) -> None:
        run = await run_sync(self.s3, options, handle)
        await audit.record(
            options.triggered_by,
            "sync_finished",
            run["scope"],
            f"run #{run['id']}: {run['status']}",
        )


async def ensure_demo_admin() -> tuple[str, str]:
    """The demo admin for the zero-configuration mode (embedded S3 + SQLite only)."""
    exists = await BaseUser.exists().where(BaseUser.username == DEMO_USER)
    if not exists:
        await BaseUser.create_user(
            username=DEMO_USER,
            password=DEMO_PASSWORD,
            email="admin@example.com",
            active=True,
            admin=True,
        )
    return DEMO_USER, DEMO_PASSWORD
