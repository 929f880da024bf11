"""The dashboard's charts in Chromium, at 1366 and 390 px: loaded into the page after it is
drawn, each SVG drawn at a real size in the light and the dark colour scheme, in the scheme's
own colours, with no CSP complaint (the fixture fails the test on any console error)."""

from __future__ import annotations

import pytest
from playwright.async_api import expect

from tests.browser.support import SHOT_QUALITY, UI, synced_demo
from tests.conftest import Bucket

CHARTS = ("chart-runs-duration", "chart-runs-keys", "chart-runs-changes", "chart-growth")


@pytest.mark.parametrize("width", [1366, 390])
async def test_charts_render_in_light_and_dark(ui: UI, app_data: Bucket, width: int) -> None:
    await synced_demo(app_data)
    await ui.sign_in()
    await ui.page.set_viewport_size({"width": width, "height": 900})
    colours = {}
    for scheme in ("light", "dark"):
        await ui.page.emulate_media(color_scheme=scheme)
        await ui.goto("/")
        storage = ui.page.locator("svg#chart-storage")
        await expect(storage).to_be_visible()  # htmx fetched /charts into the section
        await expect(ui.page.get_by_text("Loading charts")).to_have_count(0)
        for chart_id in (*CHARTS, "chart-storage"):
            svg = ui.page.locator(f"svg#{chart_id}")
            await svg.scroll_into_view_if_needed()
            box = await svg.bounding_box()
            assert box and box["width"] > 200 and box["height"] > 50, (scheme, chart_id, box)
        bars = storage.locator("rect.chart-bar")
        assert await bars.count() >= 2
        first = await bars.first.bounding_box()
        assert first and first["width"] > 0 and first["height"] > 0
        colours[scheme] = await bars.first.evaluate("r => getComputedStyle(r).fill")
        line = ui.page.locator("svg#chart-growth polyline.chart-series-models")
        assert await line.evaluate("l => getComputedStyle(l).stroke") == colours[scheme]
        await ui.page.get_by_text("Show as table").last.click()
        await expect(ui.page.locator("#chart-storage-table")).to_be_visible()
        shot = await _shot(ui, f"{scheme}-{width}")
        await ui.page.locator("#charts").screenshot(path=shot, quality=SHOT_QUALITY)
    assert colours["light"] != colours["dark"], colours


async def _shot(ui: UI, scheme: str) -> str:
    path = await ui.screenshot(f"charts-{scheme}-page")
    return str(path.with_name(f"charts-{scheme}.jpg"))
