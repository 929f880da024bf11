"""Serve an ASGI app with uvicorn (one worker) in a subprocess; sign in to it like a browser."""

from __future__ import annotations

import asyncio
import html
import os
import re
from collections.abc import Callable
from pathlib import Path
from types import TracebackType

import aiohttp
from yarl import URL

from harness.app import ServedLater, start_uvicorn
from harness.ports import free_port
from harness.processes import stop_group

CSRF_INPUT = re.compile(r'name="_csrf_token"\s+value="([^"]+)"')
NEXT_LINK = re.compile(r'href="/staged\?([^"]*after=[^"]+)"')
UVICORN_OPTIONS = ("--workers", "1", "--no-access-log", "--log-level", "warning")


def server_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    """The environment minus DO_SPACES_* (embedded S3), with a fixed secret key."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("DO_SPACES_")}
    env.update({"SECRET_KEY": "x" * 64, "EMBEDDED_S3_PORT": str(free_port())})
    env.update(extra or {})
    return env


def below_500(status: int) -> bool:
    return status < 500


class UvicornServer(ServedLater):
    """`python -m uvicorn <app> --factory`, one worker, no access log; stopped on exit."""

    def __init__(
        self,
        name: str,
        app: str,
        health: str,
        log_dir: Path,
        env: dict[str, str] | None = None,
        app_dir: Path | None = None,  # import the app from there (another commit's checkout)
    ) -> None:
        self.env = env
        self.options = (*UVICORN_OPTIONS, "--app-dir", str(app_dir)) if app_dir else UVICORN_OPTIONS
        self.name = name
        self.app = app
        self.health = health
        self.log_path = log_dir / f"web_{name}_server.log"

    async def __aenter__(self) -> UvicornServer:
        env = server_env(self.env)
        name = f"{self.name} server"
        started = start_uvicorn(name, self.app, env, self.log_path, self.options, session=False)
        server = self._running(started)
        try:
            await server.wait_answering(self.health, 120, ok=below_500, interval=0.25)
        except BaseException:
            await self.__aexit__(None, None, None)
            raise
        return self

    async def __aexit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self.server is not None:
            await asyncio.to_thread(stop_group, self.server.popen, 15, leader_only=True)


def _cookie_header(jar: aiohttp.CookieJar, base: str) -> str:
    cookies = jar.filter_cookies(URL(base))
    return "; ".join(f"{name}={morsel.value}" for name, morsel in cookies.items())


async def _signed_in(response: aiohttp.ClientResponse, ok: Callable[[int], bool], who: str) -> None:
    """RuntimeError naming `who` unless the sign-in POST's status is `ok`."""
    if not ok(response.status):
        raise RuntimeError(f"{who} failed: HTTP {response.status} {await response.text()}")


def _session_cookie(jar: aiohttp.CookieJar, base: str, name: str, who: str) -> str:
    """The Cookie header to send, which must hold the session cookie `name`."""
    cookie = _cookie_header(jar, base)
    if f"{name}=" not in cookie:
        raise RuntimeError(f"{who} set no `{name}` session cookie")
    return cookie


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
            await _signed_in(response, lambda status: status == 303, "sign-in")
        return _session_cookie(jar, base, "cfx_session", "sign-in")


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
            await _signed_in(response, lambda status: status < 400, "Piccolo Admin sign-in")
        return _session_cookie(jar, base, "id", "Piccolo Admin sign-in")


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
