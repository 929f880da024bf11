"""Retiring and restoring a production model, through HTTP: a retired model leaves the default
production list, the dashboard's totals and the public API, is listed under "Retired", cannot be
published (409 naming the fix) until restored, and stays retired through a sync and an
activation; restoring brings it back unpublished. Both are audited once and need a CSRF token.
"Publish all matching" publishes only the matching models that can be public and says how many
it skipped and why."""

from __future__ import annotations

import asyncio
import re
from typing import Any

from tests.conftest import Bucket, rows
from tests.test_publish_counts import bulk_publish, catalogue, public_names, sync
from tests.web import Browser, browser

RETIRED_STATE = "SELECT is_published, retired_at, retired_by FROM models WHERE id = $1"


async def retire(b: Browser, model_id: int, *, htmx: bool = False) -> Any:
    return await b.post(f"/production/{model_id}/retire", {}, htmx=htmx)


async def restore(b: Browser, model_id: int) -> Any:
    return await b.post(f"/production/{model_id}/restore", {})


async def audit_lines(action: str) -> list[dict[str, Any]]:
    return await rows(
        "SELECT actor, target, detail, model FROM audit_log WHERE action = $1 ORDER BY id", action
    )


def listed(page: str, model_id: int) -> bool:
    return f'<tr id="pm-{model_id}">' in page


def position(page: str) -> str:
    found = re.search(r'id="production-position">([^<]*)<', page)
    assert found, "the production list has no position line"
    return found.group(1)


async def test_retiring_hides_a_model_from_the_list_dashboard_and_public_api_and_lists_it_under_retired(  # noqa: E501
    signed_in: Browser, bucket: Bucket
) -> None:
    b = signed_in
    ids = await catalogue(b, bucket)
    assert "Anna" in await public_names(b)
    answer = await retire(b, ids["Anna"])
    assert answer.status_code == 303, answer.text[:300]
    assert answer.headers["location"] == f"/production/{ids['Anna']}"
    state = (await rows(RETIRED_STATE, ids["Anna"]))[0]
    assert state["is_published"] is False and state["retired_at"] is not None
    assert state["retired_by"] == "tester"

    default = (await b.get("/production")).text
    assert not listed(default, ids["Anna"]), "a retired model is on the default list"
    assert position(default) == "1–3 of 3 model(s)"
    for state_filter in ("published", "unpublished"):
        page = (await b.get(f"/production?state={state_filter}")).text
        assert not listed(page, ids["Anna"]), f"state={state_filter} listed a retired model"
    retired = (await b.get("/production?state=retired")).text
    assert listed(retired, ids["Anna"]) and position(retired) == "1–1 of 1 model(s)"
    row = retired.split(f'<tr id="pm-{ids["Anna"]}">', 1)[1].split("</tr>", 1)[0]
    assert 'class="badge badge-retired">retired<' in row
    assert 'data-label="Public posts">0<' in row, "a retired model counts public posts"
    assert ">Restore</a>" in row and ">Publish</button>" not in row

    assert await public_names(b) == ["Ben", "Cleo", "Dora"]
    for path in ("/api/v1/models/anna", "/api/v1/models/anna/posts", "/api/models/Anna/posts"):
        assert (await b.client.get(path)).status_code == 404, f"{path} still serves Anna"
    cards = (await b.get("/")).text
    models_card = cards.split("Production models", 1)[1].split("</div>", 1)[0]
    assert ">3<" in models_card and "3 public" in models_card and "1 retired" in models_card
    posts_card = cards.split("Production posts", 1)[1].split("</div>", 1)[0]
    assert ">3<" in posts_card and "3 public" in posts_card, posts_card  # Anna's 2 left out

    detail = (await b.get(f"/production/{ids['Anna']}")).text
    assert "badge-retired" in detail and "Retired " in detail and "by tester" in detail
    assert "Publish model" not in detail, "a retired model's page offers to publish it"
    assert f'hx-post="/production/{ids["Anna"]}/restore"' in detail


async def test_publishing_a_retired_model_is_refused_with_a_409_that_says_restore_it_first(
    signed_in: Browser, bucket: Bucket
) -> None:
    b = signed_in
    ids = await catalogue(b, bucket)
    assert (await retire(b, ids["Anna"])).status_code == 303
    for htmx in (False, True):
        refused = await b.post(
            f"/production/{ids['Anna']}/publish", {"published": "true"}, htmx=htmx
        )
        assert refused.status_code == 409, f"publishing it answered {refused.status_code}"
        assert "Anna is retired, so it cannot be published: restore it first" in refused.text
    assert (await rows(RETIRED_STATE, ids["Anna"]))[0]["is_published"] is False
    assert "Anna" not in await public_names(b)


async def test_restoring_brings_it_back_unpublished_and_both_are_audited(
    signed_in: Browser, bucket: Bucket
) -> None:
    b = signed_in
    ids = await catalogue(b, bucket)
    assert (await retire(b, ids["Anna"])).status_code == 303
    back = await restore(b, ids["Anna"])
    assert back.status_code == 303, back.text[:300]
    state = (await rows(RETIRED_STATE, ids["Anna"]))[0]
    assert state == {"is_published": False, "retired_at": None, "retired_by": None}
    page = (await b.get("/production?state=unpublished")).text
    assert listed(page, ids["Anna"]), "a restored model is not on the list"
    assert "Anna" not in await public_names(b), "restoring published the model"
    published = await b.post(f"/production/{ids['Anna']}/publish", {"published": "true"})
    assert published.status_code == 303, published.text[:300]
    assert "Anna" in await public_names(b)

    (retired,) = await audit_lines("model_retired")
    (restored,) = await audit_lines("model_restored")
    for line in (retired, restored):
        assert line["actor"] == "tester" and line["target"] == "Anna"
        assert line["model"] == ids["Anna"]
    assert "it was published, now unpublished" in retired["detail"]
    assert "unpublished until an admin publishes it" in restored["detail"]
    history = (await b.get(f"/production/{ids['Anna']}/history")).text
    assert "model retired" in history and "model restored" in history


async def test_retiring_twice_is_a_409_and_writes_one_audit_line(
    signed_in: Browser, bucket: Bucket
) -> None:
    b = signed_in
    ids = await catalogue(b, bucket)
    assert (await retire(b, ids["Anna"])).status_code == 303
    stamp = (await rows(RETIRED_STATE, ids["Anna"]))[0]["retired_at"]
    again = await retire(b, ids["Anna"], htmx=True)
    assert again.status_code == 409, f"retiring again answered {again.status_code}"
    assert "Anna is already retired (by tester on" in again.text
    assert "nothing was changed" in again.text
    assert (await rows(RETIRED_STATE, ids["Anna"]))[0]["retired_at"] == stamp
    assert len(await audit_lines("model_retired")) == 1
    confirm_page = await b.get(f"/production/{ids['Anna']}/retire")
    assert confirm_page.status_code == 409 and "already retired" in confirm_page.text
    # Restoring one that is not retired is refused the same way.
    assert (await restore(b, ids["Anna"])).status_code == 303
    twice = await restore(b, ids["Anna"])
    assert twice.status_code == 409 and "Anna is not retired: nothing was changed" in twice.text
    assert len(await audit_lines("model_restored")) == 1
    missing = await retire(b, 999_999)
    assert missing.status_code == 404 and "no production model #999999" in missing.text


async def test_two_admins_retiring_at_once_get_one_retire_and_one_409(admin_app: Any) -> None:
    (made,) = await rows("INSERT INTO models (name, slug) VALUES ('Eve', 'eve') RETURNING id")
    async with browser(admin_app) as ann, browser(admin_app) as bob:
        for who in (ann, bob):
            await who.sign_in()
            await who.get("/production")
        answers = await asyncio.gather(retire(ann, made["id"]), retire(bob, made["id"]))
    assert sorted(a.status_code for a in answers) == [303, 409], [a.text[:200] for a in answers]
    assert len(await audit_lines("model_retired")) == 1


async def test_the_confirmation_page_works_without_javascript_and_htmx_reloads(
    signed_in: Browser, bucket: Bucket
) -> None:
    b = signed_in
    ids = await catalogue(b, bucket)
    detail = (await b.get(f"/production/{ids['Anna']}")).text
    link = f'href="/production/{ids["Anna"]}/retire" hx-post="/production/{ids["Anna"]}/retire"'
    assert link in detail, "the Retire button has no link for a browser without JavaScript"
    assert 'hx-confirm="Retire Anna? It is unpublished at once and leaves the public site' in detail
    page = await b.get(f"/production/{ids['Anna']}/retire")
    assert page.status_code == 200
    assert f'action="/production/{ids["Anna"]}/retire"' in page.text
    assert "cannot be published until it is restored" in page.text
    assert ">Retire Anna</button>" in page.text
    done = await retire(b, ids["Anna"], htmx=True)
    assert done.status_code == 200 and done.headers.get("HX-Refresh") == "true"
    page = await b.get(f"/production/{ids['Anna']}/restore")
    assert page.status_code == 200 and "It becomes a normal model again, unpublished" in page.text


async def test_retire_and_restore_need_a_csrf_token_and_a_signed_in_admin(
    signed_in: Browser, bucket: Bucket
) -> None:
    b = signed_in
    ids = await catalogue(b, bucket)
    for action in ("retire", "restore"):
        refused = await b.post(f"/production/{ids['Anna']}/{action}", {}, csrf=False)
        assert refused.status_code == 403, (action, refused.status_code)
    assert (await rows(RETIRED_STATE, ids["Anna"]))[0]["retired_at"] is None
    assert await audit_lines("model_retired") == []
    await b.post("/logout", {})
    for path in ("retire", "retire-page"):
        url = f"/production/{ids['Anna']}/retire"
        answer = await (b.post(url, {}) if path == "retire" else b.get(url))
        assert answer.status_code == 303 and answer.headers["location"].startswith("/login")
    assert (await rows(RETIRED_STATE, ids["Anna"]))[0]["retired_at"] is None


async def test_activation_and_sync_keep_a_retired_model_retired_and_update_its_content(
    signed_in: Browser, bucket: Bucket
) -> None:
    b = signed_in
    ids = await catalogue(b, bucket)
    assert (await retire(b, ids["Anna"])).status_code == 303
    await bucket.put("Anna/New/n.jpg")
    await sync(b)
    activated = await b.post("/staged/Anna/activate", {})
    assert activated.status_code == 303, activated.text[:300]
    said = (await b.get(activated.headers["location"])).text
    assert "1 production model(s) are retired: brought up to date, they stay retired" in said
    titles = await rows("SELECT title FROM posts WHERE model = $1 ORDER BY title", ids["Anna"])
    assert [t["title"] for t in titles] == ["Beach", "Gym", "New"], "activation skipped content"
    state = (await rows(RETIRED_STATE, ids["Anna"]))[0]
    assert state["retired_at"] is not None, "activation undid the retire"
    assert state["is_published"] is False, "activation published a retired model"
    # Bulk activation (the ticked rows) and a folder gone and back keep it retired too.
    await bucket.delete("Anna/Beach/a.jpg", "Anna/Beach/b.mp4", "Anna/Gym/g.jpg", "Anna/New/n.jpg")
    await sync(b)
    await bucket.put("Anna/Beach/a.jpg")
    await sync(b)
    bulk = await b.post("/staged/_bulk/activate", {"name": ["Anna", "Ben"]})
    assert bulk.status_code == 303, bulk.text[:300]
    state = (await rows(RETIRED_STATE, ids["Anna"]))[0]
    assert state["retired_at"] is not None and state["is_published"] is False
    assert "Anna" not in await public_names(b)
    staged = (await b.get("/staged/Anna")).text
    assert "in production · retired" in staged and "Its production model is retired" in staged
    staged_list = (await b.get("/staged?q=ann")).text
    assert 'class="badge badge-retired">production retired<' in staged_list
    other = (await b.get("/staged?q=ben")).text
    assert "production retired" not in other


async def test_publish_all_matching_publishes_only_eligible_models_and_reports_the_skipped(
    signed_in: Browser, bucket: Bucket
) -> None:
    b = signed_in
    ids = await catalogue(b, bucket)
    off = await b.post("/production/_bulk/publish", {"scope": "matching", "published": "false"})
    assert off.status_code == 303 and await public_names(b) == []
    assert (await retire(b, ids["Cleo"])).status_code == 303
    await bucket.delete("Ben/Trip/t.png")
    await sync(b)  # Ben: source missing

    # Only what the filters match: a search for "anna" publishes Anna alone.
    page = (await b.get("/production?q=anna&state=unpublished")).text
    assert 'hx-confirm="Publish all 1 matching model(s)? 1 go public on the site at once."' in page
    said = await bulk_publish(
        b, {"scope": "matching", "q": "anna", "state": "unpublished", "published": "true"}
    )
    assert said.startswith("1 model(s) published") and "skipped" not in said, said
    assert await public_names(b) == ["Anna"]

    # Every unpublished model: Dora goes public, Ben (source missing) is skipped, and Cleo
    # (retired) is not among them at all.
    page = (await b.get("/production?state=unpublished")).text
    assert ">Publish all 2 matching</button>" in page
    assert (
        'hx-confirm="Publish all 2 matching model(s)? 1 go public on the site at once. '
        '1 skipped: 1 with their source missing."'
    ) in page
    said = await bulk_publish(b, {"scope": "matching", "state": "unpublished", "published": "true"})
    assert said.startswith("1 model(s) published; 1 skipped: 1 with their source missing"), said
    assert await public_names(b) == ["Anna", "Dora"]

    # Models already public do not count as going public.
    page = (await b.get("/production?q=a")).text  # Anna and Dora, both public now
    assert 'hx-confirm="Publish all 2 matching model(s)? 0 go public on the site at once."' in page

    # Under "Retired": nothing goes public, and the result says why.
    page = (await b.get("/production?state=retired")).text
    assert "0 go public on the site at once. 1 skipped: 1 retired (restore first)." in page
    said = await bulk_publish(b, {"scope": "matching", "state": "retired", "published": "true"})
    assert said.startswith("0 model(s) published; 1 skipped: 1 retired (restore first)"), said
    # "Publish selected" skips them the same way, each reason counted.
    every = {"id": [str(i) for i in ids.values()], "published": "true"}
    said = await bulk_publish(b, every)
    assert said.startswith(
        "0 model(s) published; 2 skipped: 1 retired (restore first), 1 with their source "
        "missing from the bucket"
    ), said
    state = await rows("SELECT name, is_published FROM models ORDER BY name")
    assert {r["name"]: r["is_published"] for r in state} == {
        "Anna": True,
        "Ben": False,
        "Cleo": False,
        "Dora": True,
    }
