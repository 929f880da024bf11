"""The app as a real process (`python -m app` under uvicorn), driven over HTTP like a user would.

`served(env)` starts it, waits for /healthz and yields a `Served` with a signed-out `Browser`
on its port; on exit the whole process group is stopped (SIGTERM, then SIGKILL) with timeouts.
Sync runs started over HTTP are awaited by polling GET /sync-runs/{id}, never in-process.
"""

from __future__ import annotations

import asyncio
import contextlib
import html
import os
import re
import subprocess
import sys
import tempfile
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import httpx

from harness.app import app_command, start_app
from harness.ports import free_port
from harness.processes import run_command
from harness.processes import spawn as harness_spawn
from harness.processes import stop_group as harness_stop_group
from tests.web import Browser

LITESTAR = str(Path(sys.executable).parent / "litestar")
FINAL = ("succeeded", "failed", "cancelled", "needs_confirmation")
STATUS = re.compile(r'data-status="([a-z_]+)"')
SIGNED_SRC = re.compile(r'(?:src|href)="(http[^"]*X-Amz-Signature[^"]*)"')


@dataclass
class Served:
    process: subprocess.Popen[bytes]
    url: str
    log: Path
    browser: Browser

    def output(self) -> str:
        return self.log.read_text(errors="replace")


def spawn(env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    """`python -m app` in a process group of its own, output to `log`."""
    return harness_spawn(app_command(), env, log)


def stop_group(process: subprocess.Popen[bytes]) -> None:
    """SIGTERM the process group, SIGKILL it if it is still there after 10 s."""
    harness_stop_group(process, 10.0)


@contextlib.asynccontextmanager
async def served(env: dict[str, str], startup_timeout: float = 60) -> AsyncIterator[Served]:
    """Run `python -m app` with exactly `env` (plus HOST/PORT) until the block ends."""
    with tempfile.TemporaryDirectory(prefix="creatorflix-served-") as tmp:
        environ = {**env, "HOST": "127.0.0.1", "PORT": str(free_port()), "PYTHONUNBUFFERED": "1"}
        app = start_app("the app", environ, Path(tmp) / "app.log")
        try:
            await app.wait_answering("/healthz", startup_timeout)
            async with httpx.AsyncClient(  # plain http on loopback: no CA bundle to load
                base_url=app.url, follow_redirects=False, timeout=30, verify=False
            ) as client:
                yield Served(app.popen, app.url, app.log, Browser(client))
        finally:
            await asyncio.to_thread(stop_group, app.popen)


async def run_status(b: Browser, run_id: int) -> str:
    page = await b.client.get(f"/sync-runs/{run_id}")
    assert page.status_code == 200, (run_id, page.status_code, page.text[:300])
    match = STATUS.search(page.text)
    assert match, page.text[:500]
    return match.group(1)


async def wait_final(b: Browser, run_id: int, timeout: float = 60) -> str:
    """Poll the run's page until it shows a final status."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        status = await run_status(b, run_id)
        if status in FINAL:
            return status
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"sync run #{run_id} still {status} after {timeout} s")
        await asyncio.sleep(0.1)


def run_id_from(response: httpx.Response) -> int:
    """The run a plain (non-HTMX) form post redirected to."""
    assert response.status_code == 303, (response.status_code, response.text[:300])
    match = re.fullmatch(r"/sync-runs/(\d+)", response.headers["location"])
    assert match, response.headers["location"]
    return int(match.group(1))


async def start_sync(b: Browser, model: str = "") -> int:
    return run_id_from(await b.post("/sync", {"model": model} if model else {}))


def signed_urls(page: str) -> list[str]:
    return [html.unescape(u) for u in SIGNED_SRC.findall(page)]


def clean_env(**extra: str) -> dict[str, str]:
    """This process's environment without any database or bucket configuration."""
    drop = ("DATABASE_URL", "TEST_DATABASE_URL", "SECRET_KEY", "DATA_DIR")
    env = {k: v for k, v in os.environ.items() if k not in drop and not k.startswith("DO_SPACES_")}
    return {**env, **extra}


def cli(
    env: dict[str, str], *args: str, stdin: str | None = None
) -> subprocess.CompletedProcess[str]:
    """`litestar ARGS` from the project root, as an operator would run it."""
    return run_command([LITESTAR, *args], env, stdin)


LOG_RECORD = re.compile(r"^(DEBUG|INFO) - \d{4}-\d\d-\d\d ")


def one_error_line(done: subprocess.CompletedProcess[str]) -> str:
    """A failed command: non-zero exit and one line, `error: ...`, as the last on stderr.

    Informational log records (Piccolo's "Running Postgres version" at start) may precede
    it; nothing else may: no traceback, no second message.
    """
    lines = [line for line in done.stderr.splitlines() if line.strip()]
    assert done.returncode != 0, (done.returncode, done.stdout, done.stderr)
    told = [line for line in lines if not LOG_RECORD.match(line)]
    assert len(told) == 1 and told[0] == lines[-1], done.stderr
    assert told[0].startswith("error: "), told[0]
    return told[0]


ROW = re.compile(
    r'<td class="name"[^>]*><a href="/staged/[^"]*" title="([^"]*)">.*?</a></td>\s*'
    r'<td class="num"[^>]*>([\d,]+)</td>\s*<td class="num"[^>]*>([\d,]+)</td>\s*'
    r'<td class="num"[^>]*>([\d,]+)</td>\s*<td[^>]*><span class="badge badge-\w+">(\w+)</span>'
)
AUDIT = re.compile(
    r'<td class="name"[^>]*><span class="clip" title="([^"]*)">.*?</span></td>\s*'
    r'<td[^>]*><span class="badge">([^<]*)</span></td>\s*'
    # "What" links to the entries about it (a filter); an entry about nothing has no link.
    r'<td class="mono name"[^>]*>(?:<a class="clip" [^>]*title="([^"]*)">.*?</a>)?</td>\s*'
    r"<td[^>]*>([^<]*)</td>"
)


async def staged(b: Browser) -> dict[str, tuple[int, int, int, str]]:
    """The staged models page as the admin sees it: name -> (posts, images, videos, status)."""
    page = await b.get("/staged?size=100")
    assert page.status_code == 200, page.text[:300]
    return {
        html.unescape(name): (int(p.replace(",", "")), int(i.replace(",", "")), int(v), status)
        for name, p, i, v, status in ROW.findall(page.text)
    }


async def audit_log(b: Browser) -> list[tuple[str, str, str, str]]:
    """The audit page, newest first: (who, action as shown, what, detail)."""
    page = await b.get("/audit")
    assert page.status_code == 200, page.text[:300]
    return [
        tuple(html.unescape(c or "").strip() for c in row)  # type: ignore[misc]
        for row in AUDIT.findall(page.text)
    ]
