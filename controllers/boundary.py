"""The request boundary, before any handler: who asks (forwarded headers only from trusted
proxies), what the path and query hold (no NUL), where an unsafe request comes from (Origin or
Referer of this site), its whole body before its session is read, and the security headers
that every response carries, errors included."""

from __future__ import annotations

import functools
import ipaddress
import logging
from collections.abc import Awaitable, Callable, Iterable
from urllib.parse import parse_qsl, urlsplit

from litestar.datastructures import MutableScopeHeaders
from litestar.enums import ScopeType
from litestar.exceptions import PermissionDeniedException
from litestar.middleware import ASGIMiddleware
from litestar.types import ASGIApp, Message, Receive, Scope, Send

from controllers.whole_body import read_whole
from domain.platform.paging import BadQuery

log = logging.getLogger("creatorflix.boundary")
UNSAFE = frozenset({"POST", "PUT", "PATCH", "DELETE"})
HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
}
Network = ipaddress.IPv4Network | ipaddress.IPv6Network
Hook = Callable[[Message, Scope], Awaitable[None]]


@functools.lru_cache(maxsize=8)
def csp(bucket_origin: str = "") -> str:
    """The policy; pages may also send requests to the bucket (uploads POST files there)."""
    connect = f"'self' {bucket_origin}" if bucket_origin else "'self'"
    return (
        "default-src 'self'; script-src 'self'; style-src 'self'; "
        "img-src 'self' data: http: https:; media-src 'self' http: https:; "
        f"connect-src {connect}; frame-ancestors 'none'; base-uri 'self'; form-action 'self'; "
        "object-src 'none'"
    )


def origin_of(url: str | None) -> str:
    """scheme://host[:port] of a URL, or "" (what CSP source lists name)."""
    parts = urlsplit(url or "")
    return f"{parts.scheme}://{parts.netloc}" if parts.scheme and parts.netloc else ""


def security_headers(bucket_url: Callable[[], str | None]) -> Hook:
    """A before_send hook: it sees every response, also the router's 404/405 and 413, 403 and
    500 raised in middleware, which route middleware never does. Nothing but static files and
    the public API's answers (which say how long) may be kept by a cache (Back after sign-out
    must not show the audit log). `bucket_url` is read per response: the embedded S3's
    endpoint is known only once the app has started."""

    async def hook(message: Message, scope: Scope) -> None:
        if message["type"] != "http.response.start":
            return
        headers = MutableScopeHeaders.from_message(message)
        headers["Content-Security-Policy"] = csp(origin_of(bucket_url()))
        for name, value in HEADERS.items():
            headers[name] = value
        path = scope.get("path", "")
        if path.startswith("/static/"):
            return
        if not (path.startswith("/api/") and "cache-control" in headers):  # the API sets its own
            headers["Cache-Control"] = "no-store"

    return hook


def _address(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(text.strip())
    except ValueError:
        return None


def trusted(peer: str, networks: Iterable[Network]) -> bool:
    address = _address(peer)
    return address is not None and any(address in net for net in networks)


def client_address(peer: str, forwarded: str | None, networks: tuple[Network, ...]) -> str:
    """The client behind trusted proxies: the right-most X-Forwarded-For hop that is not one of
    them. From an untrusted peer, or with any malformed hop on the way, the peer itself."""
    if not forwarded or not networks or not trusted(peer, networks):
        return peer
    client = peer
    for hop in reversed(forwarded.split(",")):
        address = _address(hop)
        if address is None:
            return peer
        client = str(address)
        if not any(address in net for net in networks):
            break
    return client


def _header(scope: Scope, name: bytes) -> str | None:
    values = [v.decode("latin-1") for k, v in scope.get("headers", []) if k == name]
    return ", ".join(values) if values else None


def _refuse_nul(where: str, items: Iterable[tuple[str, object]]) -> None:
    for key, value in items:
        if "\x00" in str(key) or "\x00" in str(value):
            raise BadQuery(f"{where} {str(key).replace(chr(0), '')!r} holds a NUL byte (%00).")


class Boundary(ASGIMiddleware):
    """First of the app's middleware: it runs for every routed HTTP request."""

    scopes = (ScopeType.HTTP,)

    def __init__(self, forwarded_allow_ips: tuple[str, ...] = ()) -> None:
        self.networks = tuple(ipaddress.ip_network(n) for n in forwarded_allow_ips)

    async def handle(self, scope: Scope, receive: Receive, send: Send, next_app: ASGIApp) -> None:
        host = _header(scope, b"host") or ""
        client = scope.get("client")
        if client and self.networks and trusted(client[0], self.networks):
            forwarded = _header(scope, b"x-forwarded-for")
            scope["client"] = (client_address(client[0], forwarded, self.networks), client[1])
            forwarded_host = (_header(scope, b"x-forwarded-host") or "").split(",")[0].strip()
            host = forwarded_host or host
        if "\x00" in scope["path"]:
            raise BadQuery("The path holds a NUL byte (%00): no name can.")
        _refuse_nul("path parameter", scope.get("path_params", {}).items())
        query = scope.get("query_string", b"").decode("latin-1")
        _refuse_nul("query parameter", parse_qsl(query, keep_blank_values=True))
        if scope.get("method") in UNSAFE:
            self._same_origin(scope, host)
            receive = await read_whole(scope, receive)  # before the session is loaded
        await next_app(scope, receive, send)

    @staticmethod
    def _same_origin(scope: Scope, host: str) -> None:
        """Refuse an unsafe request that says it comes from another site. One that says
        nothing (no Origin, no Referer) still needs its session's CSRF token."""
        source = _header(scope, b"origin") or _header(scope, b"referer")
        if source is None:
            return
        netloc = urlsplit(source).netloc if source != "null" else ""
        if not netloc or netloc.lower() != host.lower():
            log.warning(
                "cross-origin %s %r from %r refused", scope.get("method"), scope["path"], source
            )
            raise PermissionDeniedException(
                f"Cross-site request refused: it came from {source[:100]!r}, not this site."
            )
