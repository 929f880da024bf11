"""Hand-written SQL for the jobs page on the job queue's own tables (procrastinate's; no Piccolo
table classes), sent through procrastinate's connector."""

from __future__ import annotations

from datetime import datetime
from typing import TypedDict

from procrastinate import BaseConnector
from procrastinate.types import JSONDict

from domain.platform import db


class TaskCount(TypedDict):
    task_name: str
    status: str
    n: int


class FailedJob(TypedDict):
    id: int
    task_name: str
    args: JSONDict | None  # the job's arguments
    failed_at: datetime | None
    runs: int


class JobRow(TypedDict):
    id: int
    task_name: str
    status: str


async def counts_by_task(connector: BaseConnector, since: datetime) -> list[TaskCount]:
    """Jobs queued and running, and those failed since `since`, by task and status."""
    # raw: procrastinate's tables (a job's failure time is on its 'failed' event)
    found = await connector.execute_query_all_async(
        "SELECT j.task_name, j.status::text AS status, COUNT(*) AS n "
        "FROM procrastinate_jobs j WHERE j.status IN ('todo', 'doing') "
        "OR (j.status = 'failed' AND EXISTS (SELECT 1 FROM procrastinate_events e "
        "WHERE e.job_id = j.id AND e.type = 'failed' AND e.at >= %(since)s)) "
        "GROUP BY j.task_name, j.status",
        since=since,
    )
    return db.typed(TaskCount, found)


async def failed_jobs(connector: BaseConnector, limit: int) -> list[FailedJob]:
    """The failed jobs, last failed first, with when they last failed and how often they ran."""
    # raw: procrastinate's tables, a job joined to its events (aggregates with FILTER)
    found = await connector.execute_query_all_async(
        "SELECT j.id, j.task_name, j.args, "
        "MAX(e.at) FILTER (WHERE e.type = 'failed') AS failed_at, "
        "COUNT(*) FILTER (WHERE e.type = 'started') AS runs "
        "FROM procrastinate_jobs j JOIN procrastinate_events e ON e.job_id = j.id "
        "WHERE j.status = 'failed' GROUP BY j.id "
        "ORDER BY failed_at DESC NULLS LAST, j.id DESC LIMIT %(limit)s",
        limit=limit,
    )
    return db.typed(FailedJob, found)


async def job_row(connector: BaseConnector, job_id: int) -> JobRow | None:
    """One job's task and status, None if gone."""
    # raw: procrastinate's tables, on its own connector
    rows = await connector.execute_query_all_async(
        "SELECT id, task_name, status::text AS status FROM procrastinate_jobs WHERE id = %(id)s",
        id=job_id,
    )
    return db.typed(JobRow, rows)[0] if rows else None
