"""The public API's count of models comes from a tally the models table's triggers keep
(domain/production/tally.py): it must equal the public models, counted by the visibility rule,
after every way a model goes public or stops being public: activation, publishing one or all,
retiring and restoring, its source leaving the bucket, a deletion, a truncation; with many
publishes at once; and when a read folds the tally's rows into one."""

from __future__ import annotations

import asyncio

from domain.platform.schema_extras import PUBLIC
from domain.production import tally
from domain.production.visibility import public_sql
from tests.conftest import Bucket, rows
from tests.test_publish_counts import bulk_publish, catalogue, sync
from tests.test_retire import restore, retire
from tests.web import Browser


async def counted() -> int:
    """The public models, counted one by one by the visibility rule."""
    found = await rows(f"SELECT COUNT(*) AS n FROM models m WHERE {public_sql('m')}")
    return int(found[0]["n"])


async def api_count(b: Browser) -> int:
    answer = await b.client.get("/api/v1/models")
    assert answer.status_code == 200, answer.text[:300]
    return int(answer.json()["meta"]["count"])


async def assert_counts(b: Browser, want: int, after: str) -> None:
    assert await counted() == want, f"the test's own expectation is off after {after}"
    assert await api_count(b) == want, f"the public API's count is wrong after {after}"


def test_the_tally_triggers_hold_the_visibility_rule() -> None:
    assert public_sql("m") == PUBLIC, "the triggers' copy of the public rule has drifted"


async def test_the_public_count_follows_every_way_a_model_goes_public_or_not(
    signed_in: Browser, bucket: Bucket
) -> None:
    b = signed_in
    await assert_counts(b, 0, "nothing was activated")
    ids = await catalogue(b, bucket)  # four models activated, published
    await assert_counts(b, 4, "activating four models")
    answer = await b.post(f"/production/{ids['Anna']}/publish", {"published": "false"})
    assert answer.status_code == 303, answer.text[:300]
    await assert_counts(b, 3, "unpublishing one")
    await b.post(f"/production/{ids['Anna']}/publish", {"published": "false"})
    await assert_counts(b, 3, "unpublishing it again")
    assert (await retire(b, ids["Ben"])).status_code == 303
    await assert_counts(b, 2, "retiring one")
    await bucket.delete("Cleo/P/x.jpg")
    await sync(b)
    await assert_counts(b, 1, "a sync that found one model's folder gone")
    answer = await b.post("/production/_bulk/publish", {"scope": "matching", "published": "false"})
    assert answer.status_code == 303, answer.text[:300]
    await assert_counts(b, 0, "unpublishing all")
    assert (await restore(b, ids["Ben"])).status_code == 303
    said = await bulk_publish(b, {"scope": "matching", "published": "true"})
    assert said.startswith("3 model(s) published"), said
    await assert_counts(b, 3, "publishing all (Cleo's source is missing: skipped)")
    await rows("DELETE FROM models WHERE id = $1", ids["Dora"])
    await assert_counts(b, 2, "deleting a public model")
    await rows("TRUNCATE models CASCADE")
    await assert_counts(b, 0, "truncating the models")


async def test_twenty_publishes_at_once_leave_the_count_exact(signed_in: Browser) -> None:
    b = signed_in
    await rows(
        "INSERT INTO models (name, slug, is_published) "
        "SELECT 'Many ' || i, 'many-' || i, false FROM generate_series(1, 20) AS i"
    )
    ids = [int(r["id"]) for r in await rows("SELECT id FROM models ORDER BY id")]
    await b.get("/production")  # a CSRF token for the posts below
    answers = await asyncio.gather(
        *(b.post(f"/production/{i}/publish", {"published": "true"}) for i in ids)
    )
    assert [a.status_code for a in answers] == [303] * 20
    await assert_counts(b, 20, "twenty publishes at once")


async def test_a_read_past_100_tally_rows_folds_them_into_one_keeping_the_count(
    signed_in: Browser,
) -> None:
    b = signed_in
    await rows(
        "INSERT INTO models (name, slug, is_published) "
        "SELECT 'Row ' || i, 'row-' || i, false FROM generate_series(1, 150) AS i"
    )
    # One statement each: 150 rows of tally, then 30 of them unpublished again (180 rows).
    for (model_id,) in [(r["id"],) for r in await rows("SELECT id FROM models ORDER BY id")]:
        await rows("UPDATE models SET is_published = true WHERE id = $1", model_id)
    for (model_id,) in [(r["id"],) for r in await rows("SELECT id FROM models LIMIT 30")]:
        await rows("UPDATE models SET is_published = false WHERE id = $1", model_id)
    assert len(await rows("SELECT models FROM public_tallies")) > tally.FOLD_AT
    await assert_counts(b, 120, "180 single-model statements")
    left = await rows("SELECT models FROM public_tallies")
    assert [r["models"] for r in left] == [120], "the read did not fold the tally into one row"
    await assert_counts(b, 120, "the fold")
