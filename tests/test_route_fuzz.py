"""A route-table fuzz against the app as a process: every route × every parameter it takes (path,
query, form field, the CSRF field) × a hostile corpus, signed out and in, with and without
HX-Request (pairwise: each parameter meets every value once, and both ways across the values;
each value both ways across the parameters). Nothing may answer 5xx, every response carries the
security headers, every one but static files says no-store, and no request writes a line of its
own into the server log. Signed in, an integer parameter written out of its column's range or
with other than ASCII digits ('٣', '３', ' 3', '3_0', '+3', '1e3') is refused
(4xx): never taken as another, valid, number."""

from __future__ import annotations

import base64
import dataclasses
import json
from collections import Counter
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote

import httpx
import pytest
from litestar.routes import HTTPRoute

from app import create_app
from controllers.lists import list_spec
from controllers.numbers import int_parameters
from domain.platform.settings import Settings
from tests.test_route_walk import Walk, send, walk  # noqa: F401  (walk: the fixture)

SECURITY_HEADERS = {
    "content-security-policy": "script-src 'self'",
    "x-frame-options": "DENY",
    "x-content-type-options": "nosniff",
    "referrer-policy": "same-origin",
}
DEFAULTS = {
    "name": "api",
    "ref": "api",
    "model_name": "api",
    "run_id": "1",
    "model_id": "1",
    "post_id": "1",
    "admin_id": "1",
    "job_id": "1",
    "file_path": "app.css",
    "path": "openapi.json",
}
SKIP = {"/logout", "/sync-runs/{run_id:int}/events"}  # signing out; an endless stream


def cursor(value: Any, row_id: Any = 1) -> str:
    raw = json.dumps([value, row_id]).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


# Already percent-encoded, sent as they are: some are invalid on purpose.
CORPUS = [
    "%00",
    "a%00b",
    "-1",
    "0",
    "2147483648",
    "9223372036854775808",
    "-99999999999999999999",
    "1e308",
    "abc",
    "true",
    "%5B%5D",
    "%FF%FE",
    "%ED%A0%80",  # an encoded lone surrogate
    "%C0%AF",  # an overlong "/"
    "%G1",
    "%",
    "%25",
    "%E2%80%AEevil",
    "x" * 10_000,
    "%0AFORGED%20log%20line",
    "%0D%0AFORGED:%20header",
    cursor(5),  # a number where the name sort wants text
    cursor({"t": "not a time"}),
    cursor("a", 2**70),
    cursor(2**70),
    cursor("\u0000"),
    cursor("\ud800"),
    cursor(None),
    cursor([1, 2]),
    cursor("a", "1"),
]
# Integers int() or msgspec would read as another number, or out of PostgreSQL integer's range:
# on an integer parameter each must be refused (issue 21 item 7).
BAD_INTS = [
    "99999999999",
    "2147483648",
    "-1",
    "0",
    "%D9%A3",  # '٣', Arabic-Indic three
    "%EF%BC%93",  # '３', full-width three
    "%203",  # ' 3'
    "3_0",
    "%2B3",  # '+3'
    "+3",  # a literal '+' in a path; a space in a query
    "1e3",
]
CORPUS += [v for v in BAD_INTS if v not in CORPUS]


@dataclasses.dataclass(frozen=True)
class Param:
    method: str
    template: str
    where: str  # "path", "query" or "form"
    name: str
    integer: bool = False  # an integer path or query parameter


def parameters(settings: Settings) -> list[Param]:
    """Every parameter of every route, read from the handlers' signatures."""
    found = []
    for route in create_app(settings).routes:
        if not isinstance(route, HTTPRoute) or route.path in SKIP:
            continue
        for handler in route.route_handlers:
            integers = int_parameters(handler, route.path)
            for method in sorted(handler.http_methods - {"OPTIONS", "HEAD"}):
                for name, field in handler.parsed_fn_signature.parameters.items():
                    if name in ("self", "request", "scope"):
                        continue
                    if name == "listing" and (spec := list_spec(handler)):  # a list's own
                        for key in spec.parameters():
                            found.append(Param(method, route.path, "query", key, key in integers))
                    elif name == "data":
                        for item in dataclasses.fields(field.annotation):
                            found.append(Param(method, route.path, "form", item.name))
                        found.append(Param(method, route.path, "form", "_csrf_token"))
                    elif name in route.path_parameters:
                        found.append(Param(method, route.path, "path", name, name in integers))
                    else:
                        found.append(Param(method, route.path, "query", name, name in integers))
    return found


def fill(template: str, overrides: dict[str, str]) -> str:
    path = template
    for name, value in {**DEFAULTS, **overrides}.items():
        for kind in ("str", "int", "path"):
            path = path.replace(f"{{{name}:{kind}}}", value)
    return path


def requests(
    params: list[Param], token: str
) -> Iterator[tuple[str, str, bytes | None, bool, bool]]:
    """(method, raw path with query, raw form body, whether it is a bad integer on an integer
    parameter, whether it is sent as htmx) for every parameter and corpus value."""
    for i, p in enumerate(params):
        for j, value in enumerate(CORPUS):
            hx = (i + j) % 2 == 1  # pairwise: see the module's docstring
            extra = ["&sort=posts", "&sort=synced"] if p.name in ("after", "before") else []
            for sort in ["", *extra]:
                if p.where == "path":
                    path, query, form = fill(p.template, {p.name: value}), "", ""
                elif p.where == "query":
                    path, query, form = fill(p.template, {}), f"?{p.name}={value}{sort}", ""
                else:
                    path, query = fill(p.template, {}), ""
                    form = f"{p.name}={value}"
                    if p.name != "_csrf_token":
                        form += f"&_csrf_token={quote(token)}"
                body = form.encode() if p.method != "GET" else None
                yield p.method, path + query, body, p.integer and value in BAD_INTS, hx


def check(response: httpx.Response, what: tuple[Any, ...], wrong: list[Any]) -> None:
    if response.status_code >= 500:
        wrong.append((*what, response.status_code, response.text[:120]))
    for header, part in SECURITY_HEADERS.items():
        if part not in response.headers.get(header, ""):
            wrong.append((*what, response.status_code, f"no {header}"))
    static = what[2].startswith("/static/")  # public files, cacheable (their errors too)
    # The public API's answers say how long they keep (inside the signed URLs' lifetime).
    api_ok = what[2].startswith("/api/") and response.status_code == 200
    cache = response.headers.get("cache-control")
    if api_ok and sorted((cache or "").split(", ")) != ["max-age=30", "public"]:
        wrong.append((*what, response.status_code, f"API cache-control {cache!r}"))
    if not static and not api_ok and cache != "no-store":
        wrong.append((*what, response.status_code, "not no-store"))


async def fuzz(
    client: httpx.AsyncClient, params: list[Param], token: str, label: str
) -> Counter[int]:
    wrong: list[Any] = []
    statuses: Counter[int] = Counter()
    for method, target, body, bad_int, hx in requests(params, token):
        headers = {"content-type": "application/x-www-form-urlencoded"} if body else {}
        if hx:
            headers["HX-Request"] = "true"
        response = await send(client, method, target, content=body, headers=headers)
        check(response, (label, method, target[:80], hx), wrong)
        if bad_int and label == "signed in" and response.status_code < 400:  # refused: 4xx
            wrong.append((label, method, target[:80], hx, response.status_code, "taken"))
        statuses[response.status_code] += 1
    assert wrong == [], "\n".join(map(str, wrong[:40]))
    print(f"\nroute fuzz, {label}: {len(params)} parameters, statuses {sorted(statuses.items())}")
    return statuses


def no_forged_lines(served: Walk) -> None:
    forged = [line for line in served.app.output().splitlines() if line.startswith("FORGED")]
    assert forged == [], forged[:5]


@pytest.mark.timeout(420)
async def test_fuzz_signed_out(walk: Walk, settings: Settings) -> None:  # noqa: F811
    params = parameters(settings)
    assert len(params) >= 50, len(params)
    async with httpx.AsyncClient(base_url=walk.app.url, timeout=30) as anonymous:
        login = await anonymous.get("/login")
        token = login.text.split('name="_csrf_token" value="')[1].split('"')[0]
        statuses = await fuzz(anonymous, params, token, "signed out")
        assert statuses[303] + statuses[401] > statuses.total() // 2  # mostly: sign in first
        wrong: list[Any] = []
        # The responses route middleware never sees: unrouted, wrong method, too large.
        for method, target, body in [
            ("GET", "/no/such/page", None),
            ("GET", "/sync", None),
            ("DELETE", "/login", None),
            ("POST", "/login", b"username=" + b"x" * 11_000_000),
            ("POST", "/login", b"username=a&password=b"),  # no CSRF token: 403
        ]:
            response = await send(anonymous, method, target, content=body)
            check(response, ("special", method, target, False), wrong)
        assert wrong == [], wrong
    no_forged_lines(walk)


@pytest.mark.timeout(600)
async def test_fuzz_signed_in(walk: Walk, settings: Settings) -> None:  # noqa: F811
    params = parameters(settings)
    b = walk.app.browser
    await b.sign_in()
    statuses = await fuzz(b.client, params, b.token, "signed in")
    # Signed in, the handlers and their validation answer, not the sign-in redirect.
    assert statuses[303] + statuses[401] < statuses.total() // 4, statuses
    assert statuses[400] > statuses.total() // 4, statuses
    assert (await b.client.get("/")).status_code == 200  # still signed in, nothing broke
    no_forged_lines(walk)


async def test_uvicorn_does_not_believe_forwarded_for_from_loopback(walk: Walk) -> None:  # noqa: F811
    """`python -m app` with FORWARDED_ALLOW_IPS unset: a client on 127.0.0.1 claiming another
    address is audited (and throttled) as 127.0.0.1."""
    b = walk.app.browser
    await b.get("/login")
    claim = {"X-Forwarded-For": "198.51.100.77"}
    response = await b.post("/login", {"username": "nobody", "password": "x"}, headers=claim)
    assert response.status_code == 400
    signed_in = await b.sign_in()
    assert signed_in.status_code == 303
    page = await b.get("/audit?action=sign_in_failed")
    assert "198.51.100.77" not in page.text and "127.0.0.1" in page.text
