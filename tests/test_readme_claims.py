"""README claims, each checked through the interface a user has: the running app over HTTP.

The app runs as a real process (`python -m app`, tests/served.py) configured only by its
environment; syncs started over HTTP are awaited by polling their page.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import httpx
import pytest

from domain.platform.settings import S3Settings
from harness.ports import free_port
from tests.conftest import Bucket, cli_env, eventually, rows
from tests.fault_proxy import FaultProxy, Rule
from tests.served import (
    audit_log,
    clean_env,
    run_id_from,
    run_status,
    served,
    signed_urls,
    spawn,
    staged,
    start_sync,
    stop_group,
    wait_final,
)
from tests.web import PASSWORD, Browser, admin

DEMO_MODELS = [
    "Aurora Vale",
    "Bruno Díaz",
    "Chloé Martin",
    "Dmitri Volkov",
    "Emi Tanaka",
    "Farah Haddad",
    "Gia Rossi",
    "Hana Kim",
]


async def test_make_run_with_no_configuration_serves_a_synced_demo(open_tmp: Path) -> None:
    """`make run` with no DATABASE_URL and no DO_SPACES_*: demo admin, staged demo, media."""
    env = clean_env(
        # Keep the zero-config data out of the repository's ./data: the only knob for where
        # it lives. Nothing below looks at it or at which database engine is used.
        DATA_DIR=str(open_tmp / "data"),
        EMBEDDED_S3_PORT=str(free_port()),
        HOME=str(open_tmp),
    )
    async with served(env, startup_timeout=120) as app:
        b = app.browser
        assert "'admin'" in app.output() and "'creatorflix-demo'" in app.output()
        assert (await b.client.get("/")).status_code == 303  # nothing without signing in
        signed_in = await b.sign_in("admin", "creatorflix-demo")
        assert signed_in.status_code == 303 and signed_in.headers["location"] == "/"
        admins = await b.get("/admins")  # the demo admin is a superuser
        assert admins.status_code == 200 and "superuser" in admins.text
        page = ""
        # The first sync stages the demo catalogue in the background, then the worker makes
        # each model's preview (a placeholder shows until then).
        for _ in range(1200):
            page = (await b.get("/staged?size=25")).text
            if all(n in page for n in DEMO_MODELS) and len(signed_urls(page)) >= len(DEMO_MODELS):
                break
            await asyncio.sleep(0.1)
        assert all(name in page for name in DEMO_MODELS), page[-2000:]
        thumbs = signed_urls(page)
        assert len(thumbs) >= len(DEMO_MODELS), page[-2000:]
        detail = (await b.get("/staged/Aurora%20Vale")).text
        media = signed_urls(detail)
        videos = re.findall(r'<video src="([^"]+)"', detail)
        assert videos, "the demo model shows a playable video"
        async with httpx.AsyncClient(timeout=10) as outside:  # what the admin's browser fetches
            for url in thumbs[:3] + media[:3]:
                image = await outside.get(url)
                assert image.status_code == 200, url
                real = image.content[:2] == b"\xff\xd8" or image.content[8:12] == b"WEBP"
                assert real, url  # a real JPEG original, or its WebP preview
            clip = await outside.get(signed_urls(f'src="{videos[0]}"')[0])
            assert clip.status_code == 200 and clip.content[4:8] == b"ftyp"  # a real MP4
        assert "succeeded" in (await b.get("/sync-runs")).text


# --- the app against PostgreSQL and moto, configured by its environment --------------------


def app_env(s3: S3Settings, **extra: str) -> dict[str, str]:
    return cli_env(s3, SECRET_KEY="k" * 64, **extra)


def keys_for(models: list[str], posts: int = 2, media: int = 2) -> list[str]:
    return [f"{m}/Post {p}/{i}.jpg" for m in models for p in range(posts) for i in range(media)]


@pytest.fixture
async def world(database: Any, bucket: Bucket) -> Bucket:
    """A clean database with the admin `tester`, and an empty bucket."""
    await admin()
    return bucket


async def synced_ok(b: Browser, model: str = "") -> int:
    run_id = await start_sync(b, model)
    assert await wait_final(b, run_id) == "succeeded"
    return run_id


async def held_run(b: Browser, bucket: Bucket, models: list[str], gone: list[str]) -> int:
    """Stage `models`, delete `gone` from the bucket, and sync: the run holds the deletions."""
    await bucket.put(*keys_for(models))
    await synced_ok(b)
    await bucket.delete(*keys_for(gone))
    run_id = await start_sync(b)
    assert await wait_final(b, run_id) == "needs_confirmation"
    page = (await b.get(f"/sync-runs/{run_id}")).text
    assert f"{len(gone)} model(s)" in page and "Confirm deletions" in page
    assert set(await staged(b)) == set(models)  # nothing deleted yet
    return run_id


async def test_confirming_a_held_run_over_http_deletes_exactly_its_plan(world: Bucket) -> None:
    models = ["Ann", "Bea", "Cid", "Dee", "Eve"]
    async with served(app_env(world.s3.settings)) as app:
        b = app.browser
        await b.sign_in()
        run_id = await held_run(b, world, models, gone=["Ann", "Bea"])
        # The bucket moves on after the plan was made. Confirming lists the plan's folders
        # again: Bea came back, so only Ann goes; Cid's removal and Zed wait for a sync.
        await world.delete(*keys_for(["Cid"]))
        await world.put(*keys_for(["Bea"]), "Zed/P/z.jpg")
        confirmed = await b.post(f"/sync-runs/{run_id}/confirm", {})
        assert confirmed.status_code == 303
        applying = int(confirmed.headers["location"].removeprefix("/sync-runs/"))
        assert applying != run_id  # a run of its own, done by a worker

        async def names() -> set[str]:
            return set(await staged(b))

        await eventually(names, {"Bea", "Cid", "Dee", "Eve"})

        async def held_run_says() -> tuple[bool, bool]:
            # The held run is marked after the deletions commit: wait for it, bounded.
            page = (await b.get(f"/sync-runs/{run_id}")).text
            done = 'data-status="succeeded"' in page and "deletions confirmed by tester" in page
            return done, f"in run #{applying}" in page

        await eventually(held_run_says, (True, True))
        page = (await b.get(f"/sync-runs/{run_id}")).text
        applied = (await b.get(f"/sync-runs/{applying}")).text
        assert f'· confirms <a href="/sync-runs/{run_id}">run #{run_id}</a>' in applied
        assert f'confirmed by <a href="/sync-runs/{applying}">run #{applying}</a>' in page
        assert "kept 1 that came back since" in applied
        again = await b.post(f"/sync-runs/{run_id}/confirm", {})
        assert again.status_code == 409  # a plan is applied once
        assert ("tester", "sync confirmed", f"run #{run_id}") in [e[:3] for e in await audit_log(b)]


async def test_discarding_a_held_run_over_http_keeps_every_row(world: Bucket) -> None:
    models = ["Ann", "Bea", "Cid", "Dee", "Eve"]
    async with served(app_env(world.s3.settings)) as app:
        b = app.browser
        await b.sign_in()
        run_id = await held_run(b, world, models, gone=["Ann", "Bea"])
        discarded = await b.post(f"/sync-runs/{run_id}/discard", {})
        assert discarded.status_code == 303
        assert set(await staged(b)) == set(models)
        page = (await b.get(f"/sync-runs/{run_id}")).text
        assert 'data-status="cancelled"' in page and "nothing was deleted" in page
        assert "Confirm deletions" not in page
        late = await b.post(f"/sync-runs/{run_id}/confirm", {})
        assert late.status_code == 409 and set(await staged(b)) == set(models)
        assert ("tester", "sync discarded", f"run #{run_id}") in [e[:3] for e in await audit_log(b)]


def model_listing(method: str, target: str) -> bool:
    """A ListObjectsV2 of keys (not a delimiter listing of folder names)."""
    return method == "GET" and "list-type=2" in target and "delimiter=" not in target


@dataclass
class CountingProxy(FaultProxy):
    """The fault proxy, also counting model listings in flight at once."""

    in_flight: int = 0
    peak: int = 0
    listed: int = 0

    async def _answer(self, writer: Any, method: str, target: str, *rest: Any) -> None:
        counted = model_listing(method, unquote(target))
        if counted:
            self.listed += 1
            self.in_flight += 1
            self.peak = max(self.peak, self.in_flight)
        try:
            await super()._answer(writer, method, target, *rest)
        finally:
            if counted:
                self.in_flight -= 1


@pytest.fixture
async def slow_s3(world: Bucket) -> AsyncIterator[CountingProxy]:
    """A proxy in front of the test bucket that takes 0.4 s for every page of keys."""
    proxy = CountingProxy(world.s3.settings.endpoint)
    proxy.rules.append(Rule(model_listing, status=0, delay=0.4))
    proxy.page_size = 1  # one key a page: a listing request per model here
    await proxy.start()
    try:
        yield proxy
    finally:
        await proxy.stop()


async def test_cancel_over_http_stops_a_running_sync(world: Bucket, slow_s3: CountingProxy) -> None:
    models = [f"Model {i:02d}" for i in range(12)]
    await world.put(*keys_for(models, posts=1, media=1))
    s3 = replace(world.s3.settings, endpoint=slow_s3.endpoint)
    async with served(app_env(s3, SYNC_CONCURRENCY="1")) as app:
        b = app.browser
        await b.sign_in()
        run_id = await start_sync(b)
        for _ in range(300):  # until the run is listing its first model folder
            if slow_s3.listed:
                break
            await asyncio.sleep(0.02)
        assert await run_status(b, run_id) == "running"
        cancel = await b.post(f"/sync-runs/{run_id}/cancel", {})
        assert cancel.status_code == 303
        assert await wait_final(b, run_id) == "cancelled"
        page = (await b.get(f"/sync-runs/{run_id}")).text
        assert "cancelled by an admin" in page
        kept = await staged(b)
        assert len(kept) < len(models) // 2  # it stopped
        assert slow_s3.listed < len(models) // 2  # the remaining folders were never listed
        assert ("tester", "sync cancelled", f"run #{run_id}") in [e[:3] for e in await audit_log(b)]
        again = await b.post(f"/sync-runs/{run_id}/cancel", {})
        assert again.status_code == 303  # a finished run: a warning, nothing audited
        cancels = [e for e in await audit_log(b) if e[1] == "sync cancelled"]
        assert len(cancels) == 1


async def test_row_resync_over_http_syncs_only_that_model(world: Bucket) -> None:
    await world.put(*keys_for(["Ann", "Bea"], posts=1, media=1))
    async with served(app_env(world.s3.settings)) as app:
        b = app.browser
        await b.sign_in()
        await synced_ok(b)
        before = await staged(b)
        assert before["Ann"][:2] == (1, 1) and before["Bea"][:2] == (1, 1)
        await world.put("Ann/Post 9/new.jpg", "Bea/Post 9/new.jpg", "Cat/P/c.jpg")
        await b.get("/staged")
        resync = await b.post("/staged/Ann/resync", {})
        run_id = run_id_from(resync)
        assert await wait_final(b, run_id) == "succeeded"
        run_page = (await b.get(f"/sync-runs/{run_id}")).text
        assert f"Sync #{run_id} · Ann" in run_page
        after = await staged(b)
        assert after["Ann"][:2] == (2, 2)  # its new post is staged
        assert after["Bea"][:2] == (1, 1) and "Cat" not in after  # the others are untouched
        assert ("tester", "sync started", "Ann") in [e[:3] for e in await audit_log(b)]
        missing = await b.post("/staged/Nobody/resync", {})
        assert missing.status_code == 404


async def test_sign_out_is_audited_and_ends_the_session(world: Bucket) -> None:
    async with served(app_env(world.s3.settings)) as app:
        b = app.browser
        await b.sign_in()
        assert (await b.get("/")).status_code == 200
        out = await b.post("/logout", {})
        assert out.status_code == 303 and out.headers["location"] == "/login"
        assert (await b.client.get("/")).status_code == 303
        await b.sign_in()
        entries = [e[:3] for e in await audit_log(b)]
        assert entries[:3] == [
            ("tester", "sign in", "tester"),
            ("tester", "sign out", "tester"),
            ("tester", "sign in", "tester"),
        ]


# --- sessions ---------------------------------------------------------------------------------


def set_cookie(response: httpx.Response, name: str) -> str:
    found = [v for k, v in response.headers.multi_items() if k == "set-cookie"]
    matching = [v for v in found if v.startswith(f"{name}=")]
    assert matching, (name, found)
    return matching[-1]


def attributes(cookie: str) -> dict[str, str]:
    parts = [p.strip() for p in cookie.split(";")[1:]]
    return {p.split("=")[0].lower(): p.partition("=")[2] for p in parts if p}


async def backdate_sessions(seconds: int) -> None:
    """As if the session's last request had been `seconds` earlier."""
    await rows(
        "UPDATE admin_sessions SET expires_at = expires_at - make_interval(secs => $1) "
        "RETURNING key",
        float(seconds),
    )


async def session_seconds_left() -> float:
    found = await rows("SELECT expires_at - now() AS left FROM admin_sessions")
    assert len(found) == 1, found
    return float(found[0]["left"].total_seconds())


async def test_an_idle_session_is_signed_out_after_session_idle_seconds(world: Bucket) -> None:
    async with served(app_env(world.s3.settings, SESSION_IDLE_SECONDS="120")) as app:
        b = app.browser
        signed_in = await b.sign_in()
        assert attributes(set_cookie(signed_in, "cfx_session"))["max-age"] == "120"
        assert 100 < await session_seconds_left() <= 120
        for _ in range(2):  # active within the limit: each request slides the expiry on
            await backdate_sessions(100)
            assert (await b.client.get("/")).status_code == 200
            assert await session_seconds_left() > 100  # 20 s left had it not slid
        await backdate_sessions(121)  # idle longer than SESSION_IDLE_SECONDS
        gone = await b.client.get("/staged")
        assert gone.status_code == 303
        assert gone.headers["location"] == "/login?next=%2Fstaged"
        hx = await b.client.get("/", headers={"HX-Request": "true"})
        assert hx.status_code == 401 and hx.headers["hx-redirect"].startswith("/login")


@pytest.mark.parametrize("secure", [False, True])
async def test_secure_cookies_flag_session_and_csrf_cookies(world: Bucket, secure: bool) -> None:
    extra = {"SECURE_COOKIES": "true"} if secure else {}
    async with served(app_env(world.s3.settings, **extra)) as app:
        # Cookies are handled by hand: a client keeps Secure cookies off plain http.
        async with httpx.AsyncClient(base_url=app.url, timeout=30) as client:
            login = await client.get("/login")
            csrf_cookie = set_cookie(login, "cfx_csrf")
            csrf = csrf_cookie.split(";")[0]
            token = re.search(r'name="_csrf_token" value="([^"]+)"', login.text)
            assert token
            form = {"username": "tester", "password": PASSWORD, "_csrf_token": token.group(1)}
            client.cookies.clear()
            signed_in = await client.post("/login", data=form, headers={"Cookie": csrf})
            assert signed_in.status_code == 303, signed_in.text[:300]
            session_cookie = set_cookie(signed_in, "cfx_session")
            client.cookies.clear()
            page = await client.get("/", headers={"Cookie": session_cookie.split(";")[0]})
            assert page.status_code == 200  # the cookie set at sign-in is the live session
        session, csrf_attrs = attributes(session_cookie), attributes(csrf_cookie)
        assert ("secure" in session) is secure and ("secure" in csrf_attrs) is secure
        assert "httponly" in session
        if not secure:
            assert session["max-age"] == str(8 * 3600)  # the documented default idle limit


# --- settings taking effect in the running app ------------------------------------------------


async def test_signed_url_ttl_is_the_lifetime_of_every_signed_url(world: Bucket) -> None:
    await world.put("Ann/cover.jpg", "Ann/P/a.jpg", "Ann/P/b.mp4")
    async with served(app_env(world.s3.settings, SIGNED_URL_TTL="777")) as app:
        b = app.browser
        await b.sign_in()
        await synced_ok(b)
        staged_page = (await b.get("/staged")).text
        model_page = (await b.get("/staged/Ann")).text
        urls = signed_urls(staged_page) + signed_urls(model_page)
        assert len(urls) >= 3
        activated = await b.post("/staged/_bulk/activate-all-new", {})
        assert activated.status_code == 303

        async def listed() -> int:  # a worker runs the activation
            return len((await b.client.get("/api/models")).json()["data"])

        await eventually(listed, 1)
        api = (await b.client.get("/api/models")).text
        ttls = re.findall(r"X-Amz-Expires=(\d+)", " ".join(urls) + api)
        assert len(ttls) > len(urls) and set(ttls) == {"777"}
        async with httpx.AsyncClient(timeout=10) as outside:
            for url in urls:
                assert (await outside.get(url)).status_code == 200, url


@pytest.mark.parametrize("concurrency", [1, 3])
async def test_sync_concurrency_is_the_number_of_listing_requests_in_flight(
    world: Bucket, slow_s3: CountingProxy, concurrency: int
) -> None:
    # 60 new models: enough keys (by the sync's estimate) for three key ranges or more.
    models = [f"Model {i:02d}" for i in range(60)]
    await world.put(*keys_for(models, posts=1, media=1))
    slow_s3.page_size = 5
    s3 = replace(world.s3.settings, endpoint=slow_s3.endpoint)
    async with served(app_env(s3, SYNC_CONCURRENCY=str(concurrency))) as app:
        b = app.browser
        await b.sign_in()
        await synced_ok(b)
        assert len(await staged(b)) == len(models)
    assert slow_s3.listed >= len(models) // 5  # five keys a page
    assert slow_s3.peak == concurrency


@pytest.mark.parametrize(
    ("fraction", "outcome", "left"),
    [("0.5", "succeeded", 7), ("0.2", "needs_confirmation", 10), (None, "needs_confirmation", 10)],
)
async def test_sync_max_delete_fraction_decides_what_waits_for_confirmation(
    world: Bucket, fraction: str | None, outcome: str, left: int
) -> None:
    models = [f"Model {i}" for i in range(10)]
    await world.put(*keys_for(models, posts=1, media=2))
    extra = {"SYNC_MAX_DELETE_FRACTION": fraction} if fraction else {}
    async with served(app_env(world.s3.settings, **extra)) as app:
        b = app.browser
        await b.sign_in()
        await synced_ok(b)
        await world.delete(*keys_for(models[:3], posts=1, media=2))  # 30% of everything
        run_id = await start_sync(b)
        assert await wait_final(b, run_id) == outcome
        assert len(await staged(b)) == left


async def test_sessions_survive_a_restart(world: Bucket) -> None:
    env = app_env(world.s3.settings)
    async with served(env) as first:
        await first.browser.sign_in()
        cookie = first.browser.client.cookies.get("cfx_session")
        assert cookie
    async with served(env) as second, httpx.AsyncClient(base_url=second.url) as client:
        client.cookies.set("cfx_session", cookie)
        assert (await client.get("/")).status_code == 200


def exits(env: dict[str, str], log: Path) -> tuple[int, str]:
    """Start the app and wait for it to stop on its own (it must not start serving)."""
    process = spawn({**env, "HOST": "127.0.0.1", "PORT": str(free_port())}, log)
    try:
        code = process.wait(timeout=90)
    finally:
        stop_group(process)
    return code, log.read_text(errors="replace")


@pytest.mark.parametrize(
    ("setting", "value", "says"),
    [
        ("SIGNED_URL_TTL", "soon", "error: SIGNED_URL_TTL='soon' is not a whole number"),
        ("DO_SPACES_BUCKET", "no-such-bucket", "check DO_SPACES_BUCKET"),
        ("DATABASE_URL", "postgresql://nobody@127.0.0.1:{port}/x", "check DATABASE_URL"),
    ],
)
async def test_bad_configuration_stops_the_app_at_start_with_a_message(
    world: Bucket, tmp_path: Path, setting: str, value: str, says: str
) -> None:
    env = app_env(world.s3.settings, **{setting: value.format(port=free_port())})
    code, output = await asyncio.to_thread(exits, env, tmp_path / "app.log")
    assert code != 0 and says in output, output[-3000:]
