"""Lists that count only up to a cap, through HTTP, so a page view costs the same at a million
rows. The production list past 10,000 matching models says "10,000+", pages on to the last
model with a "Next" link only while models follow, and its "Publish all matching" confirmation
names the rule instead of figures it did not count; publishing them still reports the exact
numbers. The staged list's search says "200+" past 200 matches and still pages to the last,
and its "Activate all new" button and confirmation say "10,000+" past 10,000 new models.
Below the caps every figure stays exact."""

from __future__ import annotations

import re

import pytest

from domain.staging import queries
from tests.conftest import rows
from tests.test_publish_counts import bulk_publish
from tests.test_retire import position
from tests.test_staged_bulk import link, summary
from tests.web import Browser

# `n` models named "Bulk 00001", ...: every third one's source gone (so unpublished), the other
# even ones published.
SEED = (
    "INSERT INTO models (name, slug, is_published, source_missing_at) "
    "SELECT 'Bulk ' || lpad(i::text, 5, '0'), 'bulk-' || i, i % 2 = 0 AND i % 3 <> 0, "
    "CASE WHEN i % 3 = 0 THEN now() END FROM generate_series(1, $1) AS i"
)
NEXT = re.compile(r'<a class="btn" href="/production\?[^"]*page=(\d+)[^"]*"[^>]*>Next')


async def seed(n: int) -> None:
    await rows(SEED, n)


async def test_past_ten_thousand_models_the_list_says_10000_plus_and_pages_to_the_last_one(
    signed_in: Browser,
) -> None:
    b = signed_in
    await seed(10_001)
    first = (await b.get("/production?sort=name&dir=asc")).text
    assert position(first) == "1–25 of 10,000+ model(s)"
    assert NEXT.search(first) and NEXT.search(first).group(1) == "2"  # type: ignore[union-attr]
    # The 400th page is full and a model follows it; the 401st holds the last one, and no more.
    page_400 = (await b.get("/production?sort=name&dir=asc&page=400")).text
    assert position(page_400) == "9,976–10,000 of 10,000+ model(s)"
    assert 'id="pm-' in page_400 and NEXT.search(page_400), "no Next link before the last model"
    last = (await b.get("/production?sort=name&dir=asc&page=401")).text
    assert position(last) == "10,001–10,001 of 10,001+ model(s)"
    assert "Bulk 10001" in last
    assert not NEXT.search(last), "a Next link after the last model"


async def test_publish_all_matching_past_the_cap_confirms_the_rule_and_reports_exact_numbers(
    signed_in: Browser,
) -> None:
    b = signed_in
    await seed(10_001)
    page = (await b.get("/production?q=bulk")).text
    assert ">Publish all 10,000+ matching</button>" in page
    assert (
        'hx-confirm="Publish all 10,000+ matching model(s)? Each one not retired and with its '
        'source in the bucket goes public on the site at once; the others are skipped."'
    ) in page
    assert "go public on the site at once." not in page, "a figure the list did not count"
    # 6,667 unpublished, 3,333 of them with their source missing: 3,334 go public, and the
    # missing ones are skipped.
    said = await bulk_publish(b, {"scope": "matching", "q": "bulk", "published": "true"})
    assert said.startswith("3,334 model(s) published; 3,333 skipped: 3,333 with their source"), said


async def test_below_the_cap_the_list_and_its_confirmation_give_exact_figures(
    signed_in: Browser,
) -> None:
    b = signed_in
    await seed(9_999)
    page = (await b.get("/production?q=bulk")).text
    assert position(page) == "1–25 of 9,999 model(s)"
    assert ">Publish all 9,999 matching</button>" in page
    assert (
        'hx-confirm="Publish all 9,999 matching model(s)? 3,333 go public on the site at once. '
        '3,333 skipped: 3,333 with their source missing."' in page
    )
    last = (await b.get("/production?q=bulk&page=400")).text
    assert position(last) == "9,976–9,999 of 9,999 model(s)"
    assert not NEXT.search(last)


async def test_a_staged_search_past_200_matches_says_200_plus_and_pages_to_the_last(
    signed_in: Browser,
) -> None:
    b = signed_in
    await rows(
        "INSERT INTO whitelabel_models (folder_name) SELECT 'Rose ' || lpad(i::text, 3, '0') "
        "FROM generate_series(1, 201) AS i UNION ALL SELECT 'Other ' || i "
        "FROM generate_series(1, 5) AS i"
    )
    first = (await b.get("/staged?q=rose&sort=name&dir=asc&size=100")).text
    assert summary(first) == "1–100 of 200+"
    assert "Select all 200+ matching" in first
    third = (await b.get(link((await b.get(link(first, "Next →"))).text, "Next →"))).text
    assert summary(third) == "201–201 of 201+"
    assert "Rose 201" in third and 'aria-disabled="true">Next →' in third
    others = (await b.get("/staged?q=other")).text
    assert summary(others) == "1–5 of 5"


ROW = re.compile(r'<tr id="pm-(\d+)"')


async def test_each_sort_of_the_production_list_pages_through_every_model_once_in_its_order(
    signed_in: Browser,
) -> None:
    """The page's models are picked first, then their columns (domain/production/sql.py): the
    rows still come in the sort's order, page after page, none twice and none left out."""
    b = signed_in
    await rows(
        "INSERT INTO models (name, slug, is_published, display_order, updated_at) "
        "SELECT 'Sorted ' || i, 'sorted-' || i, i % 2 = 0, (i * 7) % 11, "
        "now() - (i * 13 % 17) * interval '1 hour' FROM generate_series(1, 60) AS i"
    )
    await rows("UPDATE models SET retired_at = now() WHERE name = 'Sorted 5'")  # left out
    orders = {
        "name": "lower(name)",
        "updated": "updated_at",
        "order": "display_order",
        "posts": "post_count",  # no posts: all equal, so by id
    }
    for sort, column in orders.items():
        for direction in ("asc", "desc"):
            want = [
                r["id"]
                for r in await rows(
                    f"SELECT id FROM models WHERE retired_at IS NULL "
                    f"ORDER BY {column} {direction}, id"
                )
            ]
            got: list[int] = []
            for page in (1, 2, 3):
                text = (await b.get(f"/production?sort={sort}&dir={direction}&page={page}")).text
                got += [int(i) for i in ROW.findall(text)]
            assert got == want, (sort, direction)


NAME_CELL = re.compile(r'<tr id="row-\d+"[^>]*>.*?href="/staged/[^"]*"[^>]*>([^<]*)<', re.S)


async def test_a_staged_name_search_pages_both_ways_through_every_match_once_in_either_order(
    signed_in: Browser,
) -> None:
    """A name search in name order picks the page's names from the name index first
    (domain/staging/sql.py): "Next" then "Previous" still walk every match once, in order, up
    and down the names, with the names that do not match (between them) left out."""
    b = signed_in
    await rows(
        "INSERT INTO whitelabel_models (folder_name) SELECT name FROM generate_series(1, 60) AS i, "
        "LATERAL (VALUES ('Rose ' || lpad(i::text, 2, '0')), ('Rosa ' || i), ('Ros ' || i), "
        "('rosé ' || i), ('XROSE ' || i)) AS v(name)"
    )
    numbers = range(1, 61)
    matching = sorted([f"Rose {i:02d}" for i in numbers] + [f"XROSE {i}" for i in numbers])
    for direction, want in (("asc", matching), ("desc", matching[::-1])):
        page = (await b.get(f"/staged?q=rose&sort=name&dir={direction}&size=25")).text
        pages = [NAME_CELL.findall(page)]
        while 'aria-disabled="true">Next →' not in page:
            page = (await b.get(link(page, "Next →"))).text
            pages.append(NAME_CELL.findall(page))
        assert [n for p in pages for n in p] == want, direction
        for earlier in reversed(pages[:-1]):
            page = (await b.get(link(page, "← Previous"))).text
            assert NAME_CELL.findall(page) == earlier, direction
        assert 'aria-disabled="true">← Previous' in page


async def test_past_ten_thousand_new_models_activate_all_says_10000_plus_never_10000(
    signed_in: Browser,
) -> None:
    """The button and its confirmation page say at least how many would go public: the count
    stops at 10,000, and "Activate all new (10,000)" understated a million new models."""
    b = signed_in
    await rows(
        "INSERT INTO whitelabel_models (folder_name, status) "
        "SELECT 'New ' || lpad(i::text, 5, '0'), 'new' FROM generate_series(1, $1) AS i",
        10_001,
    )
    listing = (await b.get("/staged")).text
    assert "Activate all new (10,000+)</a>" in listing
    assert 'hx-confirm="Activate all 10,000+ new model(s) into production?' in listing
    confirm = (await b.get("/staged/_bulk/activate-all-new")).text
    assert "This activates <strong>10,000+</strong> staged model(s)" in confirm
    assert ">Activate 10,000+ model(s)</button>" in confirm
    await rows("DELETE FROM whitelabel_models WHERE folder_name = 'New 00001' RETURNING id")
    button = await b.get("/staged/_bulk/activate-all-button", headers={"HX-Request": "true"})
    assert "Activate all new (10,000)</a>" in button.text  # exactly 10,000: no "+"


async def test_the_tables_htmx_fragment_reads_no_count_of_new_models(
    signed_in: Browser, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Paging and search-as-you-type swap the table alone: they do not wait for the activate
    button's count of up to 10,001 new models, which the fragment does not show."""
    b = signed_in

    async def counted() -> queries.NewCount:
        raise AssertionError("the table's fragment counted the new models")

    monkeypatch.setattr(queries, "new_count", counted)
    fragment = await b.get("/staged?q=ann", headers={"HX-Request": "true"})
    assert fragment.status_code == 200 and "<html" not in fragment.text
    assert "Activate all new" not in fragment.text
