"""Helpers for the browser tests: the per-test page wrapper, bucket contents, locators."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import re
from collections.abc import AsyncIterator, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from playwright.async_api import Browser, ConsoleMessage, Dialog, Error, Locator, Page, expect

from domain.catalogue.keys import KeyKind, parse_key
from domain.platform.demo import demo_objects
from domain.platform.s3 import S3Service
from tests.conftest import Bucket, bounded, store_object

ROOT = Path(__file__).resolve().parents[2]
SHOTS = ROOT / "test-output" / "screenshots"
SHOT_QUALITY = 80  # JPEG (UI.screenshot)
USERNAME, EMAIL, PASSWORD = "tester", "t@example.com", "correct-horse-42"
TINY_JPEG_NAME = "a.jpg"


@dataclass
class UI:
    """One browser page on the live app; collects JS errors, console errors and dialogs."""

    page: Page
    base: str
    errors: list[str] = field(default_factory=list)
    alerts: list[str] = field(default_factory=list)
    confirms: list[str] = field(default_factory=list)
    accept_confirms: bool = False
    cancel_confirms: bool = False  # the test answers Cancel to each confirm() on purpose
    allowed_console: list[re.Pattern[str]] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.page.on("console", self._on_console)
        self.page.on("pageerror", self._on_page_error)
        self.page.on("dialog", self._on_dialog)

    def url(self, path: str = "/") -> str:
        return self.base + path

    def allow_console_error(self, pattern: str) -> None:
        """Tolerate console errors matching `pattern` (e.g. a 4xx the test provokes)."""
        self.allowed_console.append(re.compile(pattern))

    def _on_console(self, msg: ConsoleMessage) -> None:
        if msg.type != "error":
            return
        loc = msg.location
        text = f"console error: {msg.text} ({loc.get('url', '')}:{loc.get('lineNumber', '')})"
        if not any(p.search(text) for p in self.allowed_console):
            self.errors.append(text)

    def _on_page_error(self, exc: Error) -> None:
        self.errors.append(f"uncaught JS error: {exc.name}: {exc.message}\n{exc.stack}")

    async def _on_dialog(self, dialog: Dialog) -> None:
        if dialog.type == "confirm":
            self.confirms.append(dialog.message)
            if self.accept_confirms:
                await dialog.accept()
                return
            if self.cancel_confirms:
                await dialog.dismiss()
                return
            self.errors.append(f"unexpected confirm(): {dialog.message}")
        else:
            self.alerts.append(f"{dialog.type}: {dialog.message}")
            self.errors.append(f"unexpected {dialog.type}(): {dialog.message}")
        await dialog.dismiss()

    async def goto(self, path: str) -> None:
        response = await self.page.goto(self.url(path))
        assert response is not None and response.ok, f"GET {path}: {response and response.status}"

    async def sign_in(self) -> None:
        await self.goto("/login")
        await self.page.get_by_label("Username").fill(USERNAME)
        await self.page.get_by_label("Password").fill(PASSWORD)
        await self.page.get_by_role("button", name="Sign in").click()
        # Attached, not visible: on a phone it sits in the closed menu.
        await expect(
            self.page.get_by_role("button", name="Sign out", include_hidden=True)
        ).to_be_attached()
        await expect(self.page.locator(".user")).to_contain_text(USERNAME)

    async def screenshot(self, name: str, full_page: bool = True) -> Path:
        """The page (or only the viewport: what a modal dialog covers) as test-output/…/name.jpg.

        JPEG: Chromium encodes a PNG in about 0.2 s of CPU (a fifth of the axe test's), a JPEG
        in next to nothing, and these are for people to look at."""
        SHOTS.mkdir(parents=True, exist_ok=True)
        path = SHOTS / f"{name}.jpg"
        await self.page.screenshot(path=str(path), full_page=full_page, quality=SHOT_QUALITY)
        return path

    async def mark_document(self) -> None:
        """Tag the current document; `same_document()` is False after a full page load."""
        await self.page.evaluate("window.__cfxMark = 'kept'")

    async def same_document(self) -> bool:
        return bool(await self.page.evaluate("window.__cfxMark === 'kept'"))


@contextlib.asynccontextmanager
async def open_ui(browser: Browser, base: str, **options: Any) -> AsyncIterator[UI]:
    """A fresh context (en-GB, UTC, `options`) and page on `base`; closed at the end, and the
    test failed if the browser reported JS errors, console errors or dialogs meanwhile."""
    context = await browser.new_context(locale="en-GB", timezone_id="UTC", **options)
    context.set_default_timeout(10_000)
    wrapper = UI(await context.new_page(), base)
    try:
        yield wrapper
    finally:
        await bounded(context.close(), "closing the browser context")
    if wrapper.errors:
        pytest.fail("the browser reported problems:\n" + "\n".join(wrapper.errors))


def card_value(page: Page, label: str) -> Locator:
    """The big number of the dashboard card whose label is exactly `label`."""
    label_el = page.locator(".card-label").get_by_text(label, exact=True)
    return page.locator(".card").filter(has=label_el).locator(".card-value")


def counter_value(panel: Locator, label: str) -> Locator:
    label_el = panel.page.locator(".counter-label").get_by_text(label, exact=True)
    return panel.locator(".counter").filter(has=label_el).locator(".counter-value")


def staged_row(page: Page, name: str) -> Locator:
    link = page.get_by_role("link", name=name, exact=True)
    return page.locator("#staged-table tbody tr").filter(has=link)


def production_row(page: Page, name: str) -> Locator:
    link = page.get_by_role("link", name=name, exact=True)
    return page.locator("#production-list tbody tr").filter(has=link)


@dataclass(frozen=True)
class Expected:
    """What a sync of some keys puts in the staged catalogue, worked out from the key rules."""

    models: int
    posts: int
    images: int
    videos: int
    ignored: int


def expected(keys: Iterable[str]) -> Expected:
    models: set[str] = set()
    posts: set[tuple[str, str]] = set()
    images = videos = ignored = 0
    for key in keys:
        parsed = parse_key(key)
        if parsed.kind is KeyKind.IGNORED:
            ignored += 1
            continue
        assert parsed.model is not None
        models.add(parsed.model)
        if parsed.is_post_media:
            assert parsed.post is not None
            posts.add((parsed.model, parsed.post))
            images += parsed.kind is KeyKind.POST_IMAGE
            videos += parsed.kind is KeyKind.POST_VIDEO
    return Expected(len(models), len(posts), images, videos, ignored)


@functools.cache
def demo() -> tuple[tuple[str, bytes], ...]:
    """The demo catalogue (8 models, real JPEGs and an MP4), drawn once per session."""
    return tuple(demo_objects())


async def synced_demo(bucket: Bucket) -> Expected:
    """Upload the demo catalogue and sync it from the test process."""
    await put_many(bucket.s3, demo())
    run = await bucket.sync()
    assert run.status == "succeeded", run.error
    return expected(key for key, _ in demo())


def roster(count: int, prefix: str = "Model") -> list[str]:
    """`count` small models named '<prefix> 001'..., with 1 to 4 one-image posts each."""
    return [
        f"{prefix} {i:03d}/Post {p}/{TINY_JPEG_NAME}"
        for i in range(1, count + 1)
        for p in range(1, i % 4 + 2)
    ]


async def put_many(s3: S3Service, objects: Iterable[tuple[str, bytes]]) -> None:
    """Upload objects, 32 at a time."""
    sem = asyncio.Semaphore(32)

    async def one(key: str, body: bytes) -> None:
        async with sem:
            await store_object(s3, key, body)

    await asyncio.gather(*(one(k, b) for k, b in objects))


async def empty_bucket(s3: S3Service) -> None:
    listed = [o.key async for page in s3.list_pages("") for o in page]
    # DeleteObjects is an XML body, which cannot carry control characters: delete those singly.
    unsafe = [k for k in listed if any(ord(c) < 32 for c in k)]
    for key in unsafe:
        await s3.delete(key)
    keys = [k for k in listed if k not in set(unsafe)]
    for start in range(0, len(keys), 1000):
        chunk = [{"Key": k} for k in keys[start : start + 1000]]
        await s3.client.delete_objects(
            Bucket=s3.settings.bucket, Delete={"Objects": chunk, "Quiet": True}
        )
