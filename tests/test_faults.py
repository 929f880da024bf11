"""Faults: S3 errors through a fault-injecting proxy, a killed database connection, a killed
process, two processes at once. After each: what happened, what was kept, and whether the next
sync converged to the bucket (compared through the key rules, tests/oracle.py)."""

from __future__ import annotations

import asyncio
import contextlib
import json
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import asyncpg
import pytest

from domain.catalogue import part_sync, runs
from domain.catalogue.runs import Run
from domain.catalogue.sync import SyncOptions, run_sync
from domain.platform.s3 import S3Service
from tests.conftest import Bucket, Proxied, cli_env, rows
from tests.fault_proxy import FaultProxy, Rule, anything, keys_listing, listing, listing_in
from tests.oracle import expected
from tests.test_convergence import staged

ROOT = Path(__file__).resolve().parent.parent
REPORT = ROOT / "test-output" / "reliability.json"
MODELS = ["Alpha", "Bravo", "Charlie", "Delta", "Echo", "Foxtrot"]
KEYS = [f"{m}/P{p}/{i}.jpg" for m in MODELS for p in range(2) for i in range(3)]


def record(case: str, happened: str, kept: str, converged: bool) -> None:
    """Append one case to the report that `make reliability` turns into docs/reliability.md."""
    REPORT.parent.mkdir(exist_ok=True)
    data = json.loads(REPORT.read_text()) if REPORT.exists() else {}
    data[case] = {"happened": happened, "kept": kept, "converged": converged}
    REPORT.write_text(json.dumps(data, indent=2, ensure_ascii=False))


class Scene:
    """A synced catalogue, the live bucket keys, and a proxied S3 client for faults."""

    def __init__(self, bucket: Bucket, proxy: FaultProxy, faulty: S3Service) -> None:
        self.bucket, self.proxy, self.faulty = bucket, proxy, faulty
        self.keys = list(KEYS)

    async def put(self, *keys: str) -> None:
        await self.bucket.put(*keys)
        self.keys += keys

    async def delete(self, *keys: str) -> None:
        await self.bucket.delete(*keys)
        self.keys = [k for k in self.keys if k not in keys]

    async def faulty_sync(self, **kw: Any) -> Run:
        return await run_sync(self.faulty, SyncOptions(public_base=self.bucket.public_base, **kw))

    async def db_keys(self) -> set[str]:
        return {r["s3_key"] for r in await rows("SELECT s3_key FROM whitelabel_media")}

    async def converges(self) -> bool:
        run = await self.bucket.sync(allow_mass_delete=True)
        return run.status == "succeeded" and await staged() == expected(self.keys)


@pytest.fixture
async def scene(database: Any, proxied: Proxied) -> Scene:
    await proxied.bucket.put(*KEYS)
    assert (await proxied.bucket.sync()).status == "succeeded"
    return Scene(proxied.bucket, proxied.proxy, proxied.s3)


async def test_transient_s3_errors_are_retried(scene: Scene) -> None:
    await scene.put("Alpha/P9/new.jpg")
    scene.proxy.rules = [
        Rule(listing(), 503, "SlowDown", times=2),
        Rule(keys_listing, 500, "InternalError", times=1),  # a page of keys, not folders
    ]
    run = await scene.faulty_sync()
    assert run.status == "succeeded", run.error
    assert sum(r.hits for r in scene.proxy.rules) == 3
    assert "Alpha/P9/new.jpg" in await scene.db_keys()
    converged = await scene.converges()
    record(
        "S3 answers 503 SlowDown / 500 on some list pages",
        f"retried by botocore; run {run.status}",
        "all rows",
        converged,
    )
    assert converged


async def test_one_model_prefix_keeps_failing(
    scene: Scene, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every listing of Bravo's key range fails. Ranges are sized for a key or so each here,
    so that each model is a range of its own, as in a bucket of big models."""
    monkeypatch.setattr(part_sync, "KEYS_PER_RANGE", 1)
    before = await scene.db_keys()
    await scene.put("Delta/P9/new.jpg", "Bravo/P9/new.jpg")
    await scene.delete("Bravo/P0/0.jpg", "Delta/P1/2.jpg")
    scene.proxy.rules = [listing_in("Bravo/")]
    run = await scene.faulty_sync()
    assert run.status == "failed" and "Bravo" in run.error
    now_keys = await scene.db_keys()
    assert {k for k in before if k.startswith("Bravo/")} <= now_keys  # every Bravo row kept
    assert "Bravo/P9/new.jpg" not in now_keys and "Delta/P9/new.jpg" in now_keys
    assert "Delta/P1/2.jpg" in now_keys  # a run that could not see everything deletes nothing
    converged = await scene.converges()
    record(
        "One model's listing keeps failing",
        f"run failed: {run.error[:90]}…",
        "that model's rows untouched; other models synced; no deletions",
        converged,
    )
    assert converged


@pytest.mark.parametrize(
    ("case", "rule", "words"),
    [
        ("S3 times out", Rule(anything, 0, delay=3.0), "timed out"),
        ("S3 rejects the credentials", Rule(anything, 403, "InvalidAccessKeyId"), "DO_SPACES_KEY"),
        ("The bucket does not exist", Rule(anything, 404, "NoSuchBucket"), "DO_SPACES_BUCKET"),
    ],
)
async def test_s3_unusable_changes_nothing(scene: Scene, case: str, rule: Rule, words: str) -> None:
    before = await staged()
    await scene.put("Alpha/P9/new.jpg")
    await scene.delete("Bravo/P0/0.jpg")
    scene.proxy.rules = [rule]
    run = await scene.faulty_sync()
    assert run.status == "failed" and words in run.error, run.error
    assert await staged() == before
    converged = await scene.converges()
    record(
        case,
        f"run failed: {run.error[:100]}…",
        "everything (no row changed)",
        converged,
    )
    assert converged


async def test_empty_or_halved_listing_asks_first(scene: Scene) -> None:
    half = [k for k in KEYS if k.split("/")[0] in MODELS[:3]]
    await scene.delete(*half)
    run = await scene.bucket.sync()
    assert run.status == "needs_confirmation"
    assert await scene.db_keys() == set(KEYS)
    await scene.delete(*scene.keys)
    empty = await scene.bucket.sync()
    assert empty.status == "needs_confirmation" and "empty" in empty.error
    assert await scene.db_keys() == set(KEYS)
    converged = await scene.converges()
    record(
        "The listing shrinks by half / is empty",
        "runs ended needs_confirmation",
        "every row until an admin confirms",
        converged,
    )
    assert converged


async def kill_connections_while_alpha_writes(scene: Scene, settings: Any) -> tuple[int, Run]:
    """Sync a change to every model, one model at a time, and kill every client connection
    while the first model's (Alpha's) write waits on a table lock; returns (killed, run)."""
    for model in MODELS:
        await scene.put(f"{model}/P9/new.jpg")
    locker = await asyncpg.connect(settings.database_url)
    killer = await asyncpg.connect(settings.database_url)
    task: asyncio.Task[Run] | None = None
    try:
        blocking = locker.transaction()
        await blocking.start()
        await locker.execute("LOCK TABLE whitelabel_models IN SHARE MODE")  # writes must wait
        task = asyncio.create_task(
            run_sync(
                scene.bucket.s3,
                SyncOptions(public_base=scene.bucket.public_base, concurrency=1),
            )
        )
        for _ in range(400):
            if await killer.fetchval(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                "AND wait_event_type = 'Lock'"
            ):
                break
            await asyncio.sleep(0.025)
        else:
            raise AssertionError("the sync never reached its first write")
        killed = await killer.fetchval(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE "
            "datname = current_database() AND pid NOT IN (pg_backend_pid(), $1) AND "
            "backend_type = 'client backend'",
            locker.get_server_pid(),
        )
        await blocking.rollback()
        run = await asyncio.wait_for(task, 60)
    finally:
        if task is not None and not task.done():
            task.cancel()
        await locker.close()
        await killer.close()
    return int(killed), run


async def test_database_connection_killed_mid_run(scene: Scene, settings: Any) -> None:
    """The killed write rolls back and is done again on a new connection: the run ends
    `succeeded` (not stuck at `running`), no model is half-written, nothing is deleted, every
    model's change is in, and the next sync converges."""
    killed, run = await kill_connections_while_alpha_writes(scene, settings)
    assert killed >= 2  # at least the waiting writer and the run's advisory-lock connection
    assert run.status == "succeeded", run
    stored = await runs.get(run.id)
    assert stored is not None and stored.status == "succeeded" and stored.finished_at
    assert await runs.current() is None  # nothing is left "running"
    for model in await rows("SELECT id, post_count, image_count FROM whitelabel_models"):
        real = await rows(
            "SELECT COUNT(*) AS n FROM whitelabel_posts WHERE whitelabel_model = $1", model["id"]
        )
        assert real[0]["n"] == model["post_count"]  # no model half-written
    keys = await scene.db_keys()
    assert set(KEYS) <= keys  # nothing deleted
    assert {f"{m}/P9/new.jpg" for m in MODELS} <= keys  # Alpha's killed write, done again
    converged = await scene.converges()
    record(
        "The database connections are killed while a model is writing (pg_terminate_backend)",
        f"{killed} backends killed; the killed model's write was retried; run {run.status}",
        "every model's change; no model half-written; nothing deleted",
        converged,
    )
    assert converged


def cli_sync(scene: Scene, *args: str) -> subprocess.Popen[str]:
    env = cli_env(scene.faulty.settings)
    return subprocess.Popen(
        [str(Path(sys.executable).parent / "litestar"), "sync", *args],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


@contextlib.contextmanager
def killed_on_exit(*processes: subprocess.Popen[str]) -> Iterator[None]:
    """However the test ends, no CLI process outlives it."""
    try:
        yield
    finally:
        for process in processes:
            if process.poll() is None:
                process.kill()
            with contextlib.suppress(subprocess.TimeoutExpired):
                process.communicate(timeout=10)


async def test_two_processes_sync_at_once(scene: Scene) -> None:
    scene.proxy.rules = [Rule(listing(), 0, delay=0.3)]  # slow listing: the runs overlap
    scene.proxy.page_size = 3
    first, second = cli_sync(scene, "--json"), cli_sync(scene, "--json")
    with killed_on_exit(first, second):
        outputs = [await asyncio.to_thread(p.communicate, timeout=120) for p in (first, second)]
    codes = [p.returncode for p in (first, second)]
    errors = [err for _, err in outputs]
    assert sorted(codes) == [0, 1], errors
    # The loser names the winner's run, queued or already claimed.
    assert any("already running" in e or "already queued" in e for e in errors)
    statuses = [r["status"] for r in await rows("SELECT status FROM sync_runs ORDER BY id")]
    assert statuses == ["succeeded", "succeeded"]  # the fixture's sync, then the one that ran
    converged = await scene.converges()
    record(
        "Two syncs requested at once from two processes",
        "exactly one ran; the other exited 1 naming the running run",
        "all rows",
        converged,
    )
    assert converged


async def test_process_killed_mid_sync(scene: Scene) -> None:
    await scene.put(*[f"Golf{i}/P/a.jpg" for i in range(6)])
    scene.proxy.rules = [Rule(listing(), 0, delay=0.4)]
    scene.proxy.page_size = 3
    process = cli_sync(scene)
    with killed_on_exit(process):
        run = None
        deadline = time.monotonic() + 45  # the CLI's start-up on a busy machine included
        while time.monotonic() < deadline:
            run = await runs.current()
            if run and run.models_done >= 1:
                break
            await asyncio.sleep(0.05)
        assert run is not None and run.models_done >= 1, f"no model done within 45 s: {run}"
        process.send_signal(signal.SIGKILL)
        await asyncio.to_thread(process.communicate, timeout=30)
    converged = False
    deadline = time.monotonic() + 30  # the lock died with the process: a moment, not 60 s
    while time.monotonic() < deadline:
        try:
            converged = await scene.converges()
            break
        except runs.SyncBusy:  # the server has not yet seen the killed connection go
            await asyncio.sleep(0.1)
    dead = await runs.get(run.id)
    assert dead is not None and dead.status == "failed" and "stopped" in dead.error
    assert converged
    record(
        "The app process is killed with SIGKILL mid-sync, then a sync runs again",
        "the dead run was marked failed at once (its advisory lock was released)",
        "models finished before the kill; the rest untouched",
        converged,
    )
