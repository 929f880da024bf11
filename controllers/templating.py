"""The Jinja environment's filters and globals: dates, numbers, names, query strings, and the
content-hashed URLs of static files (`static_url`) with the caching they allow."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from functools import lru_cache
from pathlib import Path
from typing import AnyStr
from urllib.parse import urlencode

from anyio import AsyncFile
from jinja2 import BytecodeCache, Environment, pass_context
from jinja2.bccache import Bucket
from jinja2.runtime import Context
from litestar import Litestar, Request
from litestar.datastructures import MutableScopeHeaders
from litestar.file_system import BaseLocalFileSystem
from litestar.types import Message, PathType, Scope
from litestar.types.file_types import FileInfo
from markupsafe import Markup, escape

from controllers.app_cache import app_cache
from controllers.components import COMPONENTS
from controllers.lookalike import reveal


class CompiledOnce(BytecodeCache):
    """Each template compiled once a process, however many apps it builds (the tests build
    hundreds); Jinja checks each entry against its template's source before using it. Bounded
    by the templates folder."""

    def __init__(self) -> None:
        self._code: dict[str, bytes] = {}

    def load_bytecode(self, bucket: Bucket) -> None:
        if (code := self._code.get(bucket.key)) is not None:
            bucket.bytecode_from_string(code)

    def dump_bytecode(self, bucket: Bucket) -> None:
        self._code[bucket.key] = bucket.bytecode_to_string()


COMPILED_TEMPLATES = CompiledOnce()


def when(value: datetime | None) -> str:
    if value is None:
        return "—"
    return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def ago(value: datetime | None) -> str:
    if value is None:
        return "never"
    seconds = int((datetime.now(UTC) - value).total_seconds())
    for unit, size in (("d", 86400), ("h", 3600), ("min", 60)):
        if seconds >= size:
            return f"{seconds // size} {unit} ago"
    return "just now" if seconds < 5 else f"{seconds} s ago"


def moment(value: datetime | str | None, none: str = "never") -> Markup:
    """A time as people read it ("4 min ago"), the exact time on hover and for machines: every
    page shows times this one way."""
    if value is None or value == "":
        return Markup(escape(none))
    at = datetime.fromisoformat(value) if isinstance(value, str) else value
    if at.tzinfo is None:
        at = at.replace(tzinfo=UTC)
    # Our own digits and words, nothing to escape: an f-string, not Markup.format (whose
    # Formatter cost 11 us a time against 4.5; a list page shows one a row).
    return Markup(f'<time datetime="{at.isoformat()}" title="{when(at)}">{ago(at)}</time>')


def duration(seconds: float | None) -> str:
    if seconds is None:
        return "—"
    if seconds < 60:
        return f"{seconds:.1f} s"
    return f"{int(seconds // 60)} min {int(seconds % 60)} s"


def number(value: int | None, capped: bool = False) -> str:
    """A count with thousands separators; `capped` (it stopped at its cap) reads "10,000+"."""
    return f"{value or 0:,}+" if capped else f"{value or 0:,}"


def query(params: Mapping[str, object], **changes: object) -> str:
    """A query string from the current params with some changed; empty values dropped."""
    merged = {**params, **changes}
    return urlencode({k: v for k, v in merged.items() if v not in (None, "", False)})


@pass_context
def flashes(context: Context) -> list[Mapping[str, object]]:
    """Flash messages, also on pages rendered outside the session middleware (404s)."""
    request = context.get("request")
    if request is None or "session" not in request.scope or not request.scope["session"]:
        return []
    return list(request.session.pop("_messages", []))


def register_filters(env: Environment) -> None:
    env.filters.update(
        when=when, ago=ago, moment=moment, duration=duration, number=number, reveal=reveal
    )
    env.globals.update(query=query, flashes=flashes, **COMPONENTS)


Reverse = Callable[[str, tuple[tuple[str, object], ...]], str]


def _reverser(app: Litestar) -> Reverse:
    @lru_cache(maxsize=8192)
    def reverse(route: str, params: tuple[tuple[str, object], ...]) -> str:
        return app.route_reverse(route, **dict(params))

    return reverse


def url_for(context: Mapping[str, object], /, route_name: str, **params: object) -> str:
    """Litestar's `url_for` for templates, remembered (per app): a list page asks for the same
    few hundred URLs (three a row) on every view, and each reverse lookup costs microseconds."""
    request = context["request"]
    assert isinstance(request, Request)  # every page's context has it (Litestar's)
    reverse = app_cache(request.app, "url_for", lambda: _reverser(request.app))
    return reverse(route_name, tuple(params.items()))


# ---------------------------------------------------------------- static files, content-hashed

STATIC_PREFIX = "/static/"
IMMUTABLE = "public, max-age=31536000, immutable"  # a hashed name is one version, for good
REVALIDATE = "no-cache"  # a plain name may change at the next deploy: ask each time


def hashed_name(name: str, content: bytes) -> str:
    """`app.css` -> `app.3f2a9c1b0d.css`: the first 10 hex digits of the bytes' SHA-256."""
    digest = hashlib.sha256(content).hexdigest()[:10]
    folder, _, file = name.rpartition("/")
    stem, dot, suffix = file.rpartition(".")
    hashed = f"{stem}.{digest}.{suffix}" if dot and stem else f"{file}.{digest}"
    return f"{folder}/{hashed}" if folder else hashed


class StaticAssets:
    """static/ under content-hashed names, computed once at start: a reload need not ask again
    for a file whose name says which bytes it holds."""

    def __init__(self, root: Path) -> None:
        self.root = root.resolve()
        self.urls: dict[str, str] = {}  # "app.css" -> "/static/app.3f2a9c1b0d.css"
        self.files: dict[str, tuple[Path, int, int]] = {}  # hashed name -> file, size, mtime
        for path in sorted(p for p in self.root.rglob("*") if p.is_file()):
            name = path.relative_to(self.root).as_posix()
            stat = path.stat()
            hashed = hashed_name(name, path.read_bytes())
            self.urls[name] = STATIC_PREFIX + hashed
            self.files[hashed] = (path, stat.st_size, stat.st_mtime_ns)

    def url(self, name: str) -> str:
        """The Jinja global `static_url('app.css')`; a file unknown at start keeps its name."""
        name = name.lstrip("/")
        return self.urls.get(name, STATIC_PREFIX + name)

    def file_system(self) -> BaseLocalFileSystem:
        return _HashedFiles(self)

    def source(self, path: str) -> Path | None:
        """The file a hashed path under static/ was computed from, while it holds those bytes
        (edited since start: None, so an immutable name never serves other bytes)."""
        name = path.removeprefix(str(self.root) + "/")
        found = self.files.get(name) if name != path else None
        if found is None:
            return None
        file, size, mtime = found
        try:
            stat = file.stat()
        except OSError:
            return None
        return file if (stat.st_size, stat.st_mtime_ns) == (size, mtime) else None

    async def cache_headers(self, message: Message, scope: Scope) -> None:
        """A before_send hook: a year for a hashed name served, revalidation for the rest."""
        path = scope.get("path", "")
        if message["type"] != "http.response.start" or not path.startswith(STATIC_PREFIX):
            return
        hashed = path.removeprefix(STATIC_PREFIX) in self.files and message["status"] == 200
        MutableScopeHeaders.from_message(message)["Cache-Control"] = (
            IMMUTABLE if hashed else REVALIDATE
        )


class _HashedFiles(BaseLocalFileSystem):
    """Litestar's local files, where a hashed name opens the file it was computed from; a
    plain name opens itself, and an unknown hash finds nothing (404)."""

    def __init__(self, assets: StaticAssets) -> None:
        self.assets = assets

    def _real(self, path: PathType) -> PathType:
        text = str(path)
        if text.removeprefix(str(self.assets.root) + "/") not in self.assets.files:
            return path
        source = self.assets.source(text)
        if source is None:
            raise FileNotFoundError(text)
        return source

    async def info(self, path: PathType, **kwargs: object) -> FileInfo:
        return await super().info(self._real(path), **kwargs)

    async def open(self, file: PathType, mode: str, buffering: int = -1) -> AsyncFile[AnyStr]:
        return await super().open(self._real(file), mode, buffering)
