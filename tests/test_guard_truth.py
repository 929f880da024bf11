"""The deletion guard tells the truth, through HTTP with the real worker: a held plan counts
what confirming it deletes (a deleted model's posts and media included), lists first what of
it is live on the public site, with counts, and its confirm text says those go off the site."""

from __future__ import annotations

import html
import re

from tests.conftest import Bucket, rows
from tests.test_publish_counts import catalogue
from tests.web import Browser


async def held_plan(b: Browser, bucket: Bucket) -> int:
    """Anna (3 posts), Ben, Cleo, Dora live; Ben and Anna's Art post then unpublished. Ben and
    Cleo's folders go (half the models: held), and so do Anna's Art and Gym posts. Returns the
    held run's id."""
    await bucket.put("Anna/Art/c.jpg")
    ids = await catalogue(b, bucket)
    assert (await b.post(f"/production/{ids['Ben']}/publish", {"published": "false"})).is_redirect
    art = (await rows("SELECT id FROM posts WHERE source_key = 'Anna/Art'"))[0]["id"]
    assert (await b.post(f"/production/posts/{art}/publish", {"published": "false"})).is_redirect
    await bucket.delete("Ben/Trip/t.png", "Cleo/P/x.jpg", "Anna/Gym/g.jpg", "Anna/Art/c.jpg")
    run = await b.sync_now()
    assert run.status == "needs_confirmation", (run.status, run.error)
    return run.id


async def test_a_held_plan_counts_what_confirming_deletes(
    signed_in: Browser, bucket: Bucket
) -> None:
    b = signed_in
    run_id = await held_plan(b, bucket)
    page = html.unescape((await b.get(f"/sync-runs/{run_id}")).text)
    said = re.search(r"Would delete:</strong> (\d+) model\(s\), (\d+) post\(s\), (\d+) media", page)
    assert said, page[:2000]
    planned = tuple(int(n) for n in said.groups())
    assert planned == (2, 4, 4), f"the plan says {planned}"
    confirm = await b.post(f"/sync-runs/{run_id}/confirm", {}, htmx=True)
    assert confirm.status_code == 200, confirm.text[:300]
    done = await b.wait_for_run(int(confirm.text.split('data-run="')[1].split('"')[0]))
    assert done.status == "succeeded", done.error
    deleted = (done.models_deleted, done.posts_deleted, done.media_deleted)
    assert deleted == planned, f"the plan said {planned}, confirming deleted {deleted}"


async def test_the_guard_lists_live_content_first_and_says_it_goes_off_the_site(
    signed_in: Browser, bucket: Bucket
) -> None:
    b = signed_in
    run_id = await held_plan(b, bucket)
    page = html.unescape((await b.get(f"/sync-runs/{run_id}")).text)
    panel = page.split('class="alert alert-warning stack"')[1]
    live = panel.index("Live on the public site:")
    assert live < panel.index("Would delete:"), "the live share is not listed first"
    assert "1 model(s) and 2 post(s) it deletes are public" in panel  # Cleo, her post, Anna/Gym
    assert re.search(r"Live models: <span[^>]*>Cleo</span>\.", panel), panel[:1500]
    assert re.search(r"Other models: <span[^>]*>Ben</span>\.", panel), panel[:1500]
    asked = re.search(r'hx-confirm="([^"]*)"', panel)
    assert asked and asked.group(1).endswith(
        "1 live model(s) and 2 live post(s) go off the public site."
    ), asked
    plan = html.unescape((await b.get(f"/sync-runs/{run_id}/plan?kind=models")).text)
    rows = re.findall(r"<li>\s*(.*?)</li>", plan.split('class="change-list"')[1], re.S)
    assert [("badge-published" in r, "Cleo" in r) for r in rows] == [(True, True), (False, False)]
    assert "1 model(s) and 2 post(s) it deletes are public now" in plan
    posts = html.unescape((await b.get(f"/sync-runs/{run_id}/plan?kind=posts")).text)
    rows_shown = re.findall(r"<li>\s*(.*?)</li>", posts.split('class="change-list"')[1], re.S)
    order = [("badge-published" in r, re.sub(r"<[^>]+>|\s+", "", r)) for r in rows_shown]
    assert order == [(True, "liveAnna/Gym"), (False, "Anna/Art")], order
