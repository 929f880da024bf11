"""An unsafe request's body is read whole before anything looks at its session.

The session is loaded, and its admin checked, only once the last byte is in: a request that
holds back its body cannot act for a session that was signed out, reset or deactivated while
it waited. The body is kept in memory up to `IN_MEMORY` bytes, then on disk, and never beyond
the route's own `request_max_body_size` (413), so holding it costs no more than reading it.
"""

from __future__ import annotations

import asyncio
import tempfile
from typing import IO

from litestar.exceptions.http_exceptions import RequestEntityTooLarge
from litestar.types import Receive, ReceiveMessage, Scope
from litestar.types.asgi_types import HTTPRequestEvent

IN_MEMORY = 1 << 20
CHUNK = 1 << 16


def _limit(scope: Scope) -> float:
    handler: object = scope.get("route_handler")
    resolve = getattr(handler, "resolve_request_max_body_size", None)
    limit = resolve() if resolve is not None else None
    return float("inf") if limit is None else float(limit)


def _announced(scope: Scope) -> int | None:
    for name, value in scope.get("headers", []):
        if name == b"content-length":
            return int(value) if value.isdigit() else None
    return None


async def read_whole(scope: Scope, receive: Receive) -> Receive:
    """Read the body to its end (or the client's disconnect); a `receive` that replays it."""
    limit = _limit(scope)
    announced = _announced(scope)
    if announced is not None and announced > limit:
        raise RequestEntityTooLarge
    spool: IO[bytes] = tempfile.SpooledTemporaryFile(max_size=IN_MEMORY)  # noqa: SIM115 - replayed
    size = 0
    ending: ReceiveMessage | None = None
    try:
        while True:
            message = await receive()
            if message["type"] != "http.request":
                ending = message  # the client left: replayed after what it sent
                break
            body = message.get("body", b"")
            size += len(body)
            if size > limit:
                raise RequestEntityTooLarge
            if body:
                if size > IN_MEMORY:  # on disk by now: do not block the loop on the write
                    await asyncio.to_thread(spool.write, body)
                else:
                    spool.write(body)
            if not message.get("more_body", False):
                break
        spool.seek(0)
    except BaseException:
        spool.close()
        raise
    return _replay(spool, size, ending, receive)


def _replay(
    spool: IO[bytes], size: int, ending: ReceiveMessage | None, receive: Receive
) -> Receive:
    sent = 0

    async def replay() -> ReceiveMessage:
        nonlocal sent
        if not spool.closed:  # the body, then the spool is closed (an empty body: one event)
            chunk = spool.read(CHUNK)
            sent += len(chunk)
            more = sent < size
            if not more:
                spool.close()
            return HTTPRequestEvent(type="http.request", body=chunk, more_body=more)
        if ending is not None:
            return ending
        return await receive()  # after the body: the client's disconnect, when it comes

    return replay
