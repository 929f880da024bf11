"""Issue 25, tables: the staged, production and audit lists scroll with the PAGE, not inside a
box of their own; the header row sticks at the top; no word is broken mid-word; a long name ends
in an ellipsis with the full name in its title; thumbnails show; at 390 px nothing scrolls the
page sideways. At 1366x800 and 390x844, 50 rows a page."""

from __future__ import annotations

import io
from typing import Any

import pytest
from PIL import Image
from playwright.async_api import Page

from domain.accounts import audit
from domain.media import derive
from domain.staging.activation import activate_all_new
from tests.browser.support import UI, put_many
from tests.conftest import Bucket

VIEWPORTS = [
    pytest.param({"width": 1366, "height": 800}, id="1366"),
    pytest.param({"width": 390, "height": 844}, id="390"),
]
LONG = ("Abigail Rosalind Montgomery-Vasquez " * 6)[:199] + "Z"  # 200 characters, sorts first
SHORT = ["Ruby", "Ann", "Bo", "Li Na", "Max"]
PAGES = [
    ("staged", "/staged?size=50&sort=name&dir=asc", "#staged-table"),
    ("production", "/production?size=50&sort=name&dir=asc", "#production-list"),
    ("audit", "/audit", "#audit-table"),
]

# Everything measured in the page, one call: what a failure message lists.
MEASURE = """(sel) => {
  const root = document.querySelector(sel);
  const table = root.querySelector('table.data');
  const out = {tables: root.querySelectorAll('table.data').length, overflow: [], boxes: [],
               broken: [], thumbs: [], rows: table.tBodies[0].rows.length};
  // No element wider than its cell; no cell wider than the table's frame.
  const frame = table.parentElement.getBoundingClientRect();
  for (const td of table.querySelectorAll('tbody td')) {
    const cell = td.getBoundingClientRect();
    if (td.scrollWidth > td.clientWidth + 1) out.overflow.push(
      `td ${td.dataset.label || td.className} scrollWidth ${td.scrollWidth} > ${td.clientWidth}`);
    for (const el of td.querySelectorAll('*')) {
      const r = el.getBoundingClientRect();
      if (r.width && (r.left < cell.left - 1 || r.right > cell.right + 1))
        out.overflow.push(`${el.tagName.toLowerCase()}.${el.className} [${r.left|0}, ${r.right|0}]`
                          + ` outside its cell [${cell.left|0}, ${cell.right|0}]`);
    }
    const clips = getComputedStyle(table.parentElement).overflowX !== 'visible';
    if (cell.right > frame.right + 1 && !clips)
      out.overflow.push(`cell ${td.dataset.label || td.className} past the table's frame`);
  }
  // No scroll box around the table: no ancestor that scrolls vertically or has a height limit.
  for (let el = table.parentElement; el && el !== document.documentElement; el = el.parentElement) {
    const cs = getComputedStyle(el);
    const scrolls = ['auto', 'scroll'].includes(cs.overflowY);
    const limited = cs.maxHeight !== 'none' || el.scrollHeight > el.clientHeight + 1;
    if ((scrolls || cs.overflowY === 'hidden') && limited)
      out.boxes.push(`${el.tagName.toLowerCase()}#${el.id}.${el.className}:`
                     + ` overflow-y ${cs.overflowY}, max-height ${cs.maxHeight},`
                     + ` ${el.scrollHeight} > ${el.clientHeight}`);
  }
  // No word broken across lines (name links cut with an ellipsis are one line by design).
  const walker = document.createTreeWalker(table.tBodies[0], NodeFilter.SHOW_TEXT);
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    const text = node.textContent;
    const re = /[^\\s/-]+/g;  // hyphens and slashes are fair places to wrap
    for (let m = re.exec(text); m; m = re.exec(text)) {
      const range = document.createRange();
      range.setStart(node, m.index);
      range.setEnd(node, m.index + m[0].length);
      const rects = [...range.getClientRects()].filter((r) => r.width > 0);
      const tops = new Set(rects.map((r) => Math.round(r.top)));
      if (tops.size > 1) out.broken.push(`"${m[0].slice(0, 30)}" on ${tops.size} lines`);
    }
  }
  // The audit's time: one line.
  for (const t of table.querySelectorAll('tbody time')) {
    const lines = new Set([...t.getClientRects()].map((r) => Math.round(r.top)));
    if (t.getBoundingClientRect().height > 24 || lines.size > 1)
      out.broken.push(`time "${t.textContent}" ${t.getBoundingClientRect().height|0} px tall`);
  }
  out.thumbs = [...table.querySelectorAll('tbody .thumb')]
    .map((t) => t.getBoundingClientRect().width);
  out.page = [document.documentElement.scrollWidth, window.innerWidth];
  return out;
}"""

LAST_ROW = """(sel) => {
  const rows = document.querySelector(sel).querySelectorAll('table.data tbody tr');
  const last = rows[rows.length - 1];
  window.scrollTo(0, document.documentElement.scrollHeight);  // the page, nothing else
  const r = last.getBoundingClientRect();
  const x = Math.min(r.left + 20, innerWidth - 1);
  const hit = document.elementFromPoint(x, r.top + r.height / 2);
  return {top: r.top, bottom: r.bottom, view: innerHeight, hit: !!hit && last.contains(hit),
          scrollY: window.scrollY};
}"""

STICKY = """(sel) => {
  const table = document.querySelector(sel).querySelector('table.data');
  const rows = table.tBodies[0].rows;
  rows[Math.floor(rows.length / 2)].scrollIntoView({block: 'center'});
  const th = table.tHead.rows[0].cells[2].getBoundingClientRect();
  return {thTop: th.top, tableTop: table.getBoundingClientRect().top, scrollY: window.scrollY};
}"""

ELLIPSIS = """([sel, long]) => {
  const links = [...document.querySelectorAll(sel + ' tbody td.name > :is(a, .clip)')]
    .filter((a) => a.textContent === long);
  return links.map((a) => {
    const cs = getComputedStyle(a);
    return {title: a.title, overflow: cs.textOverflow, space: cs.whiteSpace,
            cut: a.scrollWidth > a.clientWidth, width: a.clientWidth};
  });
}"""


def jpeg() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (64, 64), "teal").save(out, "JPEG")
    return out.getvalue()


async def fill(app_data: Bucket) -> None:
    """56 models with a real picture each, in production and previewed; 55 audit entries."""
    names = [LONG] + SHORT + [f"Model {i:03d}" for i in range(1, 51)]
    body = jpeg()
    await put_many(
        app_data.s3,
        [(f"{n}/icon.jpg", body) for n in names] + [(f"{n}/Post 1/a.jpg", body) for n in names],
    )
    assert (await app_data.sync()).status == "succeeded"
    await activate_all_new()
    stats = await derive.run(app_data.s3, budget_s=120)
    assert not stats.more
    actors = ["admin", "superuser", "Ruby", "#3", "tester"]
    for i in range(55):
        target = LONG if i % 5 == 0 else SHORT[i % 5]
        detail = f"run #{i}: 1 model(s) activated: 4 post(s) created, " + LONG  # prose wraps
        await audit.record(actors[i % 5], "activation", target, detail, "203.0.113.77")


async def check(page: Page, name: str, sel: str, viewport: dict[str, int]) -> list[str]:
    problems: list[str] = []
    got: dict[str, Any] = await page.evaluate(MEASURE, sel)
    where = f"{name} at {viewport['width']} px"
    if got["rows"] < 50:
        problems.append(f"{where}: only {got['rows']} rows")
    if got["page"][0] > got["page"][1]:
        problems.append(f"{where}: the page scrolls sideways {got['page']}")
    for key in ("overflow", "boxes", "broken"):
        problems += [f"{where}: {key}: {p}" for p in got[key][:10]]
    if name != "audit" and (not got["thumbs"] or min(got["thumbs"]) < 30):
        problems.append(f"{where}: thumbnails {sorted(set(got['thumbs']))[:5]} px wide")
    cut = await page.evaluate(ELLIPSIS, [sel, LONG])
    if not cut:
        problems.append(f"{where}: no 200-character name in a name cell")
    for c in cut[:2]:
        if c["title"] != LONG or c["overflow"] != "ellipsis" or not c["cut"]:
            c["title"] = c["title"][:24] + "…"
            problems.append(f"{where}: the long name is not cut with an ellipsis and titled: {c}")
    last = await page.evaluate(LAST_ROW, sel)
    if not (last["scrollY"] > 0 and last["top"] >= 0 and last["bottom"] <= last["view"] + 1):
        problems.append(f"{where}: the last row is not on screen after scrolling the page: {last}")
    elif not last["hit"]:
        problems.append(f"{where}: the last row is covered: {last}")
    if viewport["width"] >= 800:
        sticky = await page.evaluate(STICKY, sel)
        if not (sticky["scrollY"] > 0 and abs(sticky["thTop"]) <= 1 and sticky["tableTop"] < -50):
            problems.append(f"{where}: the header row does not stick at the top: {sticky}")
    return problems


@pytest.mark.parametrize("viewport", VIEWPORTS)
async def test_tables_scroll_with_the_page(
    ui: UI, app_data: Bucket, viewport: dict[str, int]
) -> None:
    await fill(app_data)
    await ui.sign_in()
    page = ui.page
    await page.set_viewport_size(viewport)
    problems: list[str] = []
    for name, path, sel in PAGES:
        await ui.goto(path)
        await page.wait_for_load_state("load")
        await page.locator("tbody img.thumb").evaluate_all(
            "(imgs) => imgs.forEach((img) => { img.loading = 'eager'; })"
        )
        await page.wait_for_function(
            "() => [...document.querySelectorAll('tbody img.thumb')].every((i) => i.complete)"
        )
        await ui.screenshot(f"tables-{name}-{viewport['width']}")
        problems += await check(page, name, sel, viewport)
    assert not problems, "\n".join(problems)
