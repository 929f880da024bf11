"""`litestar sync | activate | demo-bucket | create-admin`: the operator's command line."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import sys
from collections.abc import Awaitable, Callable
from logging.handlers import QueueHandler
from typing import TypeVar

import click
from click import Group
from litestar import Litestar
from litestar.datastructures import State
from litestar.plugins import CLIPluginProtocol
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from domain.catalogue import jobs as catalogue_jobs
from domain.catalogue import runs
from domain.catalogue.begin import begin_here
from domain.catalogue.confirm import confirm
from domain.catalogue.runs import Run
from domain.catalogue.sync import SyncOptions, run_sync
from domain.media import jobs as media_jobs
from domain.platform.runtime import Runtime
from domain.platform.settings import Settings
from domain.staging import activation

T = TypeVar("T")
STAT_ROWS = ("models", "posts", "media")


def fail(message: str, code: int = 1) -> None:
    _flush_logs()
    click.echo(f"error: {message}", err=True)
    sys.exit(code)


def _flush_logs() -> None:
    """Litestar logs through a queue that a thread of its own writes out: the records still
    queued are written before the error, so that the error stays the last line on stderr."""
    for handler in logging.getLogger().handlers:
        listener = getattr(handler, "listener", None)
        thread = getattr(listener, "_thread", None)
        if isinstance(handler, QueueHandler) and thread is not None and thread.is_alive():
            handler.queue.join()  # type: ignore[attr-defined]  # a queue.Queue here


def with_runtime(app: Litestar, body: Callable[[Runtime], Awaitable[T]], *, s3: bool = True) -> T:
    """Start the services for one command, run it, and turn known failures into one line."""
    settings: Settings = app.state["settings"]
    logging.getLogger("piccolo").setLevel(logging.WARNING)  # errors stay one line

    async def main() -> T:
        runtime = Runtime(settings)
        try:
            await runtime.start(s3=s3)
            return await body(runtime)
        finally:
            await runtime.stop()

    try:
        return asyncio.run(main())
    # Settings and bad names (ValueError, LookupError); busy, database and S3 (RuntimeError).
    except (LookupError, ValueError, RuntimeError) as exc:
        fail(str(exc))
    raise AssertionError("unreachable")


def stats_table(run: Run) -> Table:
    table = Table(title=f"Sync run #{run.id}: {run.status}")
    table.add_column("")
    for col in ("inserted", "updated", "deleted"):
        table.add_column(col, justify="right")
    for row in STAT_ROWS:
        counts = (getattr(run, f"{row}_{c}") for c in ("inserted", "updated", "deleted"))
        table.add_row(row, *map(str, counts))
    table.caption = (
        f"{run.keys_listed} keys listed, {run.keys_ignored} ignored, {run.duration_s:.2f} s"
    )
    return table


def run_summary(run: Run) -> dict[str, object]:
    """The run as `--json` prints it (a JSON object: free-form by nature)."""
    out: dict[str, object] = {
        "id": run.id,
        "scope": run.scope,
        "status": run.status,
        "dry_run": run.dry_run,
        **run.counters(),
        "duration_s": run.duration_s,
        "error": run.error,
    }
    if run.plan:
        out["would_delete"] = run.plan["summary"]
    return out


async def _sync_with_progress(runtime: Runtime, options: SyncOptions, quiet: bool) -> Run:
    handle = await begin_here(options.run_request(), runtime.name)
    task = asyncio.create_task(run_sync(runtime.s3, options, handle, owner=runtime.name))
    if not quiet:
        console = Console(stderr=True)
        columns = (
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("{task.fields[keys]} keys"),
            TimeElapsedColumn(),
        )
        with Progress(*columns, console=console, transient=True) as bar:
            tid = bar.add_task("listing", total=None, keys=0)
            async for row in runs.subscribe(handle.id, interval=0.2):
                bar.update(
                    tid,
                    description=row.phase,
                    completed=row.models_done,
                    total=row.models_total or None,
                    keys=row.keys_listed,
                )
    return await task


# The commands this plugin adds: `litestar <one of these>` needs no web stack (operator_app).
COMMANDS = frozenset({"sync", "activate", "demo-bucket", "create-admin"})


def operator_app(settings: Settings) -> Litestar:
    """The app the `litestar` command line loads for COMMANDS: settings and these commands,
    without the web's controllers, templates and middleware (about a second of start-up)."""
    return Litestar(plugins=[CreatorFlixCLI()], state=State({"settings": settings}))


class CreatorFlixCLI(CLIPluginProtocol):
    def on_cli_init(self, cli: Group) -> None:
        @cli.command(name="sync", help="Sync the bucket into the staged tables.")
        @click.option("--model", default=None, help="Sync one model folder only.")
        @click.option("--dry-run", is_flag=True, help="Report what would change; write nothing.")
        @click.option(
            "--allow-mass-delete",
            is_flag=True,
            help="Apply deletions even above SYNC_MAX_DELETE_FRACTION.",
        )
        @click.option(
            "--confirm",
            "confirm_run",
            type=int,
            default=None,
            help="Apply the held-back deletions of a needs_confirmation run.",
        )
        @click.option("--json", "as_json", is_flag=True, help="Print the stats as one JSON object.")
        @click.option(
            "--enqueue", is_flag=True, help="Hand the sync to the workers instead of running it."
        )
        def sync_command(
            app: Litestar,
            model: str | None,
            dry_run: bool,
            allow_mass_delete: bool,
            confirm_run: int | None,
            as_json: bool,
            enqueue: bool,
        ) -> None:
            if enqueue and confirm_run is not None:
                fail("--enqueue and --confirm do not go together: confirm runs here.", 2)

            async def body(rt: Runtime) -> Run:
                if enqueue:
                    run_id = await catalogue_jobs.start_sync(
                        model, "cli", allow_mass_delete=allow_mass_delete, dry_run=dry_run
                    )
                    run = await runs.get(run_id)
                    assert run is not None
                    return run
                if confirm_run is not None:
                    done = await confirm(
                        rt.s3, confirm_run, "cli", catalogue_jobs.sync_options(rt).public_base
                    )
                    await media_jobs.queue_media(
                        rt.settings
                    )  # the workers make and delete previews
                    return done
                options = catalogue_jobs.sync_options(
                    rt, model, dry_run=dry_run, allow_mass_delete=allow_mass_delete
                )
                run = await _sync_with_progress(rt, options, quiet=as_json)
                if not dry_run:
                    await media_jobs.queue_media(rt.settings)
                return run

            run = with_runtime(app, body)
            if enqueue:
                if as_json:
                    click.echo(json.dumps(run_summary(run), default=str))
                else:
                    click.echo(f"sync run #{run.id} queued for the workers")
                return
            if as_json:
                click.echo(json.dumps(run_summary(run), default=str))
            else:
                Console().print(stats_table(run))
            if run.status == "needs_confirmation":
                fail(f"{run.error} Run `litestar sync --confirm {run.id}` to apply.", 3)
            if run.status != "succeeded":
                fail(run.error or f"sync ended {run.status}")
            if run.error:
                click.echo(f"note: {run.error}", err=True)

        @cli.command(name="activate", help="Activate staged models into production.")
        @click.option("--all-new", is_flag=True, help="Activate every staged model still new.")
        @click.argument("names", nargs=-1)
        def activate_command(app: Litestar, all_new: bool, names: tuple[str, ...]) -> None:
            if all_new == bool(names):
                fail("give either --all-new or one or more model names, not both or neither.", 2)

            async def body(rt: Runtime) -> activation.ActivationResult:
                if all_new:
                    return await activation.activate_all_new()
                return await activation.activate(list(names))

            result = with_runtime(app, body, s3=False)
            click.echo(
                f"activated {result.processed} model(s): {result.models_created} new, "
                f"{result.posts_created} posts created, {result.posts_updated} updated, "
                f"{result.posts_unpublished} unpublished"
            )

        @cli.command(name="demo-bucket", help="Fill the configured bucket with a demo catalogue.")
        def demo_bucket_command(app: Litestar) -> None:
            async def body(rt: Runtime) -> int:
                from domain.platform.demo import fill_bucket  # the demo extra

                return await fill_bucket(rt.s3)

            count = with_runtime(app, body)
            click.echo(f"uploaded {count} demo objects")

        @cli.command(name="create-admin", help="Create (or reactivate) an admin account.")
        @click.option("--username", required=True)
        @click.option("--email", required=True)
        @click.password_option("--password")
        def create_admin_command(app: Litestar, username: str, email: str, password: str) -> None:
            from domain.accounts.admins import upsert_admin

            async def body(rt: Runtime) -> str:
                return await upsert_admin(username, email, password)

            click.echo(with_runtime(app, body, s3=False))

        @cli.command(name="worker", help="Run a worker: it takes queued jobs until stopped.")
        @click.option("--concurrency", type=click.IntRange(1, 64), default=None)
        @click.option("--name", default=None, help="How this worker appears in logs and runs.")
        def worker_command(app: Litestar, concurrency: int | None, name: str | None) -> None:
            import logging

            from domain import tasks
            from domain.platform import worker

            logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
            settings: Settings = app.state["settings"]
            with contextlib.suppress(KeyboardInterrupt):
                asyncio.run(worker.run(settings, name, concurrency, tasks.MIDDLEWARE))
