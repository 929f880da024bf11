"""The store's keys without a Python object per key, so 10M keys fit in a few hundred MB.

A generated bucket's keys are made from their index when asked (`CatalogueKeys`: folder
number and suffix), so they cost no memory at all; any other keys (the self-check's awkward
names) sort after them in a small list (`StoreKeys`). `bisect` works on both: they are
sequences. Per key, only the ETag's MD5 is held (`Columns`, 16 bytes in one bytearray): about
16 bytes a key instead of ~250 as lists of objects.
"""

from __future__ import annotations

import hashlib
import zlib
from collections.abc import Iterable, Iterator, Sequence
from typing import overload

from bench.catalogue import Catalogue


def size_of(key: bytes) -> int:
    """An object's size in bytes, 100 to 999, from its key."""
    return 100 + zlib.crc32(key) % 900


def body(key: bytes, version: int, size: int) -> bytes:
    """An object's deterministic content: its key and version repeated to `size` bytes."""
    seed = key + b"\0" + str(version).encode() + b"\n"
    return (seed * (size // len(seed) + 1))[:size]


class _Keys(Sequence[bytes]):
    """Keys made one at a time by `_key(index)`; indexes and slices as a list takes them."""

    def _key(self, index: int) -> bytes:
        raise NotImplementedError

    @overload
    def __getitem__(self, index: int) -> bytes: ...
    @overload
    def __getitem__(self, index: slice) -> Sequence[bytes]: ...
    def __getitem__(self, index: int | slice) -> bytes | Sequence[bytes]:
        if isinstance(index, slice):
            return [self._key(i) for i in range(*index.indices(len(self)))]
        if index < 0:
            index += len(self)
        if not 0 <= index < len(self):
            raise IndexError(index)
        return self._key(index)


class CatalogueKeys(_Keys):
    """Every key of `Catalogue(models, posts, media)` in S3's order (UTF-8 bytes), made on
    demand: folders have fixed-width numbers, so folder order then suffix order is byte order."""

    def __init__(self, models: int, posts: int, media: int) -> None:
        cat = Catalogue(models, posts, media)
        self.models = models
        self.suffixes = [("/" + key.partition("/")[2]).encode() for key, _ in cat.model_keys(1)]
        self.per_model = len(self.suffixes)
        self.head = f"{cat.prefix} ".encode()
        self.width = len(cat.folder(1).partition(" ")[2])
        self._last: tuple[int, bytes] = (-1, b"")  # (model index, folder) last made

    def __len__(self) -> int:
        return self.models * self.per_model

    def _key(self, index: int) -> bytes:
        model, j = divmod(index, self.per_model)
        last, folder = self._last
        if model != last:  # keys are asked for in runs: one folder's in turn
            folder = self.head + b"%0*d" % (self.width, model + 1)
            self._last = (model, folder)
        return folder + self.suffixes[j]

    def __iter__(self) -> Iterator[bytes]:
        for model in range(1, self.models + 1):
            folder = self.head + b"%0*d" % (self.width, model)
            for suffix in self.suffixes:
                yield folder + suffix


class StoreKeys(_Keys):
    """Sorted keys: a generated run (`CatalogueKeys`, possibly empty) then a sorted list."""

    def __init__(self, generated: Sequence[bytes], rest: list[bytes]) -> None:
        self.generated, self.rest = generated, rest
        self.split = len(generated)
        if generated and rest and not generated[-1] < rest[0]:
            raise ValueError("the listed keys must sort after the generated ones")

    @classmethod
    def of(cls, keys: Iterable[str]) -> StoreKeys:
        return cls([], sorted({k.encode() for k in keys}))

    def __len__(self) -> int:
        return self.split + len(self.rest)

    def _key(self, index: int) -> bytes:
        return self.generated[index] if index < self.split else self.rest[index - self.split]

    def __iter__(self) -> Iterator[bytes]:
        yield from self.generated
        yield from self.rest


class Columns:
    """Per-key ETag (MD5 of the body) in one flat array, 16 bytes a key; sizes come from the
    key (a CRC), versions are kept only for bumped keys. `digest` is the SHA-256 of every key,
    one a line, computed once with the ETags."""

    def __init__(self, keys: Sequence[bytes]) -> None:
        self.keys = keys
        self.versions: dict[int, int] = {}
        self.md5 = bytearray(16 * len(keys))
        whole = hashlib.sha256()
        for i, key in enumerate(keys):
            self.md5[16 * i : 16 * i + 16] = hashlib.md5(
                body(key, 0, size_of(key)), usedforsecurity=False
            ).digest()
            whole.update(key + b"\n")
        self.digest = whole.hexdigest()

    def size(self, index: int) -> int:
        return size_of(self.keys[index])

    def body(self, index: int) -> bytes:
        key = self.keys[index]
        return body(key, self.versions.get(index, 0), size_of(key))

    def etag(self, index: int) -> str:
        return self.md5[16 * index : 16 * index + 16].hex()

    def bump(self, index: int) -> None:
        """New content (the next version) for one key."""
        self.versions[index] = self.versions.get(index, 0) + 1
        self.md5[16 * index : 16 * index + 16] = hashlib.md5(
            self.body(index), usedforsecurity=False
        ).digest()
