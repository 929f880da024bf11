"""The staged list's bulk actions, page positions and a row's re-sync, over HTTP against the app
with a worker: one ticked row, more rows than one request activates, every model matching the
filters (exactly that set), "26–50 of N", and a re-sync's result in its row."""

from __future__ import annotations

import html
import re
from typing import Any

import pytest

from domain.catalogue.runs import Run
from domain.platform.db import now
from domain.platform.paging import encode_cursor
from domain.staging import row_sync
from tests.conftest import Bucket, eventually, rows
from tests.web import Browser

HX = {"HX-Request": "true"}


@pytest.fixture
async def web(signed_in: Browser, bucket: Bucket) -> tuple[Browser, Bucket]:
    return signed_in, bucket


async def staged(bucket: Bucket, names: list[str], posts: int = 1) -> None:
    await bucket.put(*(f"{n}/P{p}/a.jpg" for n in names for p in range(posts)))
    assert (await bucket.sync(allow_mass_delete=True)).status == "succeeded"


async def statuses() -> dict[str, str]:
    found = await rows("SELECT folder_name, status FROM whitelabel_models")
    return {r["folder_name"]: r["status"] for r in found}


async def published() -> set[str]:
    return {r["name"] for r in await rows("SELECT name FROM models WHERE is_published")}


def summary(page: str) -> str:
    found = re.search(r'id="staged-summary">([^<]*)<', page)
    assert found, page[:500]
    return html.unescape(found.group(1))


def link(page: str, label: str) -> str:
    found = re.search(rf'<a class="btn" href="([^"]+)"[^>]*>{re.escape(label)}</a>', page)
    assert found, f"no {label!r} link"
    return html.unescape(found.group(1))


def bulk_id(response: Any) -> int:
    found = re.search(r'data-bulk="(\d+)"', response.text)
    assert found, response.text[:500]
    return int(found.group(1))


async def test_one_ticked_row_is_activated(web: Any) -> None:
    b, bucket = web
    await staged(bucket, ["Ann", "Ben", "Cleo"])
    # One ticked box arrives as a single field, not a list: it was a 400.
    response = await b.post("/staged/_bulk/activate", {"name": "Ben"}, htmx=True)
    assert response.status_code == 200, response.text
    assert response.headers["hx-refresh"] == "true"
    assert await statuses() == {"Ann": "new", "Ben": "active", "Cleo": "new"}
    assert await published() == {"Ben"}
    plain = await b.post("/staged/_bulk/activate", {"name": "Cleo"})
    assert plain.status_code == 303
    assert "1 model(s) activated" in (await b.get(plain.headers["location"])).text
    assert await statuses() == {"Ann": "new", "Ben": "active", "Cleo": "active"}


async def test_more_ticked_rows_than_one_request_run_as_a_job(web: Any) -> None:
    b, bucket = web
    names = [f"Model {i:03d}" for i in range(1, 131)]
    await staged(bucket, names)
    ticked = names[:120]  # more than the request activates itself, none dropped
    response = await b.post("/staged/_bulk/activate", {"name": ticked}, htmx=True)
    assert response.status_code == 200, response.text
    job = bulk_id(response)
    assert "of 120 model(s) activated" in response.text
    assert "go public" in response.headers["hx-trigger-after-settle"]

    await eventually(lambda: done_status(job), "succeeded")
    assert await statuses() == {n: "active" if n in ticked else "new" for n in names}
    panel = await b.get(f"/staged/_bulk/activation?id={job}", headers=HX)
    assert "120 of 120 model(s) activated" in panel.text
    assert panel.headers["hx-trigger"] == "activation-finished"  # the list refreshes
    assert 'hx-trigger="every 1s"' not in panel.text  # and the polling stops
    audit = await rows("SELECT target, detail FROM audit_log WHERE action = 'activation'")
    assert [(a["target"], a["detail"][:24]) for a in audit] == [
        ("120 selected model(s)", "120 model(s) activated: ")
    ]


async def done_status(job: int) -> str:
    return str((await rows("SELECT status FROM bulk_activations WHERE id = $1", job))[0]["status"])


async def test_all_matching_activates_exactly_the_filtered_set(web: Any) -> None:
    b, bucket = web
    names = [f"Anna {i:02d}" for i in range(12)] + [f"Ben {i:02d}" for i in range(8)]
    names += ["Hanna", "Joanna"]
    await staged(bucket, names)
    b_page = await b.get("/staged")
    assert b_page.status_code == 200
    await b.post("/staged/_bulk/activate", {"name": ["Anna 03", "Ben 01"]})  # already active
    want = {n for n in names if "anna" in n.lower()} - {"Anna 03"}  # q=ANNA, status=new

    listing = await b.get("/staged?q=ANNA&status=new&size=10")
    assert summary(listing.text) == "1–10 of 13"
    assert "Select all 13 matching" in listing.text and "They go public" in listing.text
    confirm = await b.get("/staged/_bulk/activate-matching?q=ANNA&status=new")
    assert "<strong>13</strong>" in confirm.text and "They go public" in confirm.text

    form = {"matching": "1", "q": "ANNA", "status": "new", "name": ["Ben 02"]}
    response = await b.post("/staged/_bulk/activate", form, htmx=True)
    assert response.status_code == 200, response.text
    job = bulk_id(response)
    assert "of 13 model(s) activated" in response.text
    await eventually(lambda: done_status(job), "succeeded")
    got = await statuses()
    assert {n for n, s in got.items() if s == "active"} == want | {"Anna 03", "Ben 01"}
    assert await published() == want | {"Anna 03", "Ben 01"}  # they went public

    # Without JavaScript: the confirmation page's form, then the job's own page.
    plain = await b.post("/staged/_bulk/activate", {"matching": "1", "q": "ben 0"})
    assert plain.status_code == 303
    page = await b.get(plain.headers["location"])
    assert "Activation #" in page.text and "in the background" in page.text
    await eventually(lambda: done_status(job + 1), "succeeded")
    assert set((await statuses()).values()) == {"active"}
    nothing = await b.post("/staged/_bulk/activate", {"matching": "1", "q": "nobody"}, htmx=True)
    assert nothing.status_code == 400 and "No staged model matches" in nothing.text
    bad = await b.post("/staged/_bulk/activate", {"matching": "1", "status": "x"})
    assert bad.status_code == 400 and "status='x' is not supported" in html.unescape(bad.text)


async def test_activate_all_new_shows_its_progress(web: Any) -> None:
    b, bucket = web
    await staged(bucket, ["Ann", "Ben", "Cleo"])
    await b.post("/staged/Ben/activate", {})
    response = await b.post("/staged/_bulk/activate-all-new", {}, htmx=True)
    job = bulk_id(response)
    assert "Activation #" in response.text and "all new models" in response.text
    await eventually(lambda: done_status(job), "succeeded")
    assert set((await statuses()).values()) == {"active"}
    empty = await b.post("/staged/_bulk/activate-all-new", {}, htmx=True)
    assert empty.status_code == 400 and "No staged model matches" in empty.text


async def test_pages_show_their_position(web: Any) -> None:
    b, bucket = web
    names = [f"Model {i:03d}" for i in range(1, 31)]
    await staged(bucket, names)
    for sort in ("name", "posts", "synced"):
        url = f"/staged?sort={sort}&dir=desc&size=10"
        first = (await b.get(url)).text
        assert summary(first) == "1–10 of 30", sort
        second = (await b.get(link(first, "Next →"))).text
        assert summary(second) == "11–20 of 30", sort
        third = (await b.get(link(second, "Next →"))).text
        assert summary(third) == "21–30 of 30", sort
        back = (await b.get(link(third, "← Previous"))).text
        assert summary(back) == "11–20 of 30", sort
        seen = [re.findall(r'title="(Model \d+)"', p) for p in (first, second, third)]
        assert sorted(sum(seen, [])) == names, sort  # every model once, in three pages
    filtered = (await b.get("/staged?q=model%2001&size=10")).text  # Model 010 to 019
    assert summary(filtered) == "1–10 of 10"
    assert 'aria-disabled="true">Next →' in filtered
    none = (await b.get("/staged?q=nobody")).text
    assert summary(none) == "0 of 0"


async def test_row_resync_shows_its_result_in_place(web: Any) -> None:
    b, bucket = web
    await staged(bucket, ["Ann", "Ben"], posts=2)
    await bucket.put("Ben/New 1/a.jpg", "Ben/New 2/b.jpg")
    started = await b.post("/staged/Ben/resync", {}, htmx=True)
    assert started.status_code == 200, started.text
    polling = re.search(r'data-row-sync="(\d+)"', started.text)
    assert polling, started.text
    run_id = int(polling.group(1))
    assert f'hx-get="/staged/Ben/row?run={run_id}"' in started.text
    assert 'hx-trigger="every 1s"' in started.text and "Syncing" in started.text
    await b.wait_for_run(run_id)
    row = await b.get(f"/staged/Ben/row?run={run_id}", headers=HX)
    assert row.text.strip().startswith("<tr") and "every 1s" not in row.text
    assert "synced: 2 posts added" in row.text
    assert '<td class="num" data-label="Posts">4</td>' in row.text  # the fresh post count
    assert "Re-sync</button>" in row.text
    again = await b.get(f"/staged/Ben/row?run={run_id}")  # without htmx: the run's page
    assert again.status_code == 303 and again.headers["location"] == f"/sync-runs/{run_id}"
    foreign = await b.get(f"/staged/Ann/row?run={run_id}", headers=HX)
    assert "synced:" not in foreign.text and "Re-sync</button>" in foreign.text


def ended(status: str = "succeeded", error: str | None = None, **counters: int) -> Run:
    stamp = now()
    return Run(
        id=7,
        scope="Ann",
        status=status,
        phase="done",
        dry_run=False,
        kind="sync",
        triggered_by="tester",
        started_at=stamp,
        finished_at=stamp,
        heartbeat_at=stamp,
        error=error,
        cancel_requested=False,
        plan=None,
        confirms=None,
        superseded_by=None,
        job_id=None,
        events=[],
        **counters,
    )


def test_a_row_reports_how_its_sync_ended() -> None:
    assert row_sync.outcome(ended("running")) is None
    assert row_sync.outcome(ended()) == ("success", "synced: no changes")
    assert row_sync.outcome(ended(posts_inserted=1, posts_deleted=3)) == (
        "success",
        "synced: 1 post added, 3 posts removed",
    )
    assert row_sync.outcome(ended(media_updated=2)) == (
        "success",
        "synced: 2 media files changed",
    )
    failed = ended("failed", "bucket unreachable: check the endpoint")
    assert row_sync.outcome(failed) == ("error", "failed: bucket unreachable: check the endpoint")


async def test_a_page_deep_in_a_long_list_says_so_without_counting_it_all(web: Any) -> None:
    """Past the first 10,000 rows the position is a floor ("25 rows past the first 10,000"), so a
    deep page costs one capped count; just before the cap it is still exact."""
    b, _ = web
    await rows(
        "INSERT INTO whitelabel_models (folder_name) "
        "SELECT 'M' || lpad(i::text, 5, '0') FROM generate_series(1, 10030) AS i RETURNING id"
    )
    ids = {
        r["folder_name"]: r["id"]
        for r in await rows("SELECT id, folder_name FROM whitelabel_models")
    }

    def after(name: str) -> str:
        return f"/staged?sort=name&dir=asc&size=25&after={encode_cursor(name, ids[name])}"

    near = (await b.get(after("M09990"))).text
    assert summary(near) == "9,991–10,015 of 10,015+"
    deep = (await b.get(after("M10005"))).text
    assert summary(deep) == "25 rows past the first 10,000"
    assert re.findall(r'title="(M\d+)"', deep) == [f"M{i:05d}" for i in range(10006, 10031)]
    back = (await b.get(link(deep, "← Previous"))).text
    assert summary(back) == "9,981–10,005 of 10,005+"
