"""A run page says why each ignored key was ignored: the first rule of docs/keys.md that the key
breaks, in its words. An admin reads these to fix a stray file, so a wrong reason misleads."""

from __future__ import annotations

import pytest

from domain.catalogue.keys import KeyKind, ignore_reason, parse_key

REASONS = [
    ("", "an empty key"),
    ("Model/", "a folder marker (ends with /)"),
    ("Model/Post/", "a folder marker (ends with /)"),
    ("/", "a folder marker (ends with /)"),  # a marker before an empty segment
    ("Model/a\x00.jpg", "holds a NUL character, which no database text can store"),
    ("Mo\x00del", "holds a NUL character, which no database text can store"),
    ("README.md", "a file at the top of the bucket, in no model folder"),
    ("x", "a file at the top of the bucket, in no model folder"),
    (".env", "a file at the top of the bucket, in no model folder"),  # top before hidden
    ("/a.jpg", "an empty path segment (// or a leading /)"),
    ("Model//a.jpg", "an empty path segment (// or a leading /)"),
    ("Model//.a.jpg", "an empty path segment (// or a leading /)"),  # empty before hidden
    ("Model/.DS_Store", "a hidden file or folder (a segment starts with .)"),
    ("Model/Post/._a.jpg", "a hidden file or folder (a segment starts with .)"),
    (".Model/Post/a.jpg", "a hidden file or folder (a segment starts with .)"),
    ("Model/.trash/a.jpg", "a hidden file or folder (a segment starts with .)"),
    ("_x/.a.jpg", "a hidden file or folder (a segment starts with .)"),  # hidden before _
    ("_thumbs/Model/a.jpg", "a model folder starting with _ (kept for the project's own files)"),
    ("_x/a.txt", "a model folder starting with _ (kept for the project's own files)"),
    ("Model/notes.txt", "not an image (.txt) directly in the model folder"),
    ("Model/clip.mp4", "not an image (.mp4) directly in the model folder"),
    ("Model/LICENSE", "not an image (no extension) directly in the model folder"),
    ("Model/profile/notes.txt", "not an image (.txt) in the profile folder"),
    ("Model/profile/clip.mov", "not an image (.mov) in the profile folder"),
    ("Model/profile/README", "not an image (no extension) in the profile folder"),
    ("Model/Post/notes.txt", "neither an image nor a video (.txt)"),
    ("Model/Post/Deep/notes.PDF", "neither an image nor a video (.pdf)"),
    ("Model/Post/Makefile", "neither an image nor a video (no extension)"),
    ("Model/Profile/notes.txt", "neither an image nor a video (.txt)"),  # "profile" only
]


@pytest.mark.parametrize(("key", "reason"), REASONS, ids=[repr(k) for k, _ in REASONS])
def test_each_ignored_key_names_the_first_rule_it_breaks(key: str, reason: str) -> None:
    assert parse_key(key).kind is KeyKind.IGNORED, f"{key!r} is not ignored"
    assert ignore_reason(key) == reason
