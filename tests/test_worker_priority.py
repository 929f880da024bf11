"""Pages first on one box: the workers `python -m app` starts run WORKER_NICE steps below the
web's CPU priority, by default at nice 19 in Linux's idle scheduling class (read from /proc, the
real processes), the web keeps its own, and the PostgreSQL backends serving a worker on this
machine are lowered as much."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

from domain.platform import db
from domain.platform.settings import Settings, SettingsError
from harness.ports import free_port
from harness.processes import PYTHON, Process
from tests.conftest import Bucket, cli_env
from tests.processes import Processes

pytestmark = pytest.mark.timeout(120)
OURS = os.getpriority(os.PRIO_PROCESS, 0)  # the web inherits it; workers go below it


def nice_of(pid: int) -> int:
    """Field 19 of /proc/PID/stat: the nice value."""
    return int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[16])


def idle_class(pid: int) -> bool:
    """Field 41 of /proc/PID/stat, the scheduling policy: whether it is SCHED_IDLE."""
    return int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[38]) == os.SCHED_IDLE


def parent_of(pid: int) -> int:
    return int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1])


def workers_of(app: int) -> list[int]:
    """The `python -m app worker` children of the app's process."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            command = (entry / "cmdline").read_bytes().rstrip(b"\0").split(b"\0")
            if parent_of(int(entry.name)) == app and command[-2:] == [b"app", b"worker"]:
                found.append(int(entry.name))
        except (OSError, IndexError, ValueError):
            continue  # gone meanwhile
    return found


async def registered_since(first_id: int) -> int:
    """Workers that registered with the queue after `first_id` (they lower themselves first)."""
    return int(
        await db.fetchval("SELECT COUNT(*) FROM procrastinate_workers WHERE id > $1", first_id)
    )


async def last_worker_id() -> int:
    return int(await db.fetchval("SELECT COALESCE(MAX(id), 0) FROM procrastinate_workers"))


@pytest.mark.skipif(OURS >= 19, reason="the tests run at nice 19: nothing can be lower")
async def test_supervised_workers_run_idle_below_the_webs_cpu_priority_and_the_web_keeps_its_own(
    database: Any, bucket: Bucket, procs: Processes
) -> None:
    env = cli_env(bucket.s3.settings, WORKERS="2", PORT=str(free_port()), HOST="127.0.0.1")
    env.pop("WORKER_NICE", None)  # the default
    before = await last_worker_id()
    app = Process("app", [PYTHON, "-m", "app"], env, procs.logs / "app.log")
    procs.all.append(app)

    async def both_registered() -> bool:
        return await registered_since(before) >= 2

    await procs.wait_for(both_registered, "the app's two workers registering", 90, alive=(app,))
    workers = workers_of(app.popen.pid)
    assert len(workers) == 2, workers
    assert nice_of(app.popen.pid) == OURS  # the web serves at the priority it was given
    assert not idle_class(app.popen.pid)
    assert [(nice_of(pid), idle_class(pid)) for pid in workers] == [(19, True)] * 2


@pytest.mark.parametrize(("setting", "steps", "idle"), [("5", 5, False), ("idle", 19, True)])
async def test_the_postgresql_backends_serving_a_worker_run_as_low_as_the_worker(
    database: Any, bucket: Bucket, procs: Processes, setting: str, steps: int, idle: bool
) -> None:
    worker = procs.worker("low", cli_env(bucket.s3.settings, WORKER_NICE=setting))
    name = f"creatorflix-worker-{worker.popen.pid}"

    def lowered(pid: int, parent: int) -> bool:
        return nice_of(pid) == min(19, nice_of(parent) + steps) and idle_class(pid) == idle

    async def lowered_backends() -> list[int]:
        rows = await db.fetch("SELECT pid FROM pg_stat_activity WHERE application_name = $1", name)
        found = [r["pid"] for r in rows]
        return found if found and all(lowered(pid, parent_of(pid)) for pid in found) else []

    backends = await procs.wait_for(
        lowered_backends,
        f"the backends of {name} at WORKER_NICE={setting} below their postmaster",
        60,
        alive=(worker,),
    )
    assert (nice_of(worker.popen.pid), idle_class(worker.popen.pid)) == (
        min(19, OURS + steps),
        idle,
    )
    ours = int(await db.fetchval("SELECT pg_backend_pid()"))  # a backend not serving a worker
    assert nice_of(ours) == nice_of(parent_of(ours)), backends
    assert not idle_class(ours)


@pytest.mark.parametrize("value", ["-1", "20", "ten", "IDLE"])
def test_worker_nice_outside_0_to_19_or_idle_is_refused_naming_the_variable(value: str) -> None:
    with pytest.raises(SettingsError, match=f"WORKER_NICE='{value}' is neither idle nor"):
        Settings.from_env({"WORKER_NICE": value})


@pytest.mark.parametrize(
    ("env", "nice", "idle"),
    [({}, 19, True), ({"WORKER_NICE": "idle"}, 19, True), ({"WORKER_NICE": "19"}, 19, False),
     ({"WORKER_NICE": "0"}, 0, False)],
)  # fmt: skip
def test_worker_nice_is_idle_unless_a_number_of_steps_is_given(
    env: dict[str, str], nice: int, idle: bool
) -> None:
    settings = Settings.from_env(env)
    assert (settings.worker_nice, settings.worker_idle) == (nice, idle)
