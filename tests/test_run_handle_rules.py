"""A worker's hold on a sync run (domain/catalogue/run_handle.py), called in-process against
PostgreSQL: what the run's page shows after a claim, a heartbeat and the end (status, phase,
each counter, the ledger's lines word for word), a second claim of a run a live worker holds,
claims of runs that ended, superseding held plans, and the sync lock let go."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Awaitable, Callable
from types import SimpleNamespace
from typing import Any, TypeVar

import asyncpg
import pytest

from domain.catalogue import run_handle, runs, sql
from domain.catalogue.begin import RunRequest, begin
from domain.catalogue.confirm import NotConfirmable, check_confirmable
from domain.catalogue.run_handle import RunHandle, claim, finish, release
from domain.catalogue.run_stats import COUNTERS
from domain.catalogue.runs import Run, SyncBusy, ledger_entry
from domain.platform import db, dedicated
from domain.platform.db import now
from domain.platform.tables import SyncRun as Runs
from tests.conftest import rows

T = TypeVar("T")
PLAN = {"models": ["Ann"], "per_model": {}, "posts": 0, "media": 3}
WOKEN_WITHIN_S = 5.0  # a page following a run sees each change at once, not at its next poll


async def recorded(scope: str = "all", **request: Any) -> int:
    """A queued run, recorded by begin() as "Sync now" records one."""
    return await begin(RunRequest(scope, "tester", **request), None)


async def recorded_beside(scope: str = "all") -> int:
    """A queued run recorded while another is active (begin() refuses that; a run queued just
    before another's worker died, or queued by an older process, is such a run)."""
    stamp = now()
    async with db.transaction() as tx:
        (row,) = await tx.run(
            Runs.insert(
                Runs(
                    scope=scope,
                    status="queued",
                    phase="queued",
                    started_at=stamp,
                    heartbeat_at=stamp,
                    triggered_by="tester",
                    events=json.dumps([ledger_entry("queued by tester")]),
                )
            )
        )
    return int(row["id"])


async def claimed(run_id: int, worker: str = "w1") -> RunHandle:
    handle = await claim(run_id, worker)
    assert handle is not None, f"run #{run_id} was not claimed"
    return handle


async def stored(run_id: int) -> Run:
    run = await runs.get(run_id)
    assert run is not None, f"run #{run_id} is gone"
    return run


async def ledger(run_id: int) -> list[str]:
    return [line["text"] for line in (await stored(run_id)).events]


async def held_plan(scope: str) -> int:
    """A run of `scope` ended needs_confirmation, its plan waiting."""
    handle = await claimed(await recorded(scope))
    await finish(handle, "needs_confirmation", plan=PLAN)
    return handle.id


async def within(awaitable: Awaitable[T], what: str, seconds: float = WOKEN_WITHIN_S) -> T:
    try:
        return await asyncio.wait_for(awaitable, seconds)
    except TimeoutError:
        raise AssertionError(f"waited {seconds} s: {what}") from None


class Follower:
    """A page following a run live (runs.subscribe, the live panel), polling so rarely (once a
    minute) that only the wake-up of the process changing the run shows it a change in time."""

    def __init__(self, run_id: int) -> None:
        self.feed: AsyncIterator[Run] = runs.subscribe(run_id, interval=60)
        self.pending: asyncio.Task[Run] | None = None

    async def first(self) -> Run:
        return await within(anext(self.feed), "the live panel never drew the run")

    async def watch(self) -> None:
        """Wait for the next change, from now on (the panel is waiting before it happens)."""
        self.pending = asyncio.ensure_future(anext(self.feed))
        await asyncio.sleep(0.05)  # it reads nothing until woken: it is waiting now

    async def change(self, what: str) -> Run:
        assert self.pending is not None
        task, self.pending = self.pending, None
        return await within(task, f"the live panel was not woken: {what}")

    async def close(self) -> None:
        if self.pending is not None:
            self.pending.cancel()
            await asyncio.gather(self.pending, return_exceptions=True)
        await self.feed.aclose()  # type: ignore[attr-defined]


class Clock:
    """run_handle's clock and sleep: the claim's wait runs in no time, and what it slept is
    kept; `on_sleep` runs (another worker's move) after each sleep, given how many so far."""

    def __init__(self, on_sleep: Callable[[int], Awaitable[None]] | None = None) -> None:
        self.now, self.slept, self.on_sleep = 1000.0, list[float](), on_sleep

    def install(self, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.setattr(run_handle, "time", SimpleNamespace(monotonic=lambda: self.now))
        fake = SimpleNamespace(sleep=self.sleep, Event=asyncio.Event)
        monkeypatch.setattr(run_handle, "asyncio", fake)

    async def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds
        if self.on_sleep is not None:
            await self.on_sleep(len(self.slept))


# -- claiming a run


async def test_a_claim_marks_the_run_started_on_its_worker(database: Any) -> None:
    run_id = await recorded("Ann")
    before = now()
    handle = await claimed(run_id, "worker-7")
    assert (handle.id, handle.scope, handle.cancelled.is_set()) == (run_id, "Ann", False)
    run = await stored(run_id)
    assert (run.status, run.phase) == ("running", "starting")
    assert run.heartbeat_at >= before
    assert await ledger(run_id) == ["queued by tester", "started on worker-7"]
    await finish(handle, "succeeded")


async def test_a_claim_of_a_run_whose_worker_died_says_resumed_and_keeps_its_phase(
    database: Any,
) -> None:
    run_id = await recorded()
    first = await claimed(run_id, "w1")
    first.stats.phase = "listing"
    await first.flush()
    await release(first)  # its process is gone: the lock with it, the run still "running"
    second = await claimed(run_id, "w2")
    run = await stored(run_id)
    assert (run.status, run.phase, second.cancelled.is_set()) == ("running", "listing", False)
    assert await ledger(run_id) == [
        "queued by tester",
        "started on w1",
        "resumed on w2: the worker running it stopped",
    ]
    await finish(second, "succeeded")


async def test_a_run_cancelled_while_its_worker_was_gone_is_resumed_cancelled(
    database: Any,
) -> None:
    run_id = await recorded()
    first = await claimed(run_id, "w1")
    await release(first)
    assert await runs.request_cancel(run_id) == "running"  # stops at its next model
    second = await claimed(run_id, "w2")
    assert second.cancelled.is_set()
    await finish(second, "cancelled")


async def test_a_claim_fails_the_runs_left_running_by_a_dead_process(database: Any) -> None:
    dead = await claimed(await recorded(), "w1")
    await release(dead)  # its worker died; the run row still says "running"
    before = now()
    run_id = await recorded_beside()
    handle = await claimed(run_id, "w2")
    orphan = await stored(dead.id)
    assert (orphan.status, orphan.phase) == ("failed", "done")
    assert orphan.error == "the process running this sync stopped"
    assert orphan.finished_at is not None and orphan.finished_at >= before
    assert (await stored(run_id)).status == "running"
    await finish(handle, "succeeded")


async def test_a_run_that_ended_or_does_not_exist_is_not_claimed(database: Any) -> None:
    assert await claim(999_999, "w1") is None
    done = await claimed(await recorded(), "w1")
    await finish(done, "succeeded")
    assert await claim(done.id, "w2") is None
    queued = await recorded()
    assert await runs.request_cancel(queued) == "queued"  # a queued run ends cancelled at once
    assert await claim(queued, "w2") is None
    assert (await stored(queued)).status == "cancelled"
    assert await ledger(done.id) == ["queued by tester", "started on w1", "ended succeeded"]


async def test_a_second_claim_of_a_run_a_live_worker_holds_polls_for_30_s_then_names_it(
    database: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    run_id = await recorded()
    holder = await claimed(run_id, "w1")
    clock = Clock()
    clock.install(monkeypatch)
    with pytest.raises(SyncBusy) as busy:
        await claim(run_id, "w2")
    assert clock.slept == [0.5] * 61  # every half second, until more than 30 s have passed
    run = await stored(run_id)
    assert str(busy.value) == (
        f"sync run #{run_id} (all) is already running since "
        f"{run.started_at:%Y-%m-%d %H:%M:%S} UTC; wait for it or cancel it."
    )
    assert await ledger(run_id) == ["queued by tester", "started on w1"]
    await finish(holder, "succeeded")


async def test_a_claim_waits_for_the_sync_lock_and_takes_it_when_the_holder_finishes(
    database: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    holder = await claimed(await recorded(), "w1")
    waiting = await recorded_beside()

    async def holder_ends(sleeps: int) -> None:
        if sleeps == 3:
            await finish(holder, "succeeded")

    clock = Clock(holder_ends)
    clock.install(monkeypatch)
    handle = await claimed(waiting, "w2")
    assert clock.slept == [0.5] * 3
    assert (await stored(holder.id)).status == "succeeded"  # not failed by the second claim
    assert await ledger(waiting) == ["queued by tester", "started on w2"]
    await finish(handle, "succeeded")


async def test_a_run_cancelled_while_its_claim_waited_is_not_claimed_and_frees_the_lock(
    database: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    holder = await claimed(await recorded(), "w1")
    waiting = await recorded_beside()

    async def meanwhile(sleeps: int) -> None:
        if sleeps == 1:
            assert await runs.request_cancel(waiting) == "queued"
        if sleeps == 2:
            await finish(holder, "succeeded")

    assert holder._lock_conn is not None
    first_backend = holder._lock_conn.get_server_pid()
    Clock(meanwhile).install(monkeypatch)
    assert await claim(waiting, "w2") is None
    assert (await stored(waiting)).status == "cancelled"
    later = await claim(await recorded(), "w3", wait=0)  # the lock is free at once
    assert later is not None and later._lock_conn is not None
    # It runs on the connection the refused claim kept (the newer), not the holder's.
    assert later._lock_conn.get_server_pid() != first_backend
    await finish(later, "succeeded")


async def test_a_claim_wakes_the_runs_live_panel(database: Any) -> None:
    run_id = await recorded()
    panel = Follower(run_id)
    try:
        assert (await panel.first()).status == "queued"
        await panel.watch()
        handle = await claimed(run_id)
        assert (await panel.change("by the claim")).status == "running"
    finally:
        await panel.close()
    await finish(handle, "succeeded")


# -- the heartbeat


async def test_each_heartbeat_writes_every_counter_and_the_phase_as_they_stand(
    database: Any,
) -> None:
    handle = await claimed(await recorded())
    first = {name: 10 + i for i, name in enumerate(COUNTERS)}
    for name, value in first.items():
        setattr(handle.stats, name, value)
    handle.stats.phase = "listing"
    await handle.flush()
    run = await stored(handle.id)
    assert (run.counters(), run.phase) == (first, "listing")
    beat = run.heartbeat_at
    # The next beat's counters, some lower than before: each is written as it stands.
    second = {name: 3 + 2 * i for i, name in enumerate(COUNTERS)}
    for name, value in second.items():
        setattr(handle.stats, name, value)
    handle.stats.phase = "writing"
    await handle.flush()
    run = await stored(handle.id)
    assert (run.counters(), run.phase) == (second, "writing")
    assert run.heartbeat_at > beat
    await finish(handle, "succeeded")


async def test_a_heartbeat_picks_up_a_cancel_asked_from_another_process(database: Any) -> None:
    handle = await claimed(await recorded())
    await handle.flush()
    assert not handle.cancelled.is_set()
    assert await runs.request_cancel(handle.id) == "running"
    assert not handle.cancelled.is_set()  # the request went through the row only
    await handle.flush()
    assert handle.cancelled.is_set()
    await finish(handle, "cancelled")


async def kill_the_sync_lock_connection() -> None:
    """An operator (or a failover) ends the backend holding the sync lock in this database."""
    # Advisory locks are the whole server's, and each test worker has a database of its own:
    # only this database's holder, never another worker's.
    killed = await rows(
        "SELECT pg_terminate_backend(pid) AS gone FROM pg_locks "
        "WHERE locktype = 'advisory' AND objid = $1::bigint::oid AND database = "
        "(SELECT oid FROM pg_database WHERE datname = current_database())",
        sql.ADVISORY_LOCK_KEY,
    )
    assert [r["gone"] for r in killed] == [True], "no one backend held the sync lock"


async def test_heartbeats_go_on_through_the_pool_when_the_lock_connection_is_killed(
    database: Any,
) -> None:
    """Ten times: the kill reaches the client in any of its states (the error read or not, the
    socket closed or not), and the very next beat must be written all the same."""
    for _ in range(10):
        handle = await claimed(await recorded())
        await kill_the_sync_lock_connection()
        for beat in (1, 2):
            handle.stats.keys_listed = 100 * beat
            await handle.flush()
            assert (await stored(handle.id)).keys_listed == 100 * beat
        await runs.request_cancel(handle.id)
        await handle.flush()
        assert handle.cancelled.is_set()
        await finish(handle, "cancelled")
        assert (await stored(handle.id)).status == "cancelled"


async def test_a_heartbeat_wakes_the_runs_live_panel(database: Any) -> None:
    handle = await claimed(await recorded())
    panel = Follower(handle.id)
    try:
        await panel.first()
        await panel.watch()
        handle.stats.keys_listed = 42
        await handle.flush()
        assert (await panel.change("by the heartbeat")).keys_listed == 42
    finally:
        await panel.close()
    await finish(handle, "succeeded")


# -- the end of a run


async def test_the_end_of_a_run_records_its_outcome_and_lets_the_next_claim_in_at_once(
    database: Any,
) -> None:
    handle = await claimed(await recorded("Ann"))
    handle.stats.keys_ignored, handle.stats.models_done = 7, 3
    before = now()
    await finish(handle, "needs_confirmation", "2 of 3 models would be deleted", PLAN)
    run = await stored(handle.id)
    assert (run.status, run.phase, run.error) == (
        "needs_confirmation",
        "done",
        "2 of 3 models would be deleted",
    )
    assert (run.plan, run.keys_ignored, run.models_done) == (PLAN, 7, 3)
    assert run.finished_at is not None and run.finished_at >= before
    assert await ledger(handle.id) == [
        "queued by tester",
        "started on w1",
        "ended needs_confirmation",
    ]
    await release(handle)  # again: nothing happens
    failing = await recorded_beside()  # (the held run is not active: begin() would do too)
    nxt = await claim(failing, "w2", wait=0)
    assert nxt is not None, "the finished run's worker still held the sync lock"
    await finish(nxt, "failed", "S3 went away")
    run = await stored(failing)
    assert (run.status, run.error, run.plan) == ("failed", "S3 went away", None)
    # SQL NULL, not JSON null: operators find the runs with a plan by `plan IS NOT NULL`.
    (no_plan,) = await rows("SELECT plan IS NULL AS absent FROM sync_runs WHERE id = $1", failing)
    assert no_plan["absent"] is True
    assert (await ledger(failing))[-1] == "ended failed"


async def test_the_end_of_a_run_wakes_its_followers_in_this_process(
    database: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The live panel's wake-ups (runs.notify): one after the end is recorded, besides the one
    of the last beat (a panel woken by that beat alone would see "running" until its poll)."""
    woken: list[int] = []

    def notify(run_id: int) -> None:
        woken.append(run_id)
        runs.notify(run_id)

    monkeypatch.setattr(run_handle, "notify", notify)
    handle = await claimed(await recorded())
    assert woken == [handle.id]
    await finish(handle, "succeeded")
    assert woken == [handle.id] * 3  # the claim, the last beat, the end


async def test_release_survives_a_lock_connection_that_fails_to_close(database: Any) -> None:
    handle = await claimed(await recorded())
    lock_conn = handle._lock_conn

    class Broken:
        """Reset by the peer: its unlock fails, and so does its close (after closing)."""

        async def execute(self, query: str) -> None:
            raise OSError("connection reset by peer")

        async def close(self) -> None:
            await lock_conn.close()
            raise OSError("connection reset by peer")

    handle._lock_conn = Broken()
    await release(handle)
    await release(handle)
    later = await claim(await recorded_beside(), "w2", wait=0)
    assert later is not None, "the sync lock was not let go"
    await finish(later, "succeeded")


async def another_process_can_take_the_sync_lock() -> bool:
    """What a second worker's claim would get: the lock, on a connection of its own."""
    other = await asyncpg.connect(db.current_engine().config["dsn"])
    try:
        return await sql.try_sync_lock(other)
    finally:
        await other.close()


async def test_the_connection_kept_after_a_run_holds_no_lock_another_worker_waits_on(
    database: Any,
) -> None:
    """This process keeps the run's connection for its next run: another worker's claim must
    get the lock all the same, after a run that ended and after a claim that found it ended."""
    handle = await claimed(await recorded())
    assert not await another_process_can_take_the_sync_lock()  # held while the run goes
    await finish(handle, "succeeded")
    assert dedicated.SPARES, "the run's connection was not kept for the next run"
    assert await another_process_can_take_the_sync_lock(), "the kept connection holds the lock"
    assert await claim(handle.id, "w1") is None  # the run has ended: nothing to claim
    assert await another_process_can_take_the_sync_lock(), "a refused claim kept the lock"


async def test_a_claim_after_the_kept_connection_was_killed_opens_a_new_one(
    database: Any,
) -> None:
    await finish(await claimed(await recorded()), "succeeded")
    (spare,) = dedicated.SPARES.values()
    killed = await rows("SELECT pg_terminate_backend($1) AS gone", spare.get_server_pid())
    assert [r["gone"] for r in killed] == [True]
    handle = await claimed(await recorded_beside())
    assert not await another_process_can_take_the_sync_lock(), "the new claim holds no lock"
    await finish(handle, "succeeded")
    assert (await stored(handle.id)).status == "succeeded"


# -- superseding held plans


async def superseded(run_id: int) -> tuple[str, int | None, str]:
    run = await stored(run_id)
    return run.status, run.superseded_by, run.events[-1]["text"]


async def test_a_complete_full_run_supersedes_every_held_plan_of_any_scope(
    database: Any,
) -> None:
    full, ann, bea = await held_plan("all"), await held_plan("Ann"), await held_plan("Bea")
    newer = await claimed(await recorded())
    await finish(newer, "succeeded")
    line = f"superseded by run #{newer.id}"
    for held in (full, ann, bea):
        assert await superseded(held) == ("superseded", newer.id, line)
        with pytest.raises(NotConfirmable):
            await check_confirmable(held)


async def test_a_one_model_run_supersedes_only_that_models_held_plan(database: Any) -> None:
    full, ann, bea = await held_plan("all"), await held_plan("Ann"), await held_plan("Bea")
    newer = await claimed(await recorded("Ann"))
    await finish(newer, "succeeded")
    assert await superseded(ann) == ("superseded", newer.id, f"superseded by run #{newer.id}")
    for held in (full, bea):
        assert await superseded(held) == ("needs_confirmation", None, "ended needs_confirmation")


async def test_a_newer_held_plan_supersedes_the_older_one(database: Any) -> None:
    older = await held_plan("all")
    newer = await held_plan("all")
    assert await superseded(older) == ("superseded", newer, f"superseded by run #{newer}")
    assert (await check_confirmable(newer)).id == newer


@pytest.mark.parametrize("status", ["failed", "cancelled"])
async def test_a_run_that_did_not_see_the_whole_bucket_leaves_held_plans_confirmable(
    database: Any, status: str
) -> None:
    held = await held_plan("Ann")
    partial = await claimed(await recorded())
    await finish(partial, status, "stopped part way", PLAN)
    assert (await check_confirmable(held)).id == held
    with pytest.raises(NotConfirmable) as refused:  # nor is its own plan confirmable
        await check_confirmable(partial.id)
    assert str(refused.value) == f"sync run #{partial.id} is not waiting for confirmation."


@pytest.mark.parametrize(
    "request_",
    [{"dry_run": True}, {"kind": "confirm"}],
    ids=["dry run", "confirm run"],
)
async def test_a_dry_run_or_a_confirm_run_supersedes_nothing(
    database: Any, request_: dict[str, Any]
) -> None:
    held = await held_plan("all")
    if request_.get("kind") == "confirm":
        request_ = {**request_, "confirms": held}
    other = await claimed(await recorded("all", **request_))
    await finish(other, "succeeded")
    assert await superseded(held) == ("needs_confirmation", None, "ended needs_confirmation")
