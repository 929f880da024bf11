"""Whether a production model or post is public, and if not, why not: the one rule.

A model is **public** while it is published, its source folder is in the bucket and it is not
retired. A post is public while it is published, its source is in the bucket, **and its model
is public**. Nothing else makes content public. A model whose folder is gone is "source
missing", public again only once an admin activates it; a model an admin retired is public
again only once an admin restores and then publishes it (posts are never retired: a retired
model takes its posts off with it).

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
from typing import Literal, Protocol


class Reason(enum.StrEnum):
    """Why content is not public; the value is how pages say it."""

    UNPUBLISHED = "unpublished"
    SOURCE_MISSING = "source missing"
    RETIRED = "retired"
    MODEL_UNPUBLISHED = "model unpublished"
    MODEL_SOURCE_MISSING = "model's source missing"
    MODEL_RETIRED = "model retired"


@dataclass(frozen=True, slots=True)
class Condition:
    """One condition a row must meet to be public: `column` holds it when it is true (a flag)
    or null (a timestamp); `reason` says it is unmet, `model_reason` says so of a post's model.
    A `models_only` condition is a model's alone (posts have no such column)."""

    column: str
    when: str  # "true" or "null"
    reason: Reason
    model_reason: Reason
    models_only: bool = False

    def holds(self, row: Flags) -> bool:
        value = getattr(row, self.column)
        return value is True if self.when == "true" else value is None

    def sql(self, alias: str) -> str:
        column = f"{alias}.{self.column}"
        return column if self.when == "true" else f"{column} IS NULL"


# A model's conditions, in the order pages name them; a post's are those not `models_only`.
RULES = (
    Condition("is_published", "true", Reason.UNPUBLISHED, Reason.MODEL_UNPUBLISHED),
    Condition("source_missing_at", "null", Reason.SOURCE_MISSING, Reason.MODEL_SOURCE_MISSING),
    Condition("retired_at", "null", Reason.RETIRED, Reason.MODEL_RETIRED, models_only=True),
)
POST_RULES = tuple(c for c in RULES if not c.models_only)
Kind = Literal["model", "post"]


class Flags(Protocol):
    """What the rule reads of a model or a post (rows and their dataclasses have both)."""

    @property
    def is_published(self) -> bool: ...

    @property
    def source_missing_at(self) -> datetime | None: ...


class ModelFlags(Flags, Protocol):
    """What the rule reads of a model: a post's flags, and whether an admin retired it."""

    @property
    def retired_at(self) -> datetime | None: ...


@dataclass(frozen=True, slots=True)
class State:
    """A row's flags on their own (a post's model, read alongside the post)."""

    is_published: bool
    source_missing_at: datetime | None = None
    retired_at: datetime | None = None


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


def visibility(model: ModelFlags, post: Flags | None = None) -> Visibility:
    """Whether `model` (or, given one, its `post`) is public, and if not, every reason why.
    A post is public only when its model is public too."""
    if post is None:
        reasons = [c.reason for c in RULES if not c.holds(model)]
    else:
        reasons = [c.reason for c in POST_RULES if not c.holds(post)]
        reasons += [c.model_reason for c in RULES if not c.holds(model)]
    return Visibility(tuple(reasons)) if reasons else PUBLIC


def public_sql(alias: str, kind: Kind = "model") -> str:
    """The rule for the row `alias` on its own, as SQL: a model is public when this holds
    (`m.is_published AND m.source_missing_at IS NULL AND m.retired_at IS NULL`); with
    kind="post", a post's own conditions (its model's are post_public_sql's)."""
    return " AND ".join(c.sql(alias) for c in (RULES if kind == "model" else POST_RULES))


def publishable_sql(alias: str) -> str:
    """A model's conditions other than the flag an admin sets, as SQL: publishing the model
    `alias` makes it public exactly when this holds (not retired, its source in the bucket)."""
    return " AND ".join(c.sql(alias) for c in RULES if c.column != "is_published")


def post_public_sql(post: str, model: str | None = None) -> str:
    """The rule for a post, as SQL: its own conditions and its model's. With `model`, the
    alias of its model joined in the query; without, its model is looked up."""
    own = public_sql(post, "post")
    if model is not None:
        return f"{own} AND {public_sql(model)}"
    return (
        f"{own} AND EXISTS (SELECT 1 FROM models pm WHERE pm.id = {post}.model "
        f"AND {public_sql('pm')})"
    )


def public_posts_sql(model: str) -> str:
    """A model's public posts as SQL: its stored count of published posts with their source
    (post_count) while the model is public, else 0."""
    return f"CASE WHEN {public_sql(model)} THEN {model}.post_count ELSE 0 END"


def public_posts(model: ModelFlags, post_count: int) -> int:
    """public_posts_sql in Python: a model's public posts from its stored post_count."""
    return post_count if visibility(model).public else 0
