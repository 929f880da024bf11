"""In Chromium, at 1366 and 390 px, what an admin sees on the jobs page: the dashboard's jobs
line leads there with the preview backlog; Pause keeps the backlog while the server's worker
runs, Resume drains it; a failed job shows its reason, and Retry runs it again once its cause
is fixed."""

from __future__ import annotations

import asyncio

import pytest
from playwright.async_api import expect

from domain.platform import queue as platform_queue
from tests.browser.support import UI
from tests.conftest import Bucket

IMAGES = ("Ana/P1/a.jpg", "Ana/P1/b.jpg", "Ana/P2/c.jpg")


@pytest.mark.parametrize("width", [1366, 390])
async def test_pause_keeps_the_preview_backlog_and_resume_drains_it(
    ui: UI, app_data: Bucket, width: int
) -> None:
    page = ui.page
    await ui.sign_in()
    await page.set_viewport_size({"width": width, "height": 900})
    await ui.goto("/jobs")
    await expect(page.get_by_role("heading", name="Jobs", level=1)).to_be_visible()
    await expect(page.locator('#job-kinds tr[data-task="derive_media"]')).to_contain_text(
        "Previews and posters"
    )
    await ui.mark_document()
    await page.get_by_role("button", name="Pause previews").click()
    paused = page.locator('[data-previews="paused"]')
    await expect(paused).to_contain_text("Previews are paused by tester")
    assert await ui.same_document()  # htmx swapped the board

    await app_data.put(*IMAGES)
    await ui.goto("/")
    # "Sync now": the server's worker syncs, then queues previews (none while paused).
    await page.get_by_role("button", name="Sync now").click()
    panel = page.locator("#run-panel")
    await expect(panel.locator('[data-status="succeeded"]')).to_be_visible(timeout=30_000)
    await page.reload()
    line = page.locator("#workers-card a")
    await expect(line).to_contain_text("3 preview(s) waiting")
    await line.click()
    await expect(page).to_have_url(ui.url("/jobs"))
    await expect(paused.locator("[data-backlog]")).to_have_text("3")
    await asyncio.sleep(2)  # the server's worker is running: paused, it takes none
    await page.get_by_role("link", name="Refresh").click()
    await expect(paused.locator("[data-backlog]")).to_have_text("3")
    await ui.screenshot(f"jobs-previews-paused-{width}")

    await page.get_by_role("button", name="Resume previews").click()
    running = page.locator('[data-previews="running"]')
    await expect(page.get_by_role("button", name="Pause previews")).to_be_visible()
    # The board refreshes itself every 5 s.
    await expect(running.locator("[data-backlog]")).to_have_text("0", timeout=30_000)
    await ui.screenshot(f"jobs-previews-resumed-{width}")


@pytest.mark.parametrize("width", [1366, 390])
async def test_a_failed_job_shows_its_reason_and_retry_runs_it(
    ui: UI, app_data: Bucket, queue: None, width: int
) -> None:
    page = ui.page
    await ui.sign_in()
    await page.set_viewport_size({"width": width, "height": 900})
    job_id = await platform_queue.app.configure_task("activate").defer_async(names=["Ghost"])
    await ui.goto("/jobs")
    row = page.locator(f'#job-failures tr[data-job="{job_id}"]')
    await expect(row).to_contain_text("no staged model named 'Ghost'", timeout=20_000)
    await expect(
        page.locator('#job-kinds tr[data-task="activate"] [data-count="failed"]')
    ).to_have_text("1")
    await ui.screenshot(f"jobs-failure-{width}")

    await app_data.put("Ghost/P1/a.jpg")
    assert (await app_data.sync()).status == "succeeded"
    await row.get_by_role("button", name="Retry").click()
    await expect(page.get_by_text(f"Job #{job_id} (Bulk activation) queued again.")).to_be_visible()
    await expect(page.get_by_text("No failed jobs.")).to_be_visible()
    activate = page.locator('#job-kinds tr[data-task="activate"]')
    for count in ("queued", "running", "failed"):  # the board refreshes itself every 5 s
        await expect(activate.locator(f'[data-count="{count}"]')).to_have_text("0", timeout=20_000)
    await ui.goto("/production")
    await expect(page.get_by_role("link", name="Ghost", exact=True)).to_be_visible()
