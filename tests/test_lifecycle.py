"""The content lifecycle through the HTTP API: what leaves the bucket leaves the public site in
the same sync, unpublished content leaks nowhere, slugs move without breaking links, and
production editing and bulk actions do what the admin asked (and are audited)."""

from __future__ import annotations

from typing import Any

import pytest

from domain.catalogue.runs import Run
from tests.conftest import Bucket, rows
from tests.web import Browser

KEYS = [
    "Anna/Beach/a.jpg",
    "Anna/Beach/b.jpg",
    "Anna/Beach/c.mp4",
    "Anna/Gym/g.jpg",
    "Ben/Trip/t.png",
    "Cleo/P/x.jpg",
    "Dora/P/d.jpg",
]


@pytest.fixture
async def web(signed_in: Browser, bucket: Bucket) -> tuple[Browser, Bucket]:
    await bucket.put(*KEYS)
    return signed_in, bucket


async def sync(b: Browser) -> Run:
    """A sync; one that holds its deletions back is confirmed, as an admin would."""
    run = await b.sync_now()
    if run.status == "needs_confirmation":
        confirm = await b.post(f"/sync-runs/{run.id}/confirm", {}, htmx=True)
        assert confirm.status_code == 200, confirm.text
        run = await b.wait_for_run(int(confirm.text.split('data-run="')[1].split('"')[0]))
    assert run.status == "succeeded", run
    return run


async def activate_all(b: Browser) -> None:
    assert await b.post("/staged/_bulk/activate", {"name": ["Anna", "Ben", "Cleo", "Dora"]})
    assert len(await rows("SELECT id FROM models")) == 4


async def public_text(b: Browser) -> str:
    """Every public response the site could read, concatenated: models, then each one's posts."""
    out = []
    models = (await b.client.get("/api/v1/models")).json()
    out.append(str(models))
    for m in models["data"]:
        posts = await b.client.get(f"/api/v1/models/{m['slug']}/posts")
        assert posts.status_code == 200
        out.append(str(posts.json()))
    return "\n".join(out)


async def model_id(name: str) -> int:
    return int((await rows("SELECT id FROM models WHERE name = $1", name))[0]["id"])


async def test_a_model_removed_from_the_bucket_leaves_every_public_response(web: Any) -> None:
    b, bucket = web
    await sync(b)
    await activate_all(b)
    assert "Ben/Trip/t.png" in await public_text(b)
    await bucket.delete("Ben/Trip/t.png")
    await sync(b)
    text = await public_text(b)
    assert "Ben" not in text and "t.png" not in text
    assert (await b.client.get("/api/v1/models/ben/posts")).status_code == 404
    ben = (await rows("SELECT * FROM models WHERE name = 'Ben'"))[0]
    assert ben["is_published"] is False and ben["source_missing_at"] is not None
    audit = await rows("SELECT actor, action FROM audit_log WHERE model = $1", ben["id"])
    assert ("sync", "source_missing") in [(r["actor"], r["action"]) for r in audit]
    # The production list filters it, and publishing it is refused while its source is gone.
    listed = (await b.get("/production?missing=1")).text
    assert "source missing" in listed and f'id="pm-{ben["id"]}"' in listed
    assert f'id="pm-{await model_id("Anna")}"' not in listed
    refused = await b.post(f"/production/{ben['id']}/publish", {"published": "true"})
    assert refused.status_code == 409 and "missing from the bucket" in refused.text
    # The folder comes back: the admin sees it, and activating it makes it public again.
    await bucket.put("Ben/Trip/t.png")
    await sync(b)
    assert "source is back" in (await b.get(f"/production/{ben['id']}")).text
    assert "Ben/Trip/t.png" not in await public_text(b)  # only by an admin's decision
    await b.post("/staged/Ben/activate", {})
    assert "Ben/Trip/t.png" in await public_text(b)


async def test_a_removed_post_or_file_leaves_the_public_site(web: Any) -> None:
    b, bucket = web
    await sync(b)
    await activate_all(b)
    await bucket.delete("Anna/Gym/g.jpg", "Anna/Beach/c.mp4")
    await sync(b)
    text = await public_text(b)
    assert "g.jpg" not in text and "c.mp4" not in text
    (beach,) = (await b.client.get("/api/v1/models/anna/posts")).json()["data"]
    assert beach["type"] == "image" and "/Anna/Beach/a.jpg" in beach["content"]
    assert [m["type"] for m in beach["media"]] == ["image", "image"]
    anna = (await b.client.get("/api/v1/models/anna")).json()
    assert anna["postCount"] == 1


async def test_every_post_lists_all_its_media_signed(web: Any) -> None:
    b, _ = web
    await sync(b)
    await activate_all(b)
    posts = (await b.client.get("/api/v1/models/anna/posts")).json()
    beach = next(p for p in posts["data"] if p["title"] == "Beach")
    assert [m["type"] for m in beach["media"]] == ["image", "image", "video"]
    assert all("Signature=" in m["url"] or "X-Amz-Signature=" in m["url"] for m in beach["media"])
    assert beach["type"] == "video" and "c.mp4" in beach["content"]
    response = await b.client.get("/api/v1/models")
    assert "max-age" in response.headers["cache-control"]
    assert "no-store" not in response.headers["cache-control"]


async def test_an_unpublished_post_leaks_nowhere_not_even_as_a_thumbnail(web: Any) -> None:
    b, _ = web
    await sync(b)
    await activate_all(b)  # Cleo has no image of her own: her thumbnail is her post's
    cleo = (await b.client.get("/api/v1/models/cleo")).json()
    assert "Cleo/P/x.jpg" in cleo["thumbnail"]
    post = (await rows("SELECT id FROM posts WHERE source_key = 'Cleo/P'"))[0]["id"]
    await b.post(f"/production/posts/{post}/publish", {"published": "false"})
    assert "x.jpg" not in await public_text(b)
    assert (await b.client.get("/api/v1/models/cleo")).json()["thumbnail"] is None


async def test_a_slug_rename_keeps_the_old_slug_resolving(web: Any) -> None:
    b, _ = web
    await sync(b)
    await activate_all(b)
    anna = await model_id("Anna")
    form = {"name": "Anna B.", "slug": "anna-b", "description": "Beach & gym", "display_order": "1"}
    saved = await b.post(f"/production/{anna}/edit", {**form, "is_featured": "on"})
    assert saved.status_code == 303, saved.text
    for ref in ("anna-b", "anna", "Anna B."):
        page = await b.client.get(f"/api/v1/models/{ref}/posts")
        assert page.status_code == 200 and page.json()["model"]["slug"] == "anna-b", ref
    model = (await b.client.get("/api/v1/models/anna")).json()
    assert (model["name"], model["description"], model["isFeatured"]) == (
        "Anna B.",
        "Beach & gym",
        True,
    )
    history = (await b.get(f"/production/{anna}/history")).text
    assert "model edited" in history and "&#39;anna&#39; → &#39;anna-b&#39;" in history
    # Another model cannot take the old slug, nor a malformed one.
    ben = await model_id("Ben")
    taken = await b.post(f"/production/{ben}/edit", {"name": "Ben", "slug": "anna"})
    assert taken.status_code == 409 and "taken" in taken.text
    bad = await b.post(f"/production/{ben}/edit", {"name": "Ben", "slug": "Ben Ten/"})
    assert bad.status_code == 400 and "URL-safe" in bad.text


async def test_bulk_unpublish_one_row_and_all_matching(web: Any) -> None:
    b, _ = web
    await sync(b)
    await activate_all(b)
    ben = await model_id("Ben")
    one = await b.post("/production/_bulk/publish", {"id": str(ben), "published": "false"})
    assert one.status_code == 303
    assert [m["name"] for m in (await b.client.get("/api/v1/models")).json()["data"]] == [
        "Anna",
        "Cleo",
        "Dora",
    ]
    matching = {"scope": "matching", "q": "o", "published": "false"}  # Cleo, Dora
    assert (await b.post("/production/_bulk/publish", matching)).status_code == 303
    names = [m["name"] for m in (await b.client.get("/api/v1/models")).json()["data"]]
    assert names == ["Anna"]
    page = (await b.get("/production?state=unpublished&size=25")).text
    assert "1–3 of 3 model(s)" in page


async def test_activate_as_draft_keeps_content_off_the_public_site(web: Any) -> None:
    b, _ = web
    await sync(b)
    one = await b.post("/staged/Anna/activate", {"draft": "1"}, htmx=True)
    toast = " ".join(v for k, v in one.headers.items() if k.lower().startswith("hx-trigger"))
    assert one.status_code == 200 and "activated as draft(s), not public" in toast
    picked = {"name": ["Ben", "Cleo"], "draft": "1"}
    assert (await b.post("/staged/_bulk/activate", picked)).status_code == 303
    assert (await b.post("/staged/Dora/activate", {})).status_code == 303
    states = {
        r["name"]: r["is_published"] for r in await rows("SELECT name, is_published FROM models")
    }
    assert states == {"Anna": False, "Ben": False, "Cleo": False, "Dora": True}
    assert [m["name"] for m in (await b.client.get("/api/v1/models")).json()["data"]] == ["Dora"]
    # Activating a draft again (not as a draft) leaves it as the admin left it: unpublished.
    await b.post("/staged/Anna/activate", {})
    assert (await rows("SELECT is_published FROM models WHERE name = 'Anna'"))[0][
        "is_published"
    ] is False
