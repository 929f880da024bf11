"""The sync schedule: an interval ("every 30m", "6h") or a cron expression, off when empty."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cached_property

from croniter import CroniterBadDateError, croniter

from domain.errors import Invalid
from domain.platform import db
from domain.platform.db import now
from domain.platform.tables import SyncSchedule

_INTERVAL = re.compile(r"^(?:every\s+)?([0-9]{1,4})\s*(m|min|minutes?|h|hours?|d|days?)$", re.I)
_UNITS = {"m": 60, "h": 3600, "d": 86400}
MIN_INTERVAL = timedelta(minutes=1)
HORIZON = timedelta(days=5 * 366)  # a schedule must fire within this long, or it is refused


class ScheduleError(Invalid):
    """A malformed schedule; the message names the field and shows what is accepted."""

    def __init__(self, message: str = "", *, field: str | None = "schedule") -> None:
        super().__init__(message, field=field)


@dataclass(frozen=True)
class Schedule:
    expression: str  # as the admin wrote it; "" means off
    updated_by: str
    updated_at: datetime | None
    last_tick_at: datetime | None

    @property
    def enabled(self) -> bool:
        return bool(self.expression)

    @cached_property  # read by the page and by next_due: the cron is exercised once per load
    def problem(self) -> str | None:
        """Why the stored expression cannot work (stored before it was checked, or edited in
        the database), naming the fix; None when it is off or fires."""
        try:
            validate(self.expression)
        except ScheduleError as exc:
            return str(exc)
        return None

    def next_due(self, after: datetime | None = None) -> datetime | None:
        """When it fires next; None when off or unusable (see `problem`): never an error."""
        if not self.expression or self.problem:
            return None
        start = after or self.last_tick_at or self.updated_at or now()
        return next_time(self.expression, start)


def validate(expression: str) -> str:
    """The expression, trimmed, if it is empty, an interval or a 5-field cron that fires within
    `HORIZON` (checked by computing its next time: February 30th parses, but never comes)."""
    expression = " ".join(expression.split())
    if not expression:
        return ""
    if len(expression) > 100:
        raise ScheduleError("schedule is too long: use an interval like 'every 30m' or cron.")
    if match := _INTERVAL.match(expression):
        if _seconds(match) < MIN_INTERVAL.total_seconds():
            raise ScheduleError("schedule: the shortest interval is 1 minute.")
        if _seconds(match) > HORIZON.total_seconds():
            raise ScheduleError(
                f"schedule={expression!r} is longer than 5 years: use at most '{HORIZON.days}d'."
            )
        return expression
    if len(expression.split()) == 5 and croniter.is_valid(expression):
        start = now()
        fires = _next_cron(expression, start)
        if fires is None or fires - start > HORIZON:
            raise ScheduleError(
                f"schedule={expression!r} never fires: no date in the next 5 years matches it "
                "(such as February 30th). Check the day of month and the month fields, e.g. "
                "'0 3 28 2 *' for February 28th at 03:00 UTC."
            )
        return expression
    raise ScheduleError(
        f"schedule={expression!r} is neither an interval nor a cron expression: use e.g. "
        "'every 30m', '6h', '1d', or cron such as '0 3 * * *' (03:00 UTC daily); leave it "
        "empty to turn the schedule off."
    )


def next_time(expression: str, after: datetime) -> datetime:
    if match := _INTERVAL.match(expression):
        return after + timedelta(seconds=_seconds(match))
    fires = _next_cron(expression, after)
    if fires is None:  # validate() refuses such an expression
        raise ScheduleError(f"schedule={expression!r} never fires")
    return fires


def _next_cron(expression: str, after: datetime) -> datetime | None:
    """croniter's next time, or None when it finds none (it searches a bounded span)."""
    try:
        result: datetime = croniter(expression, after).get_next(datetime)
    except (CroniterBadDateError, ValueError, OverflowError):
        return None
    return result


def _seconds(match: re.Match[str]) -> int:
    return int(match.group(1)) * _UNITS[match.group(2)[0].lower()]


async def load() -> Schedule:
    s = SyncSchedule
    r = await db.first(
        s.select(s.expression, s.updated_by, s.updated_at, s.last_tick_at).order_by(s.id).limit(1)
    )
    if r is None:
        return Schedule("", "", None, None)
    return Schedule(r["expression"], r["updated_by"], r["updated_at"], r["last_tick_at"])


async def save(expression: str, actor: str) -> Schedule:
    """Store a validated schedule; the next tick counts from now."""
    expression = validate(expression)
    s = SyncSchedule
    async with db.transaction() as tx:  # an admin's action: checked (db.checked_transactions)
        await tx.run(
            s.update(
                {
                    s.expression: expression,
                    s.updated_by: actor,
                    s.updated_at: now(),
                    s.last_tick_at: None,
                },
                force=True,  # the one row
            )
        )
    return await load()


async def take_due_tick() -> datetime | None:
    """If the schedule is due, claim this tick (once across all workers) and return its time."""
    schedule = await load()
    due = schedule.next_due()
    if due is None or due > now():
        return None
    s = SyncSchedule
    # Compare and set: only the worker that still sees the tick it read claims it.
    unchanged = (
        s.last_tick_at.is_null()
        if schedule.last_tick_at is None
        else s.last_tick_at == schedule.last_tick_at
    )
    claimed = await db.select(
        s.update({s.last_tick_at: now()})
        .where(unchanged & (s.expression == schedule.expression))
        .returning(s.id)
    )
    return due if claimed else None
