"""The fast listing path against moto's real HTTP server: hostile keys come back byte for byte,
key ranges list every key exactly once, and S3 faults end as retries or clear errors.

What a user would notice: a model or post whose name holds an emoji, '&', '%2F' or a control
character missing after a sync (or listed twice), a model synced from half its keys, a flaky
bucket failing a sync that a retry would have saved, or an error that names no setting to fix.
"""

from __future__ import annotations

import asyncio
import unicodedata
from collections import Counter, deque
from dataclasses import dataclass, replace
from unittest import mock

import pytest
from hypothesis import HealthCheck, Phase, given, note, settings
from hypothesis import strategies as st

from domain.catalogue import parts
from domain.catalogue.key_ranges import (
    KeyRange,
    cut,
    folder_of,
    in_key_order,
    part_bounds,
    start_after,
    units_of,
)
from domain.catalogue.keys import parse_key
from domain.catalogue.range_listing import Assembler, Listed, list_range
from domain.platform.s3 import (
    S3BucketMissing,
    S3CredentialsError,
    S3Error,
    S3Object,
    S3Service,
    S3Unreachable,
)
from domain.platform.s3_pages import parse_page
from domain.platform.s3_types import NotAListing
from harness.ports import free_port
from tests.conftest import Bucket, Proxied
from tests.fault_proxy import Rule, listing, listing_in

# --------------------------------------------------------------------------------------------
# Hostile keys: every one must come back from every listing call exactly as it was put.
# (A newline is left out: moto's server answers 404 to a PUT of a key holding "\n".)

NFC = unicodedata.normalize("NFC", "Zoë")
NFD = unicodedata.normalize("NFD", "Zoë")
assert NFC != NFD
LONG = "long/" + "é" * 440 + ".jpg"  # 889 bytes of UTF-8: near S3's 1,024-byte limit
assert 850 < len(LONG.encode()) < 1024

HOSTILE = [
    "emoji 😀/post 🎉/img 🖼.jpg",
    "😀/😀/😀.jpg",
    "名前/投稿 一/写真.jpg",
    "Модель/Пост/фото.jpg",
    f"{NFC}/p/a.jpg",
    f"{NFD}/p/a.jpg",
    f"m/{NFC}/a.jpg",
    f"m/{NFD}/a.jpg",
    "e\u0301\u0327/combining\u0300/x\u0308.jpg",
    "a&b/<p>/\"q\" 'r' >.jpg",
    "&amp;/&lt;/&#x41;.jpg",
    "<![CDATA[x]]>/p/a.jpg",
    "a+b/c+d/e+f.jpg",
    "a b/c d/e f.jpg",
    "100%/50%25/%2F.jpg",
    "%2F/%20/%2B.jpg",
    "%/%%/%.jpg",
    " lead/ lead post/ lead.jpg",
    "trail /trail post /trail.jpg ",
    "  /  /  ",
    "tab\t/x\t/y\t.jpg",
    "ctl\x01/x\x01y/\x1f.jpg",
    "cr\r/x\r.jpg",
    "del\x7f/x.jpg",
    "rlo\u202egpj.exe/\u202ep/x.jpg",
    "zw\u200b/\u200b/\u200b.jpg",
    "bom\ufeff/x.jpg",
    "nbsp\u00a0/x.jpg",
    "astral\U0010fffd/\U0001f600/x.jpg",
    LONG,
    "marker/",
    "marker/post/",
    "marker/post/deep/",
    "dbl//slash.jpg",
    "A/x.jpg",
    "A B/x.jpg",
    "A-/x.jpg",
    "A.x/x.jpg",
    "A0/x.jpg",
    "A./x.jpg",
    "A.",
    "A.jpg",
    "A",
    "root & <root>.jpg",
    "😀",
    "%2F",
    "+",
    " ",
    "\x01",
    "\u202e",
    "?q/#h/x.jpg",
    "~tilde/!*'()/x.jpg",
]
assert len(set(HOSTILE)) == len(HOSTILE)


def s3_order(keys: list[str]) -> list[str]:
    """S3 lists keys by their UTF-8 bytes."""
    return sorted(keys, key=str.encode)


def expected_level(keys: list[str], prefix: str) -> tuple[list[str], list[str]]:
    """ListObjectsV2 with Delimiter='/': the sub-prefixes and the keys directly under prefix."""
    under = [k[len(prefix) :] for k in keys if k.startswith(prefix)]
    prefixes = {prefix + rest.split("/")[0] + "/" for rest in under if "/" in rest}
    loose = [prefix + rest for rest in under if "/" not in rest]
    return s3_order(list(prefixes)), s3_order(loose)


async def flat(s3: S3Service, prefix: str = "") -> list[S3Object]:
    return [o async for page in s3.list_pages(prefix) for o in page]


async def after(s3: S3Service, start: str) -> list[str]:
    return [o.key async for page in s3.list_after(start) for o in page]


def same(got: list[str], want: list[str]) -> None:
    """Equal lists, compared as bytes too (so a NFC/NFD or invisible-character swap shows)."""
    assert [k.encode() for k in got] == [k.encode() for k in want], (
        f"missing {sorted(set(want) - set(got))!r}; unexpected {sorted(set(got) - set(want))!r}"
    )


async def put_all(bucket: Bucket, keys: list[str], body: bytes = b"data") -> None:
    slots = asyncio.Semaphore(16)

    async def one(key: str) -> None:
        async with slots:
            await bucket.s3.upload(key, body)

    await asyncio.gather(*(one(k) for k in keys))


async def delete_all(bucket: Bucket, keys: list[str]) -> None:
    slots = asyncio.Semaphore(16)

    async def one(key: str) -> None:
        async with slots:
            await bucket.s3.delete(key)

    await asyncio.gather(*(one(k) for k in keys))


@pytest.fixture
async def hostile(bucket: Bucket) -> Bucket:
    await put_all(bucket, HOSTILE)
    return bucket


async def test_hostile_keys_round_trip_through_a_flat_listing(hostile: Bucket) -> None:
    objects = await flat(hostile.s3)
    same([o.key for o in objects], s3_order(HOSTILE))
    assert all(o.size == 4 and len(o.etag) == 32 and o.last_modified for o in objects)


async def test_hostile_keys_round_trip_across_many_small_pages(proxied: Proxied) -> None:
    """Three keys a page: every continuation token after a hostile key, and moto's raw echo of
    the request's StartAfter on each first page, still read back exactly."""
    await put_all(proxied.bucket, HOSTILE)
    proxied.proxy.page_size = 3
    requests = proxied.s3.requests
    same([o.key for o in await flat(proxied.s3)], s3_order(HOSTILE))
    assert proxied.s3.requests - requests == -(-len(HOSTILE) // 3)
    for start in ["A.", "ctl\x01.", "a&b.", "<![CDATA[x]]>.", "😀", "%2F", " ", ""]:
        want = s3_order([k for k in HOSTILE if k.encode() > start.encode()])
        same(await after(proxied.s3, start), want)


async def test_hostile_keys_round_trip_through_the_top_level(hostile: Bucket) -> None:
    prefixes, loose = await hostile.s3.list_top()
    want_prefixes, want_loose = expected_level(HOSTILE, "")
    same(prefixes, want_prefixes)
    same([o.key for o in loose], want_loose)
    assert f"{NFC}/" in prefixes and f"{NFD}/" in prefixes  # twins stay two models


async def test_hostile_keys_round_trip_through_each_folder_level(hostile: Bucket) -> None:
    folders, _ = expected_level(HOSTILE, "")
    posts = [p for f in folders for p in expected_level(HOSTILE, f)[0]]
    for prefix in folders + posts:
        prefixes, loose = await hostile.s3.list_level(prefix)
        want_prefixes, want_loose = expected_level(HOSTILE, prefix)
        same(prefixes, want_prefixes)
        same([o.key for o in loose], want_loose)
        same(
            [o.key for o in await flat(hostile.s3, prefix)],
            s3_order([k for k in HOSTILE if k.startswith(prefix)]),
        )


async def test_hostile_keys_round_trip_through_list_after(hostile: Bucket) -> None:
    """From each folder's range start (its StartAfter, e.g. "ctl\\x01."), from each key itself
    (exclusive), and from raw hostile strings: exactly the keys after it, in S3's order."""
    folders, _ = expected_level(HOSTILE, "")
    starts = [start_after(f) for f in folders] + HOSTILE + ["&", "<", "%", "\x01", "\u202e"]
    ordered = s3_order(HOSTILE)
    for start in starts:
        want = [k for k in ordered if k.encode() > start.encode()]
        same(await after(hostile.s3, start), want)
    for folder in folders:  # every key of the folder and of all after it, none before
        got = await after(hostile.s3, start_after(folder))
        held = [k for k in got if k >= folder]
        same(held, [k for k in ordered if k >= folder])


# --------------------------------------------------------------------------------------------
# Key ranges: the pure cut tiles the key space.

CHARS = ["A", "a", "Ä", " ", "-", ".", "0", "+", "%", "~", "😀", "\x01", "\x7f", "\u202e"]
names = st.text(alphabet=st.sampled_from(CHARS), min_size=1, max_size=4)
key_text = st.text(alphabet=st.sampled_from([*CHARS, "/", "\U0010fffd"]), min_size=1, max_size=9)


def edges(ranges: list[KeyRange], folders: list[str]) -> list[str]:
    """Keys right at and around every boundary, where an off-by-one would show."""
    out: list[str] = []
    for r in ranges:
        for b in [r.lo, r.hi or ""]:
            if b:
                base = b[:-1]
                out += [b, base, base + ".", base + "0", b + "x", b + "\U0010fffd", base + "\x00"]
                if b.endswith("/"):
                    out.append(start_after(b))
    for f in folders:
        out += [f, f + "/", f + ".", f + "0", f + "/x", f + "//", f + "/\U0010fffd", f + ".x/y"]
    return [k for k in out if k]


@settings(max_examples=300, deadline=None)
@given(
    folders=st.lists(names, unique=True, max_size=12),
    post_names=st.dictionaries(names, st.lists(st.text(st.sampled_from(CHARS), max_size=3))),
    weights=st.dictionaries(names, st.floats(0, 1e6) | st.sampled_from([0.0, 3.0, 200.0])),
    part_count=st.integers(1, 5),
    counts=st.lists(st.integers(1, 9), min_size=5, max_size=5),
    model=st.booleans(),
    keys=st.lists(key_text, max_size=30),
)
def test_ranges_of_all_parts_tile_the_key_space(
    folders: list[str],
    post_names: dict[str, list[str]],
    weights: dict[str, float],
    part_count: int,
    counts: list[int],
    model: bool,
    keys: list[str],
) -> None:
    whole_bucket = not (model and folders)
    ordered = in_key_order(folders if whole_bucket else folders[:1])
    posts = {f: [f"{f}/{p}/" for p in set(ps)] for f, ps in post_names.items() if f in ordered}
    with mock.patch.object(parts, "MIN_FOLDERS", 1):  # parts of a few folders, not 25
        groups = parts.split(ordered, part_count) or [[]]
    bounds = part_bounds(groups, whole_bucket) if ordered else [("", None)]
    ranges: list[KeyRange] = []
    for i, (group, (lo, hi)) in enumerate(zip(groups, bounds, strict=True)):
        ranges += cut(units_of(group, posts, weights), counts[i], lo, hi)

    for a, b in zip(ranges, ranges[1:], strict=False):  # consecutive, none empty
        assert a.hi == b.lo and a.hi is not None and a.lo < a.hi
    if whole_bucket:
        assert ranges[0].lo == "" and ranges[-1].hi is None
    else:
        assert ranges[0].lo == ordered[0] + "/" and ranges[-1].hi == ordered[0] + "0"

    known = set(ordered)
    for k in keys + edges(ranges, ordered):
        holding = [r for r in ranges if r.holds(k)]
        if whole_bucket:
            assert len(holding) == 1, (k, ranges)
        else:
            assert len(holding) == int(k.startswith(ordered[0] + "/")), (k, ranges)
        folder = folder_of(k)
        if holding and folder in known:  # the Assembler waits for a share from this range
            assert folder in holding[0].folders, (k, holding[0])
        for r in ranges:
            if r.lo and k >= r.lo:
                assert start_after(r.lo) < k
                assert start_after(r.lo).encode() < k.encode()  # as S3 compares
    for f in ordered:  # each known folder is expected by at least one range
        assert any(f in r.folders for r in ranges)


def test_start_after_is_just_below_the_folder() -> None:
    assert start_after("") == ""
    assert start_after("A/") == "A."
    assert start_after("A/P1/") == "A/P1."
    assert start_after("😀/") == "😀."
    with pytest.raises(ValueError):
        start_after("A")
    assert in_key_order(["A", "A B", "A-", "A.x", "A0", "Ä"]) == [
        "A B",
        "A-",
        "A.x",
        "A",
        "A0",
        "Ä",
    ]


# --------------------------------------------------------------------------------------------
# Key ranges against moto: every key delivered exactly once, in whole folders.

STEMS = ["A", "A B", "A-", "A.x", "A.", "A0", "A+", "A%2F", "Ä", "A\u0308", "😀", "a", "_r", ".h"]
POSTS = ["P", "P B", "P-", "P.x", "P0", "Ü", "😀", "", "p"]
FILES = ["a.jpg", "b.mp4", "c", "d e.jpg"]
LOOSE = ["A", "A.", "A.jpg", "A0", "A-", "Ä.jpg", "😀", "r.jpg", "_", "~"]
bucket_keys = st.one_of(
    st.sampled_from(LOOSE),
    st.builds(lambda s: f"{s}/", st.sampled_from(STEMS)),
    st.builds(lambda s, f: f"{s}/{f}", st.sampled_from(STEMS), st.sampled_from(FILES)),
    st.builds(
        lambda s, p, f: f"{s}/{p}/{f}",
        st.sampled_from(STEMS),
        st.sampled_from(POSTS),
        st.sampled_from(FILES),
    ),
    st.builds(lambda s, p: f"{s}/{p}/", st.sampled_from(STEMS), st.sampled_from(POSTS)),
    st.builds(
        lambda s, p, f: f"{s}/{p}/deep/{f}",
        st.sampled_from(STEMS),
        st.sampled_from(POSTS),
        st.sampled_from(FILES),
    ),
)


class Scene:
    """One moto bucket reused by every example: only the difference is put or deleted."""

    def __init__(self, bucket: Bucket) -> None:
        self.bucket = bucket
        self.keys: set[str] = set()

    async def become(self, keys: set[str]) -> None:
        await delete_all(self.bucket, sorted(self.keys - keys))
        await put_all(self.bucket, sorted(keys - self.keys))
        self.keys = set(keys)


@dataclass
class Outcome:
    delivered: list[Listed]
    in_order: list[list[str]]  # per part listed by one lister: its folders as delivered
    counted: int


async def list_by_ranges(s3: S3Service, data: st.DataObject) -> tuple[Outcome, str | None]:
    """The sync's listing (domain/sync.py and domain/part_sync.py), with drawn knobs."""
    prefixes, _ = await s3.list_top()
    top = [p[:-1] for p in prefixes]
    model = data.draw((st.none() | st.sampled_from(top)) if top else st.none(), label="model")
    if model is not None:
        prefixes = [model + "/"]
    folders = [p[:-1] for p in prefixes if parse_key(p + "x.jpg").model == p[:-1]]
    whole_bucket = model is None
    if not whole_bucket and not folders:
        return Outcome([], [], 0), model  # parts.create makes no part for it
    part_count = data.draw(st.integers(1, 4), label="parts")
    with mock.patch.object(parts, "MIN_FOLDERS", 1):  # several parts from a few folders
        groups = parts.split(in_key_order(folders), part_count) or [[]]
    bounds = part_bounds(groups, whole_bucket) if folders else [("", None)]
    concurrency = data.draw(st.integers(1, 4), label="concurrency")
    slots = asyncio.Semaphore(concurrency)
    refined = data.draw(st.sets(st.sampled_from(folders)) if folders else st.just(set()))
    # Estimated keys a folder (what the last sync saw), shared among its units by cut().
    weights = {f: float(data.draw(st.sampled_from([0, 1, 3, 10, 200, 5000]))) for f in folders}
    outcome = Outcome([], [], 0)

    def counted(n: int) -> None:
        outcome.counted += n

    async def one_part(group: list[str], lo: str, hi: str | None, count: int) -> None:
        posts = {f: (await s3.list_level(f + "/"))[0] for f in group if f in refined}
        ranges = cut(units_of(group, posts, weights), count, lo, hi)
        assembler = Assembler(ranges)
        todo = deque(enumerate(ranges))
        mine: list[str] = []

        async def deliver(listed: Listed) -> None:
            outcome.delivered.append(listed)
            mine.append(listed.folder)

        async def lister() -> None:
            while todo:
                index, rng = todo.popleft()
                await list_range(
                    s3,
                    rng,
                    index,
                    slots=slots,
                    assembler=assembler,
                    deliver=deliver,
                    counted=counted,
                    stopped=lambda: False,
                )

        listers = min(concurrency, len(ranges))
        await asyncio.gather(*(lister() for _ in range(listers)))
        if listers == 1:
            outcome.in_order.append(mine)

    counts = [data.draw(st.integers(1, 6), label="ranges") for _ in groups]
    await asyncio.gather(
        *(one_part(g, lo, hi, n) for g, (lo, hi), n in zip(groups, bounds, counts, strict=True))
    )
    return outcome, model


@pytest.fixture
def scene(bucket: Bucket) -> Scene:
    return Scene(bucket)


@pytest.mark.timeout(180)
@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    report_multiple_bugs=False,  # shrink one failure: each step costs requests to moto
    phases=[Phase.explicit, Phase.reuse, Phase.generate, Phase.shrink],
)
@given(keys=st.sets(bucket_keys, max_size=30), data=st.data())
async def test_key_ranges_list_every_key_exactly_once(
    scene: Scene, keys: set[str], data: st.DataObject
) -> None:
    """Folders sharing stems ("A B", "A-", "A.x", "A", "A0", "Ä"), loose keys sorting between
    a range's StartAfter and its start ("A.jpg"), markers, parts and post-level cuts: the
    delivered (folder, key) pairs are the flat listing's keys under a folder, once each."""
    note(f"bucket keys: {s3_order(list(keys))!r}")
    s3 = scene.bucket.s3
    await scene.become(keys)
    listed = [o.key for o in await flat(s3)]
    same(listed, s3_order(list(keys)))

    outcome, model = await list_by_ranges(s3, data)

    want = Counter((k.split("/")[0], k) for k in listed if "/" in k)
    if model is not None:
        want = Counter({fk: n for fk, n in want.items() if fk[0] == model})
        if parse_key(model + "/x.jpg").model != model:
            want = Counter()
    got = Counter((d.folder, o.key) for d in outcome.delivered for o in d.objects)
    assert got == want, f"missing {want - got}; extra {got - want}"
    assert outcome.counted == sum(want.values())
    folders = [d.folder for d in outcome.delivered]
    dupes = [f for f, n in Counter(folders).items() if n > 1]
    assert not dupes, f"folders delivered more than once: {dupes}"
    assert set(folders) == {f for f, _ in want}
    for d in outcome.delivered:
        assert d.error is None
        keys_of = [o.key for o in d.objects]
        assert keys_of == s3_order(keys_of) and len(set(keys_of)) == len(keys_of)
        assert all(folder_of(k) == d.folder for k in keys_of)
    for order in outcome.in_order:
        assert order == in_key_order(order)


# --------------------------------------------------------------------------------------------
# Faults through the proxy: retried, or a clear error naming the setting to check.

FAULT_KEYS = [f"M{m}/P{p}/{i} 😀&.jpg" for m in range(3) for p in range(2) for i in range(2)]


async def test_slow_down_twice_is_retried_and_the_listing_is_whole(proxied: Proxied) -> None:
    await put_all(proxied.bucket, FAULT_KEYS)
    proxied.proxy.page_size = 5
    rule = Rule(listing(), 503, "SlowDown", times=2)
    proxied.proxy.rules = [rule]
    same([o.key for o in await flat(proxied.s3)], s3_order(FAULT_KEYS))
    assert rule.hits == 2
    assert proxied.s3.requests == 2 + 3  # two refused, then three pages of five


async def test_a_failed_continuation_page_is_retried_from_its_token(proxied: Proxied) -> None:
    await put_all(proxied.bucket, FAULT_KEYS)
    proxied.proxy.page_size = 5
    rule = Rule(lambda m, t: "continuation-token=" in t, 500, "InternalError", times=2)
    proxied.proxy.rules = [rule]
    same(await after(proxied.s3, ""), s3_order(FAULT_KEYS))
    assert rule.hits == 2 and proxied.s3.requests == 5


async def test_a_500_every_time_fails_after_max_attempts(proxied: Proxied) -> None:
    proxied.proxy.rules = [Rule(listing(), 500, "InternalError")]
    with pytest.raises(S3Error) as caught:
        await flat(proxied.s3)
    assert not isinstance(caught.value, S3Unreachable | S3CredentialsError | S3BucketMissing)
    assert "InternalError" in str(caught.value)
    assert proxied.s3.requests == 3 and proxied.proxy.requests == 3


@pytest.mark.parametrize("code", ["InvalidAccessKeyId", "SignatureDoesNotMatch", "AccessDenied"])
async def test_refused_credentials_are_not_retried_and_name_the_key(
    proxied: Proxied, code: str
) -> None:
    proxied.proxy.rules = [Rule(listing(), 403, code)]
    with pytest.raises(S3CredentialsError, match="DO_SPACES_KEY"):
        await proxied.s3.list_top()
    assert proxied.s3.requests == 1 and proxied.proxy.requests == 1


async def test_a_range_that_keeps_failing_hands_its_folders_in_once_with_the_error(
    proxied: Proxied,
) -> None:
    """Bravo's key range keeps failing: its folder is handed in once, with the error (so its
    rows are kept); the ranges before and after it list whole, though their pages run on."""
    models = ["Alpha", "Bravo", "Charlie", "Delta"]
    keys = [f"{m}/P/{i}.jpg" for m in models for i in range(4)]
    await put_all(proxied.bucket, keys)
    proxied.proxy.page_size = 2
    proxied.proxy.rules = [listing_in("Bravo/")]
    ranges = cut(units_of(models, {}, dict.fromkeys(models, 4.0)), 4, "", None)
    assert [r.folders for r in ranges] == [(m,) for m in models]
    assembler = Assembler(ranges)
    delivered: list[Listed] = []

    async def deliver(listed: Listed) -> None:
        delivered.append(listed)

    slots = asyncio.Semaphore(4)
    await asyncio.gather(
        *(
            list_range(
                proxied.s3,
                rng,
                i,
                slots=slots,
                assembler=assembler,
                deliver=deliver,
                counted=lambda n: None,
                stopped=lambda: False,
            )
            for i, rng in enumerate(ranges)
        )
    )
    by_folder = {d.folder: d for d in delivered}
    assert sorted(d.folder for d in delivered) == models
    assert by_folder["Bravo"].error and "InternalError" in by_folder["Bravo"].error
    for m in ["Alpha", "Charlie", "Delta"]:
        assert by_folder[m].error is None
        same([o.key for o in by_folder[m].objects], [k for k in keys if k.startswith(m)])


async def test_missing_bucket_names_the_bucket_setting(proxied: Proxied) -> None:
    proxied.proxy.rules = [Rule(listing(), 404, "NoSuchBucket")]
    with pytest.raises(S3BucketMissing, match="DO_SPACES_BUCKET"):
        await after(proxied.s3, "A.")
    assert proxied.s3.requests == 1


async def test_a_missing_bucket_on_moto_itself_names_the_bucket_setting(bucket: Bucket) -> None:
    gone = replace(bucket.s3.settings, bucket="no-such-bucket-here")
    async with S3Service(gone, max_attempts=3, timeout=5) as s3:
        with pytest.raises(S3BucketMissing, match="DO_SPACES_BUCKET"):
            await s3.list_top()
        assert s3.requests == 1


@pytest.mark.timeout(60)
async def test_a_reply_slower_than_the_timeout_is_unreachable(proxied: Proxied) -> None:
    await put_all(proxied.bucket, FAULT_KEYS[:2])
    proxied.proxy.rules = [Rule(listing(), status=0, delay=4.0)]
    with pytest.raises(S3Unreachable) as caught:
        await flat(proxied.s3)
    message = str(caught.value)
    assert "timed out" in message and "DO_SPACES_ENDPOINT" in message
    assert isinstance(caught.value.__cause__, TimeoutError)
    assert proxied.s3.requests == 3


async def test_one_slow_reply_is_retried(proxied: Proxied) -> None:
    await put_all(proxied.bucket, FAULT_KEYS)
    proxied.proxy.rules = [Rule(listing(), status=0, delay=3.0, times=1)]
    same([o.key for o in await flat(proxied.s3)], s3_order(FAULT_KEYS))
    assert proxied.s3.requests == 2


async def test_nothing_listening_is_unreachable(bucket: Bucket) -> None:
    port = free_port()  # closed again: nothing listens there
    dead = replace(bucket.s3.settings, endpoint=f"http://127.0.0.1:{port}")
    async with S3Service(dead, max_attempts=2, timeout=1.5) as s3:
        with pytest.raises(S3Unreachable, match="DO_SPACES_ENDPOINT") as caught:
            await s3.list_top()
        assert f"127.0.0.1:{port}" in str(caught.value)
        assert s3.requests == 2


@pytest.mark.parametrize(
    "body",
    [
        b"<html><body>a proxy's page</body></html>",
        b"<Error><Code>NoSuchBucket</Code></Error>",
        b'<?xml version="1.0"?><ListAllMyBucketsResult/>',
    ],
    ids=["html", "error", "other xml"],  # mutmut's runs take ids unescaped: no bytes
)
def test_an_answer_that_is_not_a_listing_is_never_an_empty_page(body: bytes) -> None:
    """A 200 with other XML (a wrong endpoint's HTML, an error body) must not read as an empty
    bucket: the sync would then see every model gone."""
    with pytest.raises(NotAListing, match="DO_SPACES_ENDPOINT"):
        parse_page(body)
