"""Errors by kind (domain refusals keep their status, bugs are logged 500s with a request id),
`Vary` on page-or-fragment URLs, and the public API's documented fields."""

from __future__ import annotations

import logging
import re

import pytest

from domain.errors import Conflict, Invalid, NotFound
from domain.staging import queries
from tests.web import Browser


async def test_pages_that_also_serve_fragments_vary_on_htmx_headers(signed_in: Browser) -> None:
    # The dashboard too: its cards and recent runs redraw themselves as a fragment.
    for url in ("/", "/staged", "/sync-runs", "/production", "/audit"):
        page = await signed_in.get(url)
        assert page.status_code == 200, url
        assert "HX-Request" in page.headers["vary"], url
    confirm = await signed_in.get("/staged/_bulk/activate-all-new")  # a page, no fragment
    assert confirm.status_code == 200 and "vary" not in confirm.headers


@pytest.mark.parametrize(
    ("error", "status"),
    [(NotFound("no such thing"), 404), (Invalid("not like that"), 400), (Conflict("busy"), 409)],
)
async def test_domain_errors_keep_their_status_and_message(
    signed_in: Browser, monkeypatch: pytest.MonkeyPatch, error: Exception, status: int
) -> None:
    async def fail() -> int:
        raise error

    monkeypatch.setattr(queries, "new_count", fail)
    page = await signed_in.get("/staged/_bulk/activate-all-new")
    assert page.status_code == status and str(error) in page.text
    fragment = await signed_in.get(
        "/staged/_bulk/activate-all-button", headers={"HX-Request": "true"}
    )
    assert fragment.status_code == status and fragment.text == str(error)
    assert fragment.headers["hx-reswap"] == "none"


# Messages no page could contain by chance (a token's hex holds "bad" now and then).
@pytest.mark.parametrize(
    "error",
    [KeyError("uid-of-bug"), ValueError("bad value, bug"), LookupError("gone, bug")],
)
async def test_bugs_are_logged_500s_with_a_request_id(
    signed_in: Browser,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    error: Exception,
) -> None:
    async def fail() -> int:
        raise error

    monkeypatch.setattr(queries, "new_count", fail)
    with caplog.at_level(logging.ERROR, logger="creatorflix.errors"):
        page = await signed_in.get("/staged/_bulk/activate-all-new")
    assert page.status_code == 500
    request_id = page.headers["x-request-id"]
    assert re.fullmatch(r"[0-9a-f]{12}", request_id) and request_id in page.text
    assert any(request_id in r.getMessage() and r.exc_info for r in caplog.records)
    assert str(error) not in page.text  # the bug's text stays in the log


async def test_openapi_documents_every_public_field(signed_in: Browser) -> None:
    schema = (await signed_in.client.get("/schema/openapi.json")).json()
    fields = {
        name: set(component.get("properties", {}))
        for name, component in schema["components"]["schemas"].items()
    }
    model = {"id", "name", "slug", "description", "isFeatured", "postCount", "thumbnail"}
    model |= {"preview", "icon", "iconPreview", "banner", "bannerPreview"}  # WebP derivatives
    assert model in fields.values()
    post = {"id", "modelId", "title", "type", "content", "thumbnail", "preview", "media"}
    post.add("createdAt")
    assert post in fields.values()
    item = {"type", "url", "preview", "thumbnail", "poster", "width", "height", "duration"}
    assert item in fields.values()  # each media item: the original and its derivatives
    assert {"page", "limit", "count"} in fields.values()
