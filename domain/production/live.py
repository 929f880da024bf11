"""What a sync's deletion plan would take off the public site: the live (public, by
visibility.py's rule) models and posts among what it deletes. The deletion guard lists these
first; confirming the plan unpublishes them (production follows the bucket: lifecycle.py)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TypedDict

from domain.production import sql

NAMES_SHOWN = 20


class LiveJSON(TypedDict):
    models: int
    posts: int
    names: list[str]  # the first NAMES_SHOWN live folders


@dataclass(frozen=True)
class Live:
    """The live share of a deletion plan: models it deletes whole that are public, and every
    public post it deletes (theirs, and those gone from the models it keeps)."""

    models: int = 0
    posts: int = 0
    folders: list[str] = field(default_factory=list)  # the live models' folders, all of them

    @property
    def any(self) -> bool:
        return bool(self.models or self.posts)

    def as_json(self) -> LiveJSON:
        """For the plan's summary: counts, and the first NAMES_SHOWN live folders."""
        return {"models": self.models, "posts": self.posts, "names": self.folders[:NAMES_SHOWN]}


async def in_plan(models: Iterable[str], post_keys: list[str]) -> Live:
    """The live models and posts among a deletion plan's: its gone `models` (folders) and
    the `Model/Post` source keys of the posts it deletes from the others."""
    folders = sorted(models)
    if not folders and not post_keys:
        return Live()
    models = await sql.live_models(folders) if folders else []
    posts = await sql.live_posts(folders, post_keys)
    return Live(len(models), posts, models)


async def posts_among(source_keys: list[str]) -> set[str]:
    """The public ones among these posts (`Model/Post` source keys)."""
    if not source_keys:
        return set()
    return await sql.live_post_keys(source_keys)
