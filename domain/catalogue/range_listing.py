"""List key ranges concurrently and hand on each model folder as soon as all its keys are in.

A range lists from its start with full 1,000-key pages, whatever the folders; its keys are cut
into folders as they stream by. A folder wholly inside one range is complete when the listing
passes it; a folder cut into several ranges (a huge model) is complete when each of its ranges
has handed its share in. The pages of one range arrive in key order, so each model's objects
come out sorted, as its fingerprint needs.
"""

from __future__ import annotations

import asyncio
from bisect import bisect_left
from collections import Counter
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass

from domain.catalogue.key_ranges import KeyRange, folder_of
from domain.catalogue.sync_options import ListingSource
from domain.platform.s3_rows import Rows
from domain.platform.s3_types import S3Error, S3Object


@dataclass
class Listed:
    """A model folder's whole listing, or the error that kept part of it from being read."""

    folder: str
    objects: Sequence[S3Object]  # Rows when the fast path read every page of it
    error: str | None = None


def joined(parts: Sequence[Sequence[S3Object]]) -> Sequence[S3Object]:
    """Consecutive runs of objects as one, still unbuilt if every run is `Rows`."""
    if len(parts) == 1:
        return parts[0]
    if all(isinstance(p, Rows) for p in parts):
        return Rows.join(parts)  # type: ignore[arg-type]
    return [o for part in parts for o in part]


class Assembler:
    """Whole folders out of the shares that ranges hand in, in key order."""

    def __init__(self, ranges: list[KeyRange]) -> None:
        self.expected = Counter(f for r in ranges for f in r.folders)
        self._shares: dict[str, list[tuple[int, Sequence[S3Object]]]] = {}
        self._errors: dict[str, str] = {}

    def add(
        self, folder: str, index: int, objects: Sequence[S3Object], error: str | None = None
    ) -> Listed | None:
        """Take one range's share of a folder; returns the folder once every share is in."""
        shares = self._shares.setdefault(folder, [])
        shares.append((index, objects))
        if error is not None:
            self._errors.setdefault(folder, error)
        # A folder no range expected was created after the top-level listing: one range holds it.
        if len(shares) < self.expected.get(folder, 1):
            return None
        del self._shares[folder]
        shares.sort(key=lambda share: share[0])
        whole = joined([part for _, part in shares])
        return Listed(folder, whole, self._errors.pop(folder, None))


class Capacity:
    """This process's listing budget: requests in flight, and ranges listed or waiting.

    Another part is claimed only when every claimed part's ranges have started and fewer
    ranges than SYNC_CONCURRENCY are being listed, so the budget stays full across part
    boundaries while other workers still find parts left to take.
    """

    def __init__(self, concurrency: int) -> None:
        self.limit = max(1, concurrency)
        self.slots = asyncio.Semaphore(self.limit)
        self.waiting = 0  # ranges cut but not yet started
        self.listing = 0  # ranges being listed
        self.changed = asyncio.Event()

    @classmethod
    def of(cls, concurrency: int) -> Capacity:
        """This process's one budget: a run's coordinator and its helper jobs, when the same
        worker takes several, share SYNC_CONCURRENCY instead of each having its own."""
        key = (id(asyncio.get_running_loop()), concurrency)
        if key not in _CAPACITIES:
            _CAPACITIES[key] = cls(concurrency)
        return _CAPACITIES[key]

    def note(self, waiting: int = 0, listing: int = 0) -> None:
        self.waiting += waiting
        self.listing += listing
        self.changed.set()

    async def room(self) -> None:
        while self.waiting > 0 or self.listing >= self.limit:
            self.changed.clear()
            await self.changed.wait()


_CAPACITIES: dict[tuple[int, int], Capacity] = {}
Deliver = Callable[[Listed], Awaitable[None]]


async def list_range(
    source: ListingSource,
    rng: KeyRange,
    index: int,
    *,
    slots: asyncio.Semaphore,
    assembler: Assembler,
    deliver: Deliver,
    counted: Callable[[int], None],
    stopped: Callable[[], bool],
) -> None:
    """List one range to its end, delivering every folder that completes.

    `slots` bounds the requests in flight across all ranges. Once `stopped()`, nothing more is
    handed in (what was handed in before is still written: a cancel stops at a model
    boundary). If S3 fails for good, every folder of the range not yet handed in is handed in
    with the error, so its rows are kept and the run deletes nothing; other ranges go on.
    """
    handed: set[str] = set()
    current: str | None = None
    runs: list[Sequence[S3Object]] = []  # the current folder's runs of objects, page by page

    async def hand_in(folder: str, share: Sequence[S3Object], error: str | None = None) -> None:
        handed.add(folder)
        if stopped():  # cancelled or taken over: what is handed in now is not written
            return
        whole = assembler.add(folder, index, share, error)
        if whole is not None:
            await deliver(whole)

    pages = source.list_after(rng.start_after).__aiter__()
    try:
        while not stopped():
            async with slots:
                try:
                    page = await anext(pages)
                except StopAsyncIteration:
                    break
            keys = page.keys if isinstance(page, Rows) else [o.key for o in page]
            start = bisect_left(keys, rng.lo)  # before: a sibling ("A.x/" < "A/"), not ours
            end = len(keys) if rng.hi is None else bisect_left(keys, rng.hi, start)
            ended, listed = end < len(keys), 0
            i = start
            while i < end:  # a folder's keys are consecutive: cut the page at each folder
                folder = folder_of(keys[i])
                if folder is None:  # loose at the root: counted by the top-level listing
                    i += 1
                    continue
                j = bisect_left(keys, folder + "0", i, end)  # '0' sorts right after '/'
                listed += j - i
                if folder != current:
                    if current is not None:
                        await hand_in(current, joined(runs))
                    current, runs = folder, []
                runs.append(page[i:j])
                i = j
            counted(listed)
            if ended:
                break
        if stopped():
            return
        if current is not None:
            await hand_in(current, joined(runs))
            current = None
        for folder in rng.folders:  # known folders with no key left: gone from the bucket
            if folder not in handed:
                await hand_in(folder, [])
    except S3Error as exc:
        for folder in ([current] if current is not None else []) + list(rng.folders):
            if folder not in handed:
                await hand_in(folder, [], str(exc))
    finally:
        await pages.aclose()  # type: ignore[attr-defined]
