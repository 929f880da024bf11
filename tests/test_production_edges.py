"""Production's guards where features meet, through HTTP: a post whose folder is gone cannot be
published, activating again never publishes what an admin (or "as draft") kept off the site,
a new model cannot take a renamed model's old slug, "all matching" acts on the filtered set
only, and a model whose folder is gone takes its posts and counts off with it."""

from __future__ import annotations

from tests.conftest import Bucket, rows
from tests.test_publish_counts import catalogue, public_names, sync
from tests.web import Browser


async def post_titles(b: Browser, slug: str) -> list[str]:
    answer = await b.client.get(f"/api/v1/models/{slug}/posts")
    assert answer.status_code == 200, answer.text[:300]
    return sorted(p["title"] for p in answer.json()["data"])


async def post_id(source_key: str) -> int:
    return int((await rows("SELECT id FROM posts WHERE source_key = $1", source_key))[0]["id"])


async def test_publishing_a_post_whose_folder_is_gone_is_refused(
    signed_in: Browser, bucket: Bucket
) -> None:
    b = signed_in
    await catalogue(b, bucket)
    await bucket.delete("Anna/Gym/g.jpg")
    await sync(b)  # Anna's Gym post: source missing, unpublished
    gym = await post_id("Anna/Gym")
    refused = await b.post(f"/production/posts/{gym}/publish", {"published": "true"})
    assert refused.status_code == 409, f"publishing it answered {refused.status_code}"
    assert "missing from the bucket" in refused.text
    state = await rows("SELECT is_published, source_missing_at FROM posts WHERE id = $1", gym)
    assert state[0]["is_published"] is False and state[0]["source_missing_at"] is not None
    assert await post_titles(b, "anna") == ["Beach"]


async def test_a_model_whose_folder_is_gone_loses_its_posts_and_count_and_as_draft_stays_off(
    signed_in: Browser, bucket: Bucket
) -> None:
    b = signed_in
    ids = await catalogue(b, bucket)
    await bucket.delete("Ben/Trip/t.png")
    await sync(b)
    posts = await rows(
        "SELECT is_published, source_missing_at FROM posts WHERE model = $1", ids["Ben"]
    )
    assert posts and all(not p["is_published"] and p["source_missing_at"] for p in posts), posts
    row = (await b.get("/production?missing=1")).text.split(f'<tr id="pm-{ids["Ben"]}"')[1]
    assert 'data-label="Public posts">0<' in row.split("</tr>")[0], "Ben still counts a post"
    # The folder comes back; activating it as a draft brings it up to date, not public.
    await bucket.put("Ben/Trip/t.png")
    await sync(b)
    drafted = await b.post("/staged/Ben/activate", {"draft": "1"})
    assert drafted.status_code == 303, drafted.text[:300]
    ben = (await rows("SELECT is_published, source_missing_at FROM models WHERE name = 'Ben'"))[0]
    assert ben["source_missing_at"] is None
    assert ben["is_published"] is False, "activating as a draft published the model"
    assert "Ben" not in await public_names(b)


async def test_activating_again_keeps_a_post_the_admin_unpublished_off_the_site(
    signed_in: Browser, bucket: Bucket
) -> None:
    b = signed_in
    await catalogue(b, bucket)
    gym = await post_id("Anna/Gym")
    await b.post(f"/production/posts/{gym}/publish", {"published": "false"})
    await bucket.put("Anna/Gym/new.jpg")  # Gym changed: activating brings it up to date
    await sync(b)
    assert (await b.post("/staged/Anna/activate", {})).status_code == 303
    assert await post_titles(b, "anna") == ["Beach"], "activating again published Gym"
    published = await rows("SELECT is_published FROM posts WHERE id = $1", gym)
    assert published[0]["is_published"] is False


async def test_a_new_model_cannot_take_a_renamed_models_old_slug(
    signed_in: Browser, bucket: Bucket
) -> None:
    b = signed_in
    ids = await catalogue(b, bucket)
    form = {"name": "Anna", "slug": "anna-b", "display_order": "0"}
    assert (await b.post(f"/production/{ids['Anna']}/edit", form)).status_code == 303
    await bucket.put("ANNA/P/other.jpg")  # another folder whose slug would be "anna"
    await sync(b)
    assert (await b.post("/staged/ANNA/activate", {})).status_code == 303
    newcomer = (await rows("SELECT slug FROM models WHERE name = 'ANNA'"))[0]["slug"]
    assert newcomer != "anna", "the new model took Anna's former slug"
    old_link = (await b.client.get("/api/v1/models/anna")).json()
    assert (old_link["name"], old_link["slug"]) == ("Anna", "anna-b")


async def test_unpublishing_all_matching_featured_leaves_the_others_public(
    signed_in: Browser, bucket: Bucket
) -> None:
    b = signed_in
    ids = await catalogue(b, bucket)
    form = {"name": "Cleo", "slug": "cleo", "is_featured": "on", "display_order": "0"}
    assert (await b.post(f"/production/{ids['Cleo']}/edit", form)).status_code == 303
    matching = {"scope": "matching", "featured": "1", "published": "false"}
    assert (await b.post("/production/_bulk/publish", matching)).status_code == 303
    assert await public_names(b) == ["Anna", "Ben", "Dora"], "it unpublished unfeatured models"


async def test_names_stay_unique_when_editing_and_when_activating(
    signed_in: Browser, bucket: Bucket
) -> None:
    b = signed_in
    ids = await catalogue(b, bucket)
    taken = await b.post(f"/production/{ids['Ben']}/edit", {"name": "Anna", "slug": "ben"})
    assert taken.status_code == 409 and "taken" in taken.text, taken.status_code
    # Cleo is renamed "Eve"; then a folder named Eve is activated: it gets a name of its own.
    form = {"name": "Eve", "slug": "cleo", "display_order": "0"}
    assert (await b.post(f"/production/{ids['Cleo']}/edit", form)).status_code == 303
    await bucket.put("Eve/P/e.jpg")
    await sync(b)
    assert (await b.post("/staged/Eve/activate", {})).status_code == 303
    names = sorted(r["name"] for r in await rows("SELECT name FROM models"))
    assert len(set(names)) == len(names) == 5, names
    assert (await b.client.get("/api/v1/models/Eve")).json()["slug"] == "cleo"


async def test_the_public_api_hides_source_missing_content_even_if_marked_published(
    signed_in: Browser, bucket: Bucket
) -> None:
    """The public side's own rule (docs/lifecycle.md), not only the publishing guards: content
    whose source is missing is never public, however its flag got set (an operator's SQL)."""
    b = signed_in
    await catalogue(b, bucket)
    await bucket.delete("Ben/Trip/t.png", "Anna/Gym/g.jpg")
    await sync(b)
    await rows("UPDATE models SET is_published = TRUE WHERE name = 'Ben'")
    await rows("UPDATE posts SET is_published = TRUE WHERE source_key = 'Anna/Gym'")
    assert "Ben" not in await public_names(b)
    assert (await b.client.get("/api/v1/models/ben")).status_code == 404
    assert await post_titles(b, "anna") == ["Beach"]
