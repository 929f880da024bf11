"""Pure sync planning (domain/catalogue/diff.py): a model folder's listing -> its desired rows (the
rules for posts, icon, banner, thumbnail, existence, URLs) -> the change against its stored rows.
No database, no bucket."""

from __future__ import annotations

import json
from typing import Any

import pytest

from domain.catalogue.diff import (
    DesiredModel,
    DesiredPost,
    ExistingModel,
    ModelChange,
    build_model,
    diff_model,
    listing_hash,
    model_fields,
)
from domain.catalogue.keys import media_url
from domain.platform.s3 import S3Object

BASE = "https://cdn.example.test/media"


def obj(key: str, etag: str = "e1", size: int = 10) -> S3Object:
    return S3Object(key, size, etag, None)


def build(folder: str, *keys: str, base: str = BASE) -> DesiredModel:
    return build_model(folder, [obj(k) for k in keys], base)


def media_of(model: DesiredModel) -> list[tuple[str, str, str]]:
    return [(p.folder, m.obj.key, m.type) for p in model.posts.values() for m in p.media]


# --- build_model: the key rules applied to one folder --------------------------------------


def test_post_media_are_grouped_by_post_in_key_order() -> None:
    model = build("M", "M/P2/b.mp4", "M/P1/z.jpg", "M/P1/sub/dir/c.png", "M/P1/a.jpg")
    assert model.folder == "M"
    assert list(model.posts) == ["P1", "P2"]
    assert media_of(model) == [
        ("P1", "M/P1/a.jpg", "image"),
        ("P1", "M/P1/sub/dir/c.png", "image"),  # the post of M/P1/sub/dir/c.png is P1
        ("P1", "M/P1/z.jpg", "image"),
        ("P2", "M/P2/b.mp4", "video"),
    ]
    assert all(m.obj == obj(m.obj.key) for p in model.posts.values() for m in p.media)


def test_counts_per_post_and_per_model() -> None:
    model = build("M", "M/A/1.jpg", "M/A/2.png", "M/A/3.mp4", "M/B/1.mov", "M/B/2.webm")
    a, b = model.posts["A"], model.posts["B"]
    assert a.counts() == (2, 1) and b.counts() == (0, 2)
    assert (model.image_count, model.video_count) == (2, 3)
    assert a.cdns() == {
        "images": [f"{BASE}/M/A/1.jpg", f"{BASE}/M/A/2.png"],
        "videos": [f"{BASE}/M/A/3.mp4"],
    }
    assert b.cdns() == {"images": [], "videos": [f"{BASE}/M/B/1.mov", f"{BASE}/M/B/2.webm"]}


@pytest.mark.parametrize(
    "base", [BASE, 'https://h.test/"q"', "https://h.test/back\\slash", "https://h.tést/ü"]
)
@pytest.mark.parametrize(
    "keys",
    [("M/A/1.jpg", "M/A/2.png", "M/A/3.mp4"), ("M/A/1.mp4",), ('M/Ä b/ñ"x.jpg', "M/Ä b/\x7f.mov")],
)
def test_a_posts_cdns_text_is_what_json_dumps_writes(base: str, keys: tuple[str, ...]) -> None:
    """cdns_json skips the JSON encoder where no URL needs escaping: the text is the same."""
    model = build_model("M", [obj(k) for k in keys], base)
    for post in model.posts.values():
        assert post.cdns_json() == json.dumps(post.cdns())


@pytest.mark.parametrize(
    "base", [BASE, BASE + "/", BASE + "//", "https://h.test/BOX", "https://h.test/X/"]
)
def test_media_urls_are_the_public_base_and_the_encoded_key(base: str) -> None:
    keys = ["Zoë K/Post #1/a b+c.jpg", "Zoë K/Post #1/sub dir/v.mp4", "Zoë K/p/x.png"]
    model = build("Zoë K", *keys, base=base)
    urls = {m.obj.key: m.url for p in model.posts.values() for m in p.media}
    assert urls == {k: media_url(base, k) for k in keys}


def test_media_url_literal() -> None:
    model = build("Zoë K", "Zoë K/Post #1/sub dir/a b.jpg", base=BASE + "/")
    [media] = model.posts["Post #1"].media
    assert media.url == f"{BASE}/Zo%C3%AB%20K/Post%20%231/sub%20dir/a%20b.jpg"


def test_the_first_icon_and_banner_in_key_order_win() -> None:
    model = build(
        "M",
        "M/profile/icon.jpg",
        "M/profile/cover.png",
        "M/profile/avatar.webp",
        "M/profile/banner.jpg",
    )
    assert model.icon_key == "M/profile/avatar.webp"
    assert model.banner_key == "M/profile/banner.jpg"
    assert model.extra_image_keys == []  # the icon and banner candidates are not extra images
    assert model.posts == {}  # a folder named profile is never a post


def test_model_and_profile_images_are_kept_with_the_model_in_key_order() -> None:
    model = build("M", "M/profile/me.jpg", "M/b.jpg", "M/a.png", "M/profile/icon.jpg")
    assert model.extra_image_keys == ["M/a.png", "M/b.jpg", "M/profile/me.jpg"]
    assert model.posts == {}


def test_the_thumbnail_is_the_first_model_image_in_key_order() -> None:
    model = build("M", "M/b.jpg", "M/A/0.jpg", "M/a.jpg", "M/profile/icon.jpg")
    assert model.thumbnail_key == "M/a.jpg"


def test_without_model_images_the_thumbnail_is_the_first_post_image() -> None:
    # The first post has only a video: its image-less media is skipped, not taken.
    model = build("M", "M/P2/a.jpg", "M/P1/b.png", "M/P1/a.mp4", "M/P0/v.mp4", "M/profile/x.jpg")
    assert model.thumbnail_key == "M/P1/b.png"


def test_without_any_image_there_is_no_thumbnail() -> None:
    assert build("M", "M/P/a.mp4", "M/P/b.mov", "M/profile/icon.jpg").thumbnail_key is None


def test_ignored_keys_are_counted_and_never_stored() -> None:
    model = build(
        "M",
        "M/.DS_Store",
        "M/notes.txt",
        "M/P/a.jpg",
        "M/P/readme.txt",
        "M/profile/bio.txt",
        "Other/P/a.jpg",  # listed under another prefix (defensive): not this model's
    )
    assert model.ignored == 5
    assert model.keys == 6
    assert media_of(model) == [("P", "M/P/a.jpg", "image")]
    assert model.extra_image_keys == [] and model.icon_key is None and model.banner_key is None


def test_an_ignored_key_does_not_stop_the_rest_of_the_listing() -> None:
    model = build("M", "M/.a", "M/A/x.jpg", "M/B/y.jpg")
    assert model.ignored == 1
    assert list(model.posts) == ["A", "B"]


@pytest.mark.parametrize(
    ("keys", "exists"),
    [
        (["M/P/a.jpg"], True),
        (["M/P/a.mp4"], True),
        (["M/a.jpg"], True),
        (["M/profile/me.jpg"], True),
        (["M/profile/icon.jpg"], True),
        (["M/profile/cover.jpg"], True),
        ([], False),
        (["M/notes.txt", "M/P/readme.txt", "M/.DS_Store", "M/profile/intro.mp4"], False),
    ],
)
def test_a_model_exists_while_one_key_is_classified_under_it(keys: list[str], exists: bool) -> None:
    assert build("M", *keys).exists is exists


# --- the listing fingerprint ------------------------------------------------------------------


def test_build_model_fingerprints_its_sorted_listing() -> None:
    objects = [obj("M/P/b.jpg"), obj("M/P/a.jpg")]
    model = build_model("M", objects, BASE)
    assert model.listing_hash == listing_hash(sorted(objects), BASE)


def test_a_given_fingerprint_is_kept_and_the_listing_taken_as_sorted() -> None:
    objects = [obj("M/P/a.jpg"), obj("M/P/b.jpg"), obj("M/profile/icon.jpg")]
    model = build_model("M", objects, BASE, "precomputed")
    assert model.listing_hash == "precomputed"
    assert media_of(model) == [("P", "M/P/a.jpg", "image"), ("P", "M/P/b.jpg", "image")]


def test_the_fingerprint_changes_with_anything_rows_derive_from() -> None:
    listing = [obj("M/P/a.jpg", "e1", 10), obj("M/P/b.jpg", "e2", 20)]
    fingerprint = listing_hash(listing, BASE)
    assert listing_hash(list(listing), BASE) == fingerprint
    variants = [
        [obj("M/P/a.jpg", "e1", 10), obj("M/P/c.jpg", "e2", 20)],  # a key
        [obj("M/P/a.jpg", "e1", 10), obj("M/P/b.jpg", "e3", 20)],  # an etag
        [obj("M/P/a.jpg", "e1", 10), obj("M/P/b.jpg", "e2", 21)],  # a size
        [obj("M/P/a.jpg", "e1", 10)],  # a key gone
        [*listing, obj("M/P/c.txt")],  # an ignored key added (counted in the stats)
    ]
    for variant in variants:
        assert listing_hash(variant, BASE) != fingerprint
    assert listing_hash(listing, BASE + "/other") != fingerprint  # URLs derive from the base
    assert listing_hash([], BASE) != listing_hash([], BASE + "/other")


def test_the_fingerprint_format_is_stable() -> None:
    # Stored fingerprints skip unchanged models after an upgrade: changing how they are
    # computed must be deliberate (it re-parses every model once, like a RULES_VERSION bump).
    listing = [obj("M/P/a.jpg", '"abc"', 10), obj("M/P/b.mp4", '"def"', 20)]
    assert listing_hash(listing, BASE) == (
        "5497e8e260d84977f2e9d4a7d930ee8f8374f15e7d74b4bda42b15560308f042"
    )


# --- model_fields and diff_model: the change against stored rows -----------------------------


def stored(desired: DesiredModel, model_id: int = 7, json_text: bool = False) -> ExistingModel:
    """The rows a sync of `desired` leaves (JSON columns as text on some database paths)."""
    fields: dict[str, Any] = model_fields(desired)
    posts: dict[str, dict[str, Any]] = {}
    media: dict[str, dict[str, Any]] = {}
    for i, post in enumerate(desired.posts.values()):
        cdns: Any = post.cdns()
        images, videos = post.counts()
        posts[post.folder] = {
            "id": 100 + i,
            "media_cdns": json.dumps(cdns) if json_text else cdns,
            "image_count": images,
            "video_count": videos,
        }
        for m in post.media:
            media[m.obj.key] = {
                "id": 1000 + len(media),
                "etag": m.obj.etag,
                "size": m.obj.size,
                "type": m.type,
                "url": m.url,
            }
    if json_text:
        fields["extra_image_keys"] = json.dumps(fields["extra_image_keys"])
    return ExistingModel(model_id, fields, posts, media, desired.image_versions())


CATALOGUE = [
    "M/a.jpg",
    "M/profile/icon.jpg",
    "M/profile/banner.jpg",
    "M/profile/me.jpg",
    "M/P1/1.jpg",
    "M/P1/2.mp4",
    "M/P2/1.png",
    "M/notes.txt",
]


def test_model_fields_are_the_stored_aggregates() -> None:
    desired = build("M", *CATALOGUE)
    assert model_fields(desired) == {
        "thumbnail_key": "M/a.jpg",
        "icon_key": "M/profile/icon.jpg",
        "banner_key": "M/profile/banner.jpg",
        "extra_image_keys": ["M/a.jpg", "M/profile/me.jpg"],
        "post_count": 2,
        "image_count": 2,
        "video_count": 1,
        "ignored_keys": 1,
    }


def test_a_new_model_inserts_everything() -> None:
    desired = build("M", *CATALOGUE)
    change = diff_model(desired, None)
    assert change.desired is desired and change.model_id is None
    assert change.model_fields_changed
    assert [p.folder for p in change.new_posts] == ["P1", "P2"]
    assert [(f, m.obj.key) for f, m in change.new_media] == [
        ("P1", "M/P1/1.jpg"),
        ("P1", "M/P1/2.mp4"),
        ("P2", "M/P2/1.png"),
    ]
    assert change.changed_posts == [] and change.changed_media == []
    assert change.deleted_post_ids == [] and change.deleted_media_ids == []
    assert change.deleted_media_keys == []
    assert change.writes_anything and not change.has_deletions
    # its own images are new too: the sync lists them for previews (sync_writes.py)
    assert change.images_changed is True


@pytest.mark.parametrize("json_text", [False, True])
def test_an_unchanged_model_writes_nothing(json_text: bool) -> None:
    desired = build("M", *CATALOGUE)
    change = diff_model(desired, stored(desired, json_text=json_text))
    assert change.desired is desired and change.model_id == 7
    assert not change.model_fields_changed
    assert change.new_posts == [] and change.changed_posts == [] and change.deleted_post_ids == []
    assert change.new_media == [] and change.changed_media == [] and change.deleted_media_ids == []
    assert not change.writes_anything and not change.has_deletions


@pytest.mark.parametrize("json_text", [False, True])
def test_keys_that_look_like_json_are_compared_as_written(json_text: bool) -> None:
    # "[VIP] Anna/a.jpg" starts like a JSON array but is a key: it compares as text.
    old = build("[VIP] Anna", "[VIP] Anna/a.jpg", "[VIP] Anna/{P}/x.jpg")
    assert not diff_model(old, stored(old, json_text=json_text)).writes_anything
    new = build("[VIP] Anna", "[VIP] Anna/0.jpg", "[VIP] Anna/a.jpg", "[VIP] Anna/{P}/x.jpg")
    change = diff_model(new, stored(old, json_text=json_text))
    assert change.model_fields_changed
    assert change.new_posts == [] and change.changed_posts == [] and change.new_media == []


def test_only_an_aggregate_changed() -> None:
    old = build("M", *CATALOGUE)
    new = build("M", *CATALOGUE, "M/P1/readme.txt")  # one more ignored key
    change = diff_model(new, stored(old))
    assert change.model_fields_changed and change.writes_anything
    assert change.new_posts == [] and change.changed_posts == [] and change.new_media == []
    assert change.changed_media == [] and not change.has_deletions


@pytest.mark.parametrize(
    "new_object",
    [obj("M/P1/2.mp4", etag="e2"), obj("M/P1/2.mp4", size=11)],
    ids=["etag", "size"],
)
def test_a_rewritten_object_updates_its_media_row(new_object: S3Object) -> None:
    old = build("M", *CATALOGUE)
    objects = [obj(k) for k in CATALOGUE if k != new_object.key] + [new_object]
    change = diff_model(build_model("M", objects, BASE), stored(old))
    assert [(i, m.obj) for i, m in change.changed_media] == [(1001, new_object)]
    assert change.changed_posts == [] and not change.model_fields_changed
    assert change.new_media == [] and not change.has_deletions
    assert change.writes_anything


def test_a_replaced_or_removed_model_image_rewrites_the_image_rows() -> None:
    keys = ["M/look.jpg", "M/profile/icon.jpg", "M/profile/banner.png", "M/P1/1.jpg"]
    old = build("M", *keys)
    assert old.image_versions() == {
        "M/look.jpg": ("image", "e1", 10),
        "M/profile/icon.jpg": ("icon", "e1", 10),
        "M/profile/banner.png": ("banner", "e1", 10),
    }
    assert not diff_model(old, stored(old)).writes_anything
    replaced = [obj(k) for k in keys if k != "M/profile/icon.jpg"]
    replaced.append(obj("M/profile/icon.jpg", etag="e2"))
    change = diff_model(build_model("M", replaced, BASE), stored(old))
    assert change.images_changed and change.writes_anything
    assert not change.model_fields_changed and not change.changed_media  # only the icon's row
    change = diff_model(build("M", *keys[1:]), stored(old))
    assert change.images_changed and change.model_fields_changed


def test_a_new_public_base_updates_every_url() -> None:
    old = build("M", *CATALOGUE)
    new = build("M", *CATALOGUE, base="https://other.example.test")
    change = diff_model(new, stored(old))
    assert [i for i, _ in change.changed_media] == [1000, 1001, 1002]
    assert [i for i, _ in change.changed_posts] == [100, 101]  # their URL lists changed
    assert not change.model_fields_changed  # aggregates hold keys, not URLs


def test_a_stored_media_type_that_differs_is_rewritten() -> None:
    desired = build("M", *CATALOGUE)
    existing = stored(desired)
    existing.media["M/P1/1.jpg"]["type"] = "video"
    change = diff_model(desired, existing)
    assert [i for i, _ in change.changed_media] == [1000]


def test_a_stored_post_whose_counts_differ_is_rewritten() -> None:
    desired = build("M", *CATALOGUE)
    for column, value in (("image_count", 5), ("video_count", 5)):
        existing = stored(desired)
        existing.posts["P2"][column] = value
        change = diff_model(desired, existing)
        assert [(i, p.folder) for i, p in change.changed_posts] == [(101, "P2")]
        assert change.writes_anything and not change.has_deletions


def test_a_new_media_key_in_an_existing_post() -> None:
    old = build("M", *CATALOGUE)
    change = diff_model(build("M", *CATALOGUE, "M/P2/2.jpg"), stored(old))
    assert [(f, m.obj.key) for f, m in change.new_media] == [("P2", "M/P2/2.jpg")]
    assert [(i, p.folder) for i, p in change.changed_posts] == [(101, "P2")]
    assert change.new_posts == [] and change.model_fields_changed  # image count


def test_a_new_post() -> None:
    old = build("M", *CATALOGUE)
    change = diff_model(build("M", *CATALOGUE, "M/P3/a.mp4"), stored(old))
    assert [p.folder for p in change.new_posts] == ["P3"]
    assert [(f, m.obj.key) for f, m in change.new_media] == [("P3", "M/P3/a.mp4")]
    assert change.changed_posts == [] and not change.has_deletions


def test_a_removed_media_key_is_collected_for_deletion() -> None:
    old = build("M", *CATALOGUE)
    new = build("M", *[k for k in CATALOGUE if k != "M/P1/2.mp4"])
    change = diff_model(new, stored(old))
    assert change.deleted_media_ids == [1001]
    assert change.deleted_media_keys == ["M/P1/2.mp4"]
    assert change.deleted_post_ids == []
    assert [(i, p.folder) for i, p in change.changed_posts] == [(100, "P1")]
    assert change.has_deletions


def test_a_removed_post_is_collected_with_its_media() -> None:
    old = build("M", *CATALOGUE)
    new = build("M", *[k for k in CATALOGUE if not k.startswith("M/P1/")])
    change = diff_model(new, stored(old))
    assert change.deleted_post_ids == [100]
    assert change.deleted_media_ids == [1000, 1001]
    assert change.deleted_media_keys == ["M/P1/1.jpg", "M/P1/2.mp4"]
    assert change.has_deletions and change.model_fields_changed


def change_with(**parts: Any) -> ModelChange:
    empty: dict[str, Any] = {
        "model_id": 7,
        "model_fields_changed": False,
        "new_posts": [],
        "changed_posts": [],
        "deleted_post_ids": [],
        "new_media": [],
        "changed_media": [],
        "deleted_media_ids": [],
        "deleted_media_keys": [],
        "images_changed": False,
    }
    return ModelChange(build("M"), **{**empty, **parts})


@pytest.mark.parametrize(
    "parts",
    [
        {"model_id": None},
        {"model_fields_changed": True},
        {"new_posts": [DesiredPost("P")]},
        {"changed_posts": [(1, DesiredPost("P"))]},
        {"new_media": [("P", None)]},
        {"changed_media": [(1, None)]},
        {"images_changed": True},
    ],
    ids=lambda parts: next(iter(parts)),
)
def test_each_kind_of_write_alone_writes(parts: dict[str, Any]) -> None:
    assert change_with().writes_anything is False
    assert change_with(**parts).writes_anything is True


def test_deletions_alone_write_nothing_now() -> None:
    # Deletions wait for the guard: they are collected, not written with the rest.
    for parts in ({"deleted_post_ids": [1]}, {"deleted_media_ids": [2]}):
        change = change_with(**parts)
        assert change.has_deletions is True and change.writes_anything is False
    assert change_with().has_deletions is False
