"""Renders in a small pool of long-lived child processes, each under a memory ceiling.

A decoder that allocates more than its file or its header said (a decompression bomb) gets a
MemoryError in its child once it passes RENDER_MEMORY: that one original fails with a reason
recorded on its row, while the worker process, its event loop and its other jobs never hold
that memory. Each child (render_child.py) has Pillow and PyAV imported and renders one
original at a time, so a render costs a line of JSON and the previews' bytes through a pipe.
A child that dies (a decoder crashing outright) is replaced and the original tried once more
in a new child before it is recorded as failing; one that takes longer than RENDER_TIMEOUT is
killed and its original recorded. Children end with their worker (end of input, or
PR_SET_PDEATHSIG when it is killed).

Linux only (RLIMIT_AS, /proc, prctl); elsewhere, or with ISOLATED off, renders run in a thread.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import sys
from pathlib import Path

from domain.media.rendered import MediaError, Rendered

log = logging.getLogger("creatorflix.media")
PROCESSES = 2  # renders at once per worker process (bounded memory and CPU)
RENDER_MEMORY = 384 * 2**20  # address space a child may map beyond what it maps once started
RENDER_TIMEOUT = 120.0  # seconds one render may take
ISOLATED = sys.platform.startswith("linux")


class _Died(Exception):
    """The child ended without answering."""


class _Child:
    def __init__(self, process: asyncio.subprocess.Process) -> None:
        self.process = process

    @classmethod
    async def start(cls) -> _Child:
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "domain.media.render_child", str(RENDER_MEMORY),
            stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE,
        )  # fmt: skip
        return cls(process)

    async def render(self, path: Path, kind: str) -> Rendered:
        stdin, stdout = self.process.stdin, self.process.stdout
        assert stdin is not None and stdout is not None
        try:
            stdin.write(json.dumps({"path": str(path), "kind": kind}).encode() + b"\n")
            await stdin.drain()
            line = await stdout.readline()
            if not line:
                raise _Died
            reply = json.loads(line)
            if "error" in reply:
                raise MediaError(str(reply["error"]))
            files = {name: await stdout.readexactly(size) for name, size in reply["files"]}
        except (OSError, asyncio.IncompleteReadError) as exc:
            raise _Died from exc
        return Rendered(files, int(reply["width"]), int(reply["height"]), reply["duration"])

    async def stop(self) -> None:
        with contextlib.suppress(ProcessLookupError):
            self.process.kill()
        await self.process.wait()


class _Pool:
    def __init__(self, size: int) -> None:
        self.loop = asyncio.get_running_loop()
        self.idle: asyncio.Queue[_Child | None] = asyncio.Queue()
        for _ in range(size):
            self.idle.put_nowait(None)  # started when first needed

    async def render(self, path: Path, kind: str) -> Rendered:
        child = await self.idle.get()
        try:
            if child is None or child.process.returncode is not None:
                child = await _Child.start()
            return await asyncio.wait_for(child.render(path, kind), RENDER_TIMEOUT)
        except (_Died, TimeoutError, asyncio.CancelledError):
            if child is not None:
                await child.stop()
                child = None
            raise
        finally:
            self.idle.put_nowait(child)

    async def close(self) -> None:
        while not self.idle.empty():
            child = self.idle.get_nowait()
            if child is not None:
                if child.process.stdin is not None:
                    child.process.stdin.close()
                await child.stop()


_pool: _Pool | None = None


async def render_bounded(path: Path, kind: str) -> Rendered:
    """`render.render(path, kind)` in a child under the memory ceiling (or in a thread)."""
    if not ISOLATED:
        from domain.media import render  # the decoders, here only: the children import them

        return await asyncio.to_thread(render.render, path, kind)
    global _pool
    if _pool is None or _pool.loop is not asyncio.get_running_loop():
        _pool = _Pool(PROCESSES)
    try:
        return await _pool.render(path, kind)
    except TimeoutError as exc:
        raise MediaError(f"rendering it took longer than {RENDER_TIMEOUT:.0f} s.") from exc
    except _Died:
        log.warning("a render child died on a %s; trying it once more in a new one", kind)
    try:
        return await _pool.render(path, kind)
    except _Died as exc:
        raise MediaError(
            "the decoder crashed on this file twice (a corrupt or hostile file)."
        ) from exc
    except TimeoutError as exc:
        raise MediaError(f"rendering it took longer than {RENDER_TIMEOUT:.0f} s.") from exc


async def shutdown() -> None:
    """Stop the idle children (they also end with their worker)."""
    global _pool
    if _pool is not None:
        await _pool.close()
        _pool = None
