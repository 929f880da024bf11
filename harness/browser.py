"""Debian's headless Chromium driven by Playwright, and its leftovers killed if a stop hangs."""

from __future__ import annotations

import contextlib
import os
import signal
from pathlib import Path
from typing import Any

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-gpu",
    "--no-first-run",
    "--disable-sync",
]


async def launch_chromium(playwright: Any) -> Any:
    """Headless Chromium (a playwright.async_api.Browser) from a started Playwright."""
    return await playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)


def descendants(root: int) -> list[int]:
    """The pids below `root`, by parent pid read from /proc."""
    children: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        with contextlib.suppress(OSError, IndexError, ValueError):
            ppid = int(stat.read_text().rsplit(")", 1)[1].split()[1])
            children.setdefault(ppid, []).append(int(stat.parent.name))
    todo, found = [root], []
    while todo:
        for child in children.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


def kill_descendants(markers: tuple[str, ...]) -> None:
    """SIGKILL this process's descendants whose command line holds one of `markers`."""
    for pid in descendants(os.getpid()):
        with contextlib.suppress(OSError):
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
            if any(marker in cmdline for marker in markers):
                os.kill(pid, signal.SIGKILL)


def kill_playwright_leftovers() -> None:
    """The Playwright driver and Chromium processes this process started, SIGKILLed."""
    kill_descendants(("playwright", CHROMIUM))
