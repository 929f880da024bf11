"""A route walk with hostile names: every path parameter of every route is filled from a corpus
of reserved words and of the app's own route segments, over HTTP against the app as a process.

Folders with those names are staged first, so `/staged/api/activate` is a real model's
action. For each route: signed out, nothing but a way to the sign-in page; signed in, no unsafe
request without a CSRF token gets through; and nothing answers 5xx.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from dataclasses import dataclass, replace
from typing import Any
from urllib.parse import quote, unquote

import httpx
import pytest
from litestar.routes import HTTPRoute

from app import create_app
from domain.catalogue.keys import parse_key
from domain.platform.settings import Settings
from tests.conftest import Bucket, cli_env, count
from tests.served import Served, served
from tests.web import admin

RESERVED = ["api", "healthz", "static", "schema", "login", "logout", "_bulk", "sync", "..", "."]
SPECIAL = ["", "/", "api/", "/api/", "%2F", "a b", "Ann"]  # "/": a percent-encoded slash
INTS = ["0", "1", "-1", "2147483648", "99999999999999999999"]
PUBLIC = ("/api/", "/healthz", "/static/", "/schema", "/login")  # route templates, not paths
UNSAFE = {"POST", "PUT", "PATCH", "DELETE"}
PARAM = re.compile(r"\{(\w+):(\w+)\}")


def route_table(settings: Settings) -> list[tuple[str, str]]:
    """(method, path template) for every HTTP route the app serves."""
    app = create_app(settings)
    found = []
    for route in app.routes:
        if isinstance(route, HTTPRoute):
            for method in sorted(route.methods - {"OPTIONS", "HEAD"}):
                found.append((method, route.path))
    return found


def literal_segments(table: list[tuple[str, str]]) -> list[str]:
    return sorted({s for _, path in table for s in path.split("/") if s and "{" not in s})


def encode(name: str) -> str:
    """A name as one path segment; dots encoded so no client folds them into `..` steps."""
    if name in (".", ".."):
        return name.replace(".", "%2E")
    return quote(name, safe="")


def fillings(template: str, corpus: list[str]) -> list[str]:
    """Every way to fill the template's parameters: each corpus name in each of them."""
    params = PARAM.findall(template)
    if not params:
        return [template]
    out = []
    for name in corpus + INTS:
        out.append(PARAM.sub(lambda _m, n=name: encode(n), template))  # type: ignore[misc]
    return out


def pattern(template: str) -> re.Pattern[str]:
    """The test's own model of which decoded paths a template matches."""
    parts = re.split(r"(\{\w+:\w+\})", template)
    kinds = {"str": r"[^/]+", "int": r"-?\d+", "path": r".*"}
    regex = "".join(
        kinds[PARAM.fullmatch(p).group(2)] if PARAM.fullmatch(p) else re.escape(p)  # type: ignore[union-attr]
        for p in parts
    )
    return re.compile(regex)


def is_public(template: str) -> bool:
    return template.startswith(PUBLIC)


@dataclass
class Walk:
    app: Served
    table: list[tuple[str, str]]
    corpus: list[str]
    staged: list[str]

    def routed(self, method: str, path: str) -> str | None:
        """The template (for `method`) that the decoded path falls on, if any."""
        # Litestar's router skips empty segments: "/staged//a//activate" is a's action.
        decoded = re.sub("/+", "/", unquote(path)).rstrip("/") or "/"
        for m, template in self.table:
            if m == method and pattern(template).fullmatch(decoded):
                return template
        return None

    def requests(self, methods: set[str], variants: bool = False) -> list[tuple[str, str, str]]:
        """(method, template, concrete path) for every route with one of these methods; with
        `variants`, each path also with a doubled leading slash and with a trailing slash."""
        return [
            (method, template, variant)
            for method, template in self.table
            if method in methods
            for path in fillings(template, self.corpus)
            for variant in ([path, "/" + path, path + "/"] if variants else [path])
        ]


@pytest.fixture
async def walk(database: Any, bucket: Bucket, settings: Settings) -> AsyncIterator[Walk]:
    table = route_table(replace(settings, s3=bucket.s3.settings))
    corpus = list(dict.fromkeys(RESERVED + SPECIAL + literal_segments(table)))
    staged = [n for n in corpus if n and parse_key(f"{n}/P/a.jpg").model == n]
    assert {"api", "healthz", "staged", "activate", "sync-runs"} <= set(staged)
    await bucket.put(*(f"{n}/P/a.jpg" for n in staged))
    assert (await bucket.sync()).status == "succeeded"
    assert await count("whitelabel_models") == len(staged)
    await admin()
    async with served(cli_env(bucket.s3.settings, SECRET_KEY="w" * 64)) as app:
        yield Walk(app, table, corpus, staged)


async def send(client: httpx.AsyncClient, method: str, path: str, **kw: Any) -> httpx.Response:
    """The path exactly as given (no client-side folding of `//`, dots or escapes)."""
    url = httpx.URL(str(client.base_url), raw_path=path.encode())
    return await client.request(method, url, **kw)


async def test_signed_out_requests_get_only_the_way_to_sign_in(walk: Walk) -> None:
    wrong = []
    async with httpx.AsyncClient(base_url=walk.app.url, timeout=30) as client:
        for method, template, path in walk.requests({"GET", "POST"}, variants=True):
            if is_public(template):
                continue
            for hx in (False, True):
                headers = {"HX-Request": "true"} if hx else {}
                response = await send(client, method, path, headers=headers, data={"x": "1"})
                status = response.status_code
                to_login = (
                    status == 303 and response.headers["location"].startswith("/login?next=")
                ) or (
                    status == 401 and response.headers.get("hx-redirect", "").startswith("/login")
                )
                # A path no route matches may be a plain 404/405; a routed one must go to login.
                unrouted = walk.routed(method, path) is None and status in (404, 405)
                if not (to_login or unrouted):
                    wrong.append((method, path, hx, status, response.text[:80]))
    assert wrong == [], "\n".join(map(str, wrong))
    assert await count("models") == 0 and await count("audit_log") == 0


async def test_unsafe_requests_without_a_csrf_token_are_refused(walk: Walk) -> None:
    b = walk.app.browser
    await b.sign_in()
    runs_before = await count("sync_runs")
    audit_before = await count("audit_log")
    wrong = []
    for method, template, path in walk.requests(UNSAFE, variants=True):
        if template == "/login":
            continue  # signing in again is not an attack on this session
        response = await send(b.client, method, path, data={"name": "api", "published": "true"})
        status = response.status_code
        unrouted = walk.routed(method, path) is None and status in (404, 405)
        if not (status == 403 or unrouted):
            wrong.append((method, path, status, response.headers.get("location")))
    assert wrong == [], "\n".join(map(str, wrong))
    # Nothing happened: nothing activated, no sync started, nothing audited, still signed in.
    assert await count("models") == 0
    assert await count("sync_runs") == runs_before
    assert await count("audit_log") == audit_before
    assert (await b.client.get("/")).status_code == 200


async def test_no_route_answers_5xx_to_hostile_names(walk: Walk) -> None:
    b = walk.app.browser
    wrong = []
    async with httpx.AsyncClient(base_url=walk.app.url, timeout=30) as anonymous:
        for method, _template, path in walk.requests({"GET"}):
            response = await send(anonymous, method, path)
            if response.status_code >= 500:
                wrong.append(("signed out", method, path, response.status_code))
    await b.sign_in()
    for method, _template, path in walk.requests({"GET"}):
        response = await send(b.client, method, path)
        if response.status_code >= 500:
            wrong.append(("signed in", method, path, response.status_code))
        if path.startswith("/static/") and response.status_code == 200:
            assert "create_app" not in response.text, path  # no way out of static/
    for method, template, path in walk.requests(UNSAFE):
        if template in ("/login", "/logout"):
            continue
        response = await b.post(path, {"published": "true", "name": "api"})
        if response.status_code >= 500:
            wrong.append(("signed in, with token", method, path, response.status_code))
    assert wrong == [], "\n".join(map(str, wrong))
    assert (await b.client.get("/")).status_code == 200


EVIL = "http://evil.example"


async def test_cross_site_and_planted_tokens_are_refused(walk: Walk) -> None:
    """Every unsafe route, signed in, each with a token that passes a double-submit check: sent
    from another origin (Origin, else Referer, or an opaque "null" origin), or a valid token
    pair of the attacker's own planted as the victim's cookie. All refused, nothing done; the
    session's own token from this site still works."""
    b = walk.app.browser
    await b.get("/login")
    before_sign_in = b.client.cookies.get("cfx_csrf")
    await b.sign_in()
    assert b.client.cookies.get("cfx_csrf") not in (None, before_sign_in)  # rotated
    session_token = b.token
    async with httpx.AsyncClient(base_url=walk.app.url, timeout=30) as attacker:
        login = await attacker.get("/login")
        planted = str(attacker.cookies.get("cfx_csrf"))
        assert planted and planted in login.text  # the attacker's own valid pair
    domain = next(c.domain for c in b.client.cookies.jar if c.name == "cfx_csrf")
    runs_before, audit_before = await count("sync_runs"), await count("audit_log")
    wrong, tried = [], 0
    for method, template, path in walk.requests(UNSAFE):
        if template in ("/login", "/logout"):
            continue
        form = {"name": "api", "published": "true", "_csrf_token": session_token}
        for headers in ({"Origin": EVIL}, {"Referer": EVIL + "/page"}, {"Origin": "null"}):
            response = await send(b.client, method, path, data=form, headers=headers)
            tried += 1
            if response.status_code != 403 and walk.routed(method, path) is not None:
                wrong.append((method, path, headers, response.status_code))
        b.client.cookies.set("cfx_csrf", planted, domain=domain)
        response = await send(b.client, method, path, data={**form, "_csrf_token": planted})
        tried += 1
        if response.status_code != 403 and walk.routed(method, path) is not None:
            wrong.append((method, path, "planted cookie", response.status_code))
    assert wrong == [], "\n".join(map(str, wrong))
    assert tried >= 300, tried
    print(f"\ncsrf walk: {tried} forged requests refused")
    assert await count("models") == 0
    assert (await count("sync_runs"), await count("audit_log")) == (runs_before, audit_before)
    # The next page heals the cookie to the session's token, and a same-site post goes through.
    await b.get("/")
    assert b.client.cookies.get("cfx_csrf") == session_token == b.token
    ok = await b.post("/sync-schedule", {"schedule": ""}, headers={"Origin": walk.app.url})
    assert ok.status_code == 303, ok.text[:300]
