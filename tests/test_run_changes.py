"""A run's page lists what it changed (models and posts added, changed, removed; keys ignored
and why), a held plan lists everything it would delete page by page, and a confirmation and
the run it confirms link to each other. Over HTTP, against moto and the app's real worker."""

from __future__ import annotations

import asyncio
import html
import json
import re
from typing import Any

import pytest

from domain.catalogue.run_changes import Recorder
from tests.conftest import Bucket, count, rows
from tests.web import Browser


@pytest.fixture
async def web(signed_in: Browser, bucket: Bucket) -> tuple[Browser, Bucket]:
    return signed_in, bucket


def listed(page: str, name: str) -> str:
    """The markup of one list on a run page (`model-added`, `post-removed`, `ignored`...)."""
    start = page.find(f'data-list="{name}"')
    assert start != -1, f"the page has no {name} list"
    return page[start : page.index("</details>", start)]


def items(markup: str) -> list[str]:
    """The list's lines as the admin reads them (tags dropped, spaces squeezed)."""
    lists = "".join(re.findall(r'<ol class="change-list"[^>]*>(.*?)</ol>', markup, re.S))
    lines = re.findall(r"<li>(.*?)</li>", lists, re.S)
    return [" ".join(re.sub(r"<[^>]+>", "", line).split()) for line in lines]


def position(page: str) -> str:
    found = re.search(r'id="position">([^<]*)<', page)
    assert found, "the page shows no position"
    return found.group(1)


FILLER = [f"M{i}/P/{n}.jpg" for i in range(5) for n in "abc"]


async def test_run_page_lists_added_changed_removed_and_ignored(web: Any) -> None:
    b, bucket = web
    await bucket.put(*FILLER, "Anna/Beach/a.jpg", "Anna/Studio/a.jpg", "Ben/Trip/x.png")
    first = await b.sync_now()
    page = (await b.get(f"/sync-runs/{first.id}")).text
    assert sorted(items(listed(page, "model-added"))) == [
        "Anna",
        "Ben",
        "M0",
        "M1",
        "M2",
        "M3",
        "M4",
    ]
    assert "Models added (7)" in page and "Posts added (8)" in page

    await bucket.put("Anna/Pool/new.jpg", "Anna/Beach/b.jpg", "Zed/P/z.jpg")  # added, changed
    await bucket.delete("Anna/Studio/a.jpg", "Ben/Trip/x.png")  # a post, a whole model
    await bucket.put("README.md", "Anna/Beach/notes.txt", "Anna/.trash/old.jpg")  # ignored
    second = await b.sync_now()
    assert second.status == "succeeded", second.error
    page = (await b.get(f"/sync-runs/{second.id}")).text
    assert items(listed(page, "model-added")) == ["Zed"]
    assert items(listed(page, "model-changed")) == ["Anna"]
    assert items(listed(page, "model-removed")) == ["Ben"]
    assert sorted(items(listed(page, "post-added"))) == ["Anna / Pool", "Zed / P"]
    assert items(listed(page, "post-changed")) == ["Anna / Beach"]
    assert sorted(items(listed(page, "post-removed"))) == ["Anna / Studio", "Ben / Trip"]
    # A model still staged links to its page; a removed one cannot.
    assert 'href="/staged/Zed"' in listed(page, "model-added")
    assert 'href="/staged/Anna"' in listed(page, "post-removed")
    assert "<a" not in listed(page, "model-removed")
    ignored = items(listed(page, "ignored"))
    assert "Ignored keys (3)" in page
    assert sorted(ignored) == [
        "Anna/.trash/old.jpg — a hidden file or folder (a segment starts with .)",
        "Anna/Beach/notes.txt — neither an image nor a video (.txt)",
        "README.md — a file at the top of the bucket, in no model folder",
    ]
    # The counters and the lists agree.
    assert (second.models_inserted, second.models_updated, second.models_deleted) == (
        1,
        1,
        1,
    )
    assert (second.posts_inserted, second.posts_updated, second.posts_deleted) == (2, 1, 2)


async def test_long_lists_show_50_and_page_through_all(web: Any) -> None:
    b, bucket = web
    names = [f"Model {i:02d}" for i in range(60)]
    await bucket.put(*(f"{n}/P/a.jpg" for n in names))
    await bucket.put(*(f"{n}/junk{j}.txt" for n in names for j in range(4)))  # 240 ignored
    run = await b.sync_now()
    assert run.status == "succeeded", (run.status, run.error)  # else the lists are partial
    page = (await b.get(f"/sync-runs/{run.id}")).text
    added = listed(page, "model-added")
    assert len(items(added)) == 50 and "Models added (60)" in page
    show_all = re.search(r'href="([^"]+)">Show all \(60\)', added)
    assert show_all, added[-300:]
    full = await b.get(show_all.group(1).replace("&amp;", "&") + "&page=2")
    assert full.status_code == 200
    assert position(full.text) == "51–60 of 60"
    assert sorted(items(full.text) + items(added)) == names
    # Ignored keys: all 240 counted, the first 200 kept with their reason, 50 on the page.
    ignored = listed(page, "ignored")
    assert "Ignored keys (240)" in page and len(items(ignored)) == 50
    assert "Show all (200)" in ignored
    last = await b.get(f"/sync-runs/{run.id}/changes?kind=ignored&page=4")
    assert position(last.text) == "151–200 of 200 kept"
    assert all("not an image (.txt) directly in the model folder" in i for i in items(last.text))
    fragment = await b.get(
        f"/sync-runs/{run.id}/changes?kind=ignored&page=2", headers={"HX-Request": "true"}
    )
    assert "<html" not in fragment.text and position(fragment.text) == "51–100 of 200 kept"
    wrong = await b.get(f"/sync-runs/{run.id}/changes?kind=media")
    assert wrong.status_code == 400 and "kind='media' change=" in html.unescape(wrong.text)


async def test_held_plan_lists_every_deletion_and_confirm_links_both_ways(web: Any) -> None:
    b, bucket = web
    gone = [f"Gone {i:02d}" for i in range(60)]
    kept = [f"Kept {i:02d}" for i in range(20)]
    await bucket.put(*(f"{n}/P/a.jpg" for n in gone + kept))
    await bucket.put("Kept 00/Old/a.jpg", *(f"Kept 00/Stay/{i:02d}.jpg" for i in range(25)))
    await b.sync_now()
    await bucket.delete(*(f"{n}/P/a.jpg" for n in gone), "Kept 00/Old/a.jpg")
    await bucket.delete(*(f"Kept 00/Stay/{i:02d}.jpg" for i in range(0, 25, 2)))  # 13 media
    held = await b.sync_now()
    assert held.status == "needs_confirmation", held.error
    page = (await b.get(f"/sync-runs/{held.id}")).text
    assert "and 40 more" in page and "Show all 60 model(s)" in page
    plan = f"/sync-runs/{held.id}/plan"
    pages = [await b.get(f"{plan}?kind=models&page={n}") for n in (1, 2, 3)]
    assert [position(p.text) for p in pages] == ["1–20 of 60", "21–40 of 60", "41–60 of 60"]
    assert [i for p in pages for i in items(p.text)] == [
        f"{n} with 1 post(s), 1 media" for n in gone
    ]
    assert "Next" in pages[2].text and 'aria-disabled="true">Next' in pages[2].text
    posts = await b.get(f"{plan}?kind=posts")
    assert items(posts.text) == ["Kept 00 / Old"] and position(posts.text) == "1–1 of 1"
    media = await b.get(f"{plan}?kind=media")
    assert position(media.text) == "1–14 of 14"  # 13 from Stay and Old's one
    assert "Kept 00/Stay/24.jpg" in items(media.text)
    assert await count("whitelabel_models") == 80  # held: nothing deleted yet

    confirm = await b.post(f"/sync-runs/{held.id}/confirm", {}, htmx=True)
    confirm_id = int(confirm.text.split('data-run="')[1].split('"')[0])
    done = await b.wait_for_run(confirm_id, timeout=60)
    assert done.status == "succeeded", done.error
    confirm_page = (await b.get(f"/sync-runs/{confirm_id}")).text
    assert re.search(rf'confirms <a href="/sync-runs/{held.id}">run #{held.id}</a>', confirm_page)
    assert "Models removed (60)" in confirm_page and "Posts removed (61)" in confirm_page
    original = (await b.get(f"/sync-runs/{held.id}")).text
    assert re.search(
        rf'confirmed by <a href="/sync-runs/{confirm_id}">run #{confirm_id}</a>', original
    )
    assert (await b.get(f"{plan}?kind=models")).status_code == 404  # nothing is held any more
    assert await count("whitelabel_models") == 20


async def test_held_plan_of_forty_thousand_media_lists_them_page_by_page(
    signed_in: Browser,
) -> None:
    """More ids than PostgreSQL takes parameters (32,767): the plan page still lists them."""
    b = signed_in
    (model,) = await rows("INSERT INTO whitelabel_models (folder_name) VALUES ('Big') RETURNING id")
    (post,) = await rows(
        "INSERT INTO whitelabel_posts (whitelabel_model, folder_name, title) "
        "VALUES ($1, 'P', 'P') RETURNING id",
        model["id"],
    )
    media = await rows(
        "INSERT INTO whitelabel_media (whitelabel_post, s3_key, url, type) "
        "SELECT $1, 'Big/P/' || lpad(i::text, 5, '0') || '.jpg', '', 'image' "
        "FROM generate_series(1, 40000) AS i RETURNING id",
        post["id"],
    )
    ids = [m["id"] for m in media]
    part = {"name": "Big", "posts": [], "media": ids, "keys": []}
    summary = {"models": 0, "posts": 0, "media": len(ids), "model_names": [], "media_keys": []}
    plan = {"models": {}, "model_media": 0, "per_model": {str(model["id"]): part}}
    plan["summary"] = summary
    (held,) = await rows(
        "INSERT INTO sync_runs (status, phase, plan, triggered_by) "
        "VALUES ('needs_confirmation', 'done', $1, 'test') RETURNING id",
        json.dumps(plan),
    )
    page = await b.get(f"/sync-runs/{held['id']}/plan?kind=media&page=2")
    assert page.status_code == 200, page.text[:500]
    assert position(page.text) == "21–40 of 40,000"
    assert items(page.text)[0] == "Big/P/00021.jpg"


async def test_a_heartbeat_cut_off_mid_write_loses_no_change(database: Any) -> None:
    """A part that ends while its heartbeat is writing changes cancels the heartbeat; the
    changes that write had taken still reach the run's page (the bug: 17 of 60 added models
    missing from "Models added" when a part ended half a second in)."""
    (run,) = await rows(
        "INSERT INTO sync_runs (status, phase, triggered_by) "
        "VALUES ('running', 'syncing', 'test') RETURNING id"
    )
    recorder = Recorder(run["id"])
    for i in range(20):
        recorder.rows.append((run["id"], "model", "added", f"M{i}", f"M{i}", ""))
    heartbeat = asyncio.create_task(recorder.flush_quietly())
    for _ in range(20):  # until the write has taken the rows (it then waits on the database)
        if not recorder.rows:
            break
        await asyncio.sleep(0)
    assert recorder.rows == [], "the heartbeat's write did not take the rows"
    heartbeat.cancel()
    recorder.rows.append((run["id"], "model", "added", "Last", "Last", ""))
    await recorder.close()
    written = await rows("SELECT name FROM sync_run_changes WHERE run = $1", run["id"])
    assert sorted(r["name"] for r in written) == sorted([f"M{i}" for i in range(20)] + ["Last"])
