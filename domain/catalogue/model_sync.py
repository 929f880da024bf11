"""One listed model folder: skipped when its fingerprint is unchanged, else built, diffed and
written in one transaction.

A model is built (its S3Objects, its desired posts and media) only once it holds a write slot.
Built while waiting, the dozens of models queued for the slots kept tens of thousands of objects
alive, and every full pass of Python's garbage collector walked them all with the event loop
held (up to 117 ms a pass in a first sync; bench/loop_lag.py measures it).
"""

from __future__ import annotations

import asyncio
import logging
from operator import attrgetter

import asyncpg

from domain.catalogue import run_changes, sync_writes
from domain.catalogue.diff import (
    DesiredModel,
    ExistingModel,
    ModelChange,
    build_model,
    diff_model,
    hash_lines,
    listing_hash,
)
from domain.catalogue.range_listing import Listed
from domain.catalogue.run_stats import RunStats
from domain.catalogue.sync_options import PLAN_NAMES_SHOWN, DeletionPlan, SyncOptions
from domain.platform.loops import LoopSemaphore
from domain.platform.s3_rows import Rows
from domain.platform.s3_types import S3Object
from domain.platform.table_stats import FreshStatistics
from domain.platform.tables import (
    WhitelabelMedia,
    WhitelabelModel,
    WhitelabelModelImage,
    WhitelabelPost,
)

log = logging.getLogger("creatorflix.sync")
# A killed or dropped database connection: the model's transaction rolled back, so retry it.
CONNECTION_LOST = (
    asyncpg.PostgresConnectionError,
    asyncpg.InterfaceError,
    asyncpg.exceptions.AdminShutdownError,
    ConnectionError,
)
RETRIES = 3
BIG_MODEL = 20_000  # objects: fingerprint and classify in a thread, so the loop stays free
# Model writes that may wait on the database at once in this process: fewer than the pool's
# connections, so heartbeats, leases and claims always find one. Four, not eight: with two
# workers on two cores, eight each made the server spend more CPU per row on contention (a
# first sync of 507,500 keys: 11.9 and 11.7 s with four, 16.3 and 12.8 s with eight).
WRITE_SLOTS = 4
_write_slots = LoopSemaphore(WRITE_SLOTS)
# The tables a sync grows, their planner statistics kept up with its writes: stale ones made
# every foreign-key check of a first sync scan the table it points at.
STAGED_TABLES = (WhitelabelModel, WhitelabelPost, WhitelabelMedia, WhitelabelModelImage)
statistics = FreshStatistics(tuple(t._meta.tablename for t in STAGED_TABLES))


async def _fingerprint(listed: Listed, options: SyncOptions) -> tuple[list[S3Object] | Rows, str]:
    """The model's objects in key order and their fingerprint. Rows in key order (as a range
    lists them) are fingerprinted without building their objects."""
    listing = listed.objects

    def work() -> tuple[list[S3Object] | Rows, str]:
        if isinstance(listing, Rows) and list(listing.keys) == sorted(listing.keys):
            return listing, hash_lines(listing.fingerprint_lines(), options.public_base)
        objects = sorted(listing, key=attrgetter("key"))
        return objects, listing_hash(objects, options.public_base)

    return work() if len(listing) < BIG_MODEL else await asyncio.to_thread(work)


def _built(listing: list[S3Object] | Rows) -> list[S3Object]:
    return listing.objects() if isinstance(listing, Rows) else listing


async def _desired(
    folder: str, objects: list[S3Object], options: SyncOptions, fingerprint: str
) -> DesiredModel:
    if len(objects) < BIG_MODEL:
        return build_model(folder, objects, options.public_base, fingerprint)
    return await asyncio.to_thread(build_model, folder, objects, options.public_base, fingerprint)


async def sync_model(
    options: SyncOptions,
    listed: Listed,
    known: sync_writes.KnownModel | None,
    plan: DeletionPlan,
    stats: RunStats,
    recorder: run_changes.Recorder,
) -> bool:
    """Write one listed model folder's change; returns whether the model exists."""
    folder = listed.folder
    listing, fingerprint = await _fingerprint(listed, options)
    if known is not None and known.listing_hash == fingerprint:  # unchanged: parse nothing
        stats.keys_ignored += known.ignored_keys
        plan.unchanged.append(known.id)
        if known.ignored_keys:
            await recorder.scan(folder, _built(listing))
        return True
    async with _write_slots:
        objects = _built(listing)
        desired = await _desired(folder, objects, options, fingerprint)
        if desired.ignored:
            await recorder.scan(folder, objects)
        if not desired.exists:
            stats.keys_ignored += desired.ignored
            return False
        change, existing, model_id = await _write(options, desired, known)
    if change.writes_anything and not options.dry_run:
        await statistics.wrote(len(objects))
    _count(change, existing, model_id, plan, stats, recorder)
    return True


async def _write(
    options: SyncOptions, desired: DesiredModel, known: sync_writes.KnownModel | None
) -> tuple[ModelChange, ExistingModel | None, int]:
    """Diff and write, in one transaction, tried again on a lost connection."""
    folder = desired.folder
    for attempt in range(1, RETRIES + 1):
        try:
            existing = await sync_writes.load_existing(known.id) if known else None
            change = diff_model(desired, existing)
            if change.writes_anything and not options.dry_run:
                return change, existing, await sync_writes.write_change(change)
            return change, existing, change.model_id or 0
        except CONNECTION_LOST as exc:  # one transaction: safe to do again on a new connection
            if attempt == RETRIES:
                raise
            log.warning("model %r: database connection lost (%s); trying again", folder, exc)
            await asyncio.sleep(0.2 * attempt)  # pooled connections killed too get noticed
        except asyncpg.UniqueViolationError:
            if known is not None or attempt == RETRIES:
                raise
            # Staged since the part began (by the worker it was taken over from): diff
            # against that model instead.
            known = (await sync_writes.known_models_in([folder])).get(folder)
    raise AssertionError("unreachable: the last attempt returns or raises")


def _count(
    change: ModelChange,
    existing: ExistingModel | None,
    model_id: int,
    plan: DeletionPlan,
    stats: RunStats,
    recorder: run_changes.Recorder,
) -> None:
    """What one written model adds to the part's counters, changes and deletion plan."""
    desired = change.desired
    recorder.model(change)
    stats.keys_ignored += desired.ignored
    if change.model_id is None:
        stats.models_inserted += 1
    elif change.writes_anything or change.has_deletions:
        stats.models_updated += 1
    stats.posts_inserted += len(change.new_posts)
    stats.posts_updated += len(change.changed_posts)
    stats.media_inserted += len(change.new_media)
    stats.media_updated += len(change.changed_media)
    if change.has_deletions:
        plan.per_model[model_id] = {
            "name": desired.folder,
            "posts": change.deleted_post_ids,
            "post_names": run_changes.deleted_post_names(change, existing),
            "media": change.deleted_media_ids,
            "keys": change.deleted_media_keys[:PLAN_NAMES_SHOWN],
            "fingerprint": desired.listing_hash,
        }
