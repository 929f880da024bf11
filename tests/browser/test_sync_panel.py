"""“Sync now” on the dashboard: the live panel (SSE) follows the run to its summary.

The run is held on a table lock taken from the test process, so it is reliably still going while
the test looks at the live panel; releasing the lock lets it finish.
"""

from __future__ import annotations

import asyncio
import os
import re
from collections.abc import AsyncIterator
from typing import Any

import asyncpg
import pytest
from playwright.async_api import Locator, expect

from domain.platform.demo import demo_objects, image_bytes
from tests.browser.support import (
    UI,
    Expected,
    card_value,
    counter_value,
    expected,
    put_many,
    roster,
)
from tests.conftest import Bucket, count, rows

EXTRA_MODELS = 40
RECORD_SSE = """
window.__sse = [];
document.addEventListener("htmx:sseMessage", (e) => {
  const el = document.querySelector("#run-panel [data-status]");
  window.__sse.push([e.detail.type, el ? el.dataset.status : null]);
});
"""


class SyncGate:
    """Holds every write of a sync run (EXCLUSIVE locks on the staged tables) until released."""

    def __init__(self, conn: asyncpg.Connection) -> None:
        self.conn = conn
        self.held = True

    async def release(self) -> None:
        if self.held:
            self.held = False
            await self.conn.execute("ROLLBACK")


@pytest.fixture
async def sync_gate(app_data: Bucket) -> AsyncIterator[SyncGate]:
    conn = await asyncpg.connect(os.environ["TEST_DATABASE_URL"])
    await conn.execute("BEGIN")
    await conn.execute(
        "LOCK TABLE whitelabel_models, whitelabel_posts, whitelabel_media IN EXCLUSIVE MODE"
    )
    gate = SyncGate(conn)
    try:
        yield gate
    finally:
        await gate.release()
        await conn.close()
        # No run may outlive its test: the next test wipes the tables.
        for _ in range(300):
            if not await rows("SELECT id FROM sync_runs WHERE status IN ('queued', 'running')"):
                break
            await asyncio.sleep(0.1)


async def fill(bucket: Bucket) -> tuple[int, Expected]:
    tiny = image_bytes("x", 0.3, (40, 40))
    objects = demo_objects() + [(key, tiny) for key in roster(EXTRA_MODELS, "Extra")]
    await put_many(bucket.s3, objects)
    return len(objects), expected(key for key, _ in objects)


async def start_from_dashboard(ui: UI) -> Locator:
    page = ui.page
    await expect(page.get_by_text("No staged models yet: run a sync.")).to_be_visible()
    await expect(card_value(page, "Last sync")).to_have_text("—")
    await expect(page.locator("#run-panel")).to_have_count(0)
    await page.get_by_role("button", name="Sync now").click()
    panel = page.locator("#run-panel")
    await expect(panel.get_by_role("heading")).to_have_text("Sync #1 · whole bucket")
    await expect(page.locator("#toasts .toast-info")).to_contain_text("Sync #1 queued")
    await expect(panel.locator('[data-status="running"]')).to_be_visible()
    return panel


async def follow_to_summary(
    ui: UI, panel: Locator, gate: SyncGate, keys: int, want: Expected
) -> None:
    """The live panel shows the listing over SSE, then the summary once the run is let go."""
    await expect(panel.locator("[sse-connect='/sync-runs/1/events']")).to_have_count(1)
    # Only a server-sent event can bring models_total: the page was rendered before listing.
    await expect(panel.locator("progress")).to_have_attribute("max", str(want.models))
    await expect(panel.locator('[data-status="running"]')).to_contain_text("syncing")
    await expect(counter_value(panel, "Models")).to_have_text(f"0 / {want.models}")
    await ui.screenshot("sync-progress")
    await gate.release()

    await expect(panel.locator('[data-status="succeeded"]')).to_be_visible(timeout=30_000)
    await expect(panel.locator(".badge-succeeded")).to_have_text("succeeded")
    await expect(panel.locator("progress")).to_have_count(0)
    await expect(panel.get_by_role("button", name="Cancel")).to_have_count(0)
    await expect(counter_value(panel, "Models")).to_have_text(f"{want.models} / {want.models}")
    await expect(counter_value(panel, "Keys listed")).to_have_text(f"{keys:,}")
    await expect(counter_value(panel, "Keys ignored")).to_have_text(str(want.ignored))
    await expect(counter_value(panel, "Models +/~/−")).to_have_text(f"{want.models} / 0 / 0")
    await expect(counter_value(panel, "Posts +/~/−")).to_have_text(f"{want.posts} / 0 / 0")
    await expect(counter_value(panel, "Media +/~/−")).to_have_text(
        f"{want.images + want.videos:,} / 0 / 0"
    )
    messages: list[Any] = await ui.page.evaluate("window.__sse")
    assert messages and messages[-1] == ["done", "succeeded"], messages
    assert {kind for kind, _ in messages[:-1]} == {"progress"}, messages
    assert await count("whitelabel_models") == want.models


async def check_dashboard_after(ui: UI, want: Expected) -> None:
    page = ui.page
    await page.reload()
    await expect(card_value(page, "Last sync")).to_have_text("succeeded")
    await expect(page.locator(".card").filter(has_text="Last sync")).to_contain_text("#1")
    await expect(page.locator("#run-panel")).to_have_count(0)
    await expect(card_value(page, "Staged models")).to_have_text(f"{want.models:,}")
    await expect(card_value(page, "Posts")).to_have_text(f"{want.posts:,}")
    runs_row = page.locator("#runs-table tbody tr")
    await expect(runs_row).to_have_count(1)
    await expect(runs_row).to_contain_text(re.compile(r"#1\s+all\s+succeeded"))


async def test_sync_now_then_reload_follows_the_run_live(
    ui: UI, app_data: Bucket, sync_gate: SyncGate
) -> None:
    keys, want = await fill(app_data)
    await ui.page.add_init_script(RECORD_SSE)
    await ui.sign_in()
    await start_from_dashboard(ui)
    # Reloading while the run is going renders its panel from the server, live over SSE.
    await ui.page.reload()
    panel = ui.page.locator("#run-panel")
    await expect(panel.get_by_role("heading")).to_have_text("Sync #1 · whole bucket")
    await ui.mark_document()
    await follow_to_summary(ui, panel, sync_gate, keys, want)
    assert await ui.same_document(), "the page reloaded by itself while the run finished"
    await check_dashboard_after(ui, want)
    await ui.screenshot("sync-summary")


async def test_sync_now_panel_updates_in_place(
    ui: UI, app_data: Bucket, sync_gate: SyncGate
) -> None:
    keys, want = await fill(app_data)
    await ui.page.add_init_script(RECORD_SSE)
    await ui.sign_in()
    await ui.mark_document()
    panel = await start_from_dashboard(ui)
    live_refresh = ui.page.locator("#sync-slot meta[http-equiv='refresh' i]")
    assert await live_refresh.count() == 0, "the swapped panel carries a live <meta refresh>"
    await follow_to_summary(ui, panel, sync_gate, keys, want)
    assert await ui.same_document(), "the sync reloaded the page instead of swapping the panel"
    await check_dashboard_after(ui, want)
