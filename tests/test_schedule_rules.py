"""What the schedule form accepts, what it refuses with which fix (word for word: the admin
reads it), when a stored schedule fires next, and how it is stored and ticked. The form and the
ticks over HTTP and real workers are in test_stored_settings.py and test_schedule_race.py."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from domain.catalogue.schedule import (
    Schedule,
    ScheduleError,
    load,
    next_time,
    save,
    take_due_tick,
    validate,
)
from tests.conftest import rows

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("written", "stored", "every"),
    [
        ("every 30m", "every 30m", timedelta(minutes=30)),
        ("  every   30m ", "every 30m", timedelta(minutes=30)),
        ("30m", "30m", timedelta(minutes=30)),
        ("1m", "1m", timedelta(minutes=1)),
        ("EVERY 2 Minutes", "EVERY 2 Minutes", timedelta(minutes=2)),
        ("5 min", "5 min", timedelta(minutes=5)),
        ("1 minute", "1 minute", timedelta(minutes=1)),
        ("6h", "6h", timedelta(hours=6)),
        ("every 2 hours", "every 2 hours", timedelta(hours=2)),
        ("1 hour", "1 hour", timedelta(hours=1)),
        ("1d", "1d", timedelta(days=1)),
        ("3 days", "3 days", timedelta(days=3)),
        ("every 1 day", "every 1 day", timedelta(days=1)),
        ("1830d", "1830d", timedelta(days=1830)),  # the longest: 5 years (HORIZON)
        ("9999m", "9999m", timedelta(minutes=9999)),
    ],
)
def test_an_interval_is_stored_as_written_and_fires_that_long_after(
    written: str, stored: str, every: timedelta
) -> None:
    assert validate(written) == stored
    assert next_time(stored, T0) == T0 + every


NOT_EITHER = (
    "schedule={!r} is neither an interval nor a cron expression: use e.g. 'every 30m', '6h', "
    "'1d', or cron such as '0 3 * * *' (03:00 UTC daily); leave it empty to turn the schedule off."
)
NEVER = (
    "schedule={!r} never fires: no date in the next 5 years matches it (such as February 30th). "
    "Check the day of month and the month fields, e.g. '0 3 28 2 *' for February 28th at "
    "03:00 UTC."
)


@pytest.mark.parametrize(
    ("written", "message"),
    [
        ("0m", "schedule: the shortest interval is 1 minute."),
        ("every 0h", "schedule: the shortest interval is 1 minute."),
        ("1831d", "schedule='1831d' is longer than 5 years: use at most '1830d'."),
        ("9999d", "schedule='9999d' is longer than 5 years: use at most '1830d'."),
        ("every 10000m", NOT_EITHER.format("every 10000m")),  # 4 digits at most
        ("every 3s", NOT_EITHER.format("every 3s")),
        ("every ٣m", NOT_EITHER.format("every ٣m")),  # ASCII digits only
        ("every 3 weeks", NOT_EITHER.format("every 3 weeks")),
        ("3m later", NOT_EITHER.format("3m later")),
        ("every m", NOT_EITHER.format("every m")),
        ("0 3 * *", NOT_EITHER.format("0 3 * *")),  # 4 fields
        ("0 0 3 * * *", NOT_EITHER.format("0 0 3 * * *")),  # 6 fields
        ("61 3 * * *", NOT_EITHER.format("61 3 * * *")),
        ("0 0 30 2 *", NEVER.format("0 0 30 2 *")),
        ("0 0 31 4 *", NEVER.format("0 0 31 4 *")),
        ("x" * 101, "schedule is too long: use an interval like 'every 30m' or cron."),
    ],
)
def test_a_schedule_that_cannot_work_is_refused_naming_the_fix(written: str, message: str) -> None:
    with pytest.raises(ScheduleError) as refused:
        validate(written)
    assert str(refused.value) == message


def test_a_hundred_characters_is_not_too_long() -> None:
    written = "every 30m" + " " * 50 + "x" * 90  # 100 once its spaces are squeezed
    with pytest.raises(ScheduleError, match="neither an interval"):
        validate(written)
    assert len(" ".join(written.split())) == 100


def test_empty_or_blank_turns_the_schedule_off() -> None:
    assert validate("") == "" and validate("   \t ") == ""
    assert validate(("1" + " " * 200 + "m").strip()) == "1 m"  # squeezed before it is measured
    assert validate("every 30m" + " " * 95) == "every 30m"


def test_a_cron_expression_fires_at_its_next_matching_minute_in_utc() -> None:
    assert validate("0 3 * * *") == "0 3 * * *"
    assert validate("0  3 29 2 *") == "0 3 29 2 *"  # a leap day comes within 5 years
    assert next_time("0 3 * * *", T0) == datetime(2026, 3, 2, 3, 0, tzinfo=UTC)
    assert next_time("*/15 * * * *", T0) == T0 + timedelta(minutes=15)
    assert next_time("0 3 29 2 *", T0) == datetime(2028, 2, 29, 3, 0, tzinfo=UTC)
    with pytest.raises(ScheduleError, match="never fires"):
        next_time("0 0 30 2 *", T0)


def schedule(expression: str, **times: datetime | None) -> Schedule:
    return Schedule(expression, "ann", times.get("updated_at"), times.get("last_tick_at"))


def test_the_next_tick_counts_from_the_last_tick_else_from_the_last_change() -> None:
    later = T0 + timedelta(hours=5)
    assert schedule("1h", updated_at=T0).next_due() == T0 + timedelta(hours=1)
    assert schedule("1h", updated_at=T0, last_tick_at=later).next_due() == later + timedelta(
        hours=1
    )
    given = T0 + timedelta(days=9)
    assert schedule("1h", updated_at=T0, last_tick_at=later).next_due(given) == given + timedelta(
        hours=1
    )
    fresh = schedule("1h").next_due()  # never saved with a time: from now
    assert fresh is not None
    assert abs(fresh - datetime.now(UTC) - timedelta(hours=1)) < timedelta(minutes=1)


def test_off_or_unusable_schedules_never_come_due_and_say_why() -> None:
    off = schedule("", updated_at=T0)
    assert not off.enabled and off.next_due() is None and off.problem is None
    broken = schedule("0 0 30 2 *", updated_at=T0)
    assert broken.enabled and broken.next_due() is None
    assert broken.problem is not None and "never fires" in broken.problem
    assert "'0 3 28 2 *'" in broken.problem  # the fix, as an example
    fine = schedule("every 30m", updated_at=T0)
    assert fine.enabled and fine.problem is None


async def test_a_saved_schedule_is_loaded_as_saved_and_ticks_once_per_interval(
    database: Any,
) -> None:
    saved = await save("  every   2m ", "ann")
    loaded = await load()
    assert loaded == saved
    assert (loaded.expression, loaded.updated_by, loaded.last_tick_at) == ("every 2m", "ann", None)
    assert loaded.updated_at is not None
    assert await take_due_tick() is None  # two minutes from the save: not due yet
    await rows("UPDATE sync_schedule SET updated_at = updated_at - interval '3 minutes'")
    first = await take_due_tick()
    assert first is not None
    assert await take_due_tick() is None  # claimed: the next is two minutes on
    ticked = (await load()).last_tick_at
    assert ticked is not None
    # Two minutes later (the clock moved back instead): the second tick comes, once.
    await rows("UPDATE sync_schedule SET last_tick_at = last_tick_at - interval '3 minutes'")
    assert await take_due_tick() is not None
    assert await take_due_tick() is None
    resaved = await save("every 2m", "bob")
    assert resaved.last_tick_at is None and resaved.updated_by == "bob"  # counts from now


async def test_without_its_row_the_schedule_is_off(database: Any) -> None:
    await rows("DELETE FROM sync_schedule RETURNING id")
    try:
        assert await load() == Schedule("", "", None, None)
        assert await take_due_tick() is None
    finally:  # the migration's row back, for the tests after this one
        await rows("INSERT INTO sync_schedule (expression) VALUES ('') RETURNING id")


async def test_an_update_of_every_row_needs_force_in_a_transaction_too(database: Any) -> None:
    """Piccolo refuses an update or delete without a where clause unless it is forced; queries
    run inside the app's transactions keep that guard (the schedule's save forces it: one row)."""
    from piccolo.query.methods.update import UpdateError

    from domain.platform import db
    from domain.platform.tables import SyncSchedule

    with pytest.raises(UpdateError, match="update all rows"):
        async with db.transaction() as tx:
            await tx.run(SyncSchedule.update({SyncSchedule.expression: "every 5m"}))
    assert (await load()).expression == ""
