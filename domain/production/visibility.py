"""Whether a production model or post is public, and if not, why not: the one rule.

A model is **public** while it is published and its source folder is in the bucket. A post is
public while it is published, its source is in the bucket, **and its model is public**. Nothing
else makes content public: there is no "retired" state (a model whose folder is gone is
"source missing", public again only once an admin activates it).

`RULES` states the conditions once. `visibility` reads them in Python (badges, cards, the
deletion guard); `public_sql` and `post_public_sql` write the same conditions as SQL (the public
API's reads, the dashboard's counts, the production list's "public posts" sort). Every badge,
count and card that says "public" goes through one of them; "published" names only the flag an
admin sets.

Plain Python: no database, no web framework.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol


class Reason(enum.StrEnum):
    """Why content is not public; the value is how pages say it."""

    UNPUBLISHED = "unpublished"
    SOURCE_MISSING = "source missing"
    MODEL_UNPUBLISHED = "model unpublished"
    MODEL_SOURCE_MISSING = "model's source missing"


@dataclass(frozen=True, slots=True)
class Condition:
    """One condition a row must meet to be public: `column` holds it when it is true (a flag)
    or null (a timestamp); `reason` says it is unmet, `model_reason` says so of a post's model."""

    column: str
    when: str  # "true" or "null"
    reason: Reason
    model_reason: Reason

    def holds(self, row: Flags) -> bool:
        value = getattr(row, self.column)
        return value is True if self.when == "true" else value is None

    def sql(self, alias: str) -> str:
        column = f"{alias}.{self.column}"
        return column if self.when == "true" else f"{column} IS NULL"


# The same for models and posts, in the order pages name them.
RULES = (
    Condition("is_published", "true", Reason.UNPUBLISHED, Reason.MODEL_UNPUBLISHED),
    Condition("source_missing_at", "null", Reason.SOURCE_MISSING, Reason.MODEL_SOURCE_MISSING),
)


class Flags(Protocol):
    """What the rule reads of a model or a post (rows and their dataclasses have both)."""

    @property
    def is_published(self) -> bool: ...

    @property
    def source_missing_at(self) -> datetime | None: ...


@dataclass(frozen=True, slots=True)
class State:
    """A row's flags on their own (a post's model, read alongside the post)."""

    is_published: bool
    source_missing_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class Visibility:
    """The rule's answer: public, or the reasons it is not (in RULES' order, own ones first)."""

    reasons: tuple[Reason, ...] = ()

    @property
    def public(self) -> bool:
        return not self.reasons

    @property
    def label(self) -> str:
        return "public" if self.public else "not public: " + ", ".join(self.reasons)


PUBLIC = Visibility()


def visibility(model: Flags, post: Flags | None = None) -> Visibility:
    """Whether `model` (or, given one, its `post`) is public, and if not, every reason why.
    A post is public only when its model is public too."""
    own = post if post is not None else model
    reasons = [c.reason for c in RULES if not c.holds(own)]
    if post is not None:
        reasons += [c.model_reason for c in RULES if not c.holds(model)]
    return Visibility(tuple(reasons)) if reasons else PUBLIC


def public_sql(alias: str) -> str:
    """The rule for the row `alias` on its own, as SQL: a model is public when this holds
    (e.g. `m.is_published AND m.source_missing_at IS NULL`)."""
    return " AND ".join(c.sql(alias) for c in RULES)


def post_public_sql(post: str, model: str | None = None) -> str:
    """The rule for a post, as SQL: its own conditions and its model's. With `model`, the
    alias of its model joined in the query; without, its model is looked up."""
    if model is not None:
        return f"{public_sql(post)} AND {public_sql(model)}"
    return (
        f"{public_sql(post)} AND EXISTS (SELECT 1 FROM models pm WHERE pm.id = {post}.model "
        f"AND {public_sql('pm')})"
    )


def public_posts_sql(model: str) -> str:
    """A model's public posts as SQL: its stored count of published posts with their source
    (post_count) while the model is public, else 0."""
    return f"CASE WHEN {public_sql(model)} THEN {model}.post_count ELSE 0 END"


def public_posts(model: Flags, post_count: int) -> int:
    """public_posts_sql in Python: a model's public posts from its stored post_count."""
    return post_count if visibility(model).public else 0
