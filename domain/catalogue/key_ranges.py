"""The bucket's key space cut into ranges that list concurrently and fill every page.

Listing model by model costs a request per model even when it holds ten keys. A range instead
starts at a folder (or post) prefix and runs to the next range's start, across as many small
models as it holds, so a bucket of many small models costs about one request per 1,000 keys.
Ranges come from the top-level prefixes, and, where there are few models, from their post
prefixes too, so a few huge models still list in parallel. Every key falls in exactly one range.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class KeyRange:
    """The keys k with lo <= k < hi (hi None: to the end of the bucket).

    `folders` are the model folders known to have keys here when the range was cut; a folder
    whose keys the range holds only in part is listed in each of its ranges.
    """

    lo: str
    hi: str | None
    folders: tuple[str, ...]

    @property
    def start_after(self) -> str:
        return start_after(self.lo)

    def holds(self, key: str) -> bool:
        return key >= self.lo and (self.hi is None or key < self.hi)


def start_after(lo: str) -> str:
    """The ListObjectsV2 `StartAfter` that lists every key >= lo.

    `lo` is "" or a prefix ending in "/". "A." sorts just below "A/" ('.' is '/' - 1), so
    listing after it reaches "A/" (a folder marker) and everything under it; keys of a sibling
    folder such as "A.x/" come first and belong to an earlier range, which `holds` filters out.
    """
    if not lo:
        return ""
    if not lo.endswith("/"):
        raise ValueError(f"range start {lo!r} must be empty or end with '/'")
    return lo[:-1] + "."


def folder_of(key: str) -> str | None:
    """The model folder a key lies under, or None for a loose key at the bucket root."""
    folder, slash, _ = key.partition("/")
    return folder if slash else None


def part_bounds(groups: list[list[str]], whole_bucket: bool) -> list[tuple[str, str | None]]:
    """Where each part of consecutive folders starts and ends in the key space.

    Syncing the whole bucket, the first part starts at its beginning and the last runs to its
    end, so a folder created after the top-level listing is still listed by whichever part its
    keys fall in. One model's sync covers that folder's keys only.
    """
    bounds: list[tuple[str, str | None]] = []
    for i, group in enumerate(groups):
        lo = "" if i == 0 and whole_bucket else group[0] + "/"
        if i + 1 < len(groups):
            hi: str | None = groups[i + 1][0] + "/"
        else:
            hi = None if whole_bucket else group[-1] + "0"  # '0' is '/' + 1
        bounds.append((lo, hi))
    return bounds


def in_key_order(folders: list[str]) -> list[str]:
    """Folders in the order their keys are listed ("A B/" < "A-/" < "A/"), not by name."""
    return sorted(folders, key=lambda f: (f + "/").encode())


def cut(units: list[tuple[str, str, float]], count: int, lo: str, hi: str | None) -> list[KeyRange]:
    """Cut a part's sorted units (prefix, folder, estimated keys) into at most `count`
    consecutive ranges of near-equal estimated keys.

    A unit is a folder prefix ("A/") or a post prefix inside it ("A/P1/"); the first range
    starts at `lo` and the last ends at `hi`, whatever the units say.
    """
    if not units:
        return [KeyRange(lo, hi, ())]
    count = max(1, min(count, len(units)))
    total = sum(w for _, _, w in units) or 1.0
    groups: list[list[tuple[str, str, float]]] = [[]]
    done = 0.0
    for unit in units:
        if groups[-1] and done >= total * len(groups) / count and len(groups) < count:
            groups.append([])
        groups[-1].append(unit)
        done += unit[2]
    ranges: list[KeyRange] = []
    for i, group in enumerate(groups):
        start = lo if i == 0 else group[0][0]
        end = hi if i == len(groups) - 1 else groups[i + 1][0][0]
        ranges.append(KeyRange(start, end, tuple(dict.fromkeys(f for _, f, _ in group))))
    return ranges


def units_of(
    folders: list[str], posts: dict[str, list[str]], keys: dict[str, float]
) -> list[tuple[str, str, float]]:
    """Each folder's prefix, then its post prefixes where they are known, in key order; a
    folder's estimated keys are shared evenly among its units."""
    units: list[tuple[str, str, float]] = []
    for folder in folders:
        inner = sorted(posts.get(folder, ()), key=str.encode)
        share = keys.get(folder, 0.0) / (len(inner) + 1)
        units.append((folder + "/", folder, share))
        units.extend((p, folder, share) for p in inner)
    return units
