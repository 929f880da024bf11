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
    visibility,
)

GONE = datetime(2026, 12, 1, tzinfo=UTC)
LIVE = State(True)
UNPUBLISHED = State(False)
MISSING = State(False, GONE)  # a sync unpublishes what it marks missing


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


def test_the_sql_says_the_same_rule() -> None:
    assert public_sql("m") == "m.is_published AND m.source_missing_at IS NULL"
    assert post_public_sql("p", "m") == (
        "p.is_published AND p.source_missing_at IS NULL AND "
        "m.is_published AND m.source_missing_at IS NULL"
    )
    assert post_public_sql("posts") == (
        "posts.is_published AND posts.source_missing_at IS NULL AND EXISTS (SELECT 1 FROM "
        "models pm WHERE pm.id = posts.model AND pm.is_published AND pm.source_missing_at "
        "IS NULL)"
    )
    assert public_posts_sql("m") == (
        "CASE WHEN m.is_published AND m.source_missing_at IS NULL THEN m.post_count ELSE 0 END"
    )
