"""The request boundary's rules, driven as ASGI with the scopes a client can shape: whose
address the throttle and audit see, which sources count as this site, which requests carry a
NUL, what every response's headers forbid. No database: a handler that records what reached it
stands behind the middleware (the HTTP tests in test_sign_in_guard.py and test_csrf_edges.py
drive the same code through the app)."""

from __future__ import annotations

import asyncio
import ipaddress
from typing import Any

import pytest
from litestar.datastructures import MutableScopeHeaders
from litestar.exceptions import PermissionDeniedException

from controllers.boundary import Boundary, client_address, csp, origin_of, security_headers
from domain.platform.paging import BadQuery

PROXIES = (ipaddress.ip_network("10.0.0.1/32"), ipaddress.ip_network("10.9.0.0/16"))


@pytest.mark.parametrize(
    ("peer", "forwarded", "client"),
    [
        ("10.0.0.1", "198.51.100.23", "198.51.100.23"),
        ("10.0.0.1", " 198.51.100.23 ", "198.51.100.23"),
        ("10.0.0.1", "198.51.100.23, 10.9.4.4", "198.51.100.23"),  # two trusted hops
        ("10.0.0.1", "6.6.6.6, 198.51.100.23", "198.51.100.23"),  # the client's own claim
        ("10.0.0.1", "10.9.1.1, 10.9.2.2", "10.9.1.1"),  # every hop a proxy: the first
        ("10.0.0.1", "6.6.6.6, junk, 10.9.4.4", "10.0.0.1"),  # a malformed hop: the peer
        ("10.0.0.1", "", "10.0.0.1"),
        ("10.0.0.1", None, "10.0.0.1"),
        ("203.0.113.7", "198.51.100.23", "203.0.113.7"),  # an untrusted peer
        ("not an address", "198.51.100.23", "not an address"),
        ("10.0.0.1", "2001:db8::1", "2001:db8::1"),
    ],
)
def test_the_client_is_the_right_most_hop_no_trusted_proxy_added(
    peer: str, forwarded: str | None, client: str
) -> None:
    assert client_address(peer, forwarded, PROXIES) == client
    assert client_address(peer, forwarded, ()) == peer  # no proxy trusted: never the header


def test_origin_of_keeps_scheme_host_and_port_only() -> None:
    assert origin_of("https://b.example:9000/bucket/x?y=1") == "https://b.example:9000"
    assert origin_of("http://b.example") == "http://b.example"
    assert origin_of("b.example/bucket") == ""
    assert origin_of("https://") == ""
    assert origin_of(None) == ""


def test_the_policy_lets_pages_reach_only_this_site_and_the_bucket() -> None:
    policy = dict(p.strip().split(" ", 1) for p in csp("https://b.example:9000").split(";"))
    assert policy["connect-src"] == "'self' https://b.example:9000"
    assert dict(p.strip().split(" ", 1) for p in csp().split(";"))["connect-src"] == "'self'"
    assert policy == {
        "default-src": "'self'",
        "script-src": "'self'",
        "style-src": "'self'",
        "img-src": "'self' data: http: https:",
        "media-src": "'self' http: https:",
        "connect-src": "'self' https://b.example:9000",
        "frame-ancestors": "'none'",
        "base-uri": "'self'",
        "form-action": "'self'",
        "object-src": "'none'",
    }


async def headers_for(path: str, sent: dict[str, str] | None = None) -> dict[str, str]:
    message: Any = {"type": "http.response.start", "status": 200, "headers": []}
    for name, value in (sent or {}).items():
        MutableScopeHeaders.from_message(message)[name] = value
    hook = security_headers(lambda: "https://b.example:9000/bucket")
    await hook(message, {"type": "http", "path": path})  # type: ignore[typeddict-item]
    return {k.decode().lower(): v.decode() for k, v in message["headers"]}


async def test_every_response_forbids_framing_sniffing_and_caching() -> None:
    page = await headers_for("/staged")
    assert page["x-frame-options"] == "DENY" and page["x-content-type-options"] == "nosniff"
    assert page["referrer-policy"] == "same-origin"
    assert "connect-src 'self' https://b.example:9000;" in page["content-security-policy"]
    assert page["cache-control"] == "no-store"
    # A page may not choose to be cached; the public API and static files may.
    assert (await headers_for("/staged", {"cache-control": "max-age=60"}))[
        "cache-control"
    ] == "no-store"
    api = await headers_for("/api/v1/models", {"cache-control": "max-age=60"})
    assert api["cache-control"] == "max-age=60" and api["x-frame-options"] == "DENY"
    assert (await headers_for("/api/v1/models"))["cache-control"] == "no-store"
    static = await headers_for("/static/app.css", {"cache-control": "max-age=60"})
    assert static["cache-control"] == "max-age=60" and "content-security-policy" in static
    body: Any = {"type": "http.response.body", "body": b"x"}
    await security_headers(lambda: None)(body, {"type": "http", "path": "/"})  # type: ignore[typeddict-item]
    assert body == {"type": "http.response.body", "body": b"x"}


class Reached:
    """The handler behind the boundary: what scope, if any, got through."""

    def __init__(self) -> None:
        self.scope: dict[str, Any] | None = None
        self.body = b""

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        self.scope = scope
        while (message := await receive())["type"] == "http.request":
            self.body += message.get("body", b"")
            if not message.get("more_body"):
                break


async def through(
    method: str = "GET",
    *,
    path: str = "/staged",
    query: bytes = b"",
    headers: dict[str, str] | None = None,
    peer: str = "203.0.113.7",
    trusted: tuple[str, ...] = (),
    body: bytes = b"",
) -> Reached:
    raw = [(k.lower().encode(), v.encode("latin-1")) for k, v in (headers or {}).items()]
    scope: Any = {
        "type": "http",
        "method": method,
        "path": path,
        "query_string": query,
        "headers": [(b"host", b"admin.example"), *raw],
        "client": (peer, 5000),
        "path_params": {},
    }
    chunks = [body[:3], body[3:]]

    async def receive() -> Any:
        chunk = chunks.pop(0) if chunks else b""
        return {"type": "http.request", "body": chunk, "more_body": bool(chunks)}

    async def send(message: Any) -> None:
        raise AssertionError("the boundary itself never answers")

    reached = Reached()
    await asyncio.wait_for(Boundary(trusted).handle(scope, receive, send, reached), 5)
    return reached


@pytest.mark.parametrize(
    "source",
    [
        {"origin": "https://evil.example"},
        {"origin": "https://admin.example.evil.example"},
        {"origin": "https://admin.example:8443"},
        {"origin": "null"},  # a sandboxed frame or a file: page
        {"origin": "admin.example"},  # no scheme: no host to compare
        {"referer": "https://evil.example/admin.example/staged"},
        {"origin": "https://evil.example", "referer": "https://admin.example/staged"},
    ],
)
async def test_an_unsafe_request_from_another_site_is_refused(source: dict[str, str]) -> None:
    with pytest.raises(PermissionDeniedException, match="Cross-site request refused"):
        await through("POST", headers=source)
    assert (await through("GET", headers=source)).scope is not None  # reading is allowed


@pytest.mark.parametrize(
    "source",
    [
        {},  # says nothing: the CSRF token decides
        {"origin": "https://admin.example"},
        {"origin": "https://ADMIN.example"},
        {"referer": "http://admin.example/staged?q=1"},
    ],
)
async def test_an_unsafe_request_from_this_site_reaches_its_handler_with_its_body(
    source: dict[str, str],
) -> None:
    reached = await through("POST", headers=source, body=b"schedule=every+5m")
    assert reached.scope is not None and reached.body == b"schedule=every+5m"


async def test_a_trusted_proxy_names_the_client_and_the_host() -> None:
    forwarded = {
        "x-forwarded-for": "6.6.6.6, 198.51.100.23",
        "x-forwarded-host": "public.example, inner.example",
        "origin": "https://public.example",
    }
    reached = await through("POST", headers=forwarded, peer="10.0.0.1", trusted=("10.0.0.1/32",))
    assert reached.scope is not None and reached.scope["client"] == ("198.51.100.23", 5000)
    # Not from a trusted proxy: both headers are the client's own words.
    with pytest.raises(PermissionDeniedException):
        await through("POST", headers=forwarded, peer="10.0.0.2", trusted=("10.0.0.1/32",))
    plain = await through("GET", headers=forwarded, peer="10.0.0.2", trusted=("10.0.0.1/32",))
    assert plain.scope is not None and plain.scope["client"] == ("10.0.0.2", 5000)


@pytest.mark.parametrize(
    ("path", "query", "named"),
    [
        ("/staged/a\x00b", b"", "The path holds a NUL byte"),
        ("/staged", b"q=a%00b", "query parameter 'q' holds a NUL byte"),
        ("/staged", b"a%00b=1", "query parameter 'ab' holds a NUL byte"),
    ],
    ids=["path", "query value", "query name"],  # mutmut's runs take ids unescaped: no bytes
)
async def test_a_nul_anywhere_in_the_address_is_a_clear_400(
    path: str, query: bytes, named: str
) -> None:
    with pytest.raises(BadQuery, match=named):
        await through(path=path, query=query)
    assert (await through(query=b"q=a%01b&empty=")).scope is not None
