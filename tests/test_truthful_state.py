"""Badges, counts and cards tell the truth about what is public (domain/production/visibility.py),
seen through HTTP as an admin sees them: after publish, unpublish, a draft activation and a
source gone from the bucket. A post of an unpublished model is never shown as public, an
unpublished model counts no public posts, and the dashboard's public posts are exactly the
posts of its public models."""

from __future__ import annotations

import html as html_text
import re

from tests.conftest import Bucket, count, eventually, rows
from tests.test_publish_counts import catalogue, sync
from tests.web import Browser

CARD = re.compile(r'card-label">Production (models|posts)</span>.*?([\d,]+) public</span>', re.S)


def _cell(row: str, label: str) -> str:
    found = re.search(rf'data-label="{label}">(.*?)</td>', row, re.S)
    assert found, f"no {label} cell in {row[:200]}"
    return found.group(1)


async def model_row(b: Browser, model_id: int) -> str:
    page = (await b.get("/production?size=100")).text
    return page.split(f'<tr id="pm-{model_id}"')[1].split("</tr>")[0]


def badges(html: str) -> list[str]:
    """The badges' words in a piece of a page, in order."""
    return [
        html_text.unescape(w) for w in re.findall(r'<span class="badge[^"]*">([^<]*)</span>', html)
    ]


async def post_rows(b: Browser, model_id: int) -> list[str]:
    page = (await b.get(f"/production/{model_id}")).text
    return [r.split("</tr>")[0] for r in page.split('<tr id="pp-')[1:]]


async def cards(b: Browser) -> dict[str, int]:
    page = (await b.get("/")).text
    return {kind: int(n.replace(",", "")) for kind, n in CARD.findall(page)}


async def api_public(b: Browser) -> tuple[int, int]:
    """(public models, public posts) as the public API counts them."""
    models = (await b.client.get("/api/v1/models")).json()
    posts = 0
    for m in models["data"]:
        answer = (await b.client.get(f"/api/v1/models/{m['slug']}/posts")).json()
        assert answer["meta"]["count"] == m["postCount"], m["slug"]
        posts += answer["meta"]["count"]
    return models["meta"]["count"], posts


async def agree(b: Browser, models: int, posts: int) -> None:
    """The dashboard's public counts, the public API's, and the numbers wanted."""
    assert await cards(b) == {"models": models, "posts": posts}, "dashboard"
    assert await api_public(b) == (models, posts), "public API"


async def test_badges_and_counts_follow_publish_unpublish_draft_and_source_missing(
    signed_in: Browser, bucket: Bucket
) -> None:
    b = signed_in
    ids = await catalogue(b, bucket)  # Anna 2 posts, Ben, Cleo, Dora 1 each: all public
    await agree(b, 4, 5)
    anna = ids["Anna"]
    assert _cell(await model_row(b, anna), "Public posts") == "2"
    assert badges(_cell(await model_row(b, anna), "State")) == ["public"]

    off = await b.post(f"/production/{anna}/publish", {"published": "false"})
    assert off.status_code == 303, off.text[:300]
    row = await model_row(b, anna)
    assert _cell(row, "Public posts") == "0", "an unpublished model counts public posts"
    assert badges(_cell(row, "State")) == ["unpublished"]
    posts = await post_rows(b, anna)
    assert len(posts) == 2
    for post in posts:  # published posts, but their model is not public
        assert "badge-published" not in post, "a post of an unpublished model shows as public"
        assert badges(_cell(post, "State")) == ["model unpublished"]
    await agree(b, 3, 3)

    # A post unpublished on its own, in a public model: its own reason only.
    back = await b.post(f"/production/{anna}/publish", {"published": "true"})
    assert back.status_code == 303
    gym = (await rows("SELECT id FROM posts WHERE source_key = 'Anna/Gym'"))[0]["id"]
    assert (await b.post(f"/production/posts/{gym}/publish", {"published": "false"})).is_redirect
    states = {p.split('"')[0]: badges(_cell(p, "State")) for p in await post_rows(b, anna)}
    assert states == {str(gym): ["unpublished"], **{k: ["public"] for k in states if k != str(gym)}}
    assert _cell(await model_row(b, anna), "Public posts") == "1"
    await agree(b, 4, 4)

    # A draft: activated unpublished, nothing of it public.
    await bucket.put("Eve/Pool/e.jpg", "Eve/Park/p.jpg")
    await sync(b)
    assert (await b.post("/staged/Eve/activate", {"draft": "1"})).status_code == 303
    eve = (await rows("SELECT id FROM models WHERE name = 'Eve'"))[0]["id"]
    row = await model_row(b, eve)
    assert _cell(row, "Public posts") == "0" and badges(_cell(row, "State")) == ["unpublished"]
    for post in await post_rows(b, eve):
        assert "badge-published" not in post and "model unpublished" in post, post
    await agree(b, 4, 4)

    # Ben's folder is gone: unpublished, source missing, and so are his posts.
    await bucket.delete("Ben/Trip/t.png")
    await sync(b)
    row = await model_row(b, ids["Ben"])
    assert _cell(row, "Public posts") == "0"
    assert badges(_cell(row, "State")) == ["unpublished", "source missing"]
    (post,) = await post_rows(b, ids["Ben"])
    assert badges(_cell(post, "State")) == [
        "unpublished",
        "source missing",
        "model unpublished",
        "model's source missing",
    ]
    await agree(b, 3, 3)
    page = (await b.get(f"/production/{ids['Ben']}")).text
    header = page.split('<header class="page-header">')[1].split("</header>")[0]
    assert "badge-published" not in header and "source missing" in header


async def test_a_draft_activation_never_says_its_models_go_public(
    signed_in: Browser, bucket: Bucket
) -> None:
    b = signed_in
    await bucket.put("Anna/Beach/a.jpg", "Ben/Trip/t.png")
    await sync(b)
    answer = await b.post("/staged/_bulk/activate-all-new", {"draft": "1"}, htmx=True)
    assert answer.status_code == 200, answer.text[:300]
    outcome = re.search(r"data-outcome>([^<]*)<", answer.text)
    assert outcome, answer.text[:1500]
    assert "goes public as it is done" not in outcome.group(1), outcome.group(1)
    assert "stays unpublished" in outcome.group(1)
    await eventually(lambda: count("models"), 2)  # the worker activated both
    published = await rows("SELECT is_published FROM models")
    assert not any(r["is_published"] for r in published), "a draft activation published"
