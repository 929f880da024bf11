"""Admins page: superusers create, deactivate, reactivate admins and reset their passwords; the
changes end sessions at once, refuse what would lock everyone out, and are audited."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import pytest
from litestar.routes import HTTPRoute
from piccolo.apps.user.tables import BaseUser

from domain.accounts import admins, sessions
from domain.errors import Conflict
from tests.conftest import PRODUCT_ITERATIONS, Bucket, rows
from tests.web import PASSWORD, Browser, admin, browser, running_app

NEW_PASSWORD = "a-brand-new-secret-77"


@pytest.fixture
async def app(database: Any, bucket: Bucket, settings: Any, pg_engine: Any) -> AsyncIterator[Any]:
    await admin()  # "tester": made by the operator's command, so a superuser
    async with running_app(settings, bucket, pg_engine, worker=False) as application:
        yield application


@asynccontextmanager
async def signed_in_as(app: Any, username: str, password: str = PASSWORD) -> AsyncIterator[Browser]:
    async with browser(app) as b:
        response = await b.sign_in(username, password)
        assert response.status_code == 303, f"{username} could not sign in"
        yield b


async def make(username: str, superuser: bool = False) -> int:
    row = await admins.create_admin(username, f"{username}@example.com", PASSWORD, superuser)
    return int(row.id)


async def audit(action_prefix: str = "admin_") -> list[tuple[str, str, str, str]]:
    return [
        (r["actor"], r["action"], r["target"], r["detail"])
        for r in await rows(
            "SELECT actor, action, target, detail FROM audit_log WHERE action LIKE $1 ORDER BY id",
            action_prefix + "%",
        )
    ]


async def sessions_of(user_id: int) -> int:
    found = await rows("SELECT data FROM admin_sessions")
    return sum(1 for r in found if sessions.owner(bytes(r["data"])) == user_id)


async def test_a_superuser_creates_an_admin_who_can_sign_in(app: Any) -> None:
    async with signed_in_as(app, "tester") as a:
        home = await a.get("/")
        assert 'href="/admins"' in home.text  # the nav link, for a superuser
        created = await a.post(
            "/admins", {"username": "Zoë", "email": "zoe@example.com", "password": NEW_PASSWORD}
        )
        assert created.status_code == 303 and created.headers["location"] == "/admins"
        page = await a.get("/admins")
        assert page.status_code == 200
        assert "Created admin &#39;Zoë&#39;." in page.text  # the flash
        assert "Zoë" in page.text and "zoe@example.com" in page.text
    found = await rows("SELECT active, admin, superuser FROM piccolo_user WHERE username = 'Zoë'")
    assert [dict(r) for r in found] == [{"active": True, "admin": True, "superuser": False}]
    async with signed_in_as(app, "Zoë", NEW_PASSWORD) as z:
        assert (await z.get("/")).status_code == 200
    assert await audit() == [("tester", "admin_created", "Zoë", "admin")]
    every_line = await rows("SELECT * FROM audit_log")
    assert all(NEW_PASSWORD not in str(dict(r)) for r in every_line)


async def test_a_new_admin_and_a_reset_password_are_stored_with_600000_iterations(
    app: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """What the product stores (the test processes hash more cheaply: conftest.py)."""
    monkeypatch.setattr(BaseUser, "_pbkdf2_iteration_count", PRODUCT_ITERATIONS)
    assert PRODUCT_ITERATIONS >= 600_000
    stored = "SELECT password FROM piccolo_user WHERE id = $1"
    user_id = await make("Ines")
    ((made,),) = [r.values() for r in await rows(stored, user_id)]
    await admins.reset_password(user_id, NEW_PASSWORD)
    ((reset,),) = [r.values() for r in await rows(stored, user_id)]
    for password in (made, reset):
        assert password.split("$")[:2] == ["pbkdf2_sha256", str(PRODUCT_ITERATIONS)]
    assert made != reset


async def test_bad_input_is_refused_naming_the_value_and_the_fix(app: Any) -> None:
    await make("bea")
    async with signed_in_as(app, "tester") as a:
        form = {"username": "bea", "email": "other@example.com", "password": NEW_PASSWORD}
        duplicate = await a.post("/admins", form)
        assert duplicate.status_code == 409
        assert "The username &#39;bea&#39; is taken" in duplicate.text
        assert 'value="other@example.com"' in duplicate.text  # the form kept its input
        assert NEW_PASSWORD not in duplicate.text  # but not the password
        same_email = await a.post(
            "/admins", {**form, "username": "cid", "email": "bea@example.com"}
        )
        assert same_email.status_code == 409 and "belongs to &#39;bea&#39;" in same_email.text
        short = await a.post("/admins", {**form, "username": "cid", "password": "seven77"})
        assert short.status_code == 400
        assert "The password has 7 characters: use at least 8." in short.text
        empty = await a.post("/admins", {**form, "username": "   "})
        assert empty.status_code == 400 and "The username is empty" in empty.text
        bad_email = await a.post("/admins", {**form, "username": "cid", "email": "nobody"})
        assert (
            bad_email.status_code == 400 and "&#39;nobody&#39; is not an address" in bad_email.text
        )
        too_short = await a.post("/admins/1/password", {"password": "short"}, htmx=True)
        assert too_short.status_code == 400 and "use at least 8" in too_short.text
    names = await rows("SELECT username FROM piccolo_user ORDER BY id")
    assert [r["username"] for r in names] == ["tester", "bea"]
    assert await audit() == []


async def test_deactivating_an_admin_ends_their_session_at_once(app: Any) -> None:
    b_id = await make("bea")
    async with signed_in_as(app, "tester") as a, signed_in_as(app, "bea") as b:
        assert (await b.get("/")).status_code == 200
        assert await sessions_of(b_id) == 1
        swapped = await a.post(f"/admins/{b_id}/deactivate", {}, htmx=True)
        assert swapped.status_code == 200
        assert swapped.text.lstrip().startswith(f'<tr id="admin-{b_id}">')  # only the row
        assert "inactive" in swapped.text and "Reactivate" in swapped.text
        assert (
            "deactivated: their sessions have ended" in swapped.headers["hx-trigger-after-settle"]
        )
        assert await sessions_of(b_id) == 0
        after = await b.client.get("/")
        assert after.status_code == 303 and after.headers["location"].startswith("/login")
        assert (await b.sign_in("bea")).status_code == 400  # and cannot sign in again
        # Without JavaScript: a plain form post, answered with a redirect back to the list.
        back = await a.post(f"/admins/{b_id}/reactivate", {})
        assert back.status_code == 303 and back.headers["location"] == "/admins"
    async with signed_in_as(app, "bea") as b:
        assert (await b.get("/")).status_code == 200
    assert await audit() == [
        ("tester", "admin_deactivated", "bea", ""),
        ("tester", "admin_reactivated", "bea", ""),
    ]


async def test_a_password_reset_ends_the_admins_other_sessions(app: Any) -> None:
    b_id = await make("bea")
    async with signed_in_as(app, "tester") as a, signed_in_as(app, "bea") as b:
        reset = await a.post(f"/admins/{b_id}/password", {"password": NEW_PASSWORD}, htmx=True)
        assert reset.status_code == 200 and f'id="admin-{b_id}"' in reset.text
        assert (await b.client.get("/")).status_code == 303
        assert (await b.sign_in("bea")).status_code == 400  # the old password is gone
    async with signed_in_as(app, "bea", NEW_PASSWORD) as b:
        assert (await b.get("/")).status_code == 200  # the new one works
    me = (await rows("SELECT id FROM piccolo_user WHERE username = 'tester'"))[0]["id"]
    async with signed_in_as(app, "tester") as a, signed_in_as(app, "tester") as other:
        others = await sessions_of(me) - 1  # `other`, and the first block's, still open
        # Resetting one's own password keeps this session and ends the others.
        mine = await a.post(f"/admins/{me}/password", {"password": NEW_PASSWORD})
        assert mine.status_code == 303
        assert (await a.get("/")).status_code == 200
        assert (await other.client.get("/")).status_code == 303
        assert await sessions_of(me) == 1
    assert await audit() == [
        ("tester", "admin_password_reset", "bea", "1 session(s) ended"),
        ("tester", "admin_password_reset", "tester", f"{others} other session(s) ended"),
    ]
    every_line = await rows("SELECT * FROM audit_log")
    assert all(NEW_PASSWORD not in str(dict(r)) for r in every_line)


def admin_routes(app: Any) -> list[tuple[str, str]]:
    return [
        (method, route.path.replace("{admin_id:int}", "1"))
        for route in app.routes
        if isinstance(route, HTTPRoute) and route.path.startswith("/admins")
        for method in sorted(route.methods - {"OPTIONS", "HEAD"})
    ]


async def test_an_admin_who_is_no_superuser_gets_403_and_no_link(app: Any) -> None:
    await make("bea")
    async with signed_in_as(app, "bea") as b:
        assert 'href="/admins"' not in (await b.get("/")).text
        tried = admin_routes(app)
        assert len(tried) == 6, tried  # with the page asking before a deactivation
        for method, path in tried:
            form = {"username": "mallory", "email": "m@example.com", "password": NEW_PASSWORD}
            for htmx in (False, True):
                if method == "GET":
                    response = await b.client.get(
                        path, headers={"HX-Request": "true"} if htmx else {}
                    )
                else:
                    response = await b.post(path, form, htmx=htmx)
                assert response.status_code == 403, (method, path, htmx, response.status_code)
                assert "Only superusers manage admins" in response.text
    users = await rows("SELECT username, active FROM piccolo_user ORDER BY id")
    assert [(r["username"], r["active"]) for r in users] == [("tester", True), ("bea", True)]
    assert await audit() == []


async def test_nobody_deactivates_themself_or_the_last_superuser(app: Any) -> None:
    me = (await rows("SELECT id FROM piccolo_user WHERE username = 'tester'"))[0]["id"]
    async with signed_in_as(app, "tester") as a:
        page = await a.get("/admins")
        assert f'action="/admins/{me}/deactivate"' not in page.text  # no button for oneself
        refused = await a.post(f"/admins/{me}/deactivate", {})
        assert refused.status_code == 409
        assert "you cannot deactivate yourself: ask another superuser" in refused.text
        assert (await a.get("/")).status_code == 200  # still signed in
    # The last active superuser stays, whoever asks (the command line, or a racing request).
    with pytest.raises(Conflict, match="'tester' is the last active superuser"):
        await admins.set_active(me, False, by=None)
    second = await make("sam", superuser=True)
    row, changed = await admins.set_active(me, False, by=second)
    assert changed and row.active is False
    with pytest.raises(Conflict, match="'sam' is the last active superuser"):
        await admins.set_active(second, False, by=None)
    assert await audit() == []


async def test_an_installation_without_superusers_gets_its_first_admin_promoted(
    database: Any,
) -> None:
    """The migration for installations whose admins were all made before superusers mattered."""
    from piccolo_migrations.creatorflix import creatorflix_2026_11_26t18_00_12_000000 as mig

    for name in ("old", "older", "gone"):
        await make(name)
    await rows("UPDATE piccolo_user SET active = false WHERE username = 'old' RETURNING id")
    for _ in range(2):  # and applied again, nothing more changes
        for sql in mig.STATEMENTS:
            await rows(sql)
        found = await rows("SELECT username FROM piccolo_user WHERE superuser ORDER BY id")
        assert [r["username"] for r in found] == ["older"]  # the first still active
