"""The CSRF check at its edges: signed out, only a token this app signed opens the sign-in
form; an Origin or Referer on the same host but another port is another site."""

from __future__ import annotations

from typing import Any

import pytest

from tests.conftest import rows
from tests.web import PASSWORD, browser

FORM = {"username": "tester", "password": PASSWORD, "next": "/"}


async def sign_ins() -> int:
    return len(await rows("SELECT id FROM audit_log WHERE action = 'sign_in'"))


@pytest.mark.parametrize(
    "planted",
    ["ab" * 64, "0" * 64 + "f" * 64, "x" * 128],
    ids=["random 128 hex", "a token with a forged signature", "not hex"],
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
