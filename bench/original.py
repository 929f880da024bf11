"""The original (TypeScript) sync's algorithm, re-implemented with asyncpg for comparison.

Follows `seed-behaviour.md`, "Key parser, as the original has it" and "Sync, as the original
has it": load every known model and post, list the whole bucket as one stream (1,000 keys a
page), scan each page three times (new models ON CONFLICT DO NOTHING; new posts; upsert every
media row ON CONFLICT (s3_key) DO UPDATE SET url, changed or not), set icon/banner with one
UPDATE per `profile/icon.webp` / `profile/banner.webp`, then delete unseen models and posts and
recompute the aggregates over the whole tables.

Where the original's exact statements are unknown this version is the generous reading: each
pass is one set-based statement per page (unnest arrays) and the aggregates are two set-based
UPDATEs, so the comparison does not flatter the new sync.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any, NamedTuple, Protocol
from urllib.parse import quote

import asyncpg

from domain.platform.s3 import S3Object

IMAGE_EXTENSIONS = frozenset({"jpg", "jpeg", "png", "webp"})
VIDEO_EXTENSIONS = frozenset({"mp4", "mov", "webm", "m4v", "mkv", "avi", "wmv", "flv"})
PROFILE_UPDATES = {"icon.webp": "icon_key", "banner.webp": "banner_key"}
URI_COMPONENT_SAFE = "!~*'()"  # what JavaScript's encodeURIComponent keeps besides A-Za-z0-9-_.


class PageSource(Protocol):
    def list_pages(self, prefix: str) -> AsyncIterator[list[S3Object]]: ...


class OriginalKey(NamedTuple):
    kind: str  # "unknown" | "model" | "profile_media" | "media"
    model: str = ""
    post: str = ""
    file: str = ""
    media_type: str = ""


UNKNOWN = OriginalKey("unknown")


def _extension(name: str) -> str:
    dot = name.rfind(".")
    return name[dot + 1 :].lower() if dot >= 0 else ""


def parse_original(key: str) -> OriginalKey:
    """The original parser's table, row by row (non-media files under a post are images)."""
    if not key or key.endswith("/"):
        return UNKNOWN
    parts = key.split("/")
    if not parts[0] or len(parts) < 2:
        return UNKNOWN
    model = parts[0]
    if len(parts) == 2:
        if _extension(parts[1]) in IMAGE_EXTENSIONS:
            return OriginalKey("model", model, file=parts[1])
        return UNKNOWN
    rest = "/".join(parts[2:])
    if parts[1] == "profile":
        if _extension(parts[-1]) in IMAGE_EXTENSIONS:
            return OriginalKey("profile_media", model, file=rest)
        return UNKNOWN
    kind = "video" if _extension(parts[-1]) in VIDEO_EXTENSIONS else "image"
    return OriginalKey("media", model, parts[1], rest, kind)


def cdn_url(public_base: str, key: str) -> str:
    return (
        public_base.rstrip("/")
        + "/"
        + "/".join(quote(s, safe=URI_COMPONENT_SAFE) for s in key.split("/"))
    )


@dataclass
class OriginalStats:
    keys: int = 0
    models: int = 0
    posts: int = 0
    media: int = 0
    deleted_models: int = 0
    deleted_posts: int = 0
    profile_updates: int = 0
    statements: int = 0


INSERT_MODELS = (
    "INSERT INTO whitelabel_models (folder_name, status) SELECT f, 'new' FROM unnest($1::text[]) "
    "AS t(f) ON CONFLICT DO NOTHING RETURNING id, folder_name"
)
INSERT_POSTS = (
    "INSERT INTO whitelabel_posts (whitelabel_model, folder_name, title) SELECT m, f, f FROM "
    "unnest($1::int[], $2::text[]) AS t(m, f) ON CONFLICT DO NOTHING "
    "RETURNING id, whitelabel_model, folder_name"
)
UPSERT_MEDIA = (
    "INSERT INTO whitelabel_media (whitelabel_post, s3_key, url, type) SELECT * FROM "
    "unnest($1::int[], $2::text[], $3::text[], $4::text[]) "
    "ON CONFLICT (s3_key) DO UPDATE SET url = EXCLUDED.url"
)
POST_COUNTS = (
    "UPDATE whitelabel_models m SET post_count = "
    "(SELECT count(*) FROM whitelabel_posts p WHERE p.whitelabel_model = m.id)"
)
MEDIA_CDNS = (
    "UPDATE whitelabel_posts p SET media_cdns = (SELECT json_build_object("
    "'images', coalesce(json_agg(x.url ORDER BY x.id) FILTER (WHERE x.type = 'image'), '[]'), "
    "'videos', coalesce(json_agg(x.url ORDER BY x.id) FILTER (WHERE x.type = 'video'), '[]')) "
    "FROM whitelabel_media x WHERE x.whitelabel_post = p.id)"
)


class OriginalSync:
    """One full sync the original's way, on one connection, statement by statement."""

    def __init__(self, conn: asyncpg.Connection, public_base: str) -> None:
        self.conn = conn
        self.public_base = public_base
        self.stats = OriginalStats()
        self.models: dict[str, int] = {}
        self.posts: dict[str, int] = {}  # "modelId:folder" -> id
        self.seen_models: set[int] = set()
        self.seen_posts: set[int] = set()

    async def _fetch(self, sql: str, *args: Any) -> list[asyncpg.Record]:
        self.stats.statements += 1
        return list(await self.conn.fetch(sql, *args))

    async def _execute(self, sql: str, *args: Any) -> str:
        self.stats.statements += 1
        return str(await self.conn.execute(sql, *args))

    async def run(self, source: PageSource) -> OriginalStats:
        for r in await self._fetch("SELECT id, folder_name FROM whitelabel_models"):
            self.models[r["folder_name"]] = r["id"]
        for r in await self._fetch(
            "SELECT id, whitelabel_model, folder_name FROM whitelabel_posts"
        ):
            self.posts[f"{r['whitelabel_model']}:{r['folder_name']}"] = r["id"]
        known_models, known_posts = set(self.models.values()), set(self.posts.values())
        async for page in source.list_pages(""):
            self.stats.keys += len(page)
            await self._page([(o.key, parse_original(o.key)) for o in page])
        gone_models = sorted(known_models - self.seen_models)
        gone_posts = sorted(known_posts - self.seen_posts)
        if gone_models:
            await self._execute(
                "DELETE FROM whitelabel_models WHERE id = ANY($1::int[])", gone_models
            )
        if gone_posts:
            await self._execute(
                "DELETE FROM whitelabel_posts WHERE id = ANY($1::int[])", gone_posts
            )
        self.stats.deleted_models, self.stats.deleted_posts = len(gone_models), len(gone_posts)
        await self._execute(POST_COUNTS)
        await self._execute(MEDIA_CDNS)
        return self.stats

    async def _page(self, parsed: list[tuple[str, OriginalKey]]) -> None:
        # Pass 1: models.
        new_models = list(
            dict.fromkeys(
                p.model for _, p in parsed if p.kind != "unknown" and p.model not in self.models
            )
        )
        if new_models:
            for r in await self._fetch(INSERT_MODELS, new_models):
                self.models[r["folder_name"]] = r["id"]
            missing = [m for m in new_models if m not in self.models]  # inserted meanwhile
            if missing:
                sql = "SELECT id, folder_name FROM whitelabel_models WHERE folder_name = ANY($1)"
                for r in await self._fetch(sql, missing):
                    self.models[r["folder_name"]] = r["id"]
            self.stats.models += len(new_models)
        # Pass 2: posts.
        new_posts: dict[str, tuple[int, str]] = {}
        for _, p in parsed:
            if p.kind == "media":
                model_id = self.models[p.model]
                self.seen_models.add(model_id)
                ref = f"{model_id}:{p.post}"
                if ref not in self.posts:
                    new_posts[ref] = (model_id, p.post)
            elif p.kind != "unknown":
                self.seen_models.add(self.models[p.model])
        if new_posts:
            rows = await self._fetch(
                INSERT_POSTS, [m for m, _ in new_posts.values()], [f for _, f in new_posts.values()]
            )
            for r in rows:
                self.posts[f"{r['whitelabel_model']}:{r['folder_name']}"] = r["id"]
            self.stats.posts += len(new_posts)
        # Pass 3: media (every one, every run) and profile icon/banner.
        post_ids: list[int] = []
        keys: list[str] = []
        urls: list[str] = []
        types: list[str] = []
        for key, p in parsed:
            if p.kind == "media":
                post_id = self.posts[f"{self.models[p.model]}:{p.post}"]
                self.seen_posts.add(post_id)
                post_ids.append(post_id)
                keys.append(key)
                urls.append(cdn_url(self.public_base, key))
                types.append(p.media_type)
            elif p.kind == "profile_media" and p.file in PROFILE_UPDATES:
                await self._execute(
                    f"UPDATE whitelabel_models SET {PROFILE_UPDATES[p.file]} = $2 WHERE id = $1",
                    self.models[p.model],
                    key,
                )
                self.stats.profile_updates += 1
        if keys:
            await self._execute(UPSERT_MEDIA, post_ids, keys, urls, types)
            self.stats.media += len(keys)


async def run_original(dsn: str, source: PageSource, public_base: str) -> OriginalStats:
    conn = await asyncpg.connect(dsn)
    try:
        return await OriginalSync(conn, public_base).run(source)
    finally:
        await conn.close()
