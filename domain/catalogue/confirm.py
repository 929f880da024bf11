"""Confirming a held deletion plan: re-list what it touches, delete only what is still gone."""

from __future__ import annotations

from domain.catalogue import run_changes, run_handle, runs, sync_writes
from domain.catalogue.begin import RunRequest, begin_here
from domain.catalogue.diff import build_model
from domain.catalogue.plan_json import PlanJSON
from domain.catalogue.run_handle import RunHandle
from domain.catalogue.run_stats import RunStats
from domain.catalogue.sync import ListingSource
from domain.errors import Conflict, NotFound
from domain.platform import db
from domain.platform.runtime import this_process
from domain.platform.s3 import S3Object
from domain.platform.tables import SyncRun as Runs


class NotConfirmable(Conflict):
    """The run holds no plan to confirm (any more); the message says why and what to do."""


async def check_confirmable(run_id: int) -> runs.Run:
    run = await runs.get(run_id)
    if run is None:
        raise NotFound(f"sync run #{run_id} is not waiting for confirmation: there is no such run.")
    if run.status == "superseded":
        raise NotConfirmable(
            f"sync run #{run_id}'s plan was superseded by run #{run.superseded_by}, which "
            "saw the bucket later: review that run instead."
        )
    if run.status != "needs_confirmation" or not run.plan:
        raise NotConfirmable(f"sync run #{run_id} is not waiting for confirmation.")
    return run


async def confirm_request(run_id: int, actor: str) -> RunRequest:
    """The run that confirms held run `run_id`, if it still holds a plan."""
    held = await check_confirmable(run_id)
    return RunRequest(held.scope, actor, kind="confirm", confirms=run_id)


async def confirm(
    source: ListingSource,
    run_id: int,
    actor: str,
    public_base: str,
    handle: RunHandle | None = None,
) -> runs.Run:
    """Apply the deletions a needs_confirmation run held back, for what is still gone.

    The folders the plan deletes from are listed again first: a model, post or media object
    that came back since is kept. Runs as a run of its own (kind "confirm"), linked both ways.
    """
    if handle is None:
        handle = await begin_here(await confirm_request(run_id, actor), this_process())
    try:
        held = await check_confirmable(run_id)  # again, now that we hold the sync lock
        handle.stats.phase = "deleting"
        assert held.plan is not None  # check_confirmable saw it
        kept = await _apply_still_gone(source, held.plan, handle, public_base)
        note = f"confirmed deletions of run #{run_id}" + (
            f"; kept {kept} that came back since" if kept else ""
        )
        await run_handle.finish(handle, "succeeded", note)
        confirmed = f"deletions confirmed by {actor} in run #{handle.id}"
        await Runs.update({Runs.status: "succeeded", Runs.error: confirmed}).where(
            Runs.id == run_id
        )
    except BaseException as exc:
        await run_handle.finish(handle, "failed", str(exc))
        raise
    result = await runs.get(handle.id)
    assert result is not None
    return result


async def _apply_still_gone(
    source: ListingSource, plan: PlanJSON, handle: RunHandle, public_base: str
) -> int:
    """Re-list each folder the plan touches; delete only what the bucket still lacks. The
    confirming run records the models and posts it removed."""
    stats: RunStats = handle.stats
    kept = 0
    removed_posts: list[tuple[str, str]] = []
    for part_id, part in plan["per_model"].items():
        objects = await _listing(source, part["name"])
        desired = build_model(part["name"], objects, public_base)
        present = {m.obj.key for p in desired.posts.values() for m in p.media}
        media_keys = await sync_writes.media_keys(part["media"])
        media_ids = [i for i, key in media_keys.items() if key not in present]
        post_folders = await sync_writes.post_folders(part["posts"])
        post_ids = [i for i, folder in post_folders.items() if folder not in desired.posts]
        removed_posts += [(part["name"], post_folders[i]) for i in post_ids]
        kept += len(part["media"]) - len(media_ids) + len(part["posts"]) - len(post_ids)
        fingerprint = part["fingerprint"] if desired.listing_hash == part["fingerprint"] else None
        deleted_posts, deleted_media = await sync_writes.apply_deletions(
            int(part_id), post_ids, media_ids, fingerprint
        )
        stats.posts_deleted += deleted_posts
        stats.media_deleted += deleted_media
    gone: list[int] = []
    for folder, model_id in plan["models"].items():
        if build_model(folder, await _listing(source, folder), public_base).exists:
            kept += 1
        else:
            gone.append(model_id)
    names = {model_id: folder for folder, model_id in plan["models"].items()}
    removed_models = sorted(names[i] for i in gone)
    if gone:
        removed_posts += await run_changes.posts_of_models(gone)
        models, posts, media = await sync_writes.delete_models(gone)
        stats.models_deleted += models
        stats.posts_deleted += posts
        stats.media_deleted += media
    await run_changes.record_removed(handle.id, removed_models, removed_posts)
    return kept


async def _listing(source: ListingSource, folder: str) -> list[S3Object]:
    objects: list[S3Object] = []
    async for page in source.list_pages(folder + "/"):
        objects.extend(page)
    return objects


async def discard(run_id: int, actor: str) -> None:
    discarded = f"deletions discarded by {actor}; nothing was deleted"
    async with db.transaction() as tx:  # an admin's action: checked (db.checked_transactions)
        rows = await tx.run(
            Runs.update({Runs.status: "cancelled", Runs.error: discarded})
            .where((Runs.id == run_id) & (Runs.status == "needs_confirmation"))
            .returning(Runs.id)
        )
    if not rows:
        raise NotConfirmable(f"sync run #{run_id} is not waiting for confirmation.")
