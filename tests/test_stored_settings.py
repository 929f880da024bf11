"""A stored setting is checked by exercising it: a schedule that never fires (February 30th)
is refused, and one stored before the check renders with its error and fix, never a 500."""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from typing import Any, TypeVar

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from domain.catalogue import schedule
from tests.conftest import rows
from tests.web import Browser

T = TypeVar("T")
# Cron fields as people write them, valid and odd: minute, hour, day, month, weekday.
FIELDS = [
    st.sampled_from(["0", "*", "*/15", "59", "5,35", "0-10/5"]),
    st.sampled_from(["0", "*", "3", "23", "*/6", "1-5"]),
    st.sampled_from(["*", "1", "15", "28", "29", "30", "31", "L"]),
    st.sampled_from(["*", "1", "2", "4", "2,4", "6-9", "12", "*/3"]),
    st.sampled_from(["*", "0", "1-5", "6", "7", "sun"]),
]
INTERVALS = st.builds(
    "{}{}".format, st.integers(0, 99999), st.sampled_from(["m", "h", "d", " minutes", "days"])
)
CRONS = st.tuples(*FIELDS).map(" ".join)
EXPRESSIONS = st.one_of(CRONS, CRONS, INTERVALS, st.text(max_size=30))  # crons: the subtle ones


async def stored() -> str:
    return str((await rows("SELECT expression FROM sync_schedule"))[0]["expression"])


async def test_a_schedule_that_never_fires_is_refused_naming_the_fix(signed_in: Browser) -> None:
    for never in ("0 0 30 2 *", "0 0 31 4 *", "0 0 31 2,4,6 *", "every 9999d"):
        refused = await signed_in.post("/sync-schedule", {"schedule": never})
        assert refused.status_code == 400, (never, refused.status_code)
        assert never in refused.text.replace("&#39;", "'") and "schedule" in refused.text
    assert await stored() == ""
    leap = await signed_in.post("/sync-schedule", {"schedule": "0 0 29 2 *"})  # it comes
    assert leap.status_code == 303 and await stored() == "0 0 29 2 *"


async def test_a_stored_schedule_that_cannot_run_shows_its_error_and_never_ticks(
    signed_in: Browser,
) -> None:
    await rows("UPDATE sync_schedule SET expression = '0 0 30 2 *'")  # stored before the check
    page = await signed_in.get("/")
    assert page.status_code == 200, page.text[:500]
    assert 'value="0 0 30 2 *"' in page.text and 'aria-invalid="true"' in page.text
    assert "never fires" in page.text and "turn the schedule off" in page.text
    assert await schedule.take_due_tick() is None  # no error, no run
    fixed = await signed_in.post("/sync-schedule", {"schedule": ""})
    assert fixed.status_code == 303
    assert "never fires" not in (await signed_in.get("/")).text


async def test_every_schedule_the_form_accepts_renders_the_dashboard(signed_in: Browser) -> None:
    loop = asyncio.get_running_loop()
    accepted: list[str] = []

    def run(coro: Coroutine[Any, Any, T]) -> T:
        return asyncio.run_coroutine_threadsafe(coro, loop).result(timeout=30)

    async def one(expression: str) -> None:
        answer = await signed_in.post("/sync-schedule", {"schedule": expression})
        assert answer.status_code in (303, 400), (expression, answer.status_code)
        if answer.status_code == 303:
            accepted.append(expression)
            page = await signed_in.get("/")
            assert page.status_code == 200, (expression, page.text[:300])
            assert "does not run" not in page.text, expression
            await schedule.take_due_tick()  # the scheduler's tick reads it without an error

    @settings(max_examples=100, deadline=None, suppress_health_check=list(HealthCheck))
    @given(expression=EXPRESSIONS)
    def example(expression: str) -> None:
        run(one(expression))

    await asyncio.to_thread(example)
    assert len(accepted) >= 10, accepted
