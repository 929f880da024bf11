"""How long the sync held its event loop (issue: never blocked for more than about 20 ms at a
time).

Two measures, over one sync in this process:
- steps: every callback the loop runs (a task's step from one await to the next) is timed by
  the CPU its thread spent on it. The longest is the longest the loop was blocked at a time.
- wake-ups: a ticker asks to wake every 2 ms and records how late it came. The loop runs every
  callback that is ready before it looks at timers again, so a burst of steps (pages arriving
  together) delays a timer by their sum, and a process waiting for a core (2 CPUs shared with
  PostgreSQL) delays it too: how late a heartbeat could fire, for reference.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import time
from asyncio import events
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any

EVERY = 0.002


@dataclass
class LoopLag:
    late: list[float] = field(default_factory=list)  # each wake-up: seconds late
    longest_step: float = 0.0  # the most thread CPU one callback used, in seconds
    longest_where: str = ""  # its task's coroutine, and where it next waited
    longest_gc: float = 0.0  # of which the garbage collector's passes
    _gc: list[float] = field(default_factory=lambda: [0.0, 0.0])  # (in this step, pass start)
    steps_over_20ms: int = 0
    _task: asyncio.Task[None] | None = None
    _run: Any = None

    async def __aenter__(self) -> LoopLag:
        self._run = run = events.Handle._run
        lag = self

        def timed(handle: events.Handle) -> None:
            lag._gc[0] = 0.0
            start = time.thread_time()
            run(handle)
            spent = time.thread_time() - start
            if spent > 0.02:
                lag.steps_over_20ms += 1
            if spent > lag.longest_step:
                lag.longest_step, lag.longest_where = spent, _where(handle)
                lag.longest_gc = lag._gc[0]

        events.Handle._run = timed  # type: ignore[method-assign,assignment]
        gc.callbacks.append(self._collector)
        self._task = asyncio.create_task(self._tick())
        await asyncio.sleep(0)
        return self

    async def __aexit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        assert self._task is not None
        self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._task
        events.Handle._run = self._run  # type: ignore[method-assign]
        gc.callbacks.remove(self._collector)

    def _collector(self, phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            self._gc[1] = time.thread_time()
        else:
            self._gc[0] += time.thread_time() - self._gc[1]

    async def _tick(self) -> None:
        loop = asyncio.get_running_loop()
        last = loop.time()
        while True:
            await asyncio.sleep(EVERY)
            now = loop.time()
            self.late.append(max(0.0, now - last - EVERY))
            last = now

    def longest_step_ms(self) -> float:
        return self.longest_step * 1000

    def latest_wake_ms(self) -> float:
        return max(self.late, default=0.0) * 1000

    def describe(self) -> str:
        n = len(self.late)
        p99 = sorted(self.late)[int(n * 0.99)] * 1000 if n else 0.0
        return (
            f"event loop: longest step {self.longest_step_ms():.1f} ms of CPU "
            f"({self.steps_over_20ms} over 20 ms; the longest in {self.longest_where}, "
            f"{self.longest_gc * 1000:.1f} ms of it the garbage collector's); "
            "a 2 ms timer woke at most "
            f"{self.latest_wake_ms():.1f} ms late (p99 {p99:.1f} ms over {n:,} wake-ups)"
        )


def _where(handle: events.Handle) -> str:
    """The step's task coroutine and the line it waits at now, or the callback's name."""
    task = getattr(handle._callback, "__self__", None)  # a Task's __step or __wakeup
    coro = task.get_coro() if isinstance(task, asyncio.Task) else None
    frame = getattr(coro, "cr_frame", None)
    if coro is None or frame is None:
        return getattr(handle._callback, "__qualname__", repr(handle._callback))
    return f"{coro.__qualname__} ({frame.f_code.co_filename.rsplit('/', 1)[-1]}:{frame.f_lineno})"
