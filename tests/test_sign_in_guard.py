"""Sign-in under attack: concurrent wrong passwords for one account stay within its limit, and
the address that is throttled and audited is the peer's unless it is a trusted proxy."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import replace
from typing import Any

import httpx
import pytest

from domain.accounts import audit
from domain.platform.settings import Settings, SettingsError
from tests.conftest import Bucket, rows
from tests.web import PASSWORD, Browser, admin, running_app

PROXY = "10.0.0.5"


@pytest.fixture
async def app(database: Any, bucket: Bucket, settings: Settings, pg_engine: Any) -> Any:
    await admin()
    trusting = replace(settings, forwarded_allow_ips=(f"{PROXY}/32", "10.9.0.0/16"))
    async with running_app(trusting, bucket, pg_engine, worker=False) as application:
        yield application


@asynccontextmanager
async def client_from(app: Any, peer: str) -> AsyncIterator[Browser]:
    transport = httpx.ASGITransport(app=app, client=(peer, 50000))
    async with httpx.AsyncClient(
        transport=transport, base_url="http://testserver", follow_redirects=False
    ) as client:
        yield Browser(client)


async def test_concurrent_wrong_passwords_stay_within_the_account_limit(app: Any) -> None:
    """Before: the check ran before the slow hash and the failure was written after it, so 30
    guesses sent at once were all hashed and all answered "wrong password"."""
    limit = audit.MAX_FAILURES_PER_ACCOUNT
    async with client_from(app, "192.0.2.10") as b:
        await b.get("/login")
        form = {"username": "tester", "password": "wrong", "_csrf_token": b.token}
        answers = await asyncio.gather(*(b.client.post("/login", data=form) for _ in range(30)))
        statuses = sorted(r.status_code for r in answers)
        heard = statuses.count(400)  # password checked, and wrong
        assert heard <= limit, statuses
        assert statuses.count(429) == 30 - heard, statuses
        failures = await rows("SELECT detail FROM audit_log WHERE action = 'sign_in_failed'")
        assert [r["detail"] for r in failures] == ["wrong credentials"] * heard
        if heard == limit:  # the right password now waits too
            late = await b.post("/login", {"username": "tester", "password": PASSWORD})
            assert late.status_code == 429


async def failed_sign_in_address(b: Browser, headers: dict[str, str]) -> str:
    await b.get("/login")
    response = await b.post(
        "/login", {"username": "nobody", "password": "x"}, headers=headers, csrf=True
    )
    assert response.status_code == 400, response.text[:200]
    found = await rows(
        "SELECT ip FROM audit_log WHERE action = 'sign_in_failed' ORDER BY id DESC LIMIT 1"
    )
    return str(found[0]["ip"])


@pytest.mark.parametrize(
    ("peer", "forwarded", "audited"),
    [
        (PROXY, "198.51.100.23", "198.51.100.23"),  # a trusted proxy names its client
        ("203.0.113.7", "198.51.100.23", "203.0.113.7"),  # anyone else: the header is ignored
        ("127.0.0.1", "198.51.100.23", "127.0.0.1"),  # loopback is not trusted by default
        (PROXY, "198.51.100.23, 10.9.4.4", "198.51.100.23"),  # through two trusted proxies
        (PROXY, "6.6.6.6, 198.51.100.23", "198.51.100.23"),  # a client's own claim: ignored
        (PROXY, "not-an-address\nFORGED", PROXY),  # malformed: the peer, never the text
        (PROXY, "1.2.3.999", PROXY),
        (PROXY, "2001:db8::1", "2001:db8::1"),
    ],
)
async def test_forwarded_for_is_believed_only_from_trusted_proxies(
    app: Any, peer: str, forwarded: str, audited: str
) -> None:
    async with client_from(app, peer) as b:
        address = await failed_sign_in_address(b, {"X-Forwarded-For": forwarded})
    assert address == audited


async def test_throttling_follows_the_forwarded_address(app: Any) -> None:
    """Behind a trusted proxy, one client's failures do not lock out another client."""
    limit = audit.MAX_FAILURES_PER_ADDRESS
    async with client_from(app, PROXY) as b:
        await b.get("/login")
        for i in range(limit):
            response = await b.post(
                "/login",
                {"username": f"guess{i}", "password": "x"},
                headers={"X-Forwarded-For": "198.51.100.1"},
            )
            assert response.status_code == 400
        blocked = await b.post(
            "/login",
            {"username": "tester", "password": PASSWORD},
            headers={"X-Forwarded-For": "198.51.100.1"},
        )
        assert blocked.status_code == 429 and "for this address" in blocked.text
        other = await b.post(
            "/login",
            {"username": "tester", "password": PASSWORD},
            headers={"X-Forwarded-For": "198.51.100.2"},
        )
        assert other.status_code == 303


def test_forwarded_allow_ips_setting_is_validated() -> None:
    assert Settings.from_env({}).forwarded_allow_ips == ()
    parsed = Settings.from_env({"FORWARDED_ALLOW_IPS": "10.0.0.1, 10.1.0.0/16,::1"})
    assert parsed.forwarded_allow_ips == ("10.0.0.1/32", "10.1.0.0/16", "::1/128")
    with pytest.raises(SettingsError, match="FORWARDED_ALLOW_IPS: 'proxy.local' is not an IP"):
        Settings.from_env({"FORWARDED_ALLOW_IPS": "10.0.0.1,proxy.local"})
