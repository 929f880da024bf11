"""A part's work: list its key ranges, skip each unchanged model, else write its change.

Listing, parsing, diffing and writing overlap: ranges stream whole models into a bounded
queue while model workers fingerprint them and write the changed ones. Two parts run at once
in each process, sharing one budget of listing requests, so no request slot idles while a
part's last range finishes.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
from collections import deque

from domain.catalogue import parts, run_changes, runs, sync_writes
from domain.catalogue.key_ranges import KeyRange, cut, units_of
from domain.catalogue.keys import is_model_folder
from domain.catalogue.model_sync import sync_model
from domain.catalogue.range_listing import Assembler, Capacity, Listed, list_range
from domain.catalogue.run_stats import RunStats
from domain.catalogue.sync_options import DeletionPlan, ListingSource, SyncOptions
from domain.platform.s3_types import S3Error

log = logging.getLogger("creatorflix.sync")
KEYS_PER_RANGE = 4_000  # about four full pages a range: only its last page is part waste
GUESS_PER_MODEL = 200  # keys in a model folder no sync has seen yet
GUESS_PER_POST = 10


# Parts this process is syncing now: their counters are fresher here than in the database.
live_parts: dict[int, RunStats] = {}


async def work_parts(
    source: ListingSource,
    options: SyncOptions,
    run_id: int,
    owner: str,
    cancelled: asyncio.Event,
) -> int:
    """Claim and sync parts of a run until none is left to take; returns how many it did."""
    capacity = Capacity.of(options.concurrency)
    tasks: list[asyncio.Task[None]] = []
    try:
        while not cancelled.is_set():
            await capacity.room()
            part = await parts.claim(run_id, owner)
            if part is None:
                break
            if part.reclaimed_from:
                await runs.log_event(
                    run_id,
                    f"part {part.part_no + 1} taken over by {owner} from {part.reclaimed_from}, "
                    "which stopped",
                )
            ready = asyncio.Event()  # set once the part's ranges are cut and counted
            tasks.append(
                asyncio.create_task(_sync_part(source, options, part, cancelled, capacity, ready))
            )
            await asyncio.wait(
                [tasks[-1], asyncio.create_task(ready.wait())],
                return_when=asyncio.FIRST_COMPLETED,
            )
        await asyncio.gather(*tasks)
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
    return len(tasks)


async def _ranges(
    source: ListingSource,
    options: SyncOptions,
    part: parts.Part,
    known: dict[str, sync_writes.KnownModel],
    slots: asyncio.Semaphore,
) -> list[KeyRange]:
    """The part's key ranges, sized from what the last sync found in each folder.

    In a run's only part with fewer models than SYNC_CONCURRENCY (a few huge models, or one
    model's sync), models not known to be small are also cut at their post prefixes, so that
    they still list in parallel.
    """
    posts: dict[str, list[str]] = {}
    if part.solo and len(part.folders) < options.concurrency:

        async def level(folder: str) -> None:
            async with slots:
                with contextlib.suppress(S3Error):  # not cut: its range lists it whole
                    posts[folder] = (await source.list_level(folder + "/"))[0]

        small = {f for f, m in known.items() if m.media + m.ignored_keys < KEYS_PER_RANGE}
        await asyncio.gather(*(level(f) for f in part.folders if f not in small))
    keys: dict[str, float] = {}
    for folder in part.folders:
        model = known.get(folder)
        if model is not None:
            keys[folder] = model.media + model.ignored_keys + 3
        elif folder in posts:
            keys[folder] = GUESS_PER_POST * len(posts[folder]) + 3
        else:
            keys[folder] = GUESS_PER_MODEL
    count = math.ceil(sum(keys.values()) / KEYS_PER_RANGE)
    return cut(
        units_of(part.folders, posts, keys), min(count, options.concurrency), part.lo, part.hi
    )


async def _sync_part(
    source: ListingSource,
    options: SyncOptions,
    part: parts.Part,
    cancelled: asyncio.Event,
    capacity: Capacity,
    ready: asyncio.Event,
) -> None:
    stats = RunStats(models_total=len(part.folders))  # a model folder found later adds one
    plan = DeletionPlan()
    recorder = run_changes.Recorder(part.run_id)  # what changed, for the run's page
    seen: set[str] = set()
    failed: list[str] = []
    lost = asyncio.Event()  # another worker took the part over: stop, store nothing
    known = await sync_writes.known_models_in(part.folders)
    listed_folders = set(part.folders)  # `known` is current for these: none to read again
    concurrency = max(1, options.concurrency)
    models: asyncio.Queue[Listed | None] = asyncio.Queue(maxsize=4 * concurrency)

    def stopped() -> bool:
        return cancelled.is_set() or lost.is_set()

    def counted(keys: int) -> None:
        stats.keys_listed += keys

    async def beat() -> None:
        while True:
            await asyncio.sleep(0.5)
            with contextlib.suppress(Exception):
                ours, cancel = await parts.beat(part, stats.counters())
                if not ours:
                    lost.set()
                if cancel:
                    cancelled.set()
            await recorder.flush_quietly()

    async def model_worker() -> None:
        while (listed := await models.get()) is not None:
            if lost.is_set():
                continue  # another worker owns the part now: write nothing more
            folder = listed.folder
            # Only model folders count as models (not `_derived`, whose keys the range lists).
            counts = folder in listed_folders or is_model_folder(folder)
            if counts and folder not in listed_folders:
                stats.models_total += 1  # made after the top-level listing
            try:
                if listed.error is not None:
                    raise S3Error(listed.error)
                if folder not in known and folder not in listed_folders:
                    # made after the top-level listing: staged since, perhaps
                    known.update(await sync_writes.known_models_in([folder]))
                if await sync_model(options, listed, known.get(folder), plan, stats, recorder):
                    seen.add(folder)
            except Exception as exc:  # noqa: BLE001 - S3 or database: this model is skipped
                if not isinstance(exc, S3Error):
                    log.warning("sync of model %r failed", folder, exc_info=True)
                failed.append(folder)
                stats.errors.append(f"{folder}: {exc}")
                seen.add(folder)  # keep its rows
            if counts:
                stats.models_done += 1

    try:
        ranges = await _ranges(source, options, part, known, capacity.slots)
    finally:
        ready.set()
    assembler = Assembler(ranges)
    todo = deque(enumerate(ranges))
    capacity.note(waiting=len(ranges))

    async def lister() -> None:
        while todo and not stopped():
            index, rng = todo.popleft()
            capacity.note(waiting=-1, listing=1)
            try:
                await list_range(
                    source,
                    rng,
                    index,
                    slots=capacity.slots,
                    assembler=assembler,
                    deliver=models.put,
                    counted=counted,
                    stopped=stopped,
                )
            finally:
                capacity.note(listing=-1)

    ticker = asyncio.create_task(beat())
    workers = [asyncio.create_task(model_worker()) for _ in range(concurrency)]
    live_parts[part.id] = stats
    try:
        await asyncio.gather(*(lister() for _ in range(min(concurrency, len(ranges)))))
        for _ in workers:
            await models.put(None)
        await asyncio.gather(*workers)
    finally:
        capacity.note(waiting=-len(todo))  # ranges a stop left unlisted
        todo.clear()
        live_parts.pop(part.id, None)
        for task in [ticker, *workers]:
            task.cancel()
        await asyncio.gather(ticker, *workers, return_exceptions=True)
        await recorder.close()  # the models written are kept: so is what changed
    if stopped():
        return
    per_model = {str(k): v for k, v in plan.per_model.items()}
    result = parts.PartResult(sorted(seen), failed, stats.errors, plan.unchanged, per_model)
    await parts.complete(part, stats.counters(), result)
