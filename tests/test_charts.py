"""The charts (issue 25) through HTTP, signed in: each an SVG named by its <title> and <desc>,
with a table holding the same numbers; a fresh install gets sentences, not empty axes; a
model's name is escaped inside the SVG."""

from __future__ import annotations

import html
import re
from datetime import UTC, datetime, timedelta

from domain.catalogue import trends
from tests.conftest import Bucket, rows
from tests.web import Browser

SVG = re.compile(r"<svg class=\"chart[^\"]*\" id=\"([^\"]+)\"[^>]*>(.*?)</svg>", re.S)


def charts(page: str) -> dict[str, str]:
    """Each chart's SVG by its id."""
    return {m.group(1): m.group(0) for m in SVG.finditer(page)}


def table(page: str, table_id: str) -> list[list[str]]:
    """A table's body as cell texts, row by row."""
    body = page.split(f'id="{table_id}"')[1].split("<tbody>")[1].split("</tbody>")[0]
    cells = re.compile(r"<t[hd][^>]*>(.*?)</t[hd]>", re.S)
    return [
        [html.unescape(re.sub(r"<[^>]+>", "", c)).strip() for c in cells.findall(tr)]
        for tr in re.findall(r"<tr>(.*?)</tr>", body, re.S)
    ]


async def test_a_fresh_install_says_so_in_words(signed_in: Browser) -> None:
    page = (await signed_in.get("/charts")).text
    assert "<svg" not in page
    assert "No sync has finished yet" in page
    assert "The catalogue is empty" in page
    assert "No media synced yet" in page
    dashboard = (await signed_in.get("/")).text
    assert 'hx-get="/charts"' in dashboard and "Loading charts" in dashboard


async def test_charts_draw_the_data_and_tables_hold_the_same_numbers(
    signed_in: Browser, bucket: Bucket
) -> None:
    await bucket.put("small/P1/a.jpg", body=b"x" * 10)
    await bucket.put("big/P1/a.jpg", "big/P2/b.jpg", body=b"x" * 5000)
    await bucket.put("middle/P1/a.jpg", body=b"x" * 700)
    first = await signed_in.sync_now()
    before = table((await signed_in.get("/charts")).text, "chart-storage-table")
    assert [(r[0], r[3]) for r in before] == [("big", "10000"), ("middle", "700"), ("small", "10")]
    await bucket.put("middle/P2/c.mp4", body=b"x" * 800)
    second = await signed_in.sync_now()
    assert first.status == second.status == "succeeded"

    answer = await signed_in.get("/charts")
    assert answer.status_code == 200
    page = answer.text
    drawn = charts(page)
    assert set(drawn) == {
        "chart-runs-duration",
        "chart-runs-keys",
        "chart-runs-changes",
        "chart-growth",
        "chart-storage",
    }
    for chart_id, svg in drawn.items():
        assert 'role="img"' in svg
        assert f'aria-labelledby="{chart_id}-title {chart_id}-desc"' in svg
        assert re.search(rf'<title id="{chart_id}-title">[^<]+</title>', svg)
        assert re.search(rf'<desc id="{chart_id}-desc">[^<]+</desc>', svg)
        assert "style=" not in svg and "<script" not in svg

    # Storage: biggest first, as the sync stored the sizes (read again: a run has ended since).
    storage = table(page, "chart-storage-table")
    assert [(r[0], r[1], r[3]) for r in storage] == [
        ("big", "2", "10000"),
        ("middle", "2", "1500"),
        ("small", "1", "10"),
    ]
    bars = re.findall(r'<rect class="chart-bar"[^>]*width="([\d.]+)"', drawn["chart-storage"])
    widths = [float(w) for w in bars]
    assert widths == sorted(widths, reverse=True) and widths[0] > widths[-1] > 0
    assert "big, holds 9.8 KiB in 2 files" in drawn["chart-storage"]

    # Runs: oldest first; keys listed and changes as the runs recorded them.
    runs_table = table(page, "chart-runs-table")
    assert [r[0] for r in runs_table] == [f"#{first.id}", f"#{second.id}"]
    assert [int(r[3]) for r in runs_table] == [first.keys_listed, second.keys_listed] == [4, 5]
    changes = [int(r[4].replace(",", "")) for r in runs_table]
    assert changes[0] > changes[1] > 0  # the first made it all; the second one post and file
    assert len(re.findall(r'<rect class="chart-bar"', drawn["chart-runs-keys"])) == 2

    # Growth: today holds the whole catalogue, a day before the first sync held nothing.
    growth = table(page, "chart-growth-table")
    assert len(growth) == trends.GROWTH_DAYS
    assert growth[0] == [datetime.now(UTC).date().isoformat(), "3", "5", "5"]  # newest first
    assert growth[1] == [(datetime.now(UTC).date() - timedelta(days=1)).isoformat(), "0", "0", "0"]
    assert (await rows("SELECT count(*) AS n FROM whitelabel_media"))[0]["n"] == 5
    assert "models 3" in drawn["chart-growth"] and "media 5" in drawn["chart-growth"]

    # The dashboard's section loads the same fragment (htmx), without the page around it.
    fragment = (await signed_in.get("/charts", headers={"HX-Request": "true"})).text
    assert "<html" not in fragment and set(charts(fragment)) == set(drawn)


async def test_a_model_name_is_escaped_in_the_svg(signed_in: Browser, bucket: Bucket) -> None:
    name = '<script>&"é🌸'  # no slash: a folder name
    await bucket.put(f"{name}/P/a.jpg", body=b"x" * 100)
    assert (await signed_in.sync_now()).status == "succeeded"
    page = (await signed_in.get("/charts")).text
    storage = charts(page)["chart-storage"]
    assert "<script>" not in page.split("</head>")[1]
    assert "&lt;script&gt;" in storage
    assert table(page, "chart-storage-table")[0][0] == name
