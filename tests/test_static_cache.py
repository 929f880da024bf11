"""Static files under content-hashed names: a page links them so, they are kept a year
(immutable) and a reload asks nothing; the plain name still works, revalidated; an unknown
hash is a 404; a hash follows the file's bytes."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from controllers.templating import IMMUTABLE, StaticAssets
from domain.platform.settings import ROOT
from tests.web import browser

STATIC = ROOT / "static"
LINKED = re.compile(r'(?:href|src)="(/static/[^"]+)"')
HASHED = re.compile(r"^/static/(?:[\w.-]+/)*[\w.-]+\.[0-9a-f]{10}\.\w+$")


def source_of(url: str) -> Path:
    """static/vendor/htmx-2.0.11.min.js for /static/vendor/htmx-2.0.11.min.<hash>.js."""
    name = re.sub(r"\.[0-9a-f]{10}(\.\w+)$", r"\1", url.removeprefix("/static/"))
    return STATIC / name


async def test_hashed_urls_of_a_rendered_page_are_served_immutable_with_their_files_bytes(
    admin_app: Any,
) -> None:
    async with browser(admin_app) as b:
        page = await b.get("/login")
        assert page.status_code == 200
        urls = LINKED.findall(page.text)
        assert len(urls) >= 6, urls  # the stylesheets, scripts and icon of base.html
        policy = page.headers["content-security-policy"]
        assert "script-src 'self'" in policy and "style-src 'self'" in policy
        for url in urls:
            assert HASHED.match(url), f"{url} is not a content-hashed name"
            response = await b.get(url)
            assert response.status_code == 200, url
            assert response.headers["cache-control"] == IMMUTABLE, url
            assert response.content == source_of(url).read_bytes(), url


async def test_the_plain_name_still_answers_and_is_revalidated_not_kept(admin_app: Any) -> None:
    async with browser(admin_app) as b:
        response = await b.get("/static/app.css")
    assert response.status_code == 200
    assert response.headers["cache-control"] == "no-cache"
    assert response.content == (STATIC / "app.css").read_bytes()


async def test_an_unknown_hash_is_a_404_that_no_cache_keeps(admin_app: Any) -> None:
    async with browser(admin_app) as b:
        page = await b.get("/login")
        real = next(u for u in LINKED.findall(page.text) if "/app." in u and u.endswith(".css"))
        for url in (
            re.sub(r"\.[0-9a-f]{10}\.", ".0000000000.", real),
            "/static/app.deadbeef.css",
            "/static/vendor/htmx-2.0.11.min.ffffffffff.js",
            "/static/nothing.0123456789.js",
        ):
            response = await b.get(url)
            assert response.status_code == 404, url
            assert response.headers["cache-control"] == "no-cache", url


def test_a_hashed_name_changes_with_the_files_bytes_and_stops_serving_the_old_ones(
    tmp_path: Path,
) -> None:
    (tmp_path / "vendor").mkdir()
    (tmp_path / "app.css").write_bytes(b"body { color: black; }")
    (tmp_path / "vendor" / "lib.min.js").write_bytes(b"var a = 1;")
    first = StaticAssets(tmp_path)
    assert StaticAssets(tmp_path).url("app.css") == first.url("app.css")  # same bytes, same name
    old_css, old_js = first.url("app.css"), first.url("vendor/lib.min.js")
    assert re.fullmatch(r"/static/app\.[0-9a-f]{10}\.css", old_css)
    assert re.fullmatch(r"/static/vendor/lib\.min\.[0-9a-f]{10}\.js", old_js)

    (tmp_path / "app.css").write_bytes(b"body { color: white; }")
    again = StaticAssets(tmp_path)
    assert again.url("app.css") != old_css
    assert again.url("vendor/lib.min.js") == old_js  # untouched bytes keep their name
    resolved = str(tmp_path.resolve())
    # The running app's old name must not hand out the new bytes as if immutable.
    assert first.source(resolved + old_css.removeprefix("/static")) is None
    assert again.source(resolved + again.url("app.css").removeprefix("/static")) is not None
