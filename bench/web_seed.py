"""Web benchmark data: staged models, posts and media by COPY, a few thousand production models.

Posts per model cycle 1, 3, 2, 2 (two on average) with five media each, so 100,000 models give
200,000 posts and 1,000,000 media rows. Names are creator-style handles, unique, deterministic.
"""

from __future__ import annotations

import json
import random
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from domain.accounts.admins import upsert_admin
from domain.platform import db
from domain.platform.embedded_pg import database_url
from domain.platform.settings import Settings
from domain.staging.activation import slugify

MEDIA_PER_POST = 5
POSTS_CYCLE = (1, 3, 2, 2)
CHUNK = 50_000
BASE_URL = "https://cdn.example.com/creatorflix"
STAGED_TABLES = ("whitelabel_media", "whitelabel_posts", "whitelabel_models", "posts", "models")
# fmt: off
FIRST = (
    "aria", "mia", "luna", "ella", "zoe", "chloe", "ivy", "ruby", "stella", "nova", "jade", "skye",
    "lily", "rose", "hazel", "violet", "aurora", "scarlett", "willow", "daisy", "layla", "nina",
    "sofia", "kira", "maya", "emma", "olivia", "amber", "sasha", "jenna", "bella", "lexi", "megan",
    "tara", "gigi", "coco", "remy", "alexis", "jordan", "riley", "casey", "quinn", "sienna",
    "paige",
)
LAST = (
    "blake", "rose", "monroe", "hart", "vale", "star", "fox", "lane", "reed", "knight", "steele",
    "winter", "frost", "storm", "rivers", "moon", "sky", "belle", "grace", "love", "kiss", "honey",
    "lush", "wild", "sweet", "cruz", "diaz", "vega", "king", "queen", "moss", "park", "stone",
    "wolfe", "hale", "blaze", "snow", "noir", "rain", "sage",
)
# fmt: on
STYLES = ("{f}{l}", "{f}_{l}", "{f}.{l}", "{F}{L}", "the{f}{l}", "{f}{l}xo", "{f}_{l}_official")


@dataclass
class SeedStats:
    models: int = 0
    posts: int = 0
    media: int = 0
    production_models: int = 0
    production_posts: int = 0
    seconds: float = 0.0
    phases: dict[str, float] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def creator_names(count: int, seed: int = 42) -> list[str]:
    rng = random.Random(seed)
    seen: set[str] = set()
    names: list[str] = []
    while len(names) < count:
        f, lname = rng.choice(FIRST), rng.choice(LAST)
        name = rng.choice(STYLES).format(f=f, l=lname, F=f.capitalize(), L=lname.capitalize())
        if name.lower() in seen:
            name = f"{name}{rng.randint(2, 9999)}"
        if name.lower() in seen:
            continue
        seen.add(name.lower())
        names.append(name)
    return names


def posts_of(model_index: int) -> int:
    return POSTS_CYCLE[model_index % len(POSTS_CYCLE)]


def media_types(post_index: int) -> list[str]:
    """Five media a post: one or two videos, the rest images."""
    videos = 1 + post_index % 2
    return ["image"] * (MEDIA_PER_POST - videos) + ["video"] * videos


def _key(folder: str, post: str, n: int, kind: str) -> str:
    return f"{folder}/{post}/{n:02d}.{'mp4' if kind == 'video' else 'jpg'}"


def staged_rows(names: list[str], now: datetime) -> Iterator[tuple[str, tuple[Any, ...]]]:
    """("model"|"post"|"media", row) in id order; ids start at 1 in every table."""
    post_id = media_id = 0
    for i, name in enumerate(names):
        model_id = i + 1
        n_posts = posts_of(i)
        first_post = post_id
        images = videos = 0
        for p in range(n_posts):
            kinds = media_types(first_post + p)
            images += kinds.count("image")
            videos += kinds.count("video")
        synced = now - timedelta(minutes=(i * 7) % 43_200)
        yield (
            "model",
            (
                model_id, name, f"{name}/thumbnail.jpg", f"{name}/icon.jpg",
                f"{name}/banner.jpg", "[]", n_posts, images, videos, "new",
                f"{model_id:064x}", 0, synced, synced - timedelta(days=30),
            ),
        )  # fmt: skip
        for p in range(n_posts):
            post_id += 1
            folder = f"post-{p + 1:03d}"
            kinds = media_types(post_id - 1)
            keys = [_key(name, folder, n, k) for n, k in enumerate(kinds)]
            pairs = list(zip(keys, kinds, strict=True))
            cdns = {
                "images": [f"{BASE_URL}/{k}" for k, t in pairs if t == "image"],
                "videos": [f"{BASE_URL}/{k}" for k, t in pairs if t == "video"],
            }
            yield (
                "post",
                (post_id, model_id, folder, f"Post {p + 1} by {name}", json.dumps(cdns),
                 len(cdns["images"]), len(cdns["videos"]), synced),
            )  # fmt: skip
            for key, kind in pairs:
                media_id += 1
                size = 250_000 + media_id % 997 * 1_000 if kind == "image" else 25_000_000
                yield (
                    "media",
                    (media_id, post_id, key, f"{BASE_URL}/{key}", kind, size,
                     f"{media_id:032x}", synced, synced),
                )  # fmt: skip


COLUMNS = {
    "model": (
        "whitelabel_models",
        ("id", "folder_name", "thumbnail_key", "icon_key", "banner_key", "extra_image_keys",
         "post_count", "image_count", "video_count", "status", "listing_hash", "ignored_keys",
         "last_synced_at", "created_at"),
    ),
    "post": (
        "whitelabel_posts",
        ("id", "whitelabel_model", "folder_name", "title", "media_cdns", "image_count",
         "video_count", "created_at"),
    ),
    "media": (
        "whitelabel_media",
        ("id", "whitelabel_post", "s3_key", "url", "type", "size", "etag", "last_modified",
         "created_at"),
    ),
}  # fmt: skip


async def _copy_staged(tx: db.Tx, names: list[str], now: datetime, stats: SeedStats) -> None:
    buffers: dict[str, list[tuple[Any, ...]]] = {kind: [] for kind in COLUMNS}

    async def flush(kind: str) -> None:
        table, columns = COLUMNS[kind]
        await tx.copy(table, columns, buffers[kind])
        buffers[kind] = []

    counts = {kind: 0 for kind in COLUMNS}
    for kind, row in staged_rows(names, now):
        buffers[kind].append(row)
        counts[kind] += 1
        if len(buffers[kind]) >= CHUNK:
            # Parents first, so foreign keys always find their rows.
            for parent in ("model", "post", "media")[: ("model", "post", "media").index(kind) + 1]:
                await flush(parent)
    for kind in ("model", "post", "media"):
        await flush(kind)
    stats.models, stats.posts, stats.media = counts["model"], counts["post"], counts["media"]


async def _copy_production(tx: db.Tx, names: list[str], count: int, now: datetime) -> int:
    """Activate every n-th staged model: a published `models` row and its `posts`."""
    step = max(1, len(names) // max(1, count))
    jitter = len(POSTS_CYCLE) if step >= len(POSTS_CYCLE) else 1  # mix the post counts
    chosen = [k * step + k % jitter for k in range(min(count, len(names)))]
    models, posts, post_id = [], [], 0
    for n, i in enumerate(chosen):
        name = names[i]
        models.append(
            (n + 1, name, slugify(name) + f"-{i + 1}", f"Model imported from S3: {name}",
             f"{name}/icon.jpg", f"{name}/banner.jpg", f"{name}/thumbnail.jpg", False, False,
             True, posts_of(i), i + 1, now, now)
        )  # fmt: skip
        for p in range(posts_of(i)):
            post_id += 1
            key = f"{name}/post-{p + 1:03d}/00.jpg"
            posts.append(
                (post_id, n + 1, f"{name}/post-{p + 1:03d}", f"Post {p + 1} by {name}", key,
                 key, "image", True, now - timedelta(hours=p), now)
            )  # fmt: skip
    await tx.copy(
        "models",
        ("id", "name", "slug", "description", "icon_key", "banner_key", "thumbnail_key",
         "is_featured", "is_advertiser", "is_published", "post_count", "whitelabel_model",
         "created_at", "updated_at"),
        models,
    )  # fmt: skip
    await tx.copy(
        "posts",
        ("id", "model", "source_key", "title", "content_key", "thumbnail_key", "type",
         "is_published", "created_at", "updated_at"),
        posts,
    )  # fmt: skip
    staged_ids = [i + 1 for i in chosen]
    await tx.execute(
        "UPDATE whitelabel_models SET status = 'active' WHERE id = ANY($1::int[])", staged_ids
    )
    return len(posts)


async def prepare_schema(settings: Settings) -> None:
    """Engine on every table, pool open, migrations applied, Piccolo Admin's sessions table."""
    from piccolo_api.session_auth.tables import SessionsBase

    engine = db.make_engine(database_url(settings))
    db.install_engine(engine)
    SessionsBase._meta.db = engine
    await db.start(engine)
    await db.migrate()
    await SessionsBase.create_table(if_not_exists=True)


async def seed(models: int, production: int, *, reset: bool = False) -> SeedStats:
    """Fill the staged and production tables; the engine must be installed and started."""
    started = time.perf_counter()
    existing = await db.fetch("SELECT COUNT(*) AS n FROM whitelabel_models")
    if existing[0]["n"]:
        if not reset:
            raise SystemExit(
                f"whitelabel_models already holds {existing[0]['n']} rows: run on an empty "
                "database (tests/run.py --only-db does) or pass --reset to truncate it."
            )
        async with db.transaction() as tx:
            await tx.execute(f"TRUNCATE {', '.join(STAGED_TABLES)} RESTART IDENTITY CASCADE")
    names = creator_names(models)
    now = datetime.now(UTC).replace(microsecond=0)
    stats = SeedStats()
    mark = time.perf_counter()

    def lap(phase: str) -> None:
        nonlocal mark
        stats.phases[phase] = round(time.perf_counter() - mark, 2)
        mark = time.perf_counter()

    async with db.transaction() as tx:
        await _copy_staged(tx, names, now, stats)
        lap("copy_staged")
        stats.production_posts = await _copy_production(tx, names, production, now)
        stats.production_models = min(production, models)
        for table in STAGED_TABLES:
            await tx.execute(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                f"(SELECT COALESCE(MAX(id), 0) + 1 FROM {table}), false)"
            )
    lap("production_and_commit")
    async with db.read_connection() as conn:  # VACUUM cannot run inside a transaction
        await conn.execute(f"VACUUM (ANALYZE) {', '.join(STAGED_TABLES)}")
    lap("vacuum_analyze")
    stats.seconds = time.perf_counter() - started
    return stats


async def create_users(password: str) -> tuple[str, str]:
    """Our admin (active + admin) and Piccolo Admin's (active + admin + superuser)."""
    from piccolo.apps.user.tables import BaseUser

    ours, theirs = "bench", "piccolo"
    await upsert_admin(ours, "bench@example.com", password)
    if not await BaseUser.exists().where(BaseUser.username == theirs):
        await BaseUser.create_user(
            username=theirs,
            password=password,
            email="piccolo@example.com",
            active=True,
            admin=True,
            superuser=True,
        )
    return ours, theirs
