"""The key parser follows docs/keys.md rule by rule, including the original's defects 4, 5, 8."""

from __future__ import annotations

import pytest

from domain.catalogue.keys import (
    KeyKind,
    ParsedKey,
    encode_key,
    extension,
    ignore_reason,
    is_model_folder,
    media_url,
    parse_key,
    stem,
)

K = KeyKind
CASES: list[tuple[str, ParsedKey]] = [
    # empty, folder markers
    ("", ParsedKey(K.IGNORED)),
    ("Model/", ParsedKey(K.IGNORED)),
    ("Model/Post/", ParsedKey(K.IGNORED)),
    # fewer than 2 segments
    ("file.jpg", ParsedKey(K.IGNORED)),
    ("x", ParsedKey(K.IGNORED)),
    # any empty segment
    ("/a.jpg", ParsedKey(K.IGNORED)),
    ("Model//a.jpg", ParsedKey(K.IGNORED)),
    # any segment starting with a dot (defect 4: .DS_Store was an "image")
    ("Model/.DS_Store", ParsedKey(K.IGNORED)),
    ("Model/Post/.DS_Store", ParsedKey(K.IGNORED)),
    ("Model/Post/._a.jpg", ParsedKey(K.IGNORED)),
    ("Model/.hidden/a.jpg", ParsedKey(K.IGNORED)),
    (".Model/Post/a.jpg", ParsedKey(K.IGNORED)),
    ("Model/Post/../a.jpg", ParsedKey(K.IGNORED)),
    # reserved first segment
    ("_thumbs/Model/a.jpg", ParsedKey(K.IGNORED)),
    ("_x/a.jpg", ParsedKey(K.IGNORED)),
    # the project's own objects (its previews): not a model's, and not ignored either
    ("_derived/ab12/e1/preview.webp", ParsedKey(K.DERIVED)),
    ("_derived/", ParsedKey(K.DERIVED)),
    ("_derived/x/.tmp", ParsedKey(K.DERIVED)),
    ("_derived//a.jpg", ParsedKey(K.DERIVED)),
    ("_derived", ParsedKey(K.IGNORED)),  # one segment: not under the prefix
    ("_Derived/a/b.jpg", ParsedKey(K.IGNORED)),  # the prefix compares exactly
    ("_derivedX/a/b.jpg", ParsedKey(K.IGNORED)),
    ("x_derived/a/b.jpg", ParsedKey(K.POST_IMAGE, "x_derived", "a")),
    ("Model/_derived/a.jpg", ParsedKey(K.POST_IMAGE, "Model", "_derived")),
    # only the first segment is reserved, and only by "_"
    ("Model/_drafts/a.jpg", ParsedKey(K.POST_IMAGE, "Model", "_drafts")),
    ("Xena/Beach/a.jpg", ParsedKey(K.POST_IMAGE, "Xena", "Beach")),
    ("Xena/a.png", ParsedKey(K.MODEL_IMAGE, "Xena")),
    # model-level files
    ("Model/file.jpg", ParsedKey(K.MODEL_IMAGE, "Model")),
    ("Model/file.JPEG", ParsedKey(K.MODEL_IMAGE, "Model")),
    ("Model/file.avif", ParsedKey(K.MODEL_IMAGE, "Model")),
    ("Model/file.gif", ParsedKey(K.MODEL_IMAGE, "Model")),
    ("Model/file.mp4", ParsedKey(K.IGNORED)),
    ("Model/notes.txt", ParsedKey(K.IGNORED)),
    ("Model/noext", ParsedKey(K.IGNORED)),
    ("Model/jpg", ParsedKey(K.IGNORED)),  # a name without a dot has no extension
    ("Model/a.b.JPG", ParsedKey(K.MODEL_IMAGE, "Model")),  # the extension is after the last dot
    # profile folder (defect 5: only icon.webp / banner.webp were recognised)
    ("Model/profile/icon.webp", ParsedKey(K.ICON, "Model")),
    ("Model/profile/icon.jpg", ParsedKey(K.ICON, "Model")),
    ("Model/profile/avatar.PNG", ParsedKey(K.ICON, "Model")),
    ("Model/profile/banner.webp", ParsedKey(K.BANNER, "Model")),
    ("Model/profile/cover.jpeg", ParsedKey(K.BANNER, "Model")),
    ("Model/profile/sub/icon.jpg", ParsedKey(K.ICON, "Model")),
    ("Model/profile/me.jpg", ParsedKey(K.PROFILE_IMAGE, "Model")),
    ("Model/profile/Icon.jpg", ParsedKey(K.PROFILE_IMAGE, "Model")),  # stems compare exactly
    ("Model/profile/icon.v2.jpg", ParsedKey(K.PROFILE_IMAGE, "Model")),
    ("Model/profile/intro.mp4", ParsedKey(K.IGNORED)),
    ("Model/profile/bio.txt", ParsedKey(K.IGNORED)),
    ("Model/profile/png", ParsedKey(K.IGNORED)),
    ("Model/profile/", ParsedKey(K.IGNORED)),
    ("Model/profile/avatar.gif", ParsedKey(K.ICON, "Model")),
    ("Model/profile/cover.avif", ParsedKey(K.BANNER, "Model")),
    ("Model/profile/banner", ParsedKey(K.IGNORED)),
    # post media
    ("Model/Post/a.jpg", ParsedKey(K.POST_IMAGE, "Model", "Post")),
    ("Model/Post/a.WEBP", ParsedKey(K.POST_IMAGE, "Model", "Post")),
    ("Model/Post/b.mp4", ParsedKey(K.POST_VIDEO, "Model", "Post")),
    *[
        (f"Model/Post/v.{ext}", ParsedKey(K.POST_VIDEO, "Model", "Post"))
        for ext in ("mov", "webm", "m4v", "mkv", "avi", "wmv", "FLV")
    ],
    ("Model/Post/sub/dir/c.jpg", ParsedKey(K.POST_IMAGE, "Model", "Post")),
    # defect 4: non-media under a post is ignored, not an "image"
    ("Model/Post/readme.txt", ParsedKey(K.IGNORED)),
    ("Model/Post/meta.json", ParsedKey(K.IGNORED)),
    ("Model/Post/noext", ParsedKey(K.IGNORED)),
    ("Model/Post/mp4", ParsedKey(K.IGNORED)),
    ("Model/Post/clip.jpg.txt", ParsedKey(K.IGNORED)),
    ("Model/Post/clip.jpg.mp4", ParsedKey(K.POST_VIDEO, "Model", "Post")),
    ("Model/Post/a\x00b.jpg", ParsedKey(K.IGNORED)),  # NUL cannot be stored as text
    # names kept exactly: case, spaces, Unicode, never trimmed or normalised
    (" Spaced Model /Post 1 /a.jpg", ParsedKey(K.POST_IMAGE, " Spaced Model ", "Post 1 ")),
    ("Zoë/Été 2024/photo.jpg", ParsedKey(K.POST_IMAGE, "Zoë", "Été 2024")),
    ("Zoe\u0308/p/photo.jpg", ParsedKey(K.POST_IMAGE, "Zoe\u0308", "p")),
    ("model/Post/a.jpg", ParsedKey(K.POST_IMAGE, "model", "Post")),
    ("Model/post_1/a.jpg", ParsedKey(K.POST_IMAGE, "Model", "post_1")),
    ("Model/Profile/a.jpg", ParsedKey(K.POST_IMAGE, "Model", "Profile")),  # only exact "profile"
]


@pytest.mark.parametrize(("key", "expected"), CASES, ids=[repr(c[0]) for c in CASES])
def test_parse_key(key: str, expected: ParsedKey) -> None:
    assert parse_key(key) == expected


def test_profile_is_never_a_post() -> None:
    assert parse_key("Model/profile/a.jpg").post is None


def test_media_url_encodes_each_segment_rfc3986() -> None:
    url = media_url("https://cdn.example.com/", "Zoë K/Post #1/a b+c~d.jpg")
    assert url == "https://cdn.example.com/Zo%C3%AB%20K/Post%20%231/a%20b%2Bc~d.jpg"


def test_media_url_strips_only_trailing_slashes_of_the_base() -> None:
    assert media_url("https://h.test/BOX", "M/a.jpg") == "https://h.test/BOX/M/a.jpg"
    assert media_url("https://h.test/BOX//", "M/a.jpg") == "https://h.test/BOX/M/a.jpg"


def test_encode_key_keeps_unreserved_characters_and_slashes() -> None:
    plain = "Model-1/Post_2/a.b~c.JPG"
    assert encode_key(plain) == plain
    assert encode_key("A B/é/x?y#z&w=v%.jpg") == "A%20B/%C3%A9/x%3Fy%23z%26w%3Dv%25.jpg"


@pytest.mark.parametrize(
    ("name", "ext", "name_stem"),
    [
        ("a.jpg", "jpg", "a"),
        ("icon.WEBP", "webp", "icon"),
        ("a.b.JPG", "jpg", "a.b"),
        ("icon", "", "icon"),
        ("a.", "", "a"),
        (".bashrc", "", ".bashrc"),  # like os.path.splitext: a leading dot starts no extension
    ],
)
def test_extension_and_stem_split_at_the_last_dot(name: str, ext: str, name_stem: str) -> None:
    assert extension(name) == ext
    assert stem(name) == name_stem


def test_derived_keys_are_neither_ignored_nor_of_a_model() -> None:
    parsed = parse_key("_derived/ab/e1/thumb.webp")
    assert parsed.kind is K.DERIVED and parsed.model is None and not parsed.is_post_media
    assert "not ignored" in ignore_reason("_derived/ab/e1/thumb.webp")
    assert ignore_reason("_thumbs/a/b.jpg") == (
        "a model folder starting with _ (kept for the project's own files)"
    )
    assert ignore_reason("") == "an empty key"


@pytest.mark.parametrize(
    ("name", "is_model"),
    [("Anna", True), ("_derived", False), ("_x", False), (".hidden", False), ("", False)],
)
def test_is_model_folder(name: str, is_model: bool) -> None:
    assert is_model_folder(name) is is_model
