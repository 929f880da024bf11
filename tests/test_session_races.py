"""Ending a session is final, also for a request already on its way: one that holds back the
last bytes of its body while its session is signed out, reset or deactivated neither acts nor
brings the session back; a session write never re-creates a row; an action's transaction
re-checks its session and admin."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any
from urllib.parse import urlencode

import pytest

from controllers.sessions import SESSION_COOKIE, DatabaseStore
from domain.accounts import sessions
from domain.errors import SessionEnded
from domain.platform import db
from tests.conftest import rows
from tests.test_admins import NEW_PASSWORD, make, sessions_of, signed_in_as
from tests.web import Browser, browser

HELD_S = 10.0  # how long a held body may wait for the test to end its session


class HeldBody:
    """A form body sent in two parts: the second only once `release()` is called."""

    def __init__(self, form: dict[str, str]) -> None:
        encoded = urlencode(form).encode()
        self.head, self.tail = encoded[:-3], encoded[-3:]
        self.started = asyncio.Event()
        self.released = asyncio.Event()

    def release(self) -> None:
        self.released.set()

    async def __aiter__(self) -> AsyncIterator[bytes]:
        yield self.head
        self.started.set()
        await asyncio.wait_for(self.released.wait(), HELD_S)
        yield self.tail


async def schedule_audit() -> list[str]:
    found = await rows("SELECT actor FROM audit_log WHERE action = 'sync_schedule_changed'")
    return [r["actor"] for r in found]


async def expression() -> str:
    return str((await rows("SELECT expression FROM sync_schedule"))[0]["expression"])


async def sign_out(victim: Browser, admin: Browser, victim_id: int) -> None:
    """The victim signs out elsewhere (another tab with the same cookie)."""
    answer = await victim.post("/logout", {})
    assert answer.status_code == 303, answer.text


async def reset(victim: Browser, admin: Browser, victim_id: int) -> None:
    answer = await admin.post(f"/admins/{victim_id}/password", {"password": NEW_PASSWORD})
    assert answer.status_code == 303, answer.text


async def deactivate(victim: Browser, admin: Browser, victim_id: int) -> None:
    answer = await admin.post(f"/admins/{victim_id}/deactivate", {})
    assert answer.status_code == 303, answer.text


Ending = Callable[[Browser, Browser, int], Awaitable[None]]


@pytest.mark.parametrize("end", [sign_out, reset, deactivate], ids=lambda f: f.__name__)
async def test_a_request_held_open_while_its_session_ends_neither_acts_nor_revives_it(
    admin_app: Any, end: Ending
) -> None:
    bea = await make("bea")
    async with signed_in_as(admin_app, "tester") as admin, signed_in_as(admin_app, "bea") as victim:
        cookie = victim.client.cookies[SESSION_COOKIE]
        held = HeldBody({"_csrf_token": victim.token, "schedule": "every 30m"})
        async with browser(admin_app) as attacker:  # the stolen cookie, in another client
            attacker.client.cookies.set(SESSION_COOKIE, cookie)
            request = asyncio.create_task(
                attacker.client.post(
                    "/sync-schedule",
                    content=held,
                    headers={"content-type": "application/x-www-form-urlencoded"},
                )
            )
            await asyncio.wait_for(held.started.wait(), HELD_S)
            await asyncio.sleep(0.2)  # the app is waiting for the rest of the body
            await end(victim, admin, bea)
            assert await sessions_of(bea) == 0, f"{end.__name__} left bea's session"
            held.release()
            answer = await asyncio.wait_for(request, HELD_S)
            assert answer.status_code in (303, 401), answer.text
            assert answer.headers.get("location", "").startswith("/login"), answer.headers
            # The old cookie opens nothing: the session did not come back.
            audit = await attacker.client.get("/audit")
            assert audit.status_code == 303 and audit.headers["location"].startswith("/login")
    assert await sessions_of(bea) == 0, "the held request wrote the ended session back"
    assert await expression() == "", "the held request changed the schedule"
    assert await schedule_audit() == []


async def test_a_session_write_never_recreates_an_ended_session(admin_app: Any) -> None:
    store = DatabaseStore()
    await store.create("live-key", b'{"uid": 1}', 600)
    assert await store.write("live-key", b'{"uid": 1, "x": 2}', 600) is True
    await store.delete("live-key")
    assert await store.write("live-key", b'{"uid": 1, "x": 3}', 600) is False
    await store.set("live-key", b'{"uid": 1, "x": 4}', 600)
    assert await rows("SELECT key FROM admin_sessions WHERE key = 'live-key'") == []


async def test_an_actions_transaction_is_refused_once_its_session_or_admin_is_gone(
    admin_app: Any,
) -> None:
    bea = await make("bea")
    async with signed_in_as(admin_app, "bea") as b:
        key = b.client.cookies[SESSION_COOKIE]
        with db.checked_transactions(sessions.holder(key, bea)):
            async with db.transaction() as tx:  # live: the action goes ahead
                assert await tx.fetchval("SELECT 1") == 1
            await db.fetch("UPDATE piccolo_user SET active = false WHERE id = $1", bea)
            with pytest.raises(SessionEnded):
                async with db.transaction():
                    pass
            await db.fetch("UPDATE piccolo_user SET active = true WHERE id = $1", bea)
            async with db.transaction(checked=False):  # the audit of a done action
                pass
            await db.fetch("DELETE FROM admin_sessions WHERE key = $1", key)
            with pytest.raises(SessionEnded):
                async with db.transaction():
                    pass

            async def elsewhere() -> None:  # a task the request started is not the request
                async with db.transaction():
                    pass

            await asyncio.create_task(elsewhere())


async def test_ending_a_session_waits_for_the_action_that_holds_it(admin_app: Any) -> None:
    bea = await make("bea")
    async with signed_in_as(admin_app, "bea") as b:
        key = b.client.cookies[SESSION_COOKIE]
        with db.checked_transactions(sessions.holder(key, bea)):
            async with db.transaction():
                ending = asyncio.create_task(db.fetch("DELETE FROM admin_sessions"))
                await asyncio.sleep(0.3)
                assert not ending.done(), "the session ended under a running action"
            await asyncio.wait_for(ending, HELD_S)
    assert await sessions_of(bea) == 0
