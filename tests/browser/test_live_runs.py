"""The runs list and the dashboard follow runs started elsewhere (another browser on another app
process, or a process writing to the database) without a reload: new, running, ended, cancelled.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator

import httpx
import pytest
from playwright.async_api import expect

from domain.catalogue import runs
from domain.catalogue.begin import RunRequest, begin
from tests.browser.support import PASSWORD, UI, USERNAME, card_value
from tests.browser.test_sync_panel import SyncGate, sync_gate  # noqa: F401 - a fixture
from tests.conftest import Bucket
from tests.web import Browser as Client

KEYS = [f"Live {i}/Post {p}/a.jpg" for i in range(6) for p in range(2)]


@pytest.fixture
async def other(app_data: Bucket, second_server: str) -> AsyncIterator[Client]:
    """Another admin's client, signed in on the second app process."""
    async with httpx.AsyncClient(base_url=second_server, timeout=30) as client:
        other = Client(client)
        assert (await other.sign_in(USERNAME, PASSWORD)).status_code == 303
        yield other


async def start_elsewhere(other: Client) -> int:
    started = await other.post("/sync", {}, htmx=True)
    assert started.status_code == 200, started.text
    return int(started.text.split('data-run="')[1].split('"')[0])


async def test_runs_list_shows_a_run_started_elsewhere_without_reload(
    ui: UI,
    app_data: Bucket,
    other: Client,
    sync_gate: SyncGate,  # noqa: F811 - the fixture imported above
) -> None:
    await app_data.put(*KEYS)
    await ui.sign_in()
    await ui.goto("/sync-runs")
    rows = ui.page.locator("#runs-table tbody tr")
    await expect(rows).to_have_text(re.compile("No sync has run yet"))
    await ui.mark_document()
    run_id = await start_elsewhere(other)  # held running by the gate
    row = rows.filter(has=ui.page.get_by_role("link", name=f"#{run_id}", exact=True))
    await expect(row).to_contain_text("running")
    await sync_gate.release()
    await expect(row).to_contain_text("succeeded", timeout=30_000)
    await expect(row).to_contain_text("12/0/0")  # posts added, as the run ended
    # A run recorded by another process and cancelled before any worker took it.
    queued = await begin(RunRequest("all", "another process"), None)  # no worker takes it
    await runs.request_cancel(queued)
    cancelled = rows.filter(has=ui.page.get_by_role("link", name=f"#{queued}", exact=True))
    await expect(cancelled).to_contain_text("cancelled")
    await expect(rows).to_have_count(2)
    assert await ui.same_document(), "the runs list reloaded instead of redrawing itself"


async def test_dashboard_counts_follow_a_run_started_elsewhere(
    ui: UI, app_data: Bucket, other: Client
) -> None:
    await app_data.put(*KEYS)
    await ui.sign_in()
    page = ui.page
    await expect(card_value(page, "Staged models")).to_have_text("0")
    await expect(card_value(page, "Last sync")).to_have_text("—")
    await ui.mark_document()
    run_id = await start_elsewhere(other)
    await expect(card_value(page, "Staged models")).to_have_text("6", timeout=30_000)
    await expect(card_value(page, "Posts")).to_have_text("12")
    await expect(card_value(page, "Last sync")).to_have_text("succeeded")
    recent = page.locator("#recent-runs #runs-table tbody tr")
    await expect(recent).to_have_count(1)
    await expect(recent).to_contain_text(re.compile(rf"#{run_id}\s+all\s+succeeded"))
    assert await ui.same_document(), "the dashboard reloaded instead of redrawing its cards"
