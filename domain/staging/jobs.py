"""The staging's job: a recorded bulk activation, run by a worker; and the web side, which
records the selection and queues it."""

from __future__ import annotations

import procrastinate

from domain.accounts import audit
from domain.platform import queue
from domain.staging import activation, bulk


async def start_activation(
    selection: bulk.Selection, actor: str, ip: str
) -> tuple[bulk.Record, bool]:
    """Fix the selection into a recorded bulk activation and queue its job, and True; or
    the one of the same selection already queued or running, and False."""
    job, new = await bulk.record(selection, actor, ip)
    if not new:
        return job, False
    try:
        job_id = await queue.defer("activate", {"bulk_id": job.id}, queueing_lock=f"bulk-{job.id}")
        await bulk.set_job(job.id, job_id)
    except Exception as exc:
        await bulk.fail(job.id, f"the job queue refused it: {exc}")
        raise RuntimeError(f"could not queue bulk activation #{job.id}: {exc}") from exc
    return job, True


@queue.app.task(name="activate", pass_context=True, priority=queue.BULK_PRIORITY)
async def activate_job(
    context: procrastinate.JobContext,
    bulk_id: int | None = None,
    names: list[str] | None = None,
    all_new: bool = False,
    actor: str = "",
    ip: str = "",
) -> None:
    """Activate a recorded bulk activation's models (older jobs: names, or every new one)."""
    await run_activation(bulk_id, names or [], all_new, actor, ip)


async def run_activation(
    bulk_id: int | None, names: list[str], all_new: bool, actor: str, ip: str
) -> None:
    if bulk_id is not None:
        await bulk.run(bulk_id)
        return
    # A job queued by an older version, before bulk activations were recorded.
    if all_new:
        result = await activation.activate_all_new()
    else:
        result = await activation.activate(names)
    await audit.record(
        actor,
        "activation",
        "all new models" if all_new else ", ".join(names)[:500],
        result.summary(),
        ip,
    )
