"""Two app processes on one PostgreSQL: a session made on one works on the other, and a sync
started on one streams its progress on the other."""

from __future__ import annotations

import httpx

from domain.catalogue import runs
from tests.browser.support import PASSWORD, USERNAME
from tests.conftest import Bucket
from tests.web import Browser


async def test_session_and_sync_progress_cross_processes(
    app_data: Bucket, live_server: str, second_server: str
) -> None:
    await app_data.put(*[f"Model {i:03d}/Post/a.jpg" for i in range(150)])
    async with (
        httpx.AsyncClient(base_url=live_server) as one,
        httpx.AsyncClient(base_url=second_server) as two,
    ):
        first = Browser(one)
        assert (await first.sign_in(USERNAME, PASSWORD)).status_code == 303
        two.cookies = one.cookies  # the same browser, load-balanced to the other process
        assert (await two.get("/")).status_code == 200
        started = await first.post("/sync", {}, htmx=True)
        run_id = int(started.text.split('data-run="')[1].split('"')[0])
        events: list[str] = []
        async with two.stream("GET", f"/sync-runs/{run_id}/events", timeout=60) as stream:
            async for line in stream.aiter_lines():
                if line.startswith("event:"):
                    events.append(line.split(":", 1)[1].strip())
        assert events[-1] == "done"
        assert "progress" in events  # live updates crossed from process one to process two
        run = await runs.get(run_id)
        assert run is not None and run.status == "succeeded" and run.models_inserted == 150
