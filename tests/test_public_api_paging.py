"""The public API's model list pages through every public model once, in the site's order,
by page number or by the `after` cursor each page gives for the next (as fast at any depth);
a cursor it did not give, or a page number beside a cursor, is a 400 that says what to send."""

from __future__ import annotations

from typing import Any

from tests.conftest import rows
from tests.web import Browser

# `n` models, ties everywhere: four display orders, six post counts; every fifth unpublished,
# one retired and one whose source is gone.
SEED = (
    "INSERT INTO models (name, slug, is_published, display_order, post_count) "
    "SELECT 'Public ' || i, 'public-' || i, i % 5 <> 0, (i * 7) % 4, (i * 13) % 6 "
    "FROM generate_series(1, $1) AS i"
)


async def public_order(n: int) -> list[int]:
    """Seed `n` models; the ids of the public ones, in the order the site shows them."""
    await rows(SEED, n)
    await rows("UPDATE models SET retired_at = now() WHERE name = 'Public 3'")
    await rows("UPDATE models SET source_missing_at = now() WHERE name = 'Public 4'")
    return [
        r["id"]
        for r in await rows(
            "SELECT id FROM models WHERE is_published AND retired_at IS NULL AND "
            "source_missing_at IS NULL ORDER BY display_order, post_count DESC, id"
        )
    ]


async def answer(b: Browser, query: str) -> dict[str, Any]:
    response = await b.client.get(f"/api/v1/models{query}")
    assert response.status_code == 200, response.text
    found: dict[str, Any] = response.json()
    return found


async def test_the_public_api_pages_through_every_public_model_once_in_its_order(
    signed_in: Browser,
) -> None:
    """The API's page picks its ids from the public-page index first, then reads those models
    (domain/production/sql.py): still the site's order, no model twice, none hidden shown."""
    b = signed_in
    want = await public_order(50)
    got: list[int] = []
    for page in (1, 2, 3):
        got += [m["id"] for m in (await answer(b, f"?page={page}"))["data"]]
    assert len(want) == 38 and got == want


async def test_following_next_cursors_reaches_every_public_model_once_in_order_then_stops(
    signed_in: Browser,
) -> None:
    """Page boundaries fall inside runs of equal display order and post count and between
    them, so each of the three ranges after a position (sql.public_models_page) is needed."""
    b = signed_in
    want = await public_order(130)
    first = await answer(b, "")
    assert first["meta"]["page"] == 1 and first["meta"]["count"] == len(want) == 102
    got, meta, pages = [m["id"] for m in first["data"]], first["meta"], 1
    while meta["next"] is not None:
        assert pages < 10, "the next cursors did not come to an end"
        found = await answer(b, f"?after={meta['next']}")
        got, meta, pages = got + [m["id"] for m in found["data"]], found["meta"], pages + 1
        assert meta["page"] is None and meta["count"] == len(want)
    assert got == want
    assert pages == 6  # 102 models, 20 a page: the last page holds 2, and has no next


async def test_a_full_last_page_has_no_next_cursor(signed_in: Browser) -> None:
    b = signed_in
    want = await public_order(25)  # 18 public: one page, not full
    assert len(want) == 18
    await rows("UPDATE models SET is_published = true WHERE name IN ('Public 5', 'Public 10')")
    only = await answer(b, "")
    assert len(only["data"]) == 20 and only["meta"]["next"] is None


async def test_a_page_number_keeps_giving_the_next_cursor(signed_in: Browser) -> None:
    b = signed_in
    want = await public_order(130)
    second = await answer(b, "?page=2")
    after = await answer(b, f"?after={second['meta']['next']}")
    assert [m["id"] for m in after["data"]] == want[40:60]


async def test_a_cursor_the_api_did_not_give_is_a_400_saying_to_start_again(
    signed_in: Browser,
) -> None:
    b = signed_in
    await public_order(30)
    for bad in ("garbage!!", "WzEsMl0", "W1siYSIsMl0sM10", "W1sxLC0xXSwzXQ", "x" * 201):
        response = await b.client.get("/api/v1/models", params={"after": bad})
        assert response.status_code == 400, (bad, response.text)
        assert "after" in response.json()["detail"], bad


async def test_a_page_number_beside_a_cursor_is_a_400_naming_both(signed_in: Browser) -> None:
    b = signed_in
    await public_order(30)
    cursor = (await answer(b, ""))["meta"]["next"]
    response = await b.client.get("/api/v1/models", params={"after": cursor, "page": 2})
    assert response.status_code == 400
    assert "page=2 and after=" in response.json()["detail"]
