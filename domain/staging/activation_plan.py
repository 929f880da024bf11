"""Pure activation planning: a staged model's media rows and its production posts -> the writes."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypedDict

from domain.production.lifecycle import main_item, media_list

# (title, content_key, type, thumbnail_key, media JSON): the production post columns activation
# sets; media lists every item of the post in key order, as [{"key": ..., "type": ...}].
PostValues = tuple[str, str | None, str, str | None, list[dict[str, str]]]


class StagedItem(TypedDict):
    """One media row of the staged model, with its post's folder and title."""

    folder_name: str
    title: str | None
    s3_key: str
    type: str  # image or video


class ProductionPost(TypedDict):
    """A production post as activation compares it."""

    id: int
    source_key: str  # Model/Post
    title: str
    content_key: str | None
    type: str
    thumbnail_key: str | None
    media: Any  # JSON: [{"key": ..., "type": ...}], or its text (media_list reads both)
    source_missing_at: datetime | None


@dataclass(frozen=True, slots=True)
class PostsPlan:
    inserts: list[tuple[str, PostValues]]  # (source_key, values): posts production lacks
    updates: list[tuple[int, PostValues]]  # (post id, values): posts whose values changed
    unpublish: list[int]  # ids of production posts whose staged post is gone


def wanted_posts(folder: str, media: Sequence[StagedItem]) -> dict[str, PostValues]:
    """source_key -> (title, content_key, type, thumbnail_key, media): the main item is the
    first video, else the first image; the thumbnail is the first image.

    `media` rows (folder_name, title, s3_key, type) come ordered by post folder, then key.
    """
    grouped: dict[str, tuple[str | None, list[StagedItem]]] = {}
    for row in media:
        grouped.setdefault(row["folder_name"], (row["title"], []))[1].append(row)
    wanted: dict[str, PostValues] = {}
    for post_folder, (title, items) in grouped.items():
        listed = [{"key": m["s3_key"], "type": m["type"]} for m in items]
        main, kind, image = main_item(listed)
        wanted[f"{folder}/{post_folder}"] = (title or post_folder, main, kind, image, listed)
    return wanted


def row_values(row: ProductionPost) -> PostValues:
    return (
        row["title"],
        row["content_key"],
        row["type"],
        row["thumbnail_key"],
        media_list(row["media"]),
    )


def plan_posts(
    folder: str, media: Sequence[StagedItem], existing: Mapping[str, ProductionPost]
) -> PostsPlan:
    """What activating one staged model writes to its production posts.

    `existing` maps source_key -> the production post row (id, title, content_key, type,
    thumbnail_key, media, source_missing_at). New posts are inserted, changed ones and ones
    whose source came back updated, and posts whose staged post is gone are unpublished
    (never deleted).
    """
    wanted = wanted_posts(folder, media)
    return PostsPlan(
        inserts=[(key, values) for key, values in wanted.items() if key not in existing],
        updates=[
            (existing[key]["id"], values)
            for key, values in wanted.items()
            if key in existing
            and (
                row_values(existing[key]) != values
                or existing[key].get("source_missing_at") is not None
            )
        ],
        unpublish=[row["id"] for key, row in existing.items() if key not in wanted],
    )
