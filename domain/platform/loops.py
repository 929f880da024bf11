"""Limits kept at module level that hold in whichever event loop uses them."""

from __future__ import annotations

import asyncio
import contextlib
import weakref
from collections.abc import AsyncIterator, Awaitable
from contextlib import asynccontextmanager
from types import TracebackType
from typing import TypeVar

T = TypeVar("T")


class LoopSemaphore:
    """An asyncio.Semaphore of `value` per running event loop. A plain one binds to the first
    loop that waits on it and raises in any other (a test suite runs a loop per test; mutmut
    runs pytest again in one process), so a module-level limit needs one of these."""

    def __init__(self, value: int) -> None:
        self.value = value
        self._by_loop: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Semaphore]
        self._by_loop = weakref.WeakKeyDictionary()

    def current(self) -> asyncio.Semaphore:
        loop = asyncio.get_running_loop()
        found = self._by_loop.get(loop)
        if found is None:
            found = self._by_loop[loop] = asyncio.Semaphore(self.value)
        return found

    async def __aenter__(self) -> None:
        await self.current().acquire()

    async def __aexit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self.current().release()


@asynccontextmanager
async def beside(read: Awaitable[T]) -> AsyncIterator[asyncio.Future[T]]:
    """Start `read` now and run the block beside it; the block awaits it when it needs it. A
    page's count needs nothing of its rows, so it runs beside the row query and the signing
    after it, on its own pooled connection; if the block fails, the read is cancelled."""
    task = asyncio.ensure_future(read)
    try:
        yield task
    finally:
        if not task.done():
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
