"""Hand-written SQL on the job queue's own tables (procrastinate's; no Piccolo table classes),
sent through procrastinate's connector."""

from __future__ import annotations

from procrastinate import BaseConnector


async def job_status(connector: BaseConnector, job_id: int) -> str | None:
    """A job's status (todo, doing, succeeded, failed, cancelled, aborting...), None if gone."""
    # raw: procrastinate's tables, on its own connector
    rows = await connector.execute_query_all_async(
        "SELECT status::text AS status FROM procrastinate_jobs WHERE id = %(id)s", id=job_id
    )
    return str(rows[0]["status"]) if rows else None


async def queue_counts(connector: BaseConnector, stalled: float) -> tuple[int, dict[str, int]]:
    """(live workers, jobs waiting and running by status)."""
    # raw: procrastinate's tables, which have no Piccolo table classes, on its own connector
    workers = await connector.execute_query_one_async(
        "SELECT COUNT(*) AS n FROM procrastinate_workers "
        "WHERE last_heartbeat > now() - make_interval(secs => %(stalled)s)",
        stalled=stalled,
    )
    counts = await connector.execute_query_all_async(
        "SELECT status::text AS status, COUNT(*) AS n FROM procrastinate_jobs "
        "WHERE status IN ('todo', 'doing') GROUP BY status"
    )
    return int(workers["n"]), {str(r["status"]): int(r["n"]) for r in counts}


async def queued_ids(connector: BaseConnector, task: str) -> list[int]:
    """The ids of a task's jobs still waiting to be taken."""
    # raw: procrastinate's tables, on its own connector
    rows = await connector.execute_query_all_async(
        "SELECT id FROM procrastinate_jobs WHERE task_name = %(task)s AND status = 'todo' "
        "ORDER BY id",
        task=task,
    )
    return [int(r["id"]) for r in rows]
