"""A staged row's re-sync as its row reports it: still going, or one short line of how it ended."""

from __future__ import annotations

from domain.catalogue import runs


def _count(n: int, noun: str, verb: str) -> str:
    return f"{n:,} {noun}{'' if n == 1 else 's'} {verb}"


def outcome(run: runs.Run) -> tuple[str, str] | None:
    """(level, text) once the run has ended, e.g. ("success", "synced: 2 posts added")."""
    status = run.status
    if status in runs.ACTIVE:
        return None
    if status == "succeeded":
        changes = [
            _count(getattr(run, f"posts_{field}"), "post", verb)
            for field, verb in (
                ("inserted", "added"),
                ("updated", "changed"),
                ("deleted", "removed"),
            )
            if getattr(run, f"posts_{field}")
        ]
        media = sum(getattr(run, f"media_{field}") for field in ("inserted", "updated", "deleted"))
        if not changes and media:
            changes.append(_count(media, "media file", "changed"))
        return "success", "synced: " + (", ".join(changes) or "no changes")
    if status == "needs_confirmation":
        return "warning", f"held: its deletions wait for confirmation on run #{run.id}"
    if status == "failed":
        return "error", f"failed: {run.error or 'see run #' + str(run.id)}"
    return "warning", f"{status.replace('_', ' ')}: {run.error or 'run #' + str(run.id)}"


async def run_of(run_id: int | None, model_name: str) -> runs.Run | None:
    """The sync run `run_id` if it synced this model, else None (a stale or foreign id)."""
    if run_id is None:
        return None
    run = await runs.get(run_id)
    return run if run is not None and run.scope == model_name else None
