"""Pure activation planning: a staged model's media rows and its production posts -> the writes."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

# (title, content_key, type, thumbnail_key): the production post columns activation sets.
PostValues = tuple[Any, ...]


@dataclass(frozen=True, slots=True)
class PostsPlan:
    inserts: list[tuple[str, PostValues]]  # (source_key, values): posts production lacks
    updates: list[tuple[int, PostValues]]  # (post id, values): posts whose values changed
    unpublish: list[int]  # ids of production posts whose staged post is gone


def wanted_posts(folder: str, media: list[dict[str, Any]]) -> dict[str, PostValues]:
    """source_key -> (title, content_key, type, thumbnail_key): first video, else first image.

    `media` rows (folder_name, title, s3_key, type) come ordered by post folder, then key.
    """
    grouped: dict[str, tuple[str, list[dict[str, Any]]]] = {}
    for row in media:
        grouped.setdefault(row["folder_name"], (row["title"], []))[1].append(row)
    wanted: dict[str, PostValues] = {}
    for post_folder, (title, items) in grouped.items():
        video = next((m["s3_key"] for m in items if m["type"] == "video"), None)
        image = next((m["s3_key"] for m in items if m["type"] == "image"), None)
        main = video or image
        wanted[f"{folder}/{post_folder}"] = (
            title or post_folder,
            main,
            "video" if video else "image",
            image,
        )
    return wanted


def row_values(row: Mapping[str, Any]) -> PostValues:
    return (row["title"], row["content_key"], row["type"], row["thumbnail_key"])


def plan_posts(
    folder: str, media: list[dict[str, Any]], existing: Mapping[str, Mapping[str, Any]]
) -> PostsPlan:
    """What activating one staged model writes to its production posts.

    `existing` maps source_key -> the production post row (id, title, content_key, type,
    thumbnail_key). New posts are inserted, changed ones updated, and posts whose staged
    post is gone are unpublished (never deleted).
    """
    wanted = wanted_posts(folder, media)
    return PostsPlan(
        inserts=[(key, values) for key, values in wanted.items() if key not in existing],
        updates=[
            (existing[key]["id"], values)
            for key, values in wanted.items()
            if key in existing and row_values(existing[key]) != values
        ],
        unpublish=[row["id"] for key, row in existing.items() if key not in wanted],
    )
