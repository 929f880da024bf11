"""Production's rules, calling domain/production/{publishing,lifecycle,retiring}.py directly
against the real PostgreSQL: what publishing one or many models or posts changes and what it
refuses (word for word), what the production list counts, what a sync's removals take off the
public site and the audit lines they leave, and retiring and restoring with their refusals.
Fast (no web server, no bucket): the production mutation group runs these first."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any, Literal

import pytest

from domain.errors import Conflict, NotFound
from domain.platform import db
from domain.platform.listing import parse
from domain.production import lifecycle, publishing, retiring
from domain.production.publishing import Bulk, production_query
from tests.conftest import rows

OLD = datetime(2020, 1, 1, tzinfo=UTC)  # every seeded row's updated_at
STAMP = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)  # a sync's stamp
RETIRED_AT = datetime(2026, 3, 4, 5, 6, 7, tzinfo=UTC)


async def signer(key: str) -> str:
    return f"https://signed.test/{key}"


async def staged(folder: str) -> int:
    found = await rows(
        "INSERT INTO whitelabel_models (folder_name) VALUES ($1) RETURNING id", folder
    )
    return int(found[0]["id"])


async def model(
    name: str,
    *,
    published: bool = True,
    missing: bool = False,
    retired_by: str | None = None,
    retired: bool = False,
    featured: bool = False,
    staged_id: int | None = None,
    post_count: int = 0,
    icon: str | None = None,
    banner: str | None = None,
    thumbnail: str | None = None,
) -> int:
    found = await rows(
        "INSERT INTO models (name, slug, is_published, is_featured, source_folder, "
        "source_missing_at, retired_at, retired_by, whitelabel_model, post_count, icon_key, "
        "banner_key, thumbnail_key, updated_at) VALUES ($1, lower($1), $2, $3, $1, $4, $5, $6, "
        "$7, $8, $9, $10, $11, $12) RETURNING id",
        name,
        published,
        featured,
        OLD if missing else None,
        RETIRED_AT if retired or retired_by else None,
        retired_by,
        staged_id,
        post_count,
        icon,
        banner,
        thumbnail,
        OLD,
    )
    return int(found[0]["id"])


def item(key: str) -> dict[str, str]:
    return {"key": key, "type": "video" if key.endswith(".mp4") else "image"}


async def post(
    model_id: int,
    source_key: str,
    *,
    published: bool = True,
    missing: bool = False,
    media: list[str] | None = None,
) -> int:
    keys = media if media is not None else [f"{source_key}/a.jpg"]
    found = await rows(
        "INSERT INTO posts (model, source_key, title, content_key, thumbnail_key, type, "
        "is_published, media, source_missing_at, updated_at) VALUES ($1, $2, "
        "split_part($2, '/', 2), $3, $3, 'image', $4, $5::json, $6, $7) RETURNING id",
        model_id,
        source_key,
        keys[0] if keys else "",
        published,
        json.dumps([item(k) for k in keys]),
        OLD if missing else None,
        OLD,
    )
    return int(found[0]["id"])


async def one(table: str, row_id: int) -> dict[str, Any]:
    return (await rows(f"SELECT * FROM {table} WHERE id = $1", row_id))[0]


async def audit() -> list[tuple[Any, ...]]:
    found = await rows("SELECT actor, action, target, detail, ip, model FROM audit_log ORDER BY id")
    return [tuple(r.values()) for r in found]


# -- publishing one model or post


async def test_publishing_a_model_sets_its_flag_and_stamp_and_names_it(database: Any) -> None:
    anna = await model("Anna", published=False)
    ben = await model("Ben", published=False)
    done = await publishing.set_published("model", anna, True)
    assert done == publishing.Published("Anna", "Anna", anna)
    row = await one("models", anna)
    assert row["is_published"] is True and row["updated_at"] > OLD
    assert (await one("models", ben))["is_published"] is False, "it published another model"
    off = await publishing.set_published("model", anna, False)
    assert off == publishing.Published("Anna", "Anna", anna)
    assert (await one("models", anna))["is_published"] is False


async def test_publishing_a_post_targets_its_source_key_and_recounts_its_models_posts(
    database: Any,
) -> None:
    anna = await model("Anna", post_count=2)
    await post(anna, "Anna/Beach")
    gym = await post(anna, "Anna/Gym")
    done = await publishing.set_published("post", gym, False)
    assert done == publishing.Published("Gym", "Anna/Gym", anna)
    row = await one("posts", gym)
    assert row["is_published"] is False and row["updated_at"] > OLD
    assert (await one("models", anna))["is_published"] is True, "it changed the model"
    assert (await one("models", anna))["post_count"] == 1, "unpublishing a post kept the count"
    await publishing.set_published("post", gym, True)
    assert (await one("models", anna))["post_count"] == 2, "publishing a post kept the count"


async def test_publishing_a_row_that_does_not_exist_is_none(database: Any) -> None:
    assert await publishing.set_published("model", 99, True) is None
    assert await publishing.set_published("post", 99, True) is None


async def refusal(kind: Literal["model", "post"], row_id: int) -> str:
    """The message publishing this model or post is refused with; it stays unpublished."""
    with pytest.raises(Conflict) as refused:
        await publishing.set_published(kind, row_id, True)
    table = "models" if kind == "model" else "posts"
    assert (await one(table, row_id))["is_published"] is False
    return str(refused.value)


async def test_publishing_a_retired_model_is_refused_and_unpublishing_it_is_not(
    database: Any,
) -> None:
    anna = await model("Anna", published=False, retired_by="tester")
    assert await refusal("model", anna) == (
        "Anna is retired, so it cannot be published: restore it first (Restore on its page), "
        "then publish it."
    )
    assert await publishing.set_published("model", anna, False) is not None


async def test_publishing_a_model_whose_source_is_missing_says_to_put_the_folder_back(
    database: Any,
) -> None:
    ben = await model("Ben", published=False, missing=True)
    assert await refusal("model", ben) == (
        "Ben: its source is missing from the bucket, so it cannot be public. Put the folder "
        "back and sync, then activate it again."
    )
    assert await publishing.set_published("model", ben, False) is not None


async def test_publishing_a_model_whose_folder_is_staged_again_says_to_activate_it(
    database: Any,
) -> None:
    await staged("Ben")
    ben = await model("Ben", published=False, missing=True)
    assert await refusal("model", ben) == (
        "Ben: its folder is back in the bucket but not activated yet. Activate its staged "
        "model to bring it up to date; that publishes it."
    )


async def test_publishing_a_post_whose_folder_is_gone_names_the_post(database: Any) -> None:
    anna = await model("Anna", post_count=0)
    gym = await post(anna, "Anna/Gym", published=False, missing=True)
    assert await refusal("post", gym) == (
        "post 'Gym': its source is missing from the bucket, so it cannot be public. Put the "
        "folder back and sync, then activate it again."
    )


# -- publishing many models


def test_a_bulk_result_adds_up_what_it_skipped() -> None:
    assert Bulk(4) == (4, 0, 0) and Bulk(4).skipped == 0
    assert Bulk(5, 2, 3).skipped == 5


async def test_bulk_publishing_changes_only_what_can_be_public_and_counts_the_skipped_by_reason(
    database: Any,
) -> None:
    """Three skipped as missing, two as retired (one of them missing too: counted retired),
    against two that could be public, so each count tells its rule from its opposite."""
    already = await model("Already")
    ready = await model("Ready", published=False)
    missing = [await model(f"Missing{i}", published=False, missing=True) for i in range(3)]
    retired = await model("Retired", published=False, retired=True)
    both = await model("Both", published=False, retired=True, missing=True)
    other = await model("Other", published=False)
    await model("Other retired", published=False, retired=True, missing=True)
    ids = [already, ready, *missing, retired, both]
    assert await publishing.set_many_published([], True) == Bulk(0)
    assert await publishing.set_many_published(ids, True) == Bulk(1, 2, 3)
    states = {r["name"]: r for r in await rows("SELECT * FROM models")}
    assert {n for n, r in states.items() if r["is_published"]} == {"Already", "Ready"}
    assert states["Ready"]["updated_at"] > OLD
    assert states["Already"]["updated_at"] == OLD, "an unchanged model was written"
    assert states["Other"]["is_published"] is False, "it published a model not asked for"
    # Flagged published though its source is gone (an operator's SQL): unpublishing clears it.
    flagged = await model("Flagged", missing=True)
    assert await publishing.set_many_published([*ids, other, flagged], False) == Bulk(3)
    assert not any(r["is_published"] for r in await rows("SELECT * FROM models"))
    assert (await one("models", other))["updated_at"] == OLD


# -- the production list and pages


async def test_the_list_counts_what_publishing_all_matching_would_do(database: Any) -> None:
    anna = await model("Anna")
    await post(anna, "Anna/Beach")
    await model("Ben", published=False)
    await model("Cleo", published=False)
    await model("Dora", published=False, missing=True)
    await model("Eve", published=False, retired=True)
    listed, matching = await publishing.models(production_query(), signer)
    assert [m.name for m in listed] == ["Anna", "Ben", "Cleo", "Dora"]
    assert listed[0].preview_url == "https://signed.test/Anna/Beach/a.jpg"  # its post's, signed
    assert matching == publishing.Matching(4, False, 2, 0, 1, False)
    retired, matching = await publishing.models(production_query(state="retired"), signer)
    assert [m.name for m in retired] == ["Eve"]
    assert matching == publishing.Matching(1, False, 0, 1, 0, False)


async def test_the_lists_filters_pick_featured_missing_searched_and_state(database: Any) -> None:
    anna = await model("Anna", featured=True)
    ben = await model("Ben", published=False, missing=True)
    cleo = await model("Cleo", published=False)
    eve = await model("Eve", retired=True)
    assert await publishing.matching_ids(production_query()) == [anna, ben, cleo]
    assert await publishing.matching_ids(production_query(featured=True)) == [anna]
    assert await publishing.matching_ids(production_query(missing=True)) == [ben]
    assert await publishing.matching_ids(production_query(search="cle")) == [cleo]
    assert await publishing.matching_ids(production_query(state="unpublished")) == [ben, cleo]
    assert await publishing.matching_ids(production_query(state="published")) == [anna]
    assert await publishing.matching_ids(production_query(state="retired")) == [eve]
    assert publishing.ProductionQuery is production_query


@pytest.mark.parametrize("size", ["25", "50", "100"])
def test_the_list_offers_pages_of_25_50_and_100(size: str) -> None:
    assert parse({"size": size}, publishing.LIST).size == int(size)


async def test_a_full_page_says_whether_a_model_follows(database: Any) -> None:
    await rows(
        "INSERT INTO models (name, slug) SELECT 'M' || lpad(i::text, 2, '0'), 'm' || i "
        "FROM generate_series(1, 26) AS i"
    )
    first, matching = await publishing.models(production_query(), signer)
    assert len(first) == 25 and matching.more is True and matching.total == 26
    await rows("DELETE FROM models WHERE name = 'M26'")
    first, matching = await publishing.models(production_query(), signer)
    assert len(first) == 25 and matching.more is False


@pytest.mark.parametrize(("n", "capped"), [(10_001, True), (10_000, True), (9_999, False)])
async def test_the_list_counts_up_to_ten_thousand_then_says_it_stopped(
    database: Any, n: int, capped: bool
) -> None:
    await rows(
        "INSERT INTO models (name, slug, is_published) SELECT 'M' || i, 'm' || i, false "
        "FROM generate_series(1, $1) AS i",
        n,
    )
    _, matching = await publishing.models(production_query(), signer)
    if capped:
        assert matching == publishing.Matching(10_000, True, None, None, None, True)
    else:
        assert matching == publishing.Matching(9_999, False, 9_999, 0, 0, True)


async def test_one_model_reads_as_its_list_row_and_its_page(database: Any) -> None:
    wl = await staged("Anna")
    anna = await model("Anna", staged_id=wl, post_count=1)
    await post(anna, "Anna/Beach")
    row = await publishing.model_row(anna, signer)
    assert row is not None and (row.id, row.name, row.all_posts) == (anna, "Anna", 1)
    assert row.thumbnail_key == "Anna/Beach/a.jpg"
    assert await publishing.model_row(99, signer) is None
    page = await publishing.model(anna)
    assert page is not None and (page.name, page.staged_name, page.source_back) == (
        "Anna",
        "Anna",
        True,
    )
    assert await publishing.model(99) is None


async def test_a_models_posts_come_by_source_key_a_page_at_a_time(database: Any) -> None:
    anna = await model("Anna")
    ben = await model("Ben")
    await post(ben, "Ben/P")
    for i in reversed(range(26)):
        await post(anna, f"Anna/P{i:02d}")
    first, total = await publishing.posts(anna, signer, parse({}, publishing.POSTS))
    assert total == 26 and [p.source_key for p in first] == [f"Anna/P{i:02d}" for i in range(25)]
    second, total = await publishing.posts(anna, signer, parse({"page": "2"}, publishing.POSTS))
    assert total == 26 and [p.source_key for p in second] == ["Anna/P25"]
    one_post = await publishing.post(second[0].id, signer)
    assert one_post is not None and one_post.source_key == "Anna/P25"
    assert one_post.model_is_published is True and one_post.content_url is not None
    assert await publishing.post(999, signer) is None


async def test_a_post_carries_its_models_flags_so_its_page_says_why_it_is_not_public(
    database: Any,
) -> None:
    ben = await model("Ben", published=False, missing=True, retired=True)
    trip = await publishing.post(await post(ben, "Ben/Trip"), signer)
    assert trip is not None and trip.model_is_published is False
    assert (trip.model_source_missing_at, trip.model_retired_at) == (OLD, RETIRED_AT)


# -- following the bucket (lifecycle)


@pytest.mark.parametrize(
    ("key", "model_level"),
    [
        ("Anna/icon.jpg", True),
        ("Anna/profile/p.jpg", True),
        ("Anna/Beach/a.jpg", False),
        ("Annabel/icon.jpg", False),
        ("Anna.jpg", False),
        ("Annabel.jpg", False),
        ("Anna", False),
        ("", False),
        (None, False),
    ],
)
def test_a_models_own_images_are_at_its_top_or_under_profile(
    key: str | None, model_level: bool
) -> None:
    assert lifecycle.is_model_level("Anna", key) is model_level


def test_a_posts_main_item_is_its_first_video_else_its_first_image() -> None:
    media = [item("P/a.jpg"), item("P/b.mp4"), item("P/c.jpg"), item("P/d.mp4")]
    assert lifecycle.main_item(media) == ("P/b.mp4", "video", "P/a.jpg")
    assert lifecycle.main_item(media[:1]) == ("P/a.jpg", "image", "P/a.jpg")
    assert lifecycle.main_item([item("P/b.mp4")]) == ("P/b.mp4", "video", None)
    assert lifecycle.main_item([]) == (None, "image", None)


def test_a_media_column_reads_as_a_list_from_text_or_json() -> None:
    assert lifecycle.media_list('[{"key": "k", "type": "image"}]') == [item("k")]
    assert lifecycle.media_list([item("k")]) == [item("k")]
    assert lifecycle.media_list(None) == []


async def test_a_removed_model_folder_unpublishes_the_model_and_its_posts_and_audits_it(
    database: Any,
) -> None:
    anna_wl, _ = await staged("Anna"), await staged("Ben")
    anna = await model("Anna", post_count=2)
    ben = await model("Ben", post_count=1)
    beach = await post(anna, "Anna/Beach")
    gym = await post(anna, "Anna/Gym", missing=True)
    trip = await post(ben, "Ben/Trip")
    async with db.transaction() as tx:
        assert await lifecycle.models_removed(tx, [anna_wl], STAMP) == 1
    row = await one("models", anna)
    assert (row["is_published"], row["source_missing_at"], row["post_count"]) == (False, STAMP, 0)
    beach_row = await one("posts", beach)
    assert (beach_row["is_published"], beach_row["source_missing_at"]) == (False, STAMP)
    assert beach_row["updated_at"] == STAMP
    assert (await one("posts", gym))["source_missing_at"] == OLD, "a missing post was re-stamped"
    assert (await one("posts", trip))["is_published"] is True, "another model's post went"
    assert (await one("models", ben))["is_published"] is True
    assert await audit() == [
        (
            "sync",
            "source_missing",
            "Anna",
            "its folder is gone from the bucket: unpublished with all its posts",
            "",
            anna,
        )
    ]
    async with db.transaction() as tx:  # already missing: nothing more, no second line
        assert await lifecycle.models_removed(tx, [anna_wl], STAMP) == 0
    assert len(await audit()) == 1


async def test_removed_posts_and_files_unpublish_what_is_left_empty_and_repick_the_rest(
    database: Any,
) -> None:
    ben = await model("Ben", post_count=1)  # first: the folder's own model is looked up
    anna = await model("Anna", post_count=3)
    gym = await post(anna, "Anna/Gym", media=["Anna/Gym/g.jpg"])  # emptied before Beach is read
    beach = await post(anna, "Anna/Beach", media=["Anna/Beach/a.jpg", "Anna/Beach/b.mp4"])
    trip = await post(anna, "Anna/Trip", media=["Anna/Trip/t.jpg"])
    other = await post(ben, "Ben/Trip", media=["Ben/Trip/t.jpg"])
    async with db.transaction() as tx:
        unpublished = await lifecycle.content_removed(
            tx, "Anna", ["Trip"], ["Anna/Beach/b.mp4", "Anna/Gym/g.jpg"], STAMP
        )
    assert unpublished == 2  # Trip's folder and Gym's only file; Beach only lost a video
    trip_row, gym_row, beach_row = [await one("posts", i) for i in (trip, gym, beach)]
    assert (trip_row["is_published"], trip_row["source_missing_at"]) == (False, STAMP)
    assert trip_row["updated_at"] == STAMP
    assert (gym_row["is_published"], gym_row["source_missing_at"]) == (False, STAMP)
    assert (lifecycle.media_list(gym_row["media"]), gym_row["updated_at"]) == ([], STAMP)
    assert beach_row["is_published"] is True and beach_row["source_missing_at"] is None
    assert lifecycle.media_list(beach_row["media"]) == [item("Anna/Beach/a.jpg")]
    assert (beach_row["content_key"], beach_row["type"], beach_row["thumbnail_key"]) == (
        "Anna/Beach/a.jpg",
        "image",
        "Anna/Beach/a.jpg",
    )
    assert beach_row["updated_at"] == STAMP
    assert (await one("posts", other))["is_published"] is True
    assert (await one("models", anna))["post_count"] == 1, "the count still has the gone posts"
    assert await audit() == [
        ("sync", "source_missing", "Anna/Trip", "its folder is gone from the bucket", "", anna),
        ("sync", "source_missing", "Anna/Gym", "all its files are gone from the bucket", "", anna),
    ]


@pytest.mark.parametrize(
    ("posts", "files", "gone"),
    [(["Gym"], [], "Anna/Gym"), ([], ["Anna/Gym/g.jpg"], "Anna/Gym")],
    ids=["a post folder alone", "a file alone"],
)
async def test_either_a_post_folder_or_a_file_alone_is_enough_to_unpublish(
    database: Any, posts: list[str], files: list[str], gone: str
) -> None:
    anna = await model("Anna", post_count=1)
    gym = await post(anna, "Anna/Gym", media=["Anna/Gym/g.jpg"])
    async with db.transaction() as tx:
        assert await lifecycle.content_removed(tx, "Anna", posts, files, STAMP) == 1
    assert (await one("posts", gym))["is_published"] is False
    assert [line[2] for line in await audit()] == [gone]
    assert (await one("models", anna))["post_count"] == 0


async def test_removals_with_nothing_named_or_no_production_model_change_nothing(
    database: Any,
) -> None:
    anna = await model("Anna", post_count=1)
    gym = await post(anna, "Anna/Gym", media=["Anna/Gym/g.jpg"])
    async with db.transaction() as tx:
        assert await lifecycle.content_removed(tx, "Anna", [], [], STAMP) == 0
        assert await lifecycle.content_removed(tx, "Nobody", ["Gym"], [], STAMP) == 0
    assert (await one("posts", gym))["is_published"] is True and await audit() == []


async def test_a_file_gone_from_a_post_that_keeps_others_is_no_unpublishing(
    database: Any,
) -> None:
    anna = await model("Anna", post_count=1)
    beach = await post(anna, "Anna/Beach", media=["Anna/Beach/a.jpg", "Anna/Beach/b.jpg"])
    async with db.transaction() as tx:
        assert await lifecycle.content_removed(tx, "Anna", [], ["Anna/Beach/a.jpg"], STAMP) == 0
    row = await one("posts", beach)
    assert row["is_published"] is True and row["content_key"] == "Anna/Beach/b.jpg"
    assert await audit() == []


async def test_a_models_gone_images_are_forgotten_and_the_present_kept(database: Any) -> None:
    anna = await model(
        "Anna", icon="Anna/icon.jpg", banner="Anna/banner.jpg", thumbnail="Anna/thumb.jpg"
    )
    async with db.transaction() as tx:
        await lifecycle.model_images_changed(tx, "Anna", ["Anna/icon.jpg", None, "Anna/thumb.jpg"])
    row = await one("models", anna)
    assert (row["icon_key"], row["banner_key"], row["thumbnail_key"]) == (
        "Anna/icon.jpg",
        None,
        "Anna/thumb.jpg",
    )


async def test_recount_counts_a_models_published_posts_whose_source_exists(database: Any) -> None:
    anna = await model("Anna", post_count=9)
    ben = await model("Ben", post_count=9)
    await post(anna, "Anna/A")
    await post(anna, "Anna/B", published=False)
    await post(anna, "Anna/C", missing=True)
    async with db.transaction() as tx:
        await lifecycle.recount(tx, anna)
    assert (await one("models", anna))["post_count"] == 1
    assert (await one("models", ben))["post_count"] == 9, "it recounted another model"


# -- retiring and restoring


async def test_retiring_a_published_model_unpublishes_stamps_and_audits_it(database: Any) -> None:
    anna = await model("Anna")
    ben = await model("Ben")
    changed = await retiring.retire(anna, "tester", "10.0.0.1")
    assert changed == retiring.Changed(anna, "Anna", True)
    row = await one("models", anna)
    assert (row["is_published"], row["retired_by"]) == (False, "tester")
    assert row["retired_at"] is not None and row["updated_at"] == row["retired_at"]
    assert row["retired_at"] > OLD
    assert (await one("models", ben))["retired_at"] is None, "it retired another model"
    assert await audit() == [
        (
            "tester",
            "model_retired",
            "Anna",
            "retired: off the production list and the public site; it was published, now "
            "unpublished",
            "10.0.0.1",
            anna,
        )
    ]


async def test_retiring_an_unpublished_model_says_only_that_it_is_retired(database: Any) -> None:
    anna = await model("Anna", published=False)
    assert await retiring.retire(anna, "tester") == retiring.Changed(anna, "Anna", False)
    assert await audit() == [
        (
            "tester",
            "model_retired",
            "Anna",
            "retired: off the production list and the public site",
            "",
            anna,
        )
    ]


@pytest.mark.parametrize(("by", "named"), [("alice", "alice"), (None, "an admin")])
async def test_retiring_a_retired_model_is_refused_naming_who_and_when(
    database: Any, by: str | None, named: str
) -> None:
    anna = await model("Anna", published=False, retired=True, retired_by=by)
    with pytest.raises(Conflict) as refused:
        await retiring.retire(anna, "tester")
    assert str(refused.value) == (
        f"Anna is already retired (by {named} on 2026-03-04 05:06 UTC): nothing was changed. "
        "Restore it to bring it back."
    )
    row = await one("models", anna)
    assert (row["retired_at"], row["retired_by"], row["updated_at"]) == (RETIRED_AT, by, OLD)
    assert await audit() == []


@pytest.mark.parametrize(("by", "named"), [("alice", "alice"), (None, "an admin")])
async def test_restoring_a_model_leaves_it_unpublished_and_audits_who_retired_it(
    database: Any, by: str | None, named: str
) -> None:
    anna = await model("Anna", published=True, retired=True, retired_by=by)
    ben = await model("Ben", retired=True, retired_by="alice")
    assert await retiring.restore(anna, "tester", "10.0.0.2") == retiring.Changed(
        anna, "Anna", False
    )
    row = await one("models", anna)
    assert (row["retired_at"], row["retired_by"], row["is_published"]) == (None, None, False)
    assert row["updated_at"] > OLD
    assert (await one("models", ben))["retired_at"] == RETIRED_AT, "it restored another model"
    assert await audit() == [
        (
            "tester",
            "model_restored",
            "Anna",
            f"restored (retired by {named} on 2026-03-04 05:06 UTC): unpublished until an admin "
            "publishes it",
            "10.0.0.2",
            anna,
        )
    ]


async def test_restoring_a_model_that_is_not_retired_is_refused(database: Any) -> None:
    anna = await model("Anna")
    with pytest.raises(Conflict) as refused:
        await retiring.restore(anna, "tester")
    assert str(refused.value) == "Anna is not retired: nothing was changed."
    assert (await one("models", anna))["updated_at"] == OLD and await audit() == []
    await retiring.retire(anna, "tester")
    await retiring.restore(anna, "tester")
    assert [line[4] for line in await audit()] == ["", ""], "an ip where none was given"


async def test_retiring_or_restoring_no_model_is_not_found(database: Any) -> None:
    for action in (retiring.retire, retiring.restore):
        with pytest.raises(NotFound) as missing:
            await action(42, "tester")
        assert str(missing.value) == "there is no production model #42."
