"""The zero-configuration mode's own database: killed outright, then started again."""

from __future__ import annotations

import asyncio
import os
import signal
from pathlib import Path

import pytest

from harness.ports import free_port
from tests.served import clean_env, served, staged, start_sync, wait_final

pytestmark = pytest.mark.timeout(400)


def postmaster_pid(data: Path) -> int:
    return int((data / "pg" / "postmaster.pid").read_text().split()[0])


async def test_embedded_postgres_killed_then_restarted_loses_nothing(open_tmp: Path) -> None:
    """SIGKILL of the embedded PostgreSQL: the app says so instead of hanging; the next start
    recovers the database, every staged row is there, and the next sync converges."""
    data = open_tmp / "data"
    env = clean_env(DATA_DIR=str(data), EMBEDDED_S3_PORT=str(free_port()), HOME=str(open_tmp))
    async with served(env, startup_timeout=180) as app:
        b = app.browser
        await b.sign_in("admin", "creatorflix-demo")
        assert await wait_final(b, 1, timeout=120) == "succeeded"  # the demo's first sync
        before = sorted(await staged(b))
        assert len(before) == 8
        pid = postmaster_pid(data)
        os.kill(pid, signal.SIGKILL)
        for _ in range(100):
            await asyncio.sleep(0.1)
            try:
                os.kill(pid, 0)
            except ProcessLookupError:
                break
        broken = await b.client.get("/staged")
        assert broken.status_code >= 500 and "Traceback" not in broken.text
    async with served(env, startup_timeout=180) as app:
        b = app.browser
        await b.sign_in("admin", "creatorflix-demo")
        assert sorted(await staged(b)) == before
        run_id = await start_sync(b)
        assert await wait_final(b, run_id, timeout=120) == "succeeded"
        page = (await b.get(f"/sync-runs/{run_id}")).text
        assert "0 / 0 / 0" in page  # nothing changed: bucket and database still agree
        assert sorted(await staged(b)) == before
