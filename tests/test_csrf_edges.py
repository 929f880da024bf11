"""The CSRF check at its edges: signed out, only a token this app signed opens the sign-in
form; signed in, only the session's own; an Origin or Referer on the same host but another
port is another site; odd tokens and old sessions are refused, never an error."""

from __future__ import annotations

import json
from dataclasses import replace
from typing import Any

import pytest
from piccolo.engine import Engine

from domain.platform.settings import Settings
from tests.conftest import Bucket, rows
from tests.web import PASSWORD, browser, running_app

FORM = {"username": "tester", "password": PASSWORD, "next": "/"}


async def sign_ins() -> int:
    return len(await rows("SELECT id FROM audit_log WHERE action = 'sign_in'"))


@pytest.mark.parametrize(
    "planted",
    ["ab" * 64, "0" * 64 + "f" * 64, "x" * 128, "ab", "ab" * 65],
    ids=["random 128 hex", "a token with a forged signature", "not hex", "short", "long"],
)
async def test_signed_out_a_planted_unsigned_token_pair_is_refused(
    admin_app: Any, planted: str
) -> None:
    async with browser(admin_app) as b:
        b.client.cookies.set("cfx_csrf", planted)
        refused = await b.client.post("/login", data={**FORM, "_csrf_token": planted})
        assert refused.status_code == 403, refused.status_code
        assert "cfx_session" not in refused.cookies
        assert await sign_ins() == 0
        await b.get("/login")  # the app's own signed token: the same form now signs in
        signed = await b.post("/login", FORM)
        assert signed.status_code == 303 and await sign_ins() == 1


@pytest.mark.parametrize(
    "header,value",
    [
        ("origin", "http://testserver:8080"),
        ("referer", "http://testserver:81/staged"),
        ("origin", "http://testserver.evil.example"),
    ],
)
async def test_another_port_on_the_same_host_is_another_site(
    admin_app: Any, header: str, value: str
) -> None:
    async with browser(admin_app) as b:
        await b.sign_in()
        forged = await b.post("/sync-schedule", {"schedule": "every 30m"}, headers={header: value})
        assert forged.status_code == 403, (header, value, forged.status_code)
        same = await b.post(
            "/sync-schedule", {"schedule": "every 30m"}, headers={"origin": "http://testserver"}
        )
        assert same.status_code == 303
    assert [r["expression"] for r in await rows("SELECT expression FROM sync_schedule")] == [
        "every 30m"
    ]
    changes = await rows("SELECT id FROM audit_log WHERE action = 'sync_schedule_changed'")
    assert len(changes) == 1  # only the same-site request


async def schedules_changed() -> int:
    return len(await rows("SELECT id FROM audit_log WHERE action = 'sync_schedule_changed'"))


async def test_signed_in_a_token_this_app_signed_for_the_sign_in_form_is_refused(
    admin_app: Any,
) -> None:
    """Signed in, only the session's own token counts: a signed-out token (valid, signed by
    this app, fetched by an attacker's own visit) planted with its cookie changes nothing."""
    async with browser(admin_app) as attacker, browser(admin_app) as b:
        await attacker.get("/login")
        planted = attacker.token
        await b.sign_in()
        b.client.cookies.set("cfx_csrf", planted)
        forged = await b.client.post(
            "/sync-schedule", data={"schedule": "every 5m", "_csrf_token": planted}
        )
        assert forged.status_code == 403, forged.status_code
        assert await schedules_changed() == 0


async def test_sign_in_replaces_the_sign_in_forms_token_with_the_sessions_own(
    admin_app: Any,
) -> None:
    async with browser(admin_app) as b:
        await b.get("/login")
        before = b.token
        signed = await b.post("/login", FORM)
        assert signed.status_code == 303
        cookie = signed.cookies.get("cfx_csrf")
        assert cookie and cookie != before  # the new session's token, sent at once
        stale = await b.client.post(
            "/sync-schedule", data={"schedule": "every 5m", "_csrf_token": before}
        )
        assert stale.status_code == 403
        fresh = await b.client.post(
            "/sync-schedule", data={"schedule": "every 5m", "_csrf_token": cookie}
        )
        assert fresh.status_code == 303
        assert len(cookie) == 128 and int(cookie, 16) >= 0  # 512 random bits, as hex
    assert await schedules_changed() == 1


async def test_the_header_token_is_checked_before_the_form_field(admin_app: Any) -> None:
    """htmx sends the token as a header; a wrong header is refused even beside a right field,
    and a JSON body's field is never read as a token."""
    async with browser(admin_app) as b:
        await b.sign_in()
        wrong = await b.post(
            "/sync-schedule", {"schedule": "every 5m"}, headers={"x-csrftoken": "x"}
        )
        assert wrong.status_code == 403
        as_json = await b.client.post(
            "/sync-schedule", json={"schedule": "every 5m", "_csrf_token": b.token}
        )
        assert as_json.status_code == 403
        header = await b.client.post(
            "/sync-schedule", data={"schedule": "every 5m"}, headers={"x-csrftoken": b.token}
        )
        assert header.status_code == 303
    assert await schedules_changed() == 1


@pytest.mark.parametrize(
    "token", ["é" * 128, "\udcff" * 3, ""], ids=["accents", "undecodable", "empty"]
)
async def test_a_token_in_any_characters_is_refused_not_an_error(
    admin_app: Any, token: str
) -> None:
    raw = token.encode("utf-8", "surrogateescape")  # as a client may send the bytes
    async with browser(admin_app) as b:
        await b.sign_in()
        refused = await b.post(
            "/sync-schedule", {"schedule": "every 5m"}, headers={"x-csrftoken": raw}, csrf=False
        )
        assert refused.status_code == 403
    async with browser(admin_app) as b:
        planted = {"cookie": b"cfx_csrf=" + ("é" * 128).encode()}  # 128 characters, not ours
        form = await b.client.post(
            "/login", data={**FORM, "_csrf_token": "é" * 128}, headers=planted
        )
        assert form.status_code == 403
    assert await schedules_changed() == 0 and await sign_ins() == 1  # the first browser's


async def test_a_session_stored_without_a_token_gets_one_and_still_needs_it(
    admin_app: Any,
) -> None:
    """A session written before tokens were bound to sessions: the next page gives it one of its
    own, and an unsafe request without that token is refused."""
    async with browser(admin_app) as b:
        await b.sign_in()
        (session,) = await rows("SELECT key, data FROM admin_sessions")
        data = json.loads(session["data"])
        data.pop("csrf")
        await rows(
            "UPDATE admin_sessions SET data = $2 WHERE key = $1 RETURNING id",
            session["key"],
            json.dumps(data).encode(),
        )
        old = b.token
        page = await b.get("/")
        assert page.status_code == 200 and b.token and b.token != old
        refused = await b.client.post(
            "/sync-schedule", data={"schedule": "every 5m", "_csrf_token": old}
        )
        assert refused.status_code == 403
        accepted = await b.post("/sync-schedule", {"schedule": "every 5m"})
        assert accepted.status_code == 303
    assert await schedules_changed() == 1


async def test_signed_out_a_post_without_any_cookie_is_refused_not_an_error(
    admin_app: Any,
) -> None:
    async with browser(admin_app) as b:
        bare = await b.client.post("/login", data={**FORM, "_csrf_token": "x" * 128})
        assert bare.status_code == 403
        headed = await b.client.post("/login", data=FORM, headers={"x-csrftoken": "x" * 128})
        assert headed.status_code == 403
    assert await sign_ins() == 0


async def test_the_api_static_files_and_health_need_no_token(admin_app: Any) -> None:
    """Exempt paths reach their handlers as they are: reads answer, and an unsafe method gets
    the route's own answer (405), not the CSRF refusal."""
    async with browser(admin_app) as b:
        assert (await b.client.get("/healthz")).status_code == 200
        assert (await b.client.get("/api/v1/models")).status_code == 200
        assert (await b.client.get("/static/app.css")).status_code == 200
        assert (await b.client.post("/api/v1/models", json={})).status_code == 405
        assert "cfx_csrf" not in (await b.client.get("/healthz")).cookies


@pytest.mark.parametrize("secure", [True, False])
async def test_the_token_cookie_is_secure_when_the_app_says_so(
    database: Any, bucket: Bucket, settings: Settings, pg_engine: Engine, secure: bool
) -> None:
    app_settings = replace(settings, secure_cookies=secure)
    async with running_app(app_settings, bucket, pg_engine, worker=False) as app, browser(app) as b:
        page = await b.client.get("/login")
        cookie = next(
            v for k, v in page.headers.multi_items() if k == "set-cookie" and "cfx_csrf" in v
        )
        assert ("; Secure" in cookie or "; secure" in cookie) is secure, cookie
        assert "samesite=lax" in cookie.lower() and "Path=/" in cookie
