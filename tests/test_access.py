"""Access: every admin route needs a sign-in, every unsafe one a CSRF token; session hygiene."""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta
from typing import Any

import httpx
import pytest
from litestar.routes import HTTPRoute

from controllers.security import is_public
from domain.accounts import audit
from domain.platform.db import now
from tests.conftest import Bucket, rows
from tests.web import PASSWORD, Browser, admin, browser, running_app

UNSAFE = {"POST", "PUT", "PATCH", "DELETE"}
SAMPLE = {
    "run_id": "1",
    "model_id": "1",
    "post_id": "1",
    "admin_id": "1",
    "job_id": "1",
    "name": "Someone",
    "ref": "someone",
    "model_name": "Someone",
    "file_path": "app.css",
    "path": "x",
}


@pytest.fixture
async def app(database: Any, bucket: Bucket, settings: Any, pg_engine: Any) -> AsyncIterator[Any]:
    await bucket.put("Someone/P/a.jpg")
    await admin()
    async with running_app(settings, bucket, pg_engine) as application:
        yield application


def concrete(path: str) -> str:
    return re.sub(r"\{(\w+):\w+\}", lambda m: SAMPLE[m.group(1)], path)


def admin_routes(app: Any) -> list[tuple[str, str]]:
    found = []
    for route in app.routes:
        if not isinstance(route, HTTPRoute):
            continue
        for method in sorted(route.methods - {"OPTIONS", "HEAD"}):
            found.append((method, concrete(route.path)))
    return found


async def test_every_admin_route_redirects_logged_out_requests(app: Any) -> None:
    checked = 0
    async with browser(app) as b:
        for method, path in admin_routes(app):
            if is_public(path):
                continue
            response = await b.client.request(method, path)
            assert response.status_code in (303, 401), (method, path, response.status_code)
            if response.status_code == 303:
                assert response.headers["location"].startswith("/login?next=")
            hx = await b.client.request(method, path, headers={"HX-Request": "true"})
            assert hx.status_code == 401 and hx.headers["hx-redirect"].startswith("/login")
            checked += 1
    assert checked >= 15


async def test_every_unsafe_route_refuses_a_missing_csrf_token(app: Any, bucket: Bucket) -> None:
    run = await bucket.sync()  # "Someone" is staged: a forged activation would have work to do
    assert run.status == "succeeded", run.error
    checked = 0
    async with browser(app) as b:
        await b.sign_in()
        for method, path in admin_routes(app):
            if method not in UNSAFE:
                continue
            response = await b.client.request(method, path, data={"x": "1"})
            assert response.status_code == 403, (method, path, response.status_code)
            checked += 1
    assert checked >= 10
    assert await rows("SELECT id FROM models") == []  # nothing was activated
    staged = await rows("SELECT folder_name, status FROM whitelabel_models")
    assert [(r["folder_name"], r["status"]) for r in staged] == [("Someone", "new")]
    assert [r["id"] for r in await rows("SELECT id FROM sync_runs")] == [run.id]  # no sync
    assert await rows("SELECT action FROM audit_log WHERE action <> 'sign_in'") == []


async def test_session_rotates_at_sign_in_and_dies_at_sign_out(app: Any) -> None:
    async with browser(app) as b:
        await b.get("/login")
        domain = next(c.domain for c in b.client.cookies.jar if c.name == "cfx_csrf")
        b.client.cookies.set("cfx_session", "a" * 64, domain=domain)  # a planted session id
        await b.sign_in()
        session = b.client.cookies.get("cfx_session", domain=domain)
        assert session and session != "a" * 64
        assert (await b.get("/")).status_code == 200
        await b.post("/logout", {})
        async with browser(app) as thief:  # replaying the old cookie after sign-out
            thief.client.cookies.set("cfx_session", session, domain=domain)
            assert (await thief.client.get("/")).status_code == 303


async def test_deactivated_admin_is_signed_out_on_next_request(app: Any) -> None:
    async with browser(app) as b:
        await b.sign_in()
        assert (await b.get("/")).status_code == 200
        await rows("UPDATE piccolo_user SET active = false WHERE username = 'tester' RETURNING id")
        assert (await b.get("/")).status_code == 303


async def test_non_admin_cannot_sign_in(app: Any) -> None:
    await rows("UPDATE piccolo_user SET admin = false WHERE username = 'tester' RETURNING id")
    async with browser(app) as b:
        response = await b.sign_in()
        assert response.status_code == 400


async def test_failed_sign_ins_are_throttled_per_account(app: Any) -> None:
    async with browser(app) as b:
        for _ in range(5):
            response = await b.post("/login", {"username": "tester", "password": "wrong"})
            assert response.status_code == 400
        blocked = await b.post("/login", {"username": "tester", "password": "correct-horse-42"})
        assert blocked.status_code == 429
        assert int(blocked.headers["retry-after"]) > 0
        assert "try again in" in blocked.text
        other: Browser
        async with browser(app) as other:  # another account from the same address still works
            await admin("second")
            assert (await other.sign_in("second")).status_code == 303


@asynccontextmanager
async def browser_from(app: Any, address: str) -> AsyncIterator[Browser]:
    """Like tests.web.browser, from another client address."""
    transport = httpx.ASGITransport(app=app, client=(address, 50000))
    async with httpx.AsyncClient(
        transport=transport, base_url="http://testserver", follow_redirects=False
    ) as client:
        yield Browser(client)


async def test_failed_sign_ins_are_throttled_per_address_until_the_window_passes(
    app: Any,
) -> None:
    """One address guessing many usernames is stopped, though no account reached its limit;
    other addresses are not; once the failures age out of the window it can sign in again."""
    limit = audit.MAX_FAILURES_PER_ADDRESS
    async with browser(app) as b:
        for i in range(limit):
            response = await b.post("/login", {"username": f"guess{i:02d}", "password": "x"})
            assert response.status_code == 400, (i, response.status_code)
        blocked = await b.post("/login", {"username": "tester", "password": PASSWORD})
        assert blocked.status_code == 429
        assert "for this address" in blocked.text
        window = int(audit.THROTTLE_WINDOW.total_seconds())
        assert window - 30 < int(blocked.headers["retry-after"]) <= window + 1
        async with browser_from(app, "198.51.100.9") as elsewhere:  # only this address waits
            assert (await elsewhere.sign_in()).status_code == 303
        # The failures are 10 minutes old: still inside the window, which ends 10 min later.
        await rows(
            "UPDATE audit_log SET created_at = created_at - interval '10 minutes' "
            "WHERE action = 'sign_in_failed' RETURNING id"
        )
        still = await b.post("/login", {"username": "tester", "password": PASSWORD})
        assert still.status_code == 429
        assert window - 600 - 30 < int(still.headers["retry-after"]) <= window - 600 + 1
        # One failure ages out of the window: one below the limit, so the address may try.
        await rows(
            "UPDATE audit_log SET created_at = $1 WHERE id = (SELECT id FROM audit_log "
            "WHERE action = 'sign_in_failed' ORDER BY created_at, id LIMIT 1) RETURNING id",
            now() - audit.THROTTLE_WINDOW - timedelta(seconds=1),
        )
        signed_in = await b.post("/login", {"username": "tester", "password": PASSWORD})
        assert signed_in.status_code == 303 and signed_in.headers["location"] == "/"


async def test_security_headers_and_cookie_flags(app: Any) -> None:
    async with browser(app) as b:
        await b.sign_in()
        page = await b.get("/")
        csp = page.headers["content-security-policy"]
        assert "script-src 'self'" in csp and "unsafe-inline" not in csp
        assert "frame-ancestors 'none'" in csp
        assert page.headers["x-content-type-options"] == "nosniff"
        assert page.headers["referrer-policy"]
        login = await b.client.post(
            "/login",
            data={"username": "tester", "password": "correct-horse-42", "_csrf_token": b.token},
        )
        cookie = next(
            v
            for k, v in login.headers.multi_items()
            if k == "set-cookie" and v.startswith("cfx_session=")
        )
        assert "HttpOnly" in cookie and "SameSite=lax" in cookie.replace("samesite", "SameSite")
        assert "script" not in page.text.split("<body")[1].split("<script")[0]  # no inline js


async def test_public_api_and_schema_need_no_login(app: Any) -> None:
    async with browser(app) as b:
        assert (await b.client.get("/api/models")).status_code == 200
        schema = (await b.client.get("/schema/openapi.json")).json()
        assert set(schema["paths"]) == {
            "/api/v1/models",
            "/api/v1/models/{ref}",
            "/api/v1/models/{ref}/posts",
            "/api/models",
            "/api/models/{ref}/posts",
        }
        assert (await b.client.get("/healthz")).json() == {"status": "ok"}


async def test_concurrent_requests_on_one_session_do_not_fail(app: Any) -> None:
    async with browser(app) as b:
        await b.sign_in()
        before = await rows("SELECT key, xmin::text AS v FROM admin_sessions")
        responses = await asyncio.gather(*(b.client.get(p) for p in ["/", "/staged"] * 12))
        assert [r.status_code for r in responses] == [200] * 24
        after = await rows("SELECT key, xmin::text AS v FROM admin_sessions")
        assert after == before  # an unchanged session is not rewritten on every request
