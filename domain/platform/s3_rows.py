"""Listed objects as the fast listing path reads them: keys decoded, the other fields as S3 wrote
them, S3Objects built only when something asks for them.

An unchanged re-sync only fingerprints each model's keys, ETags and sizes. Building an S3Object
for every key first (the size to int, the timestamp to datetime, a tuple each) cost about as much
as reading the page itself, so `Rows` hands the fingerprint its lines straight from the page's
text and builds the objects for the models that changed.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import overload

from domain.platform.s3_types import S3Object, fast_timestamp

Raw = tuple[str, str, str, str]  # (key as encoded, LastModified, ETag as written, Size)


def etag_of(written: str) -> str:
    """An ETag as S3 writes it (`&quot;abc&quot;`, `"abc"` or `abc`) without its quotes."""
    return written.replace("&quot;", '"').strip('"')


class Rows(Sequence[S3Object]):
    """A run of listed objects in key order; slicing and joining keep them unbuilt."""

    __slots__ = ("keys", "_raw", "_objects", "_etags")

    def __init__(self, keys: Sequence[str], raw: Sequence[Raw]) -> None:
        # Tuples, not lists: the garbage collector stops tracking a tuple of strings (or of
        # tuples of strings) after one pass, while it walks a list item by item on every full
        # pass, and the models a sync has queued hold hundreds of thousands of keys.
        self.keys = tuple(keys)  # decoded
        self._raw = tuple(raw)
        self._objects: list[S3Object] | None = None
        self._etags: tuple[str, ...] | None = None

    def etags(self) -> tuple[str, ...]:
        """Each object's ETag without its quotes: read once for the fingerprint and the
        objects both."""
        if self._etags is None:
            self._etags = tuple([etag_of(raw[2]) for raw in self._raw])
        return self._etags

    @classmethod
    def join(cls, parts: Sequence[Rows]) -> Rows:
        if len(parts) == 1:
            return parts[0]
        return cls(tuple(k for p in parts for k in p.keys), tuple(r for p in parts for r in p._raw))

    def objects(self) -> list[S3Object]:
        if self._objects is None:
            times = {stamp: fast_timestamp(stamp) for stamp in {r[1] for r in self._raw}}
            new = tuple.__new__  # straight from C: a NamedTuple's own __new__ is Python
            self._objects = [
                new(S3Object, (key, int(size), etag, times[stamp]))
                for key, etag, (_, stamp, _, size) in zip(
                    self.keys, self.etags(), self._raw, strict=True
                )
            ]
        return self._objects

    def fingerprint_lines(self) -> list[str]:
        """`plan.listing_hash`'s line for each object, without building it (sizes are checked
        free of leading zeros when the page is read, so the text is the integer's)."""
        return [
            f"{key}\0{etag}\0{size}"
            for key, etag, (_, _, _, size) in zip(self.keys, self.etags(), self._raw, strict=True)
        ]

    def __len__(self) -> int:
        return len(self.keys)

    @overload
    def __getitem__(self, index: int) -> S3Object: ...

    @overload
    def __getitem__(self, index: slice) -> Rows: ...

    def __getitem__(self, index: int | slice) -> S3Object | Rows:
        if isinstance(index, slice):
            return Rows(self.keys[index], self._raw[index])
        return self.objects()[index]

    def __iter__(self) -> Iterator[S3Object]:
        return iter(self.objects())

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Rows | list | tuple):
            return self.objects() == list(other)
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"Rows({self.objects()!r})"
