"""Publishing through HTTP, seen where an admin and the public site see it: bulk publish skips
(and says it skipped) models whose source is missing, and a model's post counts follow the
publishing of one post, on the production list and on the public API."""

from __future__ import annotations

import re
from typing import Any

from domain.catalogue.runs import Run
from tests.conftest import Bucket, rows
from tests.web import Browser

KEYS = ["Anna/Beach/a.jpg", "Anna/Beach/b.mp4", "Anna/Gym/g.jpg", "Ben/Trip/t.png", "Cleo/P/x.jpg"]
KEYS += ["Dora/P/d.jpg"]
NAMES = ["Anna", "Ben", "Cleo", "Dora"]


async def sync(b: Browser) -> Run:
    """A sync; one that holds its deletions back is confirmed, as an admin would."""
    run = await b.sync_now()
    if run.status == "needs_confirmation":
        confirm = await b.post(f"/sync-runs/{run.id}/confirm", {}, htmx=True)
        assert confirm.status_code == 200, confirm.text[:300]
        run = await b.wait_for_run(int(confirm.text.split('data-run="')[1].split('"')[0]))
    assert run.status == "succeeded", run.error
    return run


async def catalogue(b: Browser, bucket: Bucket) -> dict[str, int]:
    """All four models synced and activated (published); name -> production model id."""
    await bucket.put(*KEYS)
    await sync(b)
    assert (await b.post("/staged/_bulk/activate", {"name": NAMES})).status_code == 303
    return {r["name"]: r["id"] for r in await rows("SELECT id, name FROM models")}


async def public_names(b: Browser) -> list[str]:
    return [m["name"] for m in (await b.client.get("/api/v1/models")).json()["data"]]


async def bulk_publish(b: Browser, form: dict[str, Any]) -> str:
    """Bulk publish as the list's form posts it; the message the page then shows (its flash)."""
    answer = await b.post("/production/_bulk/publish", form)
    assert answer.status_code == 303, answer.text[:300]
    page = (await b.get(answer.headers["location"])).text
    found = re.search(r"[\d,]+ model\(s\) published[^<]*", page)
    assert found, "the production list showed no message after bulk publishing"
    return found.group(0)


async def published() -> dict[str, bool]:
    return {
        r["name"]: r["is_published"] for r in await rows("SELECT name, is_published FROM models")
    }


async def test_bulk_publish_skips_source_missing_models_and_says_so(
    signed_in: Browser, bucket: Bucket
) -> None:
    b = signed_in
    ids = await catalogue(b, bucket)
    off = await b.post("/production/_bulk/publish", {"scope": "matching", "published": "false"})
    assert off.status_code == 303 and await public_names(b) == []
    await bucket.delete("Ben/Trip/t.png")
    await sync(b)  # Ben's folder is gone: his production model is "source missing"
    every = {"id": [str(ids[n]) for n in NAMES], "published": "true"}
    said = await bulk_publish(b, every)
    assert (await published())["Ben"] is False, "bulk publish published a source-missing model"
    assert "3 model(s) published" in said and "1 skipped" in said, said
    assert await public_names(b) == ["Anna", "Cleo", "Dora"]
    assert (await b.client.get("/api/v1/models/ben")).status_code == 404
    row = (await b.get("/production?missing=1")).text
    assert f'id="pm-{ids["Ben"]}"' in row and "badge-unpublished" in row
    # Its folder comes back (staged again, not yet activated): still only by activation.
    await bucket.put("Ben/Trip/t.png")
    await sync(b)
    matching = {"scope": "matching", "published": "true"}
    said = await bulk_publish(b, matching)
    assert "0 model(s) published" in said and "1 skipped" in said, said
    assert (await published())["Ben"] is False, "bulk publish published a model not activated"
    assert "Ben" not in await public_names(b)


POSTS_CELL = re.compile(r'data-label="Public posts">([\d,]+)<')


async def counts(b: Browser, model_id: int) -> tuple[int, int, int]:
    """Anna's public post count as the production list, the API's list and her API page say."""
    page = (await b.get("/production?q=anna")).text
    row = page.split(f'<tr id="pm-{model_id}">', 1)[1].split("</tr>", 1)[0]
    listed = POSTS_CELL.search(row)
    assert listed, row
    api_list = {
        m["name"]: m["postCount"] for m in (await b.client.get("/api/v1/models")).json()["data"]
    }
    api_one = (await b.client.get("/api/v1/models/anna")).json()["postCount"]
    return int(listed.group(1)), api_list["Anna"], api_one


async def test_publishing_one_post_moves_its_models_post_counts(
    signed_in: Browser, bucket: Bucket
) -> None:
    b = signed_in
    ids = await catalogue(b, bucket)
    assert await counts(b, ids["Anna"]) == (2, 2, 2)
    gym = (await rows("SELECT id FROM posts WHERE source_key = 'Anna/Gym'"))[0]["id"]
    off = await b.post(f"/production/posts/{gym}/publish", {"published": "false"}, htmx=True)
    assert off.status_code == 200, off.text[:300]
    assert await counts(b, ids["Anna"]) == (1, 1, 1), "unpublishing a post left the count at 2"
    posts = (await b.client.get("/api/v1/models/anna/posts")).json()
    assert [p["title"] for p in posts["data"]] == ["Beach"] and posts["meta"]["count"] == 1
    on = await b.post(f"/production/posts/{gym}/publish", {"published": "true"}, htmx=True)
    assert on.status_code == 200, on.text[:300]
    assert await counts(b, ids["Anna"]) == (2, 2, 2), "publishing a post again left the count at 1"
