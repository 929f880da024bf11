"""The visibility rule (domain/production/visibility.py), on its own: each reason, the model's
reasons carried by its posts, and the SQL written from the same conditions."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from domain.production.visibility import (
    PUBLIC,
    Reason,
    State,
    post_public_sql,
    public_posts,
    public_posts_sql,
    public_sql,
    publishable_sql,
    visibility,
)

GONE = datetime(2026, 12, 1, tzinfo=UTC)
LIVE = State(True)
UNPUBLISHED = State(False)
MISSING = State(False, GONE)  # a sync unpublishes what it marks missing
RETIRED = State(False, None, GONE)  # retiring unpublishes the model


@pytest.mark.parametrize(
    ("model", "post", "reasons"),
    [
        (LIVE, None, ()),
        (UNPUBLISHED, None, (Reason.UNPUBLISHED,)),
        (MISSING, None, (Reason.UNPUBLISHED, Reason.SOURCE_MISSING)),
        (State(True, GONE), None, (Reason.SOURCE_MISSING,)),
        (LIVE, LIVE, ()),
        (LIVE, UNPUBLISHED, (Reason.UNPUBLISHED,)),
        (UNPUBLISHED, LIVE, (Reason.MODEL_UNPUBLISHED,)),
        (MISSING, LIVE, (Reason.MODEL_UNPUBLISHED, Reason.MODEL_SOURCE_MISSING)),
        (RETIRED, None, (Reason.UNPUBLISHED, Reason.RETIRED)),
        (State(True, None, GONE), None, (Reason.RETIRED,)),
        (RETIRED, LIVE, (Reason.MODEL_UNPUBLISHED, Reason.MODEL_RETIRED)),
        # A post has no retired_at of its own: only its model's counts.
        (LIVE, State(True, None, GONE), ()),
        (
            MISSING,
            MISSING,
            (
                Reason.UNPUBLISHED,
                Reason.SOURCE_MISSING,
                Reason.MODEL_UNPUBLISHED,
                Reason.MODEL_SOURCE_MISSING,
            ),
        ),
    ],
)
def test_visibility_says_each_reason(
    model: State, post: State | None, reasons: tuple[Reason, ...]
) -> None:
    seen = visibility(model, post)
    assert seen.reasons == reasons
    assert seen.public is (not reasons)
    assert seen.label == ("public" if not reasons else "not public: " + ", ".join(reasons))


def test_a_post_is_public_only_while_its_model_is() -> None:
    assert visibility(LIVE, LIVE) is PUBLIC
    assert not visibility(UNPUBLISHED, LIVE).public


def test_a_flag_must_be_true_not_truthy() -> None:
    assert not visibility(State(1, None)).public  # type: ignore[arg-type]


def test_public_posts_count_only_while_the_model_is_public() -> None:
    assert public_posts(LIVE, 6) == 6
    assert public_posts(UNPUBLISHED, 6) == 0
    assert public_posts(MISSING, 6) == 0
    assert public_posts(State(True, None, GONE), 6) == 0, "a retired model counted its posts"


def test_the_sql_says_the_same_rule() -> None:
    model = "m.is_published AND m.source_missing_at IS NULL AND m.retired_at IS NULL"
    assert public_sql("m") == model
    assert public_sql("p", "post") == "p.is_published AND p.source_missing_at IS NULL"
    assert publishable_sql("m") == "m.source_missing_at IS NULL AND m.retired_at IS NULL"
    assert post_public_sql("p", "m") == (
        f"p.is_published AND p.source_missing_at IS NULL AND {model}"
    )
    assert post_public_sql("posts") == (
        "posts.is_published AND posts.source_missing_at IS NULL AND EXISTS (SELECT 1 FROM "
        "models pm WHERE pm.id = posts.model AND pm.is_published AND pm.source_missing_at "
        "IS NULL AND pm.retired_at IS NULL)"
    )
    assert public_posts_sql("m") == f"CASE WHEN {model} THEN m.post_count ELSE 0 END"
