"""Process-wide services (database, S3, job queue), shared by the web app, workers and the CLI.

The web process defers jobs and signs URLs; workers run the jobs (see domain/jobs.py).
"""

from __future__ import annotations

import asyncio
import gc
import logging
import math
from typing import Any

from piccolo.apps.user.tables import BaseUser
from piccolo.engine import PostgresEngine

from domain.accounts import audit
from domain.catalogue import run_handle, runs, schedule
from domain.catalogue.begin import RunRequest, begin, skip
from domain.catalogue.confirm import confirm, confirm_request
from domain.catalogue.sync import SyncOptions, run_sync, work_parts
from domain.jobs import failures, previews
from domain.media import derive
from domain.media import store as media_store
from domain.platform import db, jobs
from domain.platform.embedded_pg import database_url
from domain.platform.embedded_s3 import running_demo_s3
from domain.platform.s3 import S3Service
from domain.platform.settings import S3Settings, Settings
from domain.staging import activation, bulk

log = logging.getLogger("creatorflix")
DEMO_USER, DEMO_PASSWORD = "admin", "creatorflix-demo"


class Runtime:
    """Start with `await runtime.start()`; every failure there names what is unreachable."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.engine: PostgresEngine | None = None
        self.s3_settings: S3Settings | None = settings.s3
        self._s3: S3Service | None = None
        self.demo_login: tuple[str, str] | None = None
        self.name = runs.this_process()

    @property
    def s3(self) -> S3Service:
        if self._s3 is None:
            raise RuntimeError("Runtime.start() has not run")
        return self._s3

    async def start(self, *, migrate: bool = True, pool_size: int = 16, s3: bool = True) -> None:
        """Database (embedded when DATABASE_URL is unset), migrations, queue, S3 client."""
        url = database_url(self.settings)
        self.engine = db.make_engine(url)
        db.install_engine(self.engine)
        await db.start(self.engine, pool_size=pool_size)
        try:
            if migrate:
                await db.migrate()
            await jobs.connect(url).open_async()
            if s3 and self.s3_settings is None:
                self.s3_settings = running_demo_s3(self.settings)
            if s3:
                assert self.s3_settings is not None
                self._s3 = S3Service(self.s3_settings, ttl=self.settings.signed_url_ttl)
                await self._s3.__aenter__()
                await self._s3.check()
        except BaseException:
            await self.stop()
            raise
        if self.settings.demo and migrate:
            self.demo_login = await ensure_demo_admin()
        freeze_startup_heap()

    async def stop(self) -> None:
        if self._s3 is not None:
            await self._s3.__aexit__(None, None, None)
            self._s3 = None
        await jobs.queue.close_async()
        if self.engine is not None:
            await db.stop(self.engine)

    def sync_options(self, model: str | None = None, **overrides: Any) -> SyncOptions:
        assert self.s3_settings is not None
        return SyncOptions(
            public_base=self.s3_settings.public_base,
            model=model,
            concurrency=self.settings.sync_concurrency,
            max_delete_fraction=self.settings.sync_max_delete_fraction,
            parts=self.settings.sync_parts,
            **overrides,
        )

    # The web side: record a run and hand it to the workers.

    async def start_sync(
        self,
        model: str | None,
        triggered_by: str,
        *,
        allow_mass_delete: bool = False,
        dry_run: bool = False,
    ) -> int:
        """Queue a sync; raises SyncBusy naming the run already queued or going."""
        request = RunRequest(model or "all", triggered_by, dry_run=dry_run)
        return await begin(
            request,
            lambda run_id: jobs.defer_run("sync", run_id, allow_mass_delete=allow_mass_delete),
        )

    async def start_confirm(self, held_run: int, actor: str) -> int:
        """Queue the confirmation of a held plan as a run of its own."""
        request = await confirm_request(held_run, actor)
        return await begin(
            request, lambda run_id: jobs.defer_run("confirm", run_id, confirms=held_run)
        )

    async def start_activation(
        self, selection: bulk.Selection, actor: str, ip: str
    ) -> tuple[bulk.BulkActivation, bool]:
        """Fix the selection into a recorded bulk activation and queue its job, and True; or
        the one of the same selection already queued or running, and False."""
        job, new = await bulk.record(selection, actor, ip)
        if not new:
            return job, False
        try:
            await bulk.set_job(job.id, await jobs.defer_activation(job.id))
        except Exception as exc:
            await bulk.fail(job.id, f"the job queue refused it: {exc}")
            raise RuntimeError(f"could not queue bulk activation #{job.id}: {exc}") from exc
        return job, True

    async def cancel(self, run_id: int) -> str | None:
        before = await runs.request_cancel(run_id)
        run = await runs.get(run_id)
        # Only a queued job is taken off the queue. A running one stops by itself at its next
        # model (it sees cancel_requested); aborting it would cancel its task mid-model, and
        # the run would end "failed".
        if before == "queued" and run and run.job_id:
            await jobs.abort(int(run.job_id))
        return before

    # The worker side: the jobs' bodies.

    async def run_queued_sync(self, run_id: int, allow_mass_delete: bool, worker: str) -> None:
        handle = await run_handle.claim(run_id, worker)
        if handle is None:
            log.info("sync run #%s is no longer waiting; nothing to do", run_id)
            return
        run = await runs.get(run_id)
        assert run is not None
        options = self.sync_options(
            _model_of(run),
            dry_run=run.dry_run,
            allow_mass_delete=allow_mass_delete,
            triggered_by=run.triggered_by,
        )
        result = await run_sync(self.s3, options, handle, spread=jobs.defer_helpers, owner=worker)
        if not options.dry_run:
            await self.queue_media()
        await audit.record(
            options.triggered_by,
            "sync_finished",
            result.scope,
            f"run #{result.id}: {result.status}",
        )

    async def help_sync(self, run_id: int, worker: str) -> None:
        run = await runs.get(run_id)
        if run is None or run.status != "running":
            return
        cancelled = asyncio.Event()  # set by the parts' heartbeats when an admin cancels
        await work_parts(self.s3, self.sync_options(_model_of(run)), run_id, worker, cancelled)

    async def run_queued_confirm(self, run_id: int, confirms: int, worker: str) -> None:
        handle = await run_handle.claim(run_id, worker)
        if handle is None:
            return
        run = await runs.get(run_id)
        assert run is not None
        try:
            await confirm(
                self.s3, confirms, run.triggered_by, self.sync_options().public_base, handle
            )
        except (LookupError, RuntimeError) as exc:  # recorded on the run by confirm()
            log.info("confirmation run #%s: %s", run_id, exc)
        await self.queue_media()  # deleted media leave derivatives to delete

    async def queue_media(self) -> int:
        """After a sync's writes are committed: media jobs for new and changed media (and
        derivatives whose source is gone), enough to keep every live worker busy but for one
        slot each, so a sync queued meanwhile starts at once (MEDIA_PREVIEWS=off, or previews
        paused on the jobs page: none; resuming calls this again)."""
        if not self.settings.media_previews or await previews.is_paused():
            return 0
        pending, trash = await media_store.counts()
        if not pending and not trash:
            return 0
        workers = max(1, (await jobs.queue_state()).workers)
        slots = workers * max(1, self.settings.worker_concurrency - 1)
        count: int = min(math.ceil(pending / derive.BATCH), slots)
        await jobs.defer_media(max(1, count))
        log.info("media: %d waiting, %d stale derivatives: %d job(s) queued", pending, trash, count)
        return count

    async def derive_media(self, worker: str) -> None:
        if await previews.is_paused():  # queued before the pause: it takes no media
            log.info("media job on %s: previews are paused; nothing taken", worker)
            return
        stats = await derive.run(self.s3)
        log.info("media job on %s: %s", worker, stats)
        # Its time slice ended: a follow-up takes its place behind other jobs (none if paused).
        if stats.more and not await previews.is_paused():
            await jobs.defer_media(1)

    async def resume_previews(self, actor: str, ip: str) -> int:
        """Resume the previews paused on the jobs page: jobs for the backlog are queued again."""
        await previews.resume(actor, ip)
        return await self.queue_media()

    async def job_failed(self, job_id: int, task: str, worker: str, exc: BaseException) -> None:
        """A job raised: why, for the jobs page (the worker marks it failed)."""
        await failures.record(job_id, task, worker, exc)

    async def run_activation(
        self, bulk_id: int | None, names: list[str], all_new: bool, actor: str, ip: str
    ) -> None:
        if bulk_id is not None:
            await bulk.run(bulk_id)
            return
        # A job queued by an older version, before bulk activations were recorded.
        if all_new:
            result = await activation.activate_all_new()
        else:
            result = await activation.activate(names)
        await audit.record(
            actor,
            "activation",
            "all new models" if all_new else ", ".join(names)[:500],
            result.summary(),
            ip,
        )

    async def schedule_tick(self) -> None:
        due = await schedule.take_due_tick()
        if due is None:
            return
        try:
            run_id = await self.start_sync(None, "schedule")
            log.info("scheduled sync: run #%s queued (%s)", run_id, due)
        except runs.SyncBusy as busy:
            held = busy.run.id if busy.run else "?"
            await skip(
                "all", "schedule", f"scheduled sync skipped: sync run #{held} was still going"
            )


def freeze_startup_heap() -> None:
    """Put what start-up left alive (modules, tables, the app: about 140,000 objects) out of the
    garbage collector's reach. Each full pass walked all of it with the event loop held: up to
    117 ms at a time in a first sync (bench/loop_lag.py)."""
    gc.collect()
    gc.freeze()


def _model_of(run: runs.SyncRun) -> str | None:
    """The one model a run syncs, or None for the whole bucket."""
    return None if run.scope == "all" else run.scope


async def ensure_demo_admin() -> tuple[str, str]:
    """The demo admin for the zero-configuration mode (embedded S3 and PostgreSQL only)."""
    exists = await BaseUser.exists().where(BaseUser.username == DEMO_USER)
    if not exists:
        await BaseUser.create_user(
            username=DEMO_USER,
            password=DEMO_PASSWORD,
            email="admin@example.com",
            active=True,
            admin=True,
            superuser=True,  # manages the admins page
        )
    return DEMO_USER, DEMO_PASSWORD
