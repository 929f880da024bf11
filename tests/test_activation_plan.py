"""Pure activation planning (domain/staging/activation_plan.py): which production posts activating a
staged model inserts, updates and unpublishes. No database."""

from __future__ import annotations

from typing import Any

from domain.staging.activation_plan import PostsPlan, plan_posts, wanted_posts


def media(post: str, key: str, kind: str, title: str | None = None) -> dict[str, Any]:
    """One staged media row as activation reads it (ordered by post folder, then key)."""
    return {"folder_name": post, "title": title, "s3_key": f"M/{post}/{key}", "type": kind}


def production(
    post_id: int, post: str, content: str | None, kind: str, thumb: str | None, title: str = ""
) -> dict[str, Any]:
    return {
        "id": post_id,
        "source_key": f"M/{post}",
        "title": title or post,
        "content_key": content,
        "type": kind,
        "thumbnail_key": thumb,
        "media": [
            {"key": m["s3_key"], "type": m["type"]} for m in STAGED if m["folder_name"] == post
        ],
        "source_missing_at": None,
        "model": 1,
    }


def short(plan: PostsPlan) -> PostsPlan:
    """The plan without each post's media list (tested on its own below)."""
    return PostsPlan(
        [(key, values[:4]) for key, values in plan.inserts],
        [(post_id, values[:4]) for post_id, values in plan.updates],
        plan.unpublish,
    )


STAGED = [
    media("Beach", "a.jpg", "image"),
    media("Beach", "b.mp4", "video"),
    media("Beach", "c.jpg", "image"),
    media("Beach", "d.mov", "video"),
    media("Gym", "1.png", "image"),
    media("Gym", "2.png", "image"),
    media("Night", "x.mp4", "video"),
    media("Night", "y.webm", "video"),
]


def test_a_post_shows_its_first_video_with_its_first_image_as_thumbnail() -> None:
    assert {k: v[:4] for k, v in wanted_posts("M", STAGED).items()} == {
        "M/Beach": ("Beach", "M/Beach/b.mp4", "video", "M/Beach/a.jpg"),
        "M/Gym": ("Gym", "M/Gym/1.png", "image", "M/Gym/1.png"),  # no video: its first image
        "M/Night": ("Night", "M/Night/x.mp4", "video", None),  # no image: no thumbnail
    }


def test_the_staged_title_is_used_when_set_else_the_folder_name() -> None:
    rows = [
        media("P1", "a.jpg", "image", title="Summer at the beach"),
        media("P1", "b.jpg", "image", title="Summer at the beach"),
        media("P2", "a.jpg", "image", title=""),
    ]
    assert [values[0] for values in wanted_posts("M", rows).values()] == [
        "Summer at the beach",
        "P2",
    ]


def test_source_keys_are_model_and_post_folder() -> None:
    rows = [media("Été 2024", "a.jpg", "image")]
    assert list(wanted_posts("Zoë", rows)) == ["Zoë/Été 2024"]


def test_a_model_without_media_wants_no_post() -> None:
    assert wanted_posts("M", []) == {}
    assert plan_posts("M", [], {}) == PostsPlan([], [], [])


def test_a_first_activation_inserts_every_post_in_order() -> None:
    plan = short(plan_posts("M", STAGED, {}))
    assert plan == PostsPlan(
        inserts=[
            ("M/Beach", ("Beach", "M/Beach/b.mp4", "video", "M/Beach/a.jpg")),
            ("M/Gym", ("Gym", "M/Gym/1.png", "image", "M/Gym/1.png")),
            ("M/Night", ("Night", "M/Night/x.mp4", "video", None)),
        ],
        updates=[],
        unpublish=[],
    )


def current() -> dict[str, dict[str, Any]]:
    """Production posts as a first activation of STAGED left them."""
    rows = [
        production(11, "Beach", "M/Beach/b.mp4", "video", "M/Beach/a.jpg"),
        production(12, "Gym", "M/Gym/1.png", "image", "M/Gym/1.png"),
        production(13, "Night", "M/Night/x.mp4", "video", None),
    ]
    return {r["source_key"]: r for r in rows}


def test_activating_again_without_changes_writes_nothing() -> None:
    assert plan_posts("M", STAGED, current()) == PostsPlan([], [], [])


def test_a_changed_post_is_updated_in_place() -> None:
    existing = current()
    existing["M/Gym"]["title"] = "Old title"
    existing["M/Night"]["thumbnail_key"] = "M/Night/old.jpg"
    existing["M/Beach"]["content_key"] = "M/Beach/old.mp4"
    plan = short(plan_posts("M", STAGED, existing))
    assert plan.inserts == [] and plan.unpublish == []
    assert plan.updates == [
        (11, ("Beach", "M/Beach/b.mp4", "video", "M/Beach/a.jpg")),
        (12, ("Gym", "M/Gym/1.png", "image", "M/Gym/1.png")),
        (13, ("Night", "M/Night/x.mp4", "video", None)),
    ]


def test_a_post_whose_type_changed_is_updated() -> None:
    existing = current()
    existing["M/Gym"]["type"] = "video"
    assert short(plan_posts("M", STAGED, existing)).updates == [
        (12, ("Gym", "M/Gym/1.png", "image", "M/Gym/1.png"))
    ]


def test_posts_gone_from_staging_are_unpublished_and_new_ones_inserted() -> None:
    existing = current()
    existing["M/Old"] = production(9, "Old", "M/Old/a.jpg", "image", "M/Old/a.jpg")
    staged = [row for row in STAGED if row["folder_name"] != "Gym"]
    staged.append(media("Zoo", "a.jpg", "image"))
    plan = short(plan_posts("M", staged, existing))
    assert plan == PostsPlan(
        inserts=[("M/Zoo", ("Zoo", "M/Zoo/a.jpg", "image", "M/Zoo/a.jpg"))],
        updates=[],
        unpublish=[12, 9],
    )


def test_every_item_of_a_post_is_listed_in_key_order_with_its_type() -> None:
    media_of = {k: v[4] for k, v in wanted_posts("M", STAGED).items()}
    assert media_of["M/Beach"] == [
        {"key": "M/Beach/a.jpg", "type": "image"},
        {"key": "M/Beach/b.mp4", "type": "video"},
        {"key": "M/Beach/c.jpg", "type": "image"},
        {"key": "M/Beach/d.mov", "type": "video"},
    ]
    assert [m["key"] for m in media_of["M/Night"]] == ["M/Night/x.mp4", "M/Night/y.webm"]


def test_a_post_that_gained_an_item_is_updated_with_the_full_list() -> None:
    staged = [*STAGED, media("Gym", "3.png", "image")]
    (update,) = plan_posts("M", staged, current()).updates
    assert update[0] == 12
    assert [m["key"] for m in update[1][4]] == ["M/Gym/1.png", "M/Gym/2.png", "M/Gym/3.png"]


def test_a_post_whose_source_came_back_is_updated_even_when_unchanged() -> None:
    existing = current()
    existing["M/Gym"]["source_missing_at"] = "2026-11-26T10:00:00+00:00"
    assert [post_id for post_id, _ in plan_posts("M", STAGED, existing).updates] == [12]
