"""A small fault-injecting HTTP proxy in front of moto's server, for the fault tests.

Each request is matched against rules in order; a matching rule answers with an S3 error,
delays past the client's timeout, or lets the request through. Everything else is forwarded.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from urllib.parse import unquote

import httpx

ERROR_XML = (
    '<?xml version="1.0" encoding="UTF-8"?><Error><Code>{code}</Code>'
    "<Message>{code} injected by the fault proxy</Message></Error>"
)


@dataclass
class Rule:
    """Answer `status`/`code` (or sleep `delay` s) for requests whose target matches."""

    matches: Callable[[str, str], bool]  # (method, decoded target) -> bool
    status: int = 500
    code: str = "InternalError"
    delay: float = 0.0
    times: int | None = None  # None: every time
    hits: int = 0

    def fires(self, method: str, target: str) -> bool:
        if not self.matches(method, target):
            return False
        if self.times is not None and self.hits >= self.times:
            return False
        self.hits += 1
        return True


@dataclass
class FaultProxy:
    upstream: str
    rules: list[Rule] = field(default_factory=list)
    requests: int = 0
    _server: asyncio.AbstractServer | None = None
    port: int = 0
    # Cap every listing page at this many keys (S3 may send fewer than asked): slow tests use
    # it so that a sync needs a request per model or so, as a remote bucket of big models does.
    page_size: int | None = None
    # Rewrite each listing page's body on its way back (a store that answers oddly).
    rewrite: Callable[[str, bytes], bytes] | None = None  # (decoded target, body) -> body

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def start(self) -> FaultProxy:
        # Plain http on loopback: verify=False spares loading the CA bundle (30 ms of CPU).
        self._client = httpx.AsyncClient(base_url=self.upstream, timeout=30, verify=False)
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self._server.wait_closed(), 2)
        await self._client.aclose()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                line = await reader.readline()
                if not line:
                    return
                method, target, _ = line.decode("latin-1").split(" ", 2)
                headers: list[tuple[str, str]] = []
                while (raw := await reader.readline()) not in (b"\r\n", b"\n", b""):
                    name, _, value = raw.decode("latin-1").partition(":")
                    headers.append((name.strip(), value.strip()))
                length = int(next((v for k, v in headers if k.lower() == "content-length"), 0))
                body = await reader.readexactly(length) if length else b""
                self.requests += 1
                await self._answer(writer, method, target, headers, body)
        except (ConnectionError, asyncio.IncompleteReadError, ValueError):
            return
        finally:
            writer.close()

    async def _answer(
        self,
        writer: asyncio.StreamWriter,
        method: str,
        target: str,
        headers: list[tuple[str, str]],
        body: bytes,
    ) -> None:
        decoded = unquote(target)
        for rule in self.rules:
            if rule.fires(method, decoded):
                if rule.delay:
                    await asyncio.sleep(rule.delay)
                if rule.status:
                    await _fail(writer, rule)
                    return
                break
        forwarded = [(k, v) for k, v in headers if k.lower() not in ("host", "content-length")]
        if self.page_size is not None and "list-type=2" in target:
            target = re.sub(r"max-keys=\d+", f"max-keys={self.page_size}", target)
        response = await self._client.request(method, target, headers=forwarded, content=body)
        kept = [
            (k, v)
            for k, v in response.headers.items()
            if k.lower()
            not in ("content-length", "transfer-encoding", "connection", "content-encoding")
        ]
        content = response.content
        if self.rewrite is not None and "list-type=2" in target and response.status_code == 200:
            content = self.rewrite(unquote(target), content)
        await _write(writer, response.status_code, kept, content)


async def _fail(writer: asyncio.StreamWriter, rule: Rule) -> None:
    payload = ERROR_XML.format(code=rule.code).encode()
    await _write(writer, rule.status, [("Content-Type", "application/xml")], payload)


async def _write(
    writer: asyncio.StreamWriter, status: int, headers: list[tuple[str, str]], body: bytes
) -> None:
    head = [
        f"HTTP/1.1 {status} X",
        *(f"{k}: {v}" for k, v in headers),
        f"Content-Length: {len(body)}",
        "",
        "",
    ]
    writer.write("\r\n".join(head).encode("latin-1") + body)
    await writer.drain()


def keys_listing(method: str, target: str) -> bool:
    """A ListObjectsV2 of keys (no delimiter), as the sync's key ranges send."""
    return listing()(method, target) and "delimiter=" not in target


def listing_in(folder: str, status: int = 500, code: str = "InternalError") -> Rule:
    """Fails every listing of this model folder's keys ("Bravo/"): by its prefix, or by a key
    range starting inside it (StartAfter "Bravo." and on)."""

    def matches(method: str, target: str) -> bool:
        inside = f"start-after={folder[:-1]}" in target or f"prefix={folder}" in target
        return listing()(method, target) and inside

    return Rule(matches, status, code)


def listing(prefix: str | None = None) -> Callable[[str, str], bool]:
    """Matches ListObjectsV2 requests, optionally for one prefix."""

    def matches(method: str, target: str) -> bool:
        if method != "GET" or "list-type=2" not in target:
            return False
        return prefix is None or f"prefix={prefix}&" in target + "&"

    return matches


def anything(method: str, target: str) -> bool:
    return True
