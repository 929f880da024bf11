"""Property: after any sequence of bucket changes, a sync leaves the staged tables equal to an
independent model of the bucket (tests/oracle.py), through real PostgreSQL."""

from __future__ import annotations

import asyncio
import hashlib
import json
import threading
from collections.abc import Coroutine, Iterator
from typing import Any, TypeVar

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule, run_state_machine_as_test

from domain.catalogue.sync import SyncOptions, run_sync
from domain.platform import db
from tests.conftest import wipe
from tests.oracle import MemoryBucket, expected

T = TypeVar("T")
BASE = "https://cdn.example.test"
MODELS = [
    "Anna",
    "anna",
    "Zoë",
    "Zoe\u0308",
    " sp ",
    "%2F",
    "a+b",
    "<s>",
    "名前",
    "_res",
    ".hid",
    "profile",
    "x\u200f",
]
POSTS = ["P1", "p1", "Été", "profile", "sub dir", "..", "%", "\u202eevil"]
FILES = [
    "a.jpg",
    "B.PNG",
    "c.mp4",
    "d.txt",
    ".DS_Store",
    "icon.jpg",
    "avatar.png",
    "banner.webp",
    "cover.jpg",
    "e",
    "f.MOV",
    "g.gif",
    "h.jpeg",
]
keys = st.one_of(
    st.builds(lambda m, f: f"{m}/{f}", st.sampled_from(MODELS), st.sampled_from(FILES)),
    st.builds(
        lambda m, p, f: f"{m}/{p}/{f}",
        st.sampled_from(MODELS),
        st.sampled_from(POSTS),
        st.sampled_from(FILES),
    ),
    st.builds(lambda m, f: f"{m}/profile/{f}", st.sampled_from(MODELS), st.sampled_from(FILES)),
    st.builds(
        lambda m, p, f: f"{m}/{p}/deep/{f}",
        st.sampled_from(MODELS),
        st.sampled_from(POSTS),
        st.sampled_from(FILES),
    ),
    st.sampled_from(FILES),
)


async def staged() -> dict[str, Any]:
    out: dict[str, Any] = {}
    models = await db.fetch("SELECT * FROM whitelabel_models")
    media = await db.fetch(
        "SELECT p.whitelabel_model AS model, p.folder_name AS post, m.s3_key, m.type, m.etag "
        "FROM whitelabel_media m JOIN whitelabel_posts p ON p.id = m.whitelabel_post"
    )
    posts = await db.fetch("SELECT whitelabel_model, folder_name, media_cdns FROM whitelabel_posts")
    by_id = {m["id"]: m["folder_name"] for m in models}
    for m in models:
        out[m["folder_name"]] = {
            "thumbnail": m["thumbnail_key"],
            "icon": m["icon_key"],
            "banner": m["banner_key"],
            "posts": {},
            "counts": (m["post_count"], m["image_count"], m["video_count"]),
        }
    for p in posts:
        out[by_id[p["whitelabel_model"]]]["posts"][p["folder_name"]] = []
        cdns = p["media_cdns"]
        cdns = json.loads(cdns) if isinstance(cdns, str) else cdns
        assert len(cdns["images"]) + len(cdns["videos"]) > 0
    for row in sorted(media, key=lambda r: r["s3_key"]):
        out[by_id[row["model"]]]["posts"][row["post"]].append((row["s3_key"], row["type"]))
    return out


class BucketMachine(RuleBasedStateMachine):
    loop: asyncio.AbstractEventLoop
    stop: threading.Event  # set when the test ends: the machine's thread must not outlive it

    def __init__(self) -> None:
        super().__init__()
        self.bucket = MemoryBucket()
        self.version = 0
        self.run(wipe(db.current_engine()))

    def run(self, coro: Coroutine[Any, Any, T]) -> T:
        if self.stop.is_set():  # Skipped: Hypothesis re-raises it at once, without shrinking
            coro.close()
            raise pytest.skip.Exception("the test has ended; the state machine stops")
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout=60)

    def _etag(self) -> str:
        self.version += 1
        return hashlib.md5(str(self.version).encode()).hexdigest()  # noqa: S324

    @rule(batch=st.lists(keys, min_size=1, max_size=12), size=st.integers(0, 5))
    def put(self, batch: list[str], size: int) -> None:
        for key in batch:
            self.bucket.objects[key] = (self._etag(), size)

    @rule(data=st.data())
    def overwrite_or_delete(self, data: st.DataObject) -> None:
        if not self.bucket.objects:
            return
        key = data.draw(st.sampled_from(sorted(self.bucket.objects)))
        if data.draw(st.booleans()):
            self.bucket.objects[key] = (self._etag(), 1)
        else:
            del self.bucket.objects[key]

    @rule(data=st.data())
    def remove_folder(self, data: st.DataObject) -> None:
        if not self.bucket.objects:
            return
        key = data.draw(st.sampled_from(sorted(self.bucket.objects)))
        parts = key.split("/")
        depth = data.draw(st.integers(1, max(1, min(2, len(parts) - 1))))
        prefix = "/".join(parts[:depth]) + "/"
        for k in [k for k in self.bucket.objects if k.startswith(prefix)]:
            del self.bucket.objects[k]

    @invariant()
    def synced_tables_match_the_bucket(self) -> None:
        options = SyncOptions(public_base=BASE, allow_mass_delete=True, concurrency=3)
        run = self.run(run_sync(self.bucket, options))
        assert run.status == "succeeded", run.error
        want = expected(list(self.bucket.objects))
        got = self.run(staged())
        assert got == want
        again = self.run(run_sync(self.bucket, options))  # and a re-sync changes nothing
        assert again.media_inserted + again.media_updated + again.media_deleted == 0


@pytest.fixture
def machine_stop() -> Iterator[threading.Event]:
    """Set at teardown, however the test ended (a timeout too), so the thread that drives the
    state machine stops at its next step instead of running on into later tests."""
    stop = threading.Event()
    yield stop
    stop.set()


@pytest.mark.timeout(600)  # 200 examples: took 108 s on a busy 2-core machine
async def test_sync_converges_to_the_bucket(database: Any, machine_stop: threading.Event) -> None:
    BucketMachine.loop = asyncio.get_running_loop()
    BucketMachine.stop = machine_stop
    config = settings(
        max_examples=200,
        stateful_step_count=8,
        deadline=None,
        suppress_health_check=list(HealthCheck),
    )
    await asyncio.to_thread(run_state_machine_as_test, BucketMachine, settings=config)
