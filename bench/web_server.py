"""Serve an ASGI app with uvicorn (one worker) in a subprocess; sign in to it like a browser."""

from __future__ import annotations

import asyncio
import html
import os
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from types import TracebackType

import aiohttp
from yarl import URL

ROOT = Path(__file__).resolve().parent.parent
CSRF_INPUT = re.compile(r'name="_csrf_token"\s+value="([^"]+)"')
NEXT_LINK = re.compile(r'href="/staged\?([^"]*after=[^"]+)"')


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def server_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    """The environment minus DO_SPACES_* (embedded S3), with a fixed secret key."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("DO_SPACES_")}
    env.update({"SECRET_KEY": "x" * 64, "EMBEDDED_S3_PORT": str(free_port())})
    env.update(extra or {})
    return env


class UvicornServer:
    """`python -m uvicorn <app> --factory`, one worker, no access log; stopped on exit."""

    def __init__(
        self, name: str, app: str, health: str, log_dir: Path, env: dict[str, str] | None = None
    ) -> None:
        self.env = env
        self.name = name
        self.app = app
        self.health = health
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.log_path = log_dir / f"web_{name}_server.log"
        self.process: asyncio.subprocess.Process | None = None

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    async def __aenter__(self) -> UvicornServer:
        command = [
            sys.executable, "-m", "uvicorn", self.app, "--factory", "--host", "127.0.0.1",
            "--port", str(self.port), "--workers", "1", "--no-access-log",
            "--log-level", "warning",
        ]  # fmt: skip
        with self.log_path.open("wb") as log:
            self.process = await asyncio.create_subprocess_exec(
                *command, cwd=ROOT, env=server_env(self.env), stdout=log, stderr=subprocess.STDOUT
            )
        await self._wait_ready(within=120)
        return self

    async def _wait_ready(self, within: float) -> None:
        deadline = time.monotonic() + within
        async with aiohttp.ClientSession() as session:
            while time.monotonic() < deadline:
                assert self.process is not None
                if self.process.returncode is not None:
                    raise RuntimeError(
                        f"{self.name} server exited ({self.process.returncode}); "
                        f"log:\n{self.log_path.read_text()[-3000:]}"
                    )
                try:
                    async with session.get(self.base + self.health) as response:
                        if response.status < 500:
                            return
                except aiohttp.ClientError:
                    pass
                await asyncio.sleep(0.25)
        raise RuntimeError(f"{self.name} server not ready after {within} s: see {self.log_path}")

    async def __aexit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self.process is None or self.process.returncode is not None:
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            await asyncio.wait_for(self.process.wait(), 15)
        except TimeoutError:
            self.process.kill()
            await self.process.wait()


def _cookie_header(jar: aiohttp.CookieJar, base: str) -> str:
    cookies = jar.filter_cookies(URL(base))
    return "; ".join(f"{name}={morsel.value}" for name, morsel in cookies.items())


async def login_ours(base: str, username: str, password: str) -> str:
    """Sign in at POST /login (form + CSRF token); returns the Cookie header to send."""
    jar = aiohttp.CookieJar(unsafe=True)
    async with aiohttp.ClientSession(cookie_jar=jar) as session:
        async with session.get(base + "/login") as response:
            page = await response.text()
        found = CSRF_INPUT.search(page)
        if found is None:
            raise RuntimeError("no _csrf_token input on /login")
        form = {"username": username, "password": password, "_csrf_token": found.group(1)}
        async with session.post(base + "/login", data=form, allow_redirects=False) as response:
            if response.status != 303:
                raise RuntimeError(
                    f"sign-in failed: HTTP {response.status} {await response.text()}"
                )
        cookie = _cookie_header(jar, base)
        if "cfx_session=" not in cookie:
            raise RuntimeError("sign-in set no cfx_session cookie")
        return cookie


async def login_piccolo_admin(base: str, username: str, password: str) -> str:
    """Piccolo Admin: a GET sets `csrftoken`; POST /public/login/ JSON with X-CSRFToken."""
    jar = aiohttp.CookieJar(unsafe=True)
    async with aiohttp.ClientSession(cookie_jar=jar) as session:
        async with session.get(base + "/public/meta/") as response:
            await response.read()
        token = jar.filter_cookies(URL(base)).get("csrftoken")
        if token is None:
            raise RuntimeError("Piccolo Admin set no csrftoken cookie")
        async with session.post(
            base + "/public/login/",
            json={"username": username, "password": password},
            headers={"X-CSRFToken": token.value},
            allow_redirects=False,
        ) as response:
            if response.status >= 400:
                raise RuntimeError(
                    f"Piccolo Admin sign-in failed: HTTP {response.status} {await response.text()}"
                )
        cookie = _cookie_header(jar, base)
        if "id=" not in cookie:
            raise RuntimeError("Piccolo Admin sign-in set no `id` session cookie")
        return cookie


async def deep_path(base: str, cookie: str, start: str, rows: int, size: int) -> str:
    """Follow "Next" links from `start` until about `rows` rows in; returns that page's path."""
    path = start
    async with aiohttp.ClientSession(headers={"Cookie": cookie}) as session:
        for _ in range(max(0, rows // size)):
            async with session.get(base + path, allow_redirects=False) as response:
                if response.status != 200:
                    raise RuntimeError(f"GET {path}: HTTP {response.status}")
                page = await response.text()
            found = NEXT_LINK.search(page)
            if found is None:
                break
            path = "/staged?" + html.unescape(found.group(1))
    return path


async def fetch_once(base: str, cookie: str, path: str) -> tuple[int, bytes]:
    """(status, body) of one GET: a sanity check before a load run."""
    async with (
        aiohttp.ClientSession(headers={"Cookie": cookie} if cookie else {}) as session,
        session.get(base + path, allow_redirects=False) as response,
    ):
        return response.status, await response.read()
